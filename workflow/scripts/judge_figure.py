"""Stage "judge_figure" (itscale.pipeline.stages.judge_figure): the figure in every format."""

from itscale.pipeline.job import Job
from itscale.pipeline.stages import judge_figure

job = Job(snakemake, "judge_figures")  # noqa: F821 - injected by Snakemake
paths = judge_figure.render(job.params, job.read("analysis"), list(job.smk.output), job.log)
job.done(*map(str, paths))
