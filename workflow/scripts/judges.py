"""Stage "judges" (itscale.pipeline.stages.judges): error against k and T for each judge."""

from itscale.pipeline.job import Job
from itscale.pipeline.stages import judges

job = Job(snakemake, "judges")  # noqa: F821 - injected by Snakemake
job.write(judges.build(job.read("records"), job.params, job.log))
