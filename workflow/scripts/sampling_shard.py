"""Stage "sampling", one shard (itscale.pipeline.stages.sampling.shard): Monte Carlo statistics."""

from itscale.pipeline.job import Job
from itscale.pipeline.stages import sampling

job = Job(snakemake, "sampling")  # noqa: F821 - injected by Snakemake
smk = job.smk
ds = sampling.shard(
    job.read("posterior"),
    job.params,
    smk.params.blocks,
    index=int(smk.wildcards.shard),
    mem_mb=int(smk.resources.mem_mb),
    workers=smk.threads,
    log=job.log,
)
job.write(ds)
