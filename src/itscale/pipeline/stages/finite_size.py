"""Stage "finite_size": exact input average of delta(k, T, c) for each fitted training set.

:func:`itscale.theory.finite_size.delta_fitted` averages the exact per-input error over the
test-input distribution of one fitted posterior (no Monte Carlo); the result sits next to the
Monte Carlo estimate of the same training sets in the sampling dataset. With it, the fitted
sets' input moments and difficulty rho_fitted, and the deterministic-equivalent theory taken at
that difficulty (:func:`fitted_theory`), which exists only once the training sets are drawn.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from itscale.model import Model
from itscale.pipeline.datasets import annotate, provenance_attrs
from itscale.pipeline.stages.theory import delta_grid
from itscale.simulation.posterior import Posterior
from itscale.theory import equivalents, expansions
from itscale.theory.finite_size import delta_fitted, fitted_input_moments

__all__ = ["build", "fitted_theory"]

_LOG = logging.getLogger("itscale.finite_size")

#: long_name and units of the variables of :func:`fitted_theory` (see datasets.annotate).
_ATTRS: dict[str, tuple[str, str]] = {
    "delta_de_fitted": (
        "generalization error, deterministic equivalent at the fitted set's difficulty",
        "1",
    ),
    "decay_exponent_fitted": ("asymptotic decay exponent 2 min(1, 1/rho_fitted)", "1"),
}


def fitted_theory(
    model: Model, rho_fitted: Sequence[float], T: np.ndarray, c: np.ndarray, k: np.ndarray
) -> dict[str, tuple]:
    """The DE theory at the difficulties of the fitted training sets.

    ``model`` with its teacher norm set so that its DE difficulty 2 V / s2 equals each
    replicate's ``rho_fitted`` (rho is proportional to w_norm2 at fixed n, d, S, sigma, gamma):
    delta_de_fitted (replicate, T, c, k), units of y^2, and the asymptotic decay exponent
    decay_exponent_fitted = 2 min(1, 1/rho_fitted) (replicate).
    """
    rho1 = float(equivalents.difficulty(model.replace(w_norm2=1.0)))
    rho = [float(r) for r in rho_fitted]
    delta = [delta_grid((T, c, k), model.replace(w_norm2=r / rho1)) for r in rho]
    exponent = [float(expansions.decay_exponent(r)) for r in rho]
    return {
        "delta_de_fitted": (("replicate", "T", "c", "k"), np.stack(delta)),
        "decay_exponent_fitted": ("replicate", np.asarray(exponent)),
    }


def build(posterior: xr.Dataset, p: Mapping[str, Any], log: logging.Logger = _LOG) -> xr.Dataset:
    """Dataset of the finite-size stage from the posterior stage's dataset.

    Variables: delta_fs (replicate, T, c, k), units of y^2; the fitted training sets' input
    mean of s^2 (s2_fitted), bias variance (V_fitted) and difficulty 2 V / s2 (rho_fitted),
    over replicate; and :func:`fitted_theory` at rho_fitted.
    """
    log.info(
        "finite-size exact average: %d replicate(s), %d k x %d T x %d c",
        p["replicates"],
        len(p["k"]),
        len(p["T"]),
        len(p["c"]),
    )
    k = np.asarray(p["k"], dtype=np.int64)
    T = np.asarray(p["T"], dtype=np.float64)
    c = np.asarray(p["c"], dtype=np.float64)
    values, moments = [], []
    for rep in range(p["replicates"]):
        sel = posterior.isel(replicate=rep)
        post = Posterior(
            mean=sel["post_mean"].values,
            chol=sel["post_chol"].values,
            sigma=p["sigma"],
            gamma=p["gamma"],
        )
        t0 = time.perf_counter()
        values.append(delta_fitted(k, T, post, sel["w_T"].values, S=p["S"], c=c))  # (T, c, k)
        mom = fitted_input_moments(post, sel["w_T"].values, S=p["S"])
        moments.append((mom.s2_mean, mom.var_b, 2.0 * mom.var_b / mom.s2_mean))
        log.info("replicate %d done in %.2f s", rep, time.perf_counter() - t0)
    s2_fit, var_b_fit, rho_fit = (np.asarray(v) for v in zip(*moments, strict=True))
    t0 = time.perf_counter()
    theory = fitted_theory(Model.from_params(p), rho_fit, T, c, k)
    log.info("DE theory at the fitted difficulties in %.2f s", time.perf_counter() - t0)
    ds = xr.Dataset(
        {
            "delta_fs": (("replicate", "T", "c", "k"), np.stack(values)),
            "s2_fitted": ("replicate", s2_fit),
            "V_fitted": ("replicate", var_b_fit),
            "rho_fitted": ("replicate", rho_fit),
            **theory,
        },
        coords={"replicate": posterior["replicate"].values, "T": T, "c": c, "k": k},
        attrs=provenance_attrs(
            "finite_size", p, p["seed"], title="itscale finite-size exact average"
        ),
    )
    return annotate(ds, _ATTRS)
