"""Key numbers of the paper figures, with their theory values, from the pipeline's datasets.

This module turns the datasets of one experiment (the Monte Carlo ``sampling`` datasets and
the deterministic-equivalent ``theory`` datasets, one per sweep point, as passed to
``itscale.report.plotting``) into

* data reductions shared with the figures: the replicate average of a Monte Carlo estimator
  and its standard error (:func:`mc_summary`), which model parameter a sweep varies
  (:func:`sweep_parameter`), the theory evaluated on a finer grid for smooth lines
  (:func:`theory_curves`) and the theory optima k*, T*, c* (:func:`k_star`,
  :func:`t_star`, :func:`c_star`);
* the numbers table (:func:`experiment_rows`, :func:`numbers_table`), written as
  ``figures/numbers.csv`` and mirrored as NetCDF (:func:`write_table`).

All maths is delegated to :mod:`itscale.theory.equivalents` (the DE error ``delta_de`` and the
closed forms) and :mod:`itscale.theory.expansions` (optimisers, asymptotes, the high-temperature
expansion, decay exponents). What is done here is data selection and elementary estimators:
replicate averages, a least-squares power-law fit (:func:`fit_power_law`), a weighted mean
of k^2 delta, and the minimum of a sampled curve (:func:`curve_minimum`).

Monte Carlo standard errors
---------------------------
The pipeline gives, per replicate r (an independent teacher and training set), the Monte
Carlo mean delta_r and its standard error se_r over test inputs and trials. The figures and
this table use the replicate average mean_r delta_r with the Monte Carlo standard error
sqrt(sum_r se_r^2) / R. It measures sampling noise only: the finite-size exact average
delta_fs of the same training sets must agree with it within noise, while the
deterministic-equivalent theory differs from it also by the spread between training sets,
so the two comparisons are reported separately. Quantities combining several k (the 1/k^2
coefficient, fitted exponents) get the standard error bound for fully correlated points,
because the Monte Carlo reuses its draws across k (common random numbers).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from itscale.theory import equivalents, expansions

__all__ = [
    "COLUMNS",
    "MODEL_KEYS",
    "point_params",
    "model_of",
    "t_scale",
    "sweep_parameter",
    "mc_summary",
    "theory_curves",
    "fine_k",
    "multiplier_map",
    "exponent_curve",
    "k_star",
    "t_star",
    "c_star",
    "c_star_limit",
    "curve_minimum",
    "fit_power_law",
    "replicate_exponents",
    "exponent_fit_range",
    "coefficient_fit_range",
    "experiment_rows",
    "numbers_table",
    "to_dataset",
    "write_table",
]

#: Model parameters a sweep may vary (in the order the config lists them).
MODEL_KEYS: tuple[str, ...] = ("n", "d", "S", "sigma", "gamma", "w_mean", "w_std")

#: Columns of the numbers table, in order.
COLUMNS: tuple[str, ...] = (
    "experiment",
    "kind",
    "quantity",
    "selector",
    "value",
    "se",
    "theory",
    "theory_grid",
    "z",
    "units",
    "source",
    "note",
)

_COLUMN_DOC: dict[str, str] = {
    "experiment": "experiment (figure) name in config.yaml",
    "kind": "figure kind (itscale.report.plotting.plot_<kind>)",
    "quantity": "what the row measures",
    "selector": "the sweep point / curve the row belongs to",
    "value": "measured value (Monte Carlo unless the note says otherwise)",
    "se": "standard error of value (nan if not available)",
    "theory": "theory value (deterministic equivalent, exact optimum or asymptote)",
    "theory_grid": "the same estimator applied to the reference curve on the Monte Carlo grid: "
    "the DE theory, or the finite-size exact average in *_vs_finite_size rows",
    "z": "(value - reference) / se; reference = theory_grid if finite, else theory",
    "units": "units of value, se, theory and theory_grid",
    "source": "itscale function(s) that gave the theory value",
    "note": "how the row is computed",
}


# --------------------------------------------------------------------------------------------
# dataset access
# --------------------------------------------------------------------------------------------


def point_params(ds: xr.Dataset) -> dict[str, Any]:
    """Resolved parameters of a sweep point (the ``params`` global attribute, JSON)."""
    return json.loads(ds.attrs["params"])


def model_of(theory: xr.Dataset) -> dict[str, float]:
    """Keyword arguments n, d, S, sigma, gamma, w_norm2 of the DE functions for a theory point."""
    p = point_params(theory)
    model = {name: float(p[name]) for name in ("n", "d", "S", "sigma", "gamma")}
    model["w_norm2"] = float(theory["w_norm2"])
    return model


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


# --------------------------------------------------------------------------------------------
# theory on plotting grids and optima
# --------------------------------------------------------------------------------------------


def fine_k(k_min: int, k_max: int, num: int = 120) -> np.ndarray:
    """Integers from k_min to k_max, geometric, at most ``num`` distinct values (for lines)."""
    k_min, k_max = int(k_min), int(k_max)
    if k_max <= k_min:
        return np.array([k_min], dtype=np.int64)
    grid = np.geomspace(k_min, k_max, num)
    return np.unique(np.concatenate([[k_min], np.round(grid), [k_max]]).astype(np.int64))


def theory_curves(
    theory: xr.Dataset,
    *,
    k: Iterable[int] | None = None,
    T: Iterable[float] | None = None,
    c: Iterable[float] | None = None,
    hte: bool = False,
    asymptote: bool = False,
    tilted: bool = False,
) -> xr.Dataset:
    """The DE error and related theory on a plotting grid (for smooth lines).

    Grids default to the dataset's own coordinates. Returns a Dataset over (T, c, k), units
    of y^2, with

    - ``delta_de``: itscale.theory.equivalents.delta_de;
    - ``delta_hte`` (if ``hte``): the high-temperature expansion of the dataset's order,
      averaged over DE inputs (nan at T = 0), as the theory stage computes it;
    - ``delta_asymptote`` (if ``asymptote``): expansions.best_of_k_asymptote where T = 0 and
      c = 0 (nan elsewhere);
    - ``delta_tilted`` (if ``tilted``, over (T, c)): the k -> inf limit at fixed T,
      expansions.delta_tilted_limit averaged over DE inputs.
    """
    k = np.asarray(theory["k"].values if k is None else list(k), dtype=np.int64)
    T = np.asarray(theory["T"].values if T is None else list(T), dtype=np.float64)
    c = np.asarray(theory["c"].values if c is None else list(c), dtype=np.float64)
    model = model_of(theory)
    de = np.asarray(
        equivalents.delta_de(k[None, None, :], T[:, None, None], c=c[None, :, None], **model)
    )
    de = np.broadcast_to(de, (T.size, c.size, k.size)).copy()
    out = xr.Dataset({"delta_de": (("T", "c", "k"), de)}, coords={"T": T, "c": c, "k": k})
    s2, V = float(theory["s2"]), float(theory["V"])
    if hte:
        order = int(point_params(theory).get("hte_order", 3))
        vals = np.full(de.shape, np.nan)
        pos = T > 0
        if pos.any():
            vals[pos] = expansions.delta_hte_de(k, T[pos], c, s2=s2, V=V, order=order)
        out["delta_hte"] = (("T", "c", "k"), vals)
    if asymptote:
        vals = np.full(de.shape, np.nan)
        asym = expansions.best_of_k_asymptote(k, s2, float(theory["rho"]))
        vals[(T == 0)[:, None] & (c == 0)[None, :]] = asym
        out["delta_asymptote"] = (("T", "c", "k"), vals)
    if tilted:
        vals = expansions.delta_tilted_limit_de(T, c, s2=s2, V=V)
        out["delta_tilted"] = (("T", "c"), vals)
    return out


def multiplier_map(
    theory: Sequence[xr.Dataset], n: Iterable[float], k: Iterable[int], *, T: float, c: float
) -> xr.Dataset:
    """Equivalent-data multiplier M and DE error over a (n, k) grid, for the map of figure 5.

    Model parameters other than n come from the first theory point (the sweep varies n only).
    Returns a Dataset over (n, k): ``multiplier`` (expansions.equivalent_data_multiplier; inf
    where no amount of data reaches delta(k; n) at k = 1, nan where M n < 1) and ``delta_de``
    (y^2).
    """
    n = np.asarray(list(n), dtype=np.float64)
    k = np.asarray(list(k), dtype=np.int64)
    model = model_of(theory[0])
    model.pop("n")
    mult = np.asarray(
        expansions.equivalent_data_multiplier(k[None, :], n[:, None], T=T, c=c, **model)
    )
    de = np.stack([np.asarray(equivalents.delta_de(k, T, c=c, n=nv, **model)) for nv in n])
    return xr.Dataset(
        {"multiplier": (("n", "k"), mult), "delta_de": (("n", "k"), de)},
        coords={"n": n, "k": k},
    )


def exponent_curve(
    theory: xr.Dataset, rho: Iterable[float], k: Iterable[int], *, T: float = 0.0, c: float = 0.0
) -> np.ndarray:
    """Decay exponent -d ln delta_de / d ln k fitted over ``k`` (as :func:`fit_power_law`)
    for difficulties ``rho``, varied through the teacher norm at the point's n, d, sigma,
    gamma (rho is proportional to w_norm2)."""
    model = model_of(theory)
    k = np.asarray(list(k), dtype=np.int64)
    rho1 = float(
        equivalents.difficulty(
            model["n"], model["d"], model["S"], model["sigma"], model["gamma"], 1.0
        )
    )
    out = []
    for r in np.asarray(list(rho), dtype=np.float64):
        de = equivalents.delta_de(k, T, c=c, **{**model, "w_norm2": float(r) / rho1})
        out.append(-fit_power_law(k, np.asarray(de))[0])
    return np.asarray(out)


_OPTIMA_CACHE: dict[tuple, tuple] = {}


def _cached(key: tuple, compute):
    """In-process memo of the (expensive) optimisers, for repeated calls in one process."""
    if key not in _OPTIMA_CACHE:
        _OPTIMA_CACHE[key] = compute()
    return _OPTIMA_CACHE[key]


def _model_key(theory: xr.Dataset) -> tuple:
    return tuple(sorted(model_of(theory).items()))


def k_star(theory: xr.Dataset, T: float, c: float, k_max: int) -> tuple[int, float]:
    """DE-optimal number of candidates in 1..k_max (expansions.optimal_k) and delta there.

    Returns (-1, nan) where delta is still decreasing at k_max (no finite optimum in range).
    """

    def compute():
        ks, ds = expansions.optimal_k(
            float(T), c=float(c), k_max=int(k_max), return_delta=True, **model_of(theory)
        )
        return int(ks), float(ds)

    return _cached(("k", _model_key(theory), float(T), float(c), int(k_max)), compute)


def _grid_bounds(values: np.ndarray, positive: bool) -> tuple[float, float] | None:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v) & (v > 0)] if positive else v[np.isfinite(v)]
    if v.size < 2 or v.min() >= v.max():
        return None
    return float(v.min()), float(v.max())


def t_star(theory: xr.Dataset, k: int, c: float, n_grid: int = 13) -> tuple[float, float]:
    """DE-optimal temperature T*(k) and delta there (units of y^2), over [0, inf].

    expansions.optimal_temperature with its geometric grid over the dataset's positive T
    range (plus the exact ends T = 0 and T = inf), refined by Brent.
    """
    bounds = _grid_bounds(theory["T"].values, positive=True)

    def compute():
        ts, ds = expansions.optimal_temperature(
            int(k),
            c=float(c),
            T_bounds=bounds,
            n_grid=n_grid,
            return_delta=True,
            **model_of(theory),
        )
        return float(ts), float(ds)

    return _cached(("T", _model_key(theory), int(k), float(c), bounds, n_grid), compute)


def c_star(theory: xr.Dataset, k: int, T: float, n_grid: int = 13) -> tuple[float, float]:
    """DE-optimal judge c*(k, T) within the dataset's c range and delta there (y^2).

    expansions.optimal_judge (grid uniform in asinh c, then Brent); c* is a range end when
    the minimum is there.
    """
    bounds = _grid_bounds(theory["c"].values, positive=False) or (-1.0, 1000.0)

    def compute():
        cs, ds = expansions.optimal_judge(
            int(k),
            float(T),
            c_bounds=bounds,
            n_grid=n_grid,
            return_delta=True,
            **model_of(theory),
        )
        return float(cs), float(ds)

    return _cached(("c", _model_key(theory), int(k), float(T), bounds, n_grid), compute)


def c_star_limit(theory: xr.Dataset, T: float) -> float:
    """k -> inf optimal judge T / (2 s^2) with the DE predictive variance."""
    return float(expansions.optimal_judge_limit(float(T), float(theory["s2"])))


# --------------------------------------------------------------------------------------------
# fits
# --------------------------------------------------------------------------------------------


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


def _coefficient(k, delta, se=None, weights_se=None):
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


# --------------------------------------------------------------------------------------------
# the table
# --------------------------------------------------------------------------------------------


def _row(
    experiment,
    kind,
    quantity,
    selector,
    value=math.nan,
    se=math.nan,
    theory=math.nan,
    theory_grid=math.nan,
    units="1",
    source="",
    note="",
) -> dict[str, Any]:
    ref = theory_grid if math.isfinite(theory_grid) else theory
    z = (
        (value - ref) / se
        if (math.isfinite(se) and se > 0 and math.isfinite(ref) and math.isfinite(value))
        else math.nan
    )
    return {
        "experiment": experiment,
        "kind": kind,
        "quantity": quantity,
        "selector": selector,
        "value": float(value),
        "se": float(se),
        "theory": float(theory),
        "theory_grid": float(theory_grid),
        "z": float(z),
        "units": units,
        "source": source,
        "note": note,
    }


_SRC_EXPONENT = "itscale.expansions.decay_exponent; theory_grid: fit to equivalents.delta_de"
_NOTE_FS_EXPONENT = (
    "as decay_exponent; theory_grid: the same fit to the exact average for the same training "
    "sets (expected within noise)"
)


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _t_text(T: float, scale: float) -> str:
    return f"T/(2 sigma^2)={_fmt(T / scale)}" if scale != 1.0 else f"T={_fmt(T)}"


def _selector(theory: xr.Dataset, sweep: str | None) -> str:
    if sweep is None:
        return "-"
    p = point_params(theory)
    text = f"{sweep}={_fmt(float(p[sweep]))}"
    if sweep in ("w_std", "w_mean", "n", "d"):
        text += f" (rho={_fmt(float(theory['rho']))})"
    return text


def _agreement_rows(name, kind, sampling, theory):
    """Largest |MC - finite size| / SE and |MC - DE| / SE over the whole figure."""
    rows = []
    if not sampling:
        return rows
    z_fs = {"mc": [], "rb": []}
    z_de, rel_de, rel_fs_de = [], [], []
    for smp, th in zip(sampling, theory, strict=True):
        for est in ("mc", "rb"):
            dev = np.abs(smp[f"delta_{est}"] - smp["delta_fs"]) / smp[f"delta_{est}_se"]
            z_fs[est].append(float(dev.max()))
        mean, se = mc_summary(smp, "mc")
        de = th["delta_de"].sel(T=mean["T"], c=mean["c"], k=mean["k"])
        z_de.append(float((np.abs(mean - de) / se).max()))
        rel_de.append(float((np.abs(mean - de) / de).max()))
        fs = smp["delta_fs"].mean("replicate")
        rel_fs_de.append(float((np.abs(fs - de) / de).max()))
    rows.append(
        _row(
            name,
            kind,
            "max_abs_z_mc_vs_finite_size",
            "all",
            value=max(z_fs["mc"]),
            source="itscale.finite_size.delta_fitted",
            note="max over replicates and grid of |delta_mc - delta_fs| / delta_mc_se (same "
            "training sets; within noise means <~ 4)",
        )
    )
    rows.append(
        _row(
            name,
            kind,
            "max_abs_z_rb_vs_finite_size",
            "all",
            value=max(z_fs["rb"]),
            source="itscale.finite_size.delta_fitted",
            note="as above for the Rao-Blackwellised estimator; its SE is tiny, so the s^2(x) "
            "concentration approximation of delta_fs can show",
        )
    )
    rows.append(
        _row(
            name,
            kind,
            "max_abs_z_mc_vs_de",
            "all",
            value=max(z_de),
            source="itscale.equivalents.delta_de",
            note="max over grid of |replicate mean of delta_mc - delta_de| / Monte Carlo SE; "
            "includes the spread between training sets, so not expected within noise",
        )
    )
    rows.append(
        _row(
            name,
            kind,
            "max_rel_dev_mc_vs_de",
            "all",
            value=max(rel_de),
            source="itscale.equivalents.delta_de",
            note="max over grid of |replicate mean of delta_mc - delta_de| / delta_de",
        )
    )
    rows.append(
        _row(
            name,
            kind,
            "max_rel_dev_finite_size_vs_de",
            "all",
            value=max(rel_fs_de),
            source="itscale.finite_size.delta_fitted, itscale.equivalents.delta_de",
            note="max over grid of |replicate mean of delta_fs - delta_de| / delta_de "
            "(finite-size and training-set effects, no Monte Carlo)",
        )
    )
    return rows


def _rows_best_of_k(name, kind, sampling, theory, experiment):
    rows = []
    sweep = sweep_parameter(theory)
    for i, th in enumerate(theory):
        sel = _selector(th, sweep)
        sigma2 = float(th["sigma2"])
        k = th["k"].values
        T0 = float(th["T"].values[0])
        c0 = float(th["c"].values[0])
        de = th["delta_de"].sel(T=T0, c=c0).values
        rho, s2 = float(th["rho"]), float(th["s2"])
        theo_coef = math.pi * s2 / sigma2 / math.sqrt(1.0 - rho) if rho < 1 else math.inf
        cm = coefficient_fit_range(k)
        em = exponent_fit_range(k)
        de_slope = fit_power_law(k[em], de[em])[0]
        value = se = slope = slope_se = math.nan
        ms = None
        if sampling:
            mean, mse = mc_summary(sampling[i], "mc")
            mv = mean.sel(T=T0, c=c0).values
            ms = mse.sel(T=T0, c=c0).values
            value, se = _coefficient(k[cm], mv[cm] / sigma2, ms[cm] / sigma2)
            slope, slope_se, _ = fit_power_law(k[em], mv[em], ms[em])
        de_coef, _ = _coefficient(
            k[cm], de[cm] / sigma2, weights_se=None if ms is None else ms[cm] / sigma2
        )
        rows.append(
            _row(
                name,
                kind,
                "coef_k2_delta_over_sigma2",
                sel,
                value=value,
                se=se,
                theory=theo_coef,
                theory_grid=de_coef,
                units="1",
                source="itscale.expansions.best_of_k_asymptote; theory_grid: equivalents.delta_de",
                note=f"weighted mean of k^2 delta / sigma^2 over k in [{k[cm].min()}, {k.max()}]; "
                "theory = pi s^2 / (sigma^2 sqrt(1 - rho))",
            )
        )
        rows.append(
            _row(
                name,
                kind,
                "decay_exponent",
                sel,
                value=-slope,
                se=slope_se,
                theory=float(expansions.decay_exponent(rho)),
                theory_grid=-de_slope,
                source=_SRC_EXPONENT,
                note=f"-slope of a least-squares log-log fit over k in [{k[em].min()}, {k.max()}]; "
                "theory = 2 min(1, 1/rho)",
            )
        )
        if sampling:
            fs = sampling[i]["delta_fs"].mean("replicate").sel(T=T0, c=c0).values
            rows.append(
                _row(
                    name,
                    kind,
                    "coef_k2_delta_over_sigma2_vs_finite_size",
                    sel,
                    value=value,
                    se=se,
                    theory_grid=_coefficient(k[cm], fs[cm] / sigma2, weights_se=ms[cm] / sigma2)[0],
                    source="itscale.finite_size.delta_fitted",
                    note="as coef_k2_delta_over_sigma2; theory_grid: the same estimator on the "
                    "exact average for the same training sets (expected within noise)",
                )
            )
            rows.append(
                _row(
                    name,
                    kind,
                    "decay_exponent_vs_finite_size",
                    sel,
                    value=-slope,
                    se=slope_se,
                    theory_grid=-fit_power_law(k[em], fs[em])[0],
                    source="itscale.finite_size.delta_fitted",
                    note=_NOTE_FS_EXPONENT,
                )
            )
        rows.append(
            _row(
                name,
                kind,
                "rho",
                sel,
                theory=rho,
                source="itscale.equivalents.de_summary",
                note="difficulty 2 V / s^2 of the deterministic equivalent",
            )
        )
    return rows


def _rows_softmax_judge(name, kind, sampling, theory, experiment):
    rows = []
    for i, th in enumerate(theory):
        k = th["k"].values
        sigma2 = float(th["sigma2"])
        scale, _ = t_scale(experiment, sigma2)
        for T in th["T"].values:
            for c in th["c"].values:
                ks, _ = k_star(th, T, c, int(k.max()))
                de = th["delta_de"].sel(T=T, c=c).values
                kg = float(k[int(np.argmin(de))])
                value = math.nan
                if sampling:
                    mean, _ = mc_summary(sampling[i], "mc")
                    value = float(k[int(np.argmin(mean.sel(T=T, c=c).values))])
                sel = f"{_t_text(T, scale)}; c={_fmt(c)}"
                rows.append(
                    _row(
                        name,
                        kind,
                        "k_star",
                        sel,
                        value=value,
                        theory=float(ks) if ks > 0 else math.nan,
                        theory_grid=kg,
                        source="itscale.expansions.optimal_k",
                        note=f"argmin over k in 1..{k.max()}; theory nan: still decreasing at "
                        f"k = {k.max()}; value/theory_grid: argmin on the k grid (grid end "
                        "= no interior minimum)",
                    )
                )
    return rows


def _rows_optimal_temperature(name, kind, sampling, theory, experiment):
    rows = []
    for i, th in enumerate(theory):
        sigma2 = float(th["sigma2"])
        scale, _ = t_scale(experiment, sigma2)
        Tg = th["T"].values
        for c in th["c"].values:
            for k in th["k"].values:
                if k == 1:
                    continue
                ts, _ = t_star(th, int(k), c)
                de = th["delta_de"].sel(c=c, k=k).values
                tg = curve_minimum(Tg, de, log=True)[0]
                value = math.nan
                if sampling:
                    mean, _ = mc_summary(sampling[i], "mc")
                    value = curve_minimum(Tg, mean.sel(c=c, k=k).values, log=True)[0]
                rows.append(
                    _row(
                        name,
                        kind,
                        "T_star",
                        f"c={_fmt(c)}; k={int(k)}",
                        value=value / scale,
                        theory=ts / scale,
                        theory_grid=tg / scale,
                        units="2 sigma^2" if scale != 1.0 else "y^2",
                        source="itscale.expansions.optimal_temperature",
                        note="value/theory_grid: argmin on the T grid refined by a parabola "
                        "in ln T through the three nearest points",
                    )
                )
    return rows


def _rows_best_judge(name, kind, sampling, theory, experiment):
    rows = []
    for i, th in enumerate(theory):
        sigma2 = float(th["sigma2"])
        scale, _ = t_scale(experiment, sigma2)
        cg = th["c"].values
        for T in th["T"].values:
            sel_T = _t_text(T, scale)
            for k in th["k"].values:
                if k == 1:
                    continue
                cs, _ = c_star(th, int(k), T)
                de = th["delta_de"].sel(T=T, k=k).values
                value = math.nan
                if sampling:
                    mean, _ = mc_summary(sampling[i], "mc")
                    value = curve_minimum(cg, mean.sel(T=T, k=k).values)[0]
                note = "value/theory_grid: argmin on the c grid refined by a parabola"
                if cs <= cg.min() or cs >= cg.max():
                    note += "; theory at the end of the c range: no interior optimum in range"
                rows.append(
                    _row(
                        name,
                        kind,
                        "c_star",
                        f"{sel_T}; k={int(k)}",
                        value=value,
                        theory=cs,
                        theory_grid=curve_minimum(cg, de)[0],
                        source="itscale.expansions.optimal_judge",
                        note=note,
                    )
                )
            rows.append(
                _row(
                    name,
                    kind,
                    "c_star_limit",
                    sel_T,
                    theory=c_star_limit(th, T),
                    source="itscale.expansions.optimal_judge_limit",
                    note="k -> inf optimal judge T / (2 s^2)",
                )
            )
    return rows


def _rows_compute_vs_data(name, kind, sampling, theory, experiment):
    rows = []
    for th in theory:
        p = point_params(th)
        sigma2 = float(th["sigma2"])
        for T in th["T"].values:
            for c in th["c"].values:
                de = th["delta_de"].sel(T=T, c=c)
                below = de["k"].values[de.values <= sigma2]
                rows.append(
                    _row(
                        name,
                        kind,
                        "k_beyond_data",
                        f"n={p['n']}",
                        theory=float(below.min()) if below.size else math.nan,
                        source="itscale.equivalents.delta_de",
                        note="smallest k on the grid with delta(k; n) <= sigma^2, the error no "
                        "amount of data reaches at k = 1 (M = inf); nan: none on the grid",
                    )
                )
                mult = th["multiplier"].sel(T=T, c=c)
                finite = np.isfinite(mult.values)
                rows.append(
                    _row(
                        name,
                        kind,
                        "max_finite_multiplier",
                        f"n={p['n']}",
                        theory=float(mult.values[finite].max()) if finite.any() else math.nan,
                        source="itscale.expansions.equivalent_data_multiplier",
                        note="largest finite M(k, n) on the k grid",
                    )
                )
    return rows


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


def _rows_task_difficulty(name, kind, sampling, theory, experiment):
    rows = []
    for i, th in enumerate(theory):
        sel = f"rho={_fmt(float(th['rho']))}"
        k = th["k"].values
        em = exponent_fit_range(k)
        k_range = f"k in [{k[em].min()}, {k.max()}]"
        T0 = float(th["T"].values[0])
        c0 = float(th["c"].values[0])
        de = th["delta_de"].sel(T=T0, c=c0).values
        rho = float(th["rho"])
        value = se = math.nan
        if sampling:
            mean, mse = mc_summary(sampling[i], "mc")
            p, pse, _ = fit_power_law(
                k[em], mean.sel(T=T0, c=c0).values[em], mse.sel(T=T0, c=c0).values[em]
            )
            value, se = -p, pse
        rows.append(
            _row(
                name,
                kind,
                "decay_exponent",
                sel,
                value=value,
                se=se,
                theory=float(expansions.decay_exponent(rho)),
                theory_grid=-fit_power_law(k[em], de[em])[0],
                source=_SRC_EXPONENT,
                note=f"-slope of a log-log least-squares fit over {k_range} to the replicate mean; "
                "theory = 2 min(1, 1/rho) (reached only logarithmically for rho > 1)",
            )
        )
        if not sampling:
            continue
        smp = sampling[i]
        fs = smp["delta_fs"].mean("replicate").sel(T=T0, c=c0).values
        rows.append(
            _row(
                name,
                kind,
                "decay_exponent_vs_finite_size",
                sel,
                value=value,
                se=se,
                theory_grid=-fit_power_law(k[em], fs[em])[0],
                source="itscale.finite_size.delta_fitted",
                note=_NOTE_FS_EXPONENT,
            )
        )
        if "rho_fitted" not in smp:
            continue
        mc_r, se_r, fs_r = replicate_exponents(smp, em, T0, c0)
        rho_r = smp["rho_fitted"].values
        de_r = exponent_curve(th, rho_r, k[em], T=T0, c=c0)
        for r in range(rho_r.size):
            rows.append(
                _row(
                    name,
                    kind,
                    "decay_exponent_replicate",
                    f"{sel}; replicate {r}; rho_fitted={_fmt(float(rho_r[r]))}",
                    value=float(mc_r[r]),
                    se=float(se_r[r]),
                    theory=float(expansions.decay_exponent(float(rho_r[r]))),
                    theory_grid=float(de_r[r]),
                    source="itscale.expansions.decay_exponent; theory_grid: fit to "
                    "equivalents.delta_de at the replicate's difficulty",
                    note=f"one training set; fit over {k_range}; the DE theory taken at the "
                    f"difficulty of the fitted training set (exact average for it: "
                    f"{_fmt(float(fs_r[r]))})",
                )
            )
    return rows


_KIND_ROWS = {
    "best_of_k": _rows_best_of_k,
    "softmax_judge": _rows_softmax_judge,
    "optimal_temperature": _rows_optimal_temperature,
    "best_judge": _rows_best_judge,
    "compute_vs_data": _rows_compute_vs_data,
    "task_difficulty": _rows_task_difficulty,
}


def experiment_rows(
    experiment: Mapping[str, Any],
    sampling: Sequence[xr.Dataset],
    theory: Sequence[xr.Dataset],
) -> list[dict[str, Any]]:
    """Rows of the numbers table for one experiment.

    experiment: at least ``experiment`` (name) and ``kind``; ``T_unit`` as in the figure
    parameters. sampling / theory: the datasets of its sweep points, in order (sampling empty
    for theory-only experiments).
    """
    name, kind = experiment["experiment"], experiment["kind"]
    if kind not in _KIND_ROWS:
        raise ValueError(f"unknown figure kind {kind!r}; expected one of {sorted(_KIND_ROWS)}")
    if sampling and len(sampling) != len(theory):
        raise ValueError("sampling and theory must have one dataset per sweep point each")
    rows = _KIND_ROWS[kind](name, kind, list(sampling), list(theory), experiment)
    return rows + _agreement_rows(name, kind, list(sampling), list(theory))


def numbers_table(
    experiments: Iterable[tuple[Mapping[str, Any], Sequence[xr.Dataset], Sequence[xr.Dataset]]],
) -> list[dict[str, Any]]:
    """Rows of every experiment, in the order given."""
    rows: list[dict[str, Any]] = []
    for experiment, sampling, theory in experiments:
        rows.extend(experiment_rows(experiment, sampling, theory))
    return rows


def _csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_fmt(row[c]) if isinstance(row[c], float) else row[c] for c in COLUMNS])
    return buf.getvalue()


_FLOAT_COLUMNS = ("value", "se", "theory", "theory_grid", "z")


def to_dataset(
    rows: Sequence[Mapping[str, Any]], attrs: Mapping[str, Any] | None = None
) -> xr.Dataset:
    """The table as an xarray Dataset over a ``row`` dimension (strings and float64)."""
    data = {}
    for col in COLUMNS:
        values = [row[col] for row in rows]
        if col in _FLOAT_COLUMNS:
            arr = np.asarray(values, dtype=np.float64)
        else:
            arr = np.asarray(values, dtype=object).astype(str)
        data[col] = xr.DataArray(arr, dims=("row",), attrs={"long_name": _COLUMN_DOC[col]})
    for col in _FLOAT_COLUMNS:
        data[col].attrs["units"] = "see the units variable"
    ds = xr.Dataset(data, coords={"row": np.arange(len(rows), dtype=np.int64)})
    ds["row"].attrs["long_name"] = "row of figures/numbers.csv"
    ds.attrs.update(
        {
            "title": "itscale key numbers of the paper figures with their theory values",
            "Conventions": "CF-1.10",
            "source": "itscale (Halder & Pehlevan, arXiv:2512.19905)",
            **(attrs or {}),
        }
    )
    return ds


def write_table(
    rows: Sequence[Mapping[str, Any]],
    csv_path: str | os.PathLike,
    nc_path: str | os.PathLike | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> None:
    """Write the table as CSV (fixed 6-significant-digit floats) and optionally as NetCDF.

    Both files are written atomically and contain nothing time- or host-dependent.
    """
    from itscale.pipeline.datasets import atomic_output

    with atomic_output(csv_path) as tmp:
        Path(tmp).write_text(_csv_text(rows), encoding="utf-8")
    if nc_path is not None:
        ds = to_dataset(rows, attrs)
        encoding = {col: {"_FillValue": None} for col in _FLOAT_COLUMNS}
        with atomic_output(nc_path) as tmp:
            ds.to_netcdf(tmp, mode="w", format="NETCDF4", engine="netcdf4", encoding=encoding)
