"""Stage "numbers" (itscale.pipeline.stages.numbers): numbers.csv and numbers.nc."""

from itscale.pipeline.job import Job
from itscale.pipeline.stages import numbers

job = Job(snakemake, "numbers")  # noqa: F821 - injected by Snakemake
experiments, judge_data = job.smk.params.experiments, job.smk.params.judge_data
rows = numbers.build(experiments, job.log, judge_data)
numbers.write(rows, experiments, *job.smk.output, judge_data=judge_data)
job.done(*job.smk.output)
