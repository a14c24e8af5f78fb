# Stage "data": teacher w_T, training set and test inputs of every replicate of one point.
# Keyed by seed, replicates, n, d, S, sigma, w_mean, w_std, n_test, block_size.


rule data:
    input:
        modules=module_files("simulation.data", "pipeline.datasets"),
    output:
        PATHS["data"],
    log:
        LOGS["data"],
    conda:
        "../envs/itscale.yaml"
    threads: 1
    resources:
        mem_mb=PLAN.mem_mb("data"),
        runtime=PLAN.runtime("data"),
    params:
        p=PLAN.params_of("data"),
    script:
        "../scripts/data.py"
