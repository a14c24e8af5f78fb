"""Stage "data" (itscale.pipeline.stages.data): teacher, training set and test inputs."""

from itscale.pipeline.job import Job
from itscale.pipeline.stages import data

job = Job(snakemake, "data")  # noqa: F821 - injected by Snakemake
job.write(data.build(job.params, job.log))
