"""Stage "records" (itscale.pipeline.stages.records): a records file read and checked."""

from itscale.pipeline.job import Job
from itscale.pipeline.stages import records

job = Job(snakemake, "records")  # noqa: F821 - injected by Snakemake
job.write(records.build(job.params, job.log))
