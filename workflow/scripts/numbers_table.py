"""Stage "numbers" (itscale.pipeline.stages.numbers): figures/numbers.csv and numbers.nc."""

from itscale.pipeline.job import Job
from itscale.pipeline.stages import numbers

job = Job(snakemake, "numbers")  # noqa: F821 - injected by Snakemake
experiments = job.smk.params.experiments
numbers.write(numbers.build(experiments, job.log), experiments, *job.smk.output)
job.done(*job.smk.output)
