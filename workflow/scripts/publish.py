"""Stage "publish" (itscale.pipeline.stages.publish): every figure and the table, together."""

from itscale.pipeline.job import Job
from itscale.pipeline.stages import publish

job = Job(snakemake, "publish")  # noqa: F821 - injected by Snakemake
publish.publish(list(job.smk.input), list(job.smk.output), job.log)
job.done(*job.smk.output)
