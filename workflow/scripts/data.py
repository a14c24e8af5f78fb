"""Stage "data": teacher w_T, training set and test inputs of every replicate of one point.

Thin Snakemake script: all draws come from itscale.simulation.data (seeded streams keyed by seed,
replicate, purpose and block); this file only arranges them into one NetCDF dataset.
"""

import time

import numpy as np
import xarray as xr

from itscale.pipeline.datasets import (
    annotate,
    provenance_attrs,
    stage_logger,
    use_threads,
    write_dataset,
)
from itscale.simulation import data


def main(smk) -> None:
    use_threads(smk.threads)
    p = smk.params.p
    log = stage_logger("data", smk.log[0])
    log.info(
        "drawing %d replicate(s): n=%d d=%d S=%g sigma=%g w ~ N(%g, %g^2), n_test=%d in blocks "
        "of %d, seed=%d",
        p["replicates"],
        p["n"],
        p["d"],
        p["S"],
        p["sigma"],
        p["w_mean"],
        p["w_std"],
        p["n_test"],
        p["block_size"],
        p["seed"],
    )
    start = time.perf_counter()
    w_T, X, y, X_test = [], [], [], []
    for rep in range(p["replicates"]):
        w = data.draw_teacher(p["seed"], rep, p["d"], p["w_mean"], p["w_std"])
        Xr, yr = data.draw_training_set(p["seed"], rep, p["n"], p["d"], p["S"], p["sigma"], w)
        Xt = data.draw_test_inputs(p["seed"], rep, p["n_test"], p["d"], p["S"], p["block_size"])
        w_T.append(w)
        X.append(Xr)
        y.append(yr)
        X_test.append(Xt)
        log.info("replicate %d: |w_T|^2/d = %.6g", rep, float(w @ w) / p["d"])
    w_T = np.stack(w_T)
    ds = xr.Dataset(
        {
            "w_T": (("replicate", "feature"), w_T),
            "w_norm2": (("replicate",), np.sum(w_T**2, axis=1) / p["d"]),
            "X_train": (("replicate", "train_input", "feature"), np.stack(X)),
            "y_train": (("replicate", "train_input"), np.stack(y)),
            "X_test": (("replicate", "test_input", "feature"), np.stack(X_test)),
        },
        coords={
            "replicate": np.arange(p["replicates"]),
            "feature": np.arange(p["d"]),
            "train_input": np.arange(p["n"]),
            "test_input": np.arange(p["n_test"]),
        },
        attrs=provenance_attrs(
            "data", p, p["seed"], title="itscale data: teacher, training set, test inputs"
        ),
    )
    write_dataset(annotate(ds), smk.output[0])
    log.info("wrote %s in %.2f s", smk.output[0], time.perf_counter() - start)


main(snakemake)  # noqa: F821 - injected by Snakemake
