"""Stage "theory" (itscale.pipeline.stages.theory): every DE curve and optimum of a point."""

from itscale.pipeline.job import Job
from itscale.pipeline.stages import theory

job = Job(snakemake, "theory")  # noqa: F821 - injected by Snakemake
job.write(theory.build(job.params, job.log))
