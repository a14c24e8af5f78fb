# Stage "theory": the deterministic-equivalent error (exact in k and T), the high-temperature
# expansion, the large-k asymptotes and the multiplier on the experiment's grids, plus the
# plotting-grid curves and optima its figure kind asks for. Depends on parameters only (never
# on sampled data): keyed by the model parameters + k, T, c grids + hte_order + curves.


rule theory:
    input:
        modules=module_files("pipeline.stages.theory"),
    output:
        "results/theory/{key}/theory.nc",
    log:
        "logs/theory/{key}.log",
    conda:
        "../envs/itscale.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb("theory"),
        runtime=runtime("theory"),
    params:
        p=job_params("theory"),
    script:
        "../scripts/theory.py"
