"""Stage "finite_size" (itscale.pipeline.stages.finite_size): exact average per training set."""

from itscale.pipeline.job import Job
from itscale.pipeline.stages import finite_size

job = Job(snakemake, "finite_size")  # noqa: F821 - injected by Snakemake
job.write(finite_size.build(job.read("posterior"), job.params, job.log))
