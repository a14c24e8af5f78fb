"""Stage "figure" (itscale.pipeline.stages.figure): one experiment's figure, every format."""

from itscale.pipeline.job import Job
from itscale.pipeline.stages import figure

job = Job(snakemake, "figures")  # noqa: F821 - injected by Snakemake
paths = figure.render(
    job.params, job.read_all("sampling"), job.read_all("theory"), list(job.smk.output), job.log
)
job.done(*map(str, paths))
