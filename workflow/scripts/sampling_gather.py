"""Stage "sampling" (itscale.pipeline.stages.sampling.sampling_job): the shards combined
exactly, with the finite-size exact average of the same training sets."""

from itscale.pipeline.job import Job
from itscale.pipeline.stages import sampling

job = Job(snakemake, "sampling")  # noqa: F821 - injected by Snakemake
ds = sampling.sampling_job(job.read("posterior"), job.read_all("shards"), job.params, job.log)
job.write(ds)
