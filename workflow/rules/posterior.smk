# Stage "posterior": fitted BLR posterior of each replicate and the predictive m, s and the
# teacher output mu_T on the test inputs. Keyed by the data parameters + gamma.


rule posterior:
    input:
        data=PLAN.input_of("posterior", "data"),
        modules=module_files("simulation.posterior", "pipeline.datasets"),
    output:
        PATHS["posterior"],
    log:
        LOGS["posterior"],
    conda:
        "../envs/itscale.yaml"
    threads: 1
    resources:
        mem_mb=PLAN.mem_mb("posterior"),
        runtime=PLAN.runtime("posterior"),
    params:
        p=PLAN.params_of("posterior"),
    script:
        "../scripts/posterior.py"
