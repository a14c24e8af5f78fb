"""Dataset reductions shared by the figures and the numbers table (no theory is computed here).

From the pipeline's datasets of one experiment (``sampling`` and ``theory``, one per sweep
point): the replicate average of a Monte Carlo estimator and its standard error
(:func:`mc_summary`, and with the finite-size average as :class:`Sampled`; everything a
figure of one point reads as :class:`Point`), which model
parameter a sweep varies (:func:`sweep_parameter`), the theory stage's plotting-grid curves
(:func:`fine_curves`), the range of the values a figure shows (:func:`value_range`), and
elementary estimators applied
alike to Monte Carlo and theory values: a least-squares power-law fit
(:func:`fit_power_law`), a weighted mean of k^2 delta (:func:`coefficient`) and the minimum
of a sampled curve (:func:`curve_minimum`). :func:`fine_k` and :func:`select_tc` choose the
plotting grids the figure kinds ask the theory stage for.

Monte Carlo standard errors
---------------------------
The pipeline gives, per replicate r (an independent teacher and training set), the Monte
Carlo mean delta_r and its standard error se_r over test inputs and trials. The figures and
the table use the replicate average mean_r delta_r with the Monte Carlo standard error
sqrt(sum_r se_r^2) / R. It measures sampling noise only: the finite-size exact average
delta_fs of the same training sets must agree with it within noise, while the
deterministic-equivalent theory differs from it also by the spread between training sets,
so the two comparisons are reported separately. Quantities combining several k (the 1/k^2
coefficient, fitted exponents) get the standard error bound for fully correlated points,
because the Monte Carlo reuses its draws across k (common random numbers).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from itscale.pipeline.params import MODEL_KEYS

if TYPE_CHECKING:  # xarray is imported lazily: the job plan imports the figure kinds
    import xarray as xr

__all__ = [
    "point_params",
    "t_scale",
    "sweep_parameter",
    "mc_summary",
    "Sampled",
    "sampled",
    "Point",
    "point",
    "value_range",
    "fine_k",
    "select_tc",
    "fine_curves",
    "curve_minimum",
    "fit_power_law",
    "exponent_fit_range",
    "coefficient_fit_range",
    "coefficient",
    "replicate_exponents",
]


def point_params(ds: xr.Dataset) -> dict[str, Any]:
    """Resolved parameters of a sweep point (the ``params`` global attribute, JSON)."""
    return json.loads(ds.attrs["params"])


def t_scale(experiment: Mapping[str, Any] | None, sigma2: float) -> tuple[float, str]:
    """Divisor and axis label of temperatures: 2 sigma^2 when the config wrote T that way."""
    if experiment is not None and experiment.get("T_unit") == "two_sigma2":
        return 2.0 * sigma2, r"$T / 2\sigma^2$"
    return 1.0, r"$T$"


def sweep_parameter(datasets: Sequence[xr.Dataset]) -> str | None:
    """The model parameter that varies across the sweep points (None for a single point).

    If several vary, the first in :data:`MODEL_KEYS` order is returned.
    """
    if len(datasets) < 2:
        return None
    params = [point_params(ds) for ds in datasets]
    for name in MODEL_KEYS:
        values = {repr(p.get(name)) for p in params}
        if len(values) > 1:
            return name
    return None


def mc_summary(sampling: xr.Dataset, estimator: str = "mc") -> tuple[xr.DataArray, xr.DataArray]:
    """Replicate average of a Monte Carlo estimator and its Monte Carlo standard error.

    estimator: "mc" (sampled, ``delta_mc``) or "rb" (Rao-Blackwellised, ``delta_rb``). Returns
    (mean, se) over (T, c, k), units of y^2: mean_r delta_r and sqrt(sum_r se_r^2) / R.
    """
    if estimator not in ("mc", "rb"):
        raise ValueError(f"estimator must be 'mc' or 'rb', got {estimator!r}")
    val = sampling[f"delta_{estimator}"]
    se = sampling[f"delta_{estimator}_se"]
    reps = val.sizes.get("replicate", 1)
    if "replicate" not in val.dims:
        return val, se
    return val.mean("replicate"), np.sqrt(np.square(se).sum("replicate")) / reps


@dataclass(frozen=True)
class Sampled:
    """The simulated training sets of one sweep point over (T, c, k), units of y^2: the
    replicate mean of the sampled estimator and its Monte Carlo SE (:func:`mc_summary`), and
    the replicate mean of the finite-size exact average."""

    mean: xr.DataArray
    se: xr.DataArray
    fs: xr.DataArray

    @classmethod
    def of(cls, sampling: xr.Dataset) -> Sampled:
        """From one sampling dataset."""
        mean, se = mc_summary(sampling, "mc")
        return cls(mean, se, sampling["delta_fs"].mean("replicate"))

    def at(self, scale: float = 1.0, **sel: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean, se, fs) as arrays at ``sel`` (labels, e.g. ``T=..., c=...``), / ``scale``."""
        return tuple(v.sel(**sel).values / scale for v in (self.mean, self.se, self.fs))


