"""itscale pipeline: data -> posterior -> Monte Carlo (+ finite-size) ; theory ; figures.

    snakemake --cores 2                      # every experiment in config.yaml
    snakemake --cores 2 -n                   # what would run, and why (dry run)
    snakemake --cores 2 --configfile config/paper.yaml   # paper-scale sampling

Every stage writes one NetCDF under results/<stage>/<key>/, where <key> hashes exactly the
parameters that stage depends on (itscale.pipeline.config.STAGE_PARAMS): changing a parameter reruns
only the stages that depend on it, and results for other parameter sets stay cached. The
published figures are copied to figures/<experiment>.<ext>; figures/numbers.csv (and .nc)
tabulates the key numbers of every figure with their theory values.
"""

import os

from snakemake.utils import min_version

from itscale.pipeline.config import (
    LOGS,
    PATHS,
    WILDCARDS,
    build_plan,
    module_files,
    validate_config,
)

min_version("8.20")


configfile: "config.yaml"


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


localrules:
    all,
    sampling,
    publish_figure,


report: "workflow/report/workflow.rst"


include: "workflow/rules/data.smk"
include: "workflow/rules/posterior.smk"
include: "workflow/rules/sampling.smk"
include: "workflow/rules/theory.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/numbers.smk"


rule all:
    default_target: True
    input:
        PLAN.targets(),
        rules.numbers.output,
