# Stage "sampling": Monte Carlo estimate of delta(k, T, c) with standard errors, sampled and
# Rao-Blackwellised, split over shards of test-input blocks and gathered exactly; next to it
# the finite-size exact average for the same fitted training sets (no Monte Carlo).
# Keyed by the posterior parameters + k, T, c grids + trials, shards (finite size: no trials,
# shards).


rule sampling_shard:
    input:
        posterior=PLAN.input_of("sampling", "posterior"),
        modules=module_files("simulation.montecarlo", "pipeline.datasets"),
    output:
        PATHS["shard"],
    log:
        LOGS["shard"],
    conda:
        "../envs/itscale.yaml"
    threads: 1
    resources:
        mem_mb=PLAN.mem_mb("shard"),
        runtime=PLAN.runtime("shard"),
    params:
        p=PLAN.params_of("sampling"),
        blocks=PLAN.blocks_of(),
    script:
        "../scripts/sampling_shard.py"


rule finite_size:
    input:
        posterior=PLAN.input_of("finite_size", "posterior"),
        modules=module_files("theory.finite_size", "pipeline.datasets"),
    output:
        PATHS["finite_size"],
    log:
        LOGS["finite_size"],
    conda:
        "../envs/itscale.yaml"
    threads: 1
    resources:
        mem_mb=PLAN.mem_mb("finite_size"),
        runtime=PLAN.runtime("finite_size"),
    params:
        p=PLAN.params_of("finite_size"),
    script:
        "../scripts/finite_size.py"


rule sampling:
    input:
        shards=lambda wildcards: PLAN.shard_paths(wildcards.key),
        finite_size=PLAN.input_of("sampling", "finite_size"),
        modules=module_files("simulation.montecarlo", "pipeline.datasets"),
    output:
        PATHS["sampling"],
    log:
        LOGS["sampling"],
    conda:
        "../envs/itscale.yaml"
    threads: 1
    resources:
        mem_mb=PLAN.mem_mb("sampling"),
        runtime=PLAN.runtime("sampling"),
    params:
        p=PLAN.params_of("sampling"),
    script:
        "../scripts/sampling_gather.py"
