"""Stage "figure" (itscale.pipeline.stages.figure): one experiment's figure in one format."""

from itscale.pipeline.job import Job
from itscale.pipeline.stages import figure

job = Job(snakemake, "figures")  # noqa: F821 - injected by Snakemake
path = figure.render(
    job.params, job.read_all("sampling"), job.read_all("theory"), job.smk.output[0], job.log
)
job.done(str(path))
