"""Stage "judge_figure" (itscale.pipeline.stages.judge_figure): one format of the figure."""

from itscale.pipeline.job import Job
from itscale.pipeline.stages import judge_figure

job = Job(snakemake, "judge_figures")  # noqa: F821 - injected by Snakemake
path = judge_figure.render(job.params, job.read("analysis"), job.smk.output[0], job.log)
job.done(str(path))
