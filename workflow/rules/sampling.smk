# Stage "sampling": Monte Carlo estimate of delta(k, T, c) with standard errors, sampled and
# Rao-Blackwellised, split over shards of test-input blocks and gathered exactly; next to it
# the finite-size exact average for the same fitted training sets (no Monte Carlo).
# Keyed by the posterior parameters + k, T, c grids + trials, shards (finite size: no trials,
# shards).


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


rule finite_size:
    input:
        posterior=upstream("finite_size", "posterior"),
        modules=module_files("pipeline.stages.finite_size"),
    output:
        "results/finite_size/{key}/finite_size.nc",
    log:
        "logs/finite_size/{key}.log",
    conda:
        "../envs/itscale.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb("finite_size"),
        runtime=runtime("finite_size"),
    params:
        p=job_params("finite_size"),
    script:
        "../scripts/finite_size.py"


rule sampling:
    input:
        shards=shard_paths,
        finite_size=upstream("sampling", "finite_size"),
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
