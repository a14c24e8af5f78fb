# Stage "numbers": the key numbers of every figure (k*, T*, c*, fitted exponents, the 1/k^2
# coefficient, largest |MC - theory| / SE) with their theory values, as numbers.csv and its
# NetCDF mirror numbers.nc under results/numbers/<key>/ (keyed by the dataset paths it reads),
# published to figures/ with the figures by rule "publish". Reads every experiment's sampling
# and theory datasets, and the analysis dataset of every judge-data experiment (best-of-k
# error, T*, expansion).


rule numbers:
    input:
        sampling=[p for exp in PLAN.experiments.values() for p in exp.sampling_paths],
        theory=[p for exp in PLAN.experiments.values() for p in exp.theory],
        judges=[jp.analysis for jp in PLAN.judges.values()],
        modules=numbers_modules(),
    output:
        csv="results/numbers/{key}/numbers.csv",
        nc="results/numbers/{key}/numbers.nc",
    log:
        "logs/numbers/{key}.log",
    localrule: True
    conda:
        "../envs/itscale.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        experiments=PLAN.numbers_params(),
        judge_data=PLAN.judge_numbers_params(),
    script:
        "../scripts/numbers_table.py"
