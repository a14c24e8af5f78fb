"""Stage "sampling", gather (itscale.pipeline.stages.sampling.gather): shards combined exactly."""

from itscale.pipeline.job import Job
from itscale.pipeline.stages import sampling

job = Job(snakemake, "sampling")  # noqa: F821 - injected by Snakemake
job.write(sampling.gather(job.read_all("shards"), job.read("finite_size"), job.params, job.log))
