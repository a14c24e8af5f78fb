"""Stage "data": teacher w_T, training set and test inputs of every replicate of one point.

All draws come from :mod:`itscale.simulation.data` (seeded streams keyed by seed, replicate,
purpose and block); this module arranges them into one dataset.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from itscale.pipeline.datasets import annotate, provenance_attrs
from itscale.simulation import data

__all__ = ["build"]

_LOG = logging.getLogger("itscale.data")


def build(p: Mapping[str, Any], log: logging.Logger = _LOG) -> xr.Dataset:
    """Dataset of the data stage for parameters ``p`` (:data:`STAGE_PARAMS` ``["data"]``).

    Variables: w_T (replicate, feature), w_norm2 = |w_T|^2 / d (replicate), X_train
    (replicate, train_input, feature), y_train (replicate, train_input), X_test (replicate,
    test_input, feature); all dimensionless.
    """
    log.info(
        "drawing %d replicate(s): n=%d d=%d S=%g sigma=%g w ~ N(%g, %g^2), n_test=%d in blocks "
        "of %d, seed=%d",
        *(p[name] for name in ("replicates", "n", "d", "S", "sigma", "w_mean", "w_std")),
        *(p[name] for name in ("n_test", "block_size", "seed")),
    )
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
    return annotate(ds)
