# Plan helpers shared by every rule: the validated config resolved into jobs
# (itscale.pipeline.plan.build_plan), and the functions of a job's wildcards that give its
# inputs, params and resources. Output path patterns are spelled out in each rule; they equal
# itscale.pipeline.plan.PATHS (tests/test_workflow.py checks it).

import os

from itscale.pipeline.modules import module_files
from itscale.pipeline.plan import PATHS, WILDCARDS, build_plan, figure_formats
from itscale.pipeline.schema import validate_config

# Validate before anything runs: a bad value stops here, naming the key and its allowed range.
validate_config(
    config, os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml")
)
PLAN = build_plan(config)
# Every figure job draws its figure once and saves it in each of these formats.
FIGURE_FORMATS = figure_formats(config["plot_style"])


wildcard_constraints:
    key=WILDCARDS["key"],
    shard=WILDCARDS["shard"],
    experiment=WILDCARDS["experiment"],


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


def figure_caption(name):
    """The report caption of a published figure: workflow/report/<name>.rst, or a generic one."""
    path = os.path.join(workflow.basedir, "workflow", "report", f"{name}.rst")
    if os.path.isfile(path):
        return path
    return os.path.join(workflow.basedir, "workflow", "report", "figure.rst")


def published(which):
    """input ("sources": the rendered files) or output ("targets": their copies in figures/,
    with their report entries) of the one publish job, in the order of PLAN.publish_files().
    """
    pairs = PLAN.publish_files()
    if which == "sources":
        return [source for source, _ in pairs]
    captions = os.path.join(workflow.basedir, "workflow", "report")
    targets = []
    for _, target in pairs:
        name, ext = os.path.splitext(os.path.basename(target))
        if target == PATHS["publish_numbers"]:
            caption = os.path.join(captions, "numbers.rst")
            target = report(target, caption=caption, category="Numbers")
        elif target != PATHS["publish_numbers_nc"]:
            labels = {"figure": name, "format": ext[1:]}
            target = report(
                target,
                caption=figure_caption(name),
                category="Figures",
                subcategory=name,
                labels=labels,
            )
        targets.append(target)
    return targets


def numbers_modules():
    """input: the library files of the numbers stage and of every figure kind in the plan."""
    kinds = sorted({exp.kind for exp in PLAN.experiments.values()})
    return module_files(
        "pipeline.stages.numbers", *(f"report.kinds.{k}" for k in kinds)
    )


def judge_source(wildcards):
    """input: the records file a judge-data records job reads (relative to the work dir)."""
    return PLAN.stage("records", wildcards.key)["source"]


def judge_analysis(wildcards):
    """input: the analysis dataset a judge-data figure job draws."""
    return PLAN.stage("judge_figure", wildcards.key)["analysis"]
