# Stage "posterior": fitted BLR posterior of each replicate and the predictive m, s and the
# teacher output mu_T on the test inputs. Keyed by the data parameters + gamma.


rule posterior:
    input:
        data=upstream("posterior", "data"),
        modules=module_files("pipeline.stages.posterior"),
    output:
        "results/posterior/{key}/posterior.nc",
    log:
        "logs/posterior/{key}.log",
    conda:
        "../envs/itscale.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb("posterior"),
        runtime=runtime("posterior"),
    params:
        p=job_params("posterior"),
    script:
        "../scripts/posterior.py"
