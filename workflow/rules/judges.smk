# Judge-data experiments (config `judge_data:`, itscale.pipeline.judge_data). Stage "records"
# reads and checks the records file (keyed by its path and the record format, never by the
# judge list); stage "judges" analyses it (keyed by the records parameters and every analysis
# setting); "judge_figure" draws the two-panel figure in each format (keyed by the title, the
# plot style and the analysis path), published to figures/ with the other figures. Input
# helpers: judge_source, judge_analysis in common.smk.


rule records:
    input:
        source=judge_source,
        modules=module_files("pipeline.stages.records"),
    output:
        "results/records/{key}/records.nc",
    log:
        "logs/records/{key}.log",
    conda:
        "../envs/itscale.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb("records"),
        runtime=runtime("records"),
    params:
        p=job_params("records"),
    script:
        "../scripts/records.py"


rule judges:
    input:
        records=upstream("judges", "records"),
        modules=module_files("pipeline.stages.judges"),
    output:
        "results/judges/{key}/analysis.nc",
    log:
        "logs/judges/{key}.log",
    conda:
        "../envs/itscale.yaml"
    threads: 2
    resources:
        mem_mb=mem_mb("judges"),
        runtime=runtime("judges"),
    params:
        p=job_params("judges"),
    script:
        "../scripts/judges.py"


rule judge_figure:
    input:
        analysis=judge_analysis,
        modules=module_files("pipeline.stages.judge_figure"),
    output:
        expand("results/judge_figures/{{key}}/{{experiment}}.{ext}", ext=FIGURE_FORMATS),
    log:
        "logs/judge_figures/{key}/{experiment}.log",
    conda:
        "../envs/itscale.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb("judge_figure"),
        runtime=runtime("judge_figure"),
    params:
        p=job_params("judge_figure"),
    script:
        "../scripts/judge_figure.py"