def sampled(sampling: Sequence[xr.Dataset], i: int) -> Sampled | None:
    """:class:`Sampled` of point ``i``, or None for a theory-only experiment."""
    return Sampled.of(sampling[i]) if sampling else None


@dataclass(frozen=True)
class Point:
    """One sweep point as a figure draws it: its theory dataset ``th``, sigma^2 (y^2), the
    divisor and axis label of temperatures (:func:`t_scale`), the theory stage's
    plotting-grid ``curves`` (:func:`fine_curves`) and its simulated training sets ``smp``
    (None for a theory-only experiment)."""

    th: xr.Dataset
    sigma2: float
    scale: float
    t_label: str
    curves: xr.Dataset
    smp: Sampled | None


def point(
    sampling: Sequence[xr.Dataset],
    theory: Sequence[xr.Dataset],
    experiment: Mapping[str, Any] | None,
    i: int = 0,
) -> Point:
    """:class:`Point` of sweep point ``i`` of an experiment (temperatures labelled as it asks)."""
    th = theory[i]
    sigma2 = float(th["sigma2"])
    scale, t_label = t_scale(experiment, sigma2)
    return Point(th, sigma2, scale, t_label, fine_curves(th), sampled(sampling, i))


def value_range(values: Iterable[Any]) -> tuple[float, float]:
    """(min, max) over every element of ``values`` (arrays of any shape), NaN ignored."""
    flat = np.concatenate([np.ravel(v) for v in values])
    return float(np.nanmin(flat)), float(np.nanmax(flat))


def fine_k(k_min: int, k_max: int, num: int = 120) -> np.ndarray:
    """Integers from k_min to k_max, geometric, at most ``num`` distinct values (for lines)."""
    k_min, k_max = int(k_min), int(k_max)
    if k_max <= k_min:
        return np.array([k_min], dtype=np.int64)
    grid = np.geomspace(k_min, k_max, num)
    return np.unique(np.concatenate([[k_min], np.round(grid), [k_max]]).astype(np.int64))


def select_tc(T: Sequence[float], c: Sequence[float]) -> tuple[float, float]:
    """T and c to show for a single-curve-per-point figure: 0 if in the grid, else the first."""
    T0 = 0.0 if any(t == 0 for t in T) else float(T[0])
    c0 = 0.0 if any(v == 0 for v in c) else float(c[0])
    return T0, c0


def fine_curves(theory: xr.Dataset) -> xr.Dataset:
    """The theory stage's plotting-grid curves of a point as a Dataset over (T, c, k):
    delta_de (and delta_hte, delta_asymptote, delta_tilted where computed), units of y^2."""
    names = [name for name in theory.data_vars if name.endswith("_fine")]
    rename = {name: name.removesuffix("_fine") for name in names}
    rename.update({f"{dim}_fine": dim for dim in ("T", "c", "k")})
    return theory[names].rename(rename)


