"""Stage "numbers": the key numbers of every figure with their theory values.

Thin Snakemake script around itscale.report.table: reads each experiment's sampling and theory
datasets (in sweep order) and writes figures/numbers.csv and its NetCDF mirror
figures/numbers.nc. Nothing time- or host-dependent is written, so a rerun on the same
datasets gives byte-identical files.
"""

import time

import itscale
from itscale.pipeline.datasets import canonical_json, read_dataset, stage_logger
from itscale.report import table as numbers


def main(smk) -> None:
    log = stage_logger("numbers", smk.log[0])
    start = time.perf_counter()
    experiments = smk.params.experiments
    jobs = []
    for name, exp in experiments.items():
        sampling = [read_dataset(path) for path in exp["sampling"] if path is not None]
        theory = [read_dataset(path) for path in exp["theory"]]
        jobs.append((exp, sampling, theory))
        log.info(
            "%s (%s): %d sampling and %d theory dataset(s)",
            name,
            exp["kind"],
            len(sampling),
            len(theory),
        )
    rows = numbers.numbers_table(jobs)
    attrs = {
        "stage": "numbers",
        "experiments": canonical_json(experiments),
        "itscale_version": itscale.__version__,
    }
    numbers.write_table(rows, smk.output.csv, smk.output.nc, attrs=attrs)
    log.info(
        "wrote %d rows to %s and %s in %.2f s",
        len(rows),
        smk.output.csv,
        smk.output.nc,
        time.perf_counter() - start,
    )


main(snakemake)  # noqa: F821 - injected by Snakemake
