# Stage "theory": deterministic-equivalent delta (exact in k and T), the high-temperature
# expansion and the large-k asymptotes on the same grids. Depends on parameters only (never on
# sampled data): keyed by the model parameters + k, T, c grids + hte_order.


rule theory:
    input:
        modules=module_files(
            "theory.equivalents", "theory.expansions", "pipeline.datasets"
        ),
    output:
        PATHS["theory"],
    log:
        LOGS["theory"],
    conda:
        "../envs/itscale.yaml"
    threads: 1
    resources:
        mem_mb=PLAN.mem_mb("theory"),
        runtime=PLAN.runtime("theory"),
    params:
        p=PLAN.params_of("theory"),
    script:
        "../scripts/theory.py"
