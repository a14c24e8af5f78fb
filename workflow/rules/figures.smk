# Stage "figures": one figure per experiment and format, drawn by its figure kind
# (itscale.report.kinds.<kind>) into the cache results/figures/<key>/ (keyed by the
# experiment's dataset paths and the plot style), then published as figures/<experiment>.<ext>.


rule figure:
    input:
        sampling=figure_datasets("sampling"),
        theory=figure_datasets("theory"),
        modules=figure_modules,
    output:
        "results/figures/{key}/{experiment}.{ext}",
    log:
        "logs/figures/{key}/{experiment}.{ext}.log",
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


rule publish_figure:
    input:
        cached_figure,
    output:
        report(
            "figures/{experiment}.{ext}",
            caption="../report/figure.rst",
            category="Figures",
            subcategory="{experiment}",
            labels={"figure": "{experiment}", "format": "{ext}"},
        ),
    log:
        "logs/publish/{experiment}.{ext}.log",
    conda:
        "../envs/itscale.yaml"
    threads: 1
    resources:
        mem_mb=100,
        runtime=1,
    params:
        key=lambda wildcards: PLAN.published(wildcards.experiment).figure_key,
        caption=figure_caption,
    shell:
        "cp {input:q} {output:q} 2> {log:q} && echo 'published {input} as {output}' >> {log:q}"
