"""itscale pipeline: data -> posterior -> Monte Carlo (+ finite-size) ; theory ; figures.
Judge data (config judge_data): records -> judges (analysis) -> judge figures.

    snakemake --cores 2                      # every experiment in config.yaml
    snakemake --cores 2 -n                   # what would run, and why (dry run)
    snakemake --cores 2 --configfile config/paper.yaml   # paper-scale sampling

Every stage writes one NetCDF under results/<stage>/<key>/, where <key> hashes exactly the
parameters that stage depends on (itscale.pipeline.params.STAGE_PARAMS): changing a parameter
reruns only the stages that depend on it, and results for other parameter sets stay cached. One
last job (rule publish) copies every figure to figures/<experiment>.<ext> and the table of key
numbers to figures/numbers.csv (and .nc), together, once all of them are rendered.
"""

from snakemake.utils import min_version

from itscale.pipeline.schema import load_yaml

min_version("8.20")

# Read config.yaml ourselves first: a YAML syntax error then names the file, line and column.
load_yaml("config.yaml")


configfile: "config.yaml"


include: "workflow/rules/common.smk"


localrules:
    all,


report: "workflow/report/workflow.rst"


include: "workflow/rules/data.smk"
include: "workflow/rules/posterior.smk"
include: "workflow/rules/sampling.smk"
include: "workflow/rules/theory.smk"
include: "workflow/rules/judges.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/numbers.smk"


rule all:
    default_target: True
    input:
        rules.publish.output,
