# Stage "figures": one job per experiment draws its figure once, by its figure kind
# (itscale.report.kinds.<kind>), and saves it in every format of plot_style.format
# (FIGURE_FORMATS) into the cache results/figures/<key>/ (keyed by the
# experiment's dataset paths and the plot style; theory-only experiments through the same rule
# as "theory_figure", under results/theory_figures/). Stage "publish": one last job copies every
# rendered figure and the numbers table into figures/ together, once all of them exist, so a
# run that fails or is interrupted leaves figures/ as it was.


rule figure:
    input:
        sampling=figure_datasets("sampling"),
        theory=figure_datasets("theory"),
        modules=figure_modules,
    output:
        expand("results/figures/{{key}}/{{experiment}}.{ext}", ext=FIGURE_FORMATS),
    log:
        "logs/figures/{key}/{experiment}.log",
    conda:
        "../envs/itscale.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        p=job_params("figure"),
    script:
        "../scripts/figure.py"


use rule figure as theory_figure with:
    output:
        expand(
            "results/theory_figures/{{key}}/{{experiment}}.{ext}", ext=FIGURE_FORMATS
        ),
    log:
        "logs/theory_figures/{key}/{experiment}.log",


rule publish:
    input:
        published("sources"),
    output:
        published("targets"),
    log:
        "logs/publish.log",
    localrule: True
    conda:
        "../envs/itscale.yaml"
    threads: 1
    resources:
        mem_mb=100,
        runtime=1,
    script:
        "../scripts/publish.py"
