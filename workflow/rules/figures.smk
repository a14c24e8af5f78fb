# Stage "figures": one figure per experiment, rendered by itscale.report.plotting.plot_<kind> into the
# cache results/figures/<key>/ (keyed by the experiment's dataset paths and the plot style),
# then published as figures/<experiment>.<ext>.


rule figure:
    input:
        sampling=lambda wildcards: PLAN.figure(wildcards.key).sampling_paths,
        theory=lambda wildcards: PLAN.figure(wildcards.key).theory,
        modules=module_files("report.plotting", "pipeline.datasets"),
    output:
        PATHS["figure"],
    log:
        LOGS["figure"],
    conda:
        "../envs/itscale.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        p=PLAN.params_of("figure"),
    script:
        "../scripts/figure.py"


rule publish_figure:
    input:
        lambda wildcards: PLAN.experiments[wildcards.experiment].figure_path_for(
            wildcards.ext
        ),
    output:
        report(
            PATHS["publish"],
            caption="../report/figure.rst",
            category="Figures",
            subcategory="{experiment}",
            labels={"figure": "{experiment}", "format": "{ext}"},
        ),
    log:
        LOGS["publish"],
    conda:
        "../envs/itscale.yaml"
    threads: 1
    resources:
        mem_mb=100,
        runtime=1,
    params:
        key=lambda wildcards: PLAN.experiments[wildcards.experiment].figure_key,
        caption=PLAN.caption_of(os.path.join(workflow.basedir, "workflow", "report")),
    shell:
        "cp {input:q} {output:q} 2> {log:q} && echo 'published {input} as {output}' >> {log:q}"