def curve_minimum(x, y, *, log: bool = False) -> tuple[float, float]:
    """Minimum of a sampled curve: the argmin, refined by a parabola through it and its two
    neighbours (in ln x if ``log``). Returns (x*, y*); the grid point itself at an end of the
    grid, next to x = 0 on a log axis, or if the parabola does not open upwards."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    i = int(np.nanargmin(y))
    if i == 0 or i == x.size - 1 or (log and x[i - 1] <= 0) or not np.isfinite(x[i + 1]):
        return float(x[i]), float(y[i])
    u = np.log(x[i - 1 : i + 2]) if log else x[i - 1 : i + 2]
    a, b, c = np.polyfit(u, y[i - 1 : i + 2], 2)
    if a <= 0:
        return float(x[i]), float(y[i])
    u_star = float(np.clip(-b / (2 * a), u[0], u[2]))
    x_star = float(np.exp(u_star)) if log else u_star
    return x_star, float(a * u_star**2 + b * u_star + c)


def fit_power_law(
    k: np.ndarray, delta: np.ndarray, se: np.ndarray | None = None
) -> tuple[float, float, float]:
    """Least-squares fit ln delta = a + p ln k (ordinary, unweighted); returns (p, se_p, e^a).

    The same estimator is applied to Monte Carlo and theory values, so their slopes are
    comparable even where the curve bends. se_p propagates the standard errors ``se`` of
    delta (as se / delta on ln delta) through the fit as sum_i |dp/d ln delta_i| se_i / delta_i,
    an upper bound valid for any correlation between the points (the Monte Carlo reuses its
    draws across k, so its errors at different k are positively correlated); nan without
    ``se``.
    """
    x = np.log(np.asarray(k, dtype=np.float64))
    y = np.log(np.asarray(delta, dtype=np.float64))
    xc = x - x.mean()
    sxx = float(np.square(xc).sum())
    p = float((xc * y).sum() / sxx)
    se_p = math.nan
    if se is not None:
        rel = np.asarray(se, dtype=np.float64) / np.asarray(delta, dtype=np.float64)
        se_p = float((np.abs(xc) * rel).sum() / sxx)
    return p, se_p, float(np.exp(y.mean() - p * x.mean()))


def _at_least(mask: np.ndarray, count: int) -> np.ndarray:
    """``mask``, or the last ``count`` entries if it selects fewer (short grids)."""
    count = min(count, mask.size)
    if mask.sum() >= count:
        return mask
    out = np.zeros_like(mask)
    out[mask.size - count :] = True
    return out


def exponent_fit_range(k: np.ndarray) -> np.ndarray:
    """Boolean mask of the k values used to fit decay exponents: k >= max(4, k_max / 20)
    (at least the last three grid points)."""
    k = np.asarray(k)
    return _at_least(k >= max(4.0, float(k.max()) / 20.0), 3)


def coefficient_fit_range(k: np.ndarray) -> np.ndarray:
    """Boolean mask of the k values used for the 1/k^2 coefficient: k >= max(10, k_max / 10)
    (at least the last two grid points)."""
    k = np.asarray(k)
    return _at_least(k >= max(10.0, float(k.max()) / 10.0), 2)


def coefficient(k, delta, se=None, weights_se=None):
    """Weighted mean of k^2 delta and its standard error (nan without ``se``).

    Weights 1 / (k^2 se_w)^2 with se_w = ``weights_se`` (default ``se``; equal weights if both
    are None): pass the Monte Carlo SE as ``weights_se`` to apply the Monte Carlo weights to
    theory values. The standard error is the weighted mean of the k^2 se, the bound for
    fully correlated points (common random numbers across k).
    """
    k = np.asarray(k, dtype=np.float64)
    a = np.square(k) * delta
    ws = se if weights_se is None else weights_se
    w = np.ones_like(a) if ws is None else 1.0 / np.square(np.square(k) * ws)
    mean = float((w * a).sum() / w.sum())
    if se is None:
        return mean, math.nan
    err = float((w * np.square(k) * se).sum() / w.sum())
    return mean, err


def replicate_exponents(sampling: xr.Dataset, k_mask: np.ndarray, T: float, c: float):
    """Per-replicate decay exponents over the k values in ``k_mask``.

    Returns (mc, mc_se, fs): -slope of :func:`fit_power_law` fitted to each replicate's Monte
    Carlo estimate (with its propagated standard error) and to its finite-size exact average.
    Arrays over ``replicate``.
    """
    k = sampling["k"].values[k_mask]
    mc, mc_se, fs = [], [], []
    for r in range(sampling.sizes["replicate"]):
        rep = sampling.isel(replicate=r).sel(T=T, c=c)
        p, pse, _ = fit_power_law(
            k, rep["delta_mc"].values[k_mask], rep["delta_mc_se"].values[k_mask]
        )
        mc.append(-p)
        mc_se.append(pse)
        fs.append(-fit_power_law(k, rep["delta_fs"].values[k_mask])[0])
    return np.asarray(mc), np.asarray(mc_se), np.asarray(fs)
