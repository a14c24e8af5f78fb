# Plan helpers shared by every rule: the validated config resolved into jobs
# (itscale.pipeline.plan.build_plan), and the functions of a job's wildcards that give its
# inputs, params and resources. Output path patterns are spelled out in each rule; they equal
# itscale.pipeline.plan.PATHS (tests/test_workflow.py checks it).

import os

from itscale.pipeline.modules import module_files
from itscale.pipeline.plan import WILDCARDS, build_plan
from itscale.pipeline.schema import validate_config

# Validate before anything runs: a bad value stops here, naming the key and its allowed range.
validate_config(
    config, os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml")
)
PLAN = build_plan(config)


wildcard_constraints:
    key=WILDCARDS["key"],
    shard=WILDCARDS["shard"],
    experiment=WILDCARDS["experiment"],
    ext=WILDCARDS["ext"],


def job_params(stage):
    """params: the resolved parameters of the `stage` job with wildcard `key`."""
    return lambda wildcards: PLAN.stage(stage, wildcards.key)


def upstream(stage, parent):
    """input: the `parent` stage output read by the `stage` job with wildcard `key`."""
    return lambda wildcards: PLAN.upstream(stage, wildcards.key, parent)


def mem_mb(stage):
    """resources: mem_mb of the `stage` job (itscale.pipeline.resources.stage_resources)."""
    return lambda wildcards: PLAN.resources(stage, wildcards.key)["mem_mb"]


def runtime(stage):
    """resources: runtime in minutes of the `stage` job."""
    return lambda wildcards: PLAN.resources(stage, wildcards.key)["runtime"]


def shard_blocks(wildcards):
    """params: the test-input blocks of a Monte Carlo shard."""
    return PLAN.shard_blocks(wildcards.key, int(wildcards.shard))


def shard_paths(wildcards):
    """input: the shards a gather job combines, in shard order."""
    return PLAN.shard_paths(wildcards.key)


def figure_datasets(name):
    """input: the sampling or theory datasets of the figure with wildcard `key`."""
    if name == "sampling":
        return lambda wildcards: PLAN.figure(wildcards.key).sampling_paths
    return lambda wildcards: PLAN.figure(wildcards.key).theory


def figure_modules(wildcards):
    """input: the library files the figure's kind module and the figure stage import."""
    kind = PLAN.figure(wildcards.key).kind
    return module_files(f"report.kinds.{kind}", "pipeline.stages.figure")


def cached_figure(wildcards):
    """input: the rendered figure a publish job copies to figures/."""
    return PLAN.published(wildcards.experiment).figure_path_for(wildcards.ext)


def figure_caption(wildcards):
    """params: the report caption of a figure, workflow/report/<experiment>.rst, or a line
    naming its kind."""
    path = os.path.join(
        workflow.basedir, "workflow", "report", f"{wildcards.experiment}.rst"
    )
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    exp = PLAN.published(wildcards.experiment)
    title = exp.figure_params["title"] or wildcards.experiment
    return f"{title} (figure kind ``{exp.kind}``)."


def numbers_modules():
    """input: the library files of the numbers stage and of every figure kind in the plan."""
    kinds = sorted({exp.kind for exp in PLAN.experiments.values()})
    return module_files(
        "pipeline.stages.numbers", *(f"report.kinds.{k}" for k in kinds)
    )
