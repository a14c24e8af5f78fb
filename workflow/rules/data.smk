# Stage "data": teacher w_T, training set and test inputs of every replicate of one point.
# Keyed by seed, replicates, n, d, S, sigma, w_mean, w_std, n_test, block_size.


rule data:
    input:
        modules=module_files("pipeline.stages.data"),
    output:
        "results/data/{key}/data.nc",
    log:
        "logs/data/{key}.log",
    conda:
        "../envs/itscale.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb("data"),
        runtime=runtime("data"),
    params:
        p=job_params("data"),
    script:
        "../scripts/data.py"
