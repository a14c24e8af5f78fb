"""Stage "posterior" (itscale.pipeline.stages.posterior): fitted posterior and predictive."""

from itscale.pipeline.job import Job
from itscale.pipeline.stages import posterior

job = Job(snakemake, "posterior")  # noqa: F821 - injected by Snakemake
job.write(posterior.build(job.read("data"), job.params, job.log))
