# Stage "sampling": Monte Carlo estimate of delta(k, T, c) with standard errors, sampled and
# Rao-Blackwellised, split over shards of test-input blocks and gathered exactly; next to it
# the finite-size exact average for the same fitted training sets (no Monte Carlo), computed by
# the gathering job. Keyed by the posterior parameters + k, T, c grids + trials, shards.


rule sampling_shard:
    input:
        posterior=upstream("sampling", "posterior"),
        modules=module_files("pipeline.stages.sampling"),
    output:
        "results/sampling/{key}/shard-{shard}.nc",
    log:
        "logs/sampling/{key}/shard-{shard}.log",
    conda:
        "../envs/itscale.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb("sampling_shard"),
        runtime=runtime("sampling_shard"),
    params:
        p=job_params("sampling"),
        blocks=shard_blocks,
    script:
        "../scripts/sampling_shard.py"


rule sampling:
    input:
        posterior=upstream("sampling", "posterior"),
        shards=shard_paths,
        modules=module_files("pipeline.stages.sampling"),
    output:
        "results/sampling/{key}/sampling.nc",
    log:
        "logs/sampling/{key}/gather.log",
    conda:
        "../envs/itscale.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb("sampling"),
        runtime=runtime("sampling"),
    params:
        p=job_params("sampling"),
    script:
        "../scripts/sampling_gather.py"
