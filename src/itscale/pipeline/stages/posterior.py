"""Stage "posterior": fitted posterior of every replicate and the predictive on the test inputs.

Fitting and prediction are :mod:`itscale.simulation.posterior`; this module evaluates the
predictive block by block and arranges the results into one dataset.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from itscale.pipeline.datasets import annotate, provenance_attrs
from itscale.simulation.posterior import fit_posterior, posterior_traces, predictive

__all__ = ["build"]

_LOG = logging.getLogger("itscale.posterior")

_DIMS: dict[str, tuple[str, ...]] = {
    "post_mean": ("replicate", "feature"),
    "post_chol": ("replicate", "feature", "feature_T"),
    "trace_Ainv": ("replicate",),
    "trace_Ainv2": ("replicate",),
    "m": ("replicate", "test_input"),
    "s": ("replicate", "test_input"),
    "mu_T": ("replicate", "test_input"),
}


def build(data: xr.Dataset, p: Mapping[str, Any], log: logging.Logger = _LOG) -> xr.Dataset:
    """Dataset of the posterior stage from the data stage's dataset ``data``.

    Variables: post_mean (replicate, feature), post_chol (replicate, feature, feature_T),
    trace_Ainv, trace_Ainv2 (replicate), the predictive mean m, standard deviation s and the
    teacher output mu_T (replicate, test_input), and w_T, w_norm2 copied from ``data``.
    """
    log.info(
        "fitting %d replicate(s): n=%d d=%d sigma=%g gamma=%g; predictive on %d test inputs",
        *(p[name] for name in ("replicates", "n", "d", "sigma", "gamma", "n_test")),
    )
    out: dict[str, list] = {name: [] for name in _DIMS}
    block = p["block_size"]
    for rep in range(p["replicates"]):
        sel = data.isel(replicate=rep)
        X_test = sel["X_test"].values
        post = fit_posterior(
            sel["X_train"].values, sel["y_train"].values, sigma=p["sigma"], gamma=p["gamma"]
        )
        m = np.empty(p["n_test"])
        s2 = np.empty(p["n_test"])
        for lo in range(0, p["n_test"], block):
            m[lo : lo + block], s2[lo : lo + block] = predictive(post, X_test[lo : lo + block])
        tr1, tr2 = posterior_traces(post)
        for name, value in zip(
            _DIMS,
            (post.mean, post.chol, tr1, tr2, m, np.sqrt(s2), X_test @ sel["w_T"].values),
            strict=True,
        ):
            out[name].append(value)
        log.info(
            "replicate %d: tr A^-1 = %.6g, mean s^2 / sigma^2 = %.6g",
            rep,
            tr1,
            float(np.mean(s2)) / p["sigma"] ** 2,
        )
    ds = xr.Dataset(
        {
            name: (_DIMS[name], np.stack([np.asarray(v) for v in values]))
            for name, values in out.items()
        },
        coords={
            "replicate": data["replicate"].values,
            "feature": data["feature"].values,
            "feature_T": data["feature"].values,
            "test_input": data["test_input"].values,
        },
        attrs=provenance_attrs("posterior", p, p["seed"], title="itscale posterior and predictive"),
    )
    ds["w_T"] = data["w_T"]
    ds["w_norm2"] = data["w_norm2"]
    return annotate(ds)
