"""Stage "theory": every deterministic-equivalent quantity a figure or the numbers table shows.

Depends on the model parameters and grids only (never on sampled data); the teacher enters
through its expected norm w_norm2 = w_mean^2 + w_std^2. On the experiment's (T, c, k) grid:

    delta_de         itscale.theory.equivalents.delta_de (exact in k and T)
    delta_hte        itscale.theory.expansions.delta_hte_de (order hte_order in 1/T; NaN at T = 0)
    delta_asymptote  itscale.theory.expansions.best_of_k_asymptote (T = 0, c = 0 only)
    delta_tilted     k -> inf limit at fixed T (expansions.delta_tilted_limit_de), over (T, c)
    multiplier       itscale.theory.multiplier.equivalent_data_multiplier M(k, n)
    c_star_limit     k -> inf optimal judge T / (2 s^2) (optima.optimal_judge_limit), over T
    decay_exponent   asymptotic best-of-k decay exponent 2 min(1, 1/rho), a scalar

and the DE summary (q, R, s2, V, rho, delta1) with sigma2 and w_norm2 as scalars. The
parameter ``curves`` (declared by the figure kind, ``theory_request``) adds, each only when
asked for:

    fine            {"k", "T", "c": lists, "hte", "asymptote", "tilted": bools}: delta_de_fine
                    (and delta_hte_fine, delta_asymptote_fine, delta_tilted_fine) on a plotting
                    grid with coordinates k_fine, T_fine, c_fine
    k_star          true: DE-optimal k in 1..max(k) (optima.optimal_k) and delta there,
                    k_star / delta_k_star (T, c)
    T_star          {"n_grid"}: optimal temperature T*(k) over [0, inf]
                    (optima.optimal_temperature), T_star / delta_T_star (c, k); NaN at k = 1
    c_star          {"n_grid"}: optimal judge c*(k, T) within the c range
                    (optima.optimal_judge), c_star / delta_c_star (T, k); NaN at k = 1
    multiplier_map  {"n", "k": lists, "T", "c": floats}: multiplier_map and delta_de_map over
                    (n_map, k_map), the model of this point with n varied
    difficulty      {"w_norm2": {"start", "stop", "num"}, "k": list, "T", "c": floats}: the
                    model of this point with its teacher norm on a geometric grid
                    (w_norm2_difficulty): delta_de_difficulty over (w_norm2_difficulty,
                    k_difficulty), its difficulty rho_difficulty and asymptotic decay
                    exponent decay_exponent_difficulty (expansions.decay_exponent)

Errors are in units of y^2, temperatures absolute. :func:`delta_grid` (delta_de over a
(T, c, k) grid) is also the finite-size stage's DE theory at the fitted difficulties.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from itscale.model import Model
from itscale.pipeline.datasets import annotate, provenance_attrs
from itscale.theory import equivalents, expansions, multiplier, optima

__all__ = [
    "build",
    "delta_grid",
    "grid_values",
    "fine_curves",
    "optimum_values",
    "multiplier_map",
    "difficulty_curve",
]

_LOG = logging.getLogger("itscale.theory")
_SUMMARY = ("q", "R", "s2", "V", "rho", "delta1")
_Axes = tuple[np.ndarray, np.ndarray, np.ndarray]
#: long_name and units of the variables only this stage writes (see datasets.annotate).
_ATTRS: dict[str, tuple[str, str]] = {
    "w_norm2_difficulty": ("teacher norm w_mean^2 + w_std^2 (difficulty curve)", "1"),
    "k_difficulty": ("number of candidates (difficulty curve)", "1"),
    "delta_de_difficulty": (
        "generalization error, deterministic equivalent, teacher norm varied",
        "1",
    ),
    "rho_difficulty": ("difficulty 2 V / s2 at the teacher norm w_norm2_difficulty", "1"),
    "decay_exponent_difficulty": ("asymptotic decay exponent 2 min(1, 1/rho_difficulty)", "1"),
}


def _axes(p: Mapping[str, Any]) -> _Axes:
    """(T, c, k) arrays of a grid spec (float64, float64, int64)."""
    T = np.asarray(p["T"], dtype=np.float64)
    c = np.asarray(p["c"], dtype=np.float64)
    k = np.asarray(p["k"], dtype=np.int64)
    return T, c, k


def delta_grid(axes: _Axes, model: Model) -> np.ndarray:
    """delta_de over (T, c, k) of ``axes`` = (T, c, k) arrays, units of y^2."""
    T, c, k = axes
    de = equivalents.delta_de(k[None, None, :], T[:, None, None], model, c=c[None, :, None])
    return np.broadcast_to(np.asarray(de), (T.size, c.size, k.size)).copy()


def _hte(axes: _Axes, model: Model, order: int) -> np.ndarray:
    """High-temperature expansion over (T, c, k), averaged over DE inputs; NaN at T = 0."""
    T, c, k = axes
    out = np.full((T.size, c.size, k.size), np.nan)
    pos = T > 0
    if pos.any():
        s2, V = float(model.s2), float(model.V)
        out[pos] = expansions.delta_hte_de(k, T[pos], c, s2=s2, V=V, order=order)
    return out


def _asymptote(axes: _Axes, model: Model) -> np.ndarray:
    """Best-of-k asymptote over (T, c, k) where T = 0 and c = 0; NaN elsewhere."""
    T, c, k = axes
    out = np.full((T.size, c.size, k.size), np.nan)
    asym = expansions.best_of_k_asymptote(k, float(model.s2), float(model.rho))
    out[(T == 0)[:, None] & (c == 0)[None, :]] = asym
    return out


def _tilted(axes: _Axes, model: Model) -> np.ndarray:
    """k -> inf limit at fixed T over (T, c), averaged over DE inputs."""
    T, c, _ = axes
    return expansions.delta_tilted_limit_de(T, c, s2=float(model.s2), V=float(model.V))


def grid_values(p: Mapping[str, Any], model: Model, log: logging.Logger = _LOG) -> dict:
    """The theory on the experiment's own (T, c, k) grid (the variables of the module doc)."""
    axes = _axes(p)
    T, c, k = axes
    dims = ("T", "c", "k")
    t0 = time.perf_counter()
    delta = delta_grid(axes, model)
    log.info("delta_de in %.2f s", time.perf_counter() - t0)
    t0 = time.perf_counter()
    mult = np.empty(delta.shape)
    for i, t in enumerate(T):
        for j, cj in enumerate(c):
            mult[i, j] = multiplier.equivalent_data_multiplier(k, model, T=float(t), c=float(cj))
    log.info("equivalent-data multiplier in %.2f s", time.perf_counter() - t0)
    s2 = float(model.s2)
    return {
        "delta_de": (dims, delta),
        "delta_hte": (dims, _hte(axes, model, p["hte_order"]), {"order": p["hte_order"]}),
        "delta_asymptote": (dims, _asymptote(axes, model)),
        "delta_tilted": (("T", "c"), _tilted(axes, model)),
        "multiplier": (dims, mult),
        "c_star_limit": ("T", np.array([optima.optimal_judge_limit(float(t), s2) for t in T])),
        "decay_exponent": ((), float(expansions.decay_exponent(float(model.rho)))),
    }


def fine_curves(model: Model, spec: Mapping[str, Any], hte_order: int) -> dict:
    """delta_de (and, as ``spec`` asks, hte / asymptote / tilted) on a plotting grid.

    ``spec``: lists k, T, c and flags hte, asymptote, tilted. Returns data variables over
    (T_fine, c_fine, k_fine) (delta_tilted_fine over (T_fine, c_fine)), units of y^2.
    """
    axes = _axes(spec)
    dims = ("T_fine", "c_fine", "k_fine")
    out = {"delta_de_fine": (dims, delta_grid(axes, model))}
    if spec.get("hte"):
        out["delta_hte_fine"] = (dims, _hte(axes, model, int(hte_order)))
    if spec.get("asymptote"):
        out["delta_asymptote_fine"] = (dims, _asymptote(axes, model))
    if spec.get("tilted"):
        out["delta_tilted_fine"] = (dims[:2], _tilted(axes, model))
    return out


def _bounds(values: np.ndarray, *, positive: bool) -> tuple[float, float] | None:
    """(min, max) of the finite (and, if ``positive``, positive) grid values; None if < 2."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v) & (v > 0)] if positive else v[np.isfinite(v)]
    if v.size < 2 or v.min() >= v.max():
        return None
    return float(v.min()), float(v.max())


def _pairs(rows: np.ndarray, k: np.ndarray, fn) -> tuple[np.ndarray, np.ndarray]:
    """(optimum, delta there) of ``fn(row value, k)`` over rows x (k > 1); NaN at k = 1."""
    opt, delta = np.full((rows.size, k.size), np.nan), np.full((rows.size, k.size), np.nan)
    for i, row in enumerate(rows):
        for m in np.flatnonzero(k > 1):
            opt[i, m], delta[i, m] = fn(float(row), int(k[m]))
    return opt, delta


def optimum_values(p: Mapping[str, Any], model: Model, curves: Mapping[str, Any]) -> dict:
    """The optima ``curves`` asks for (k_star, T_star, c_star; see the module doc)."""
    T, c, k = _axes(p)
    out: dict[str, tuple] = {}
    if curves.get("k_star"):
        ks = np.empty((T.size, c.size), dtype=np.int64)
        ds = np.empty((T.size, c.size))
        for i, t in enumerate(T):
            for j, cj in enumerate(c):
                kk, dd = optima.optimal_k(
                    float(t), model, c=float(cj), k_max=int(k.max()), return_delta=True
                )
                ks[i, j], ds[i, j] = int(kk), float(dd)
        out.update(k_star=(("T", "c"), ks), delta_k_star=(("T", "c"), ds))
    if curves.get("T_star"):
        kw = {"T_bounds": _bounds(T, positive=True), "n_grid": int(curves["T_star"]["n_grid"])}
        ts, ds = _pairs(
            c,
            k,
            lambda cj, kk: optima.optimal_temperature(kk, model, c=cj, return_delta=True, **kw),
        )
        out.update(T_star=(("c", "k"), ts), delta_T_star=(("c", "k"), ds))
    if curves.get("c_star"):
        bounds = _bounds(c, positive=False) or (-1.0, 1000.0)
        kw = {"c_bounds": bounds, "n_grid": int(curves["c_star"]["n_grid"])}
        cs, ds = _pairs(
            T, k, lambda t, kk: optima.optimal_judge(kk, t, model, return_delta=True, **kw)
        )
        out.update(c_star=(("T", "k"), cs), delta_c_star=(("T", "k"), ds))
    return out


def multiplier_map(model: Model, spec: Mapping[str, Any]) -> dict:
    """Equivalent-data multiplier M and DE error over an (n, k) grid, ``model`` with n varied:
    multiplier_map and delta_de_map over (n_map, k_map); M = inf where no amount of data
    reaches delta(k; n) at k = 1, NaN where M n < 1."""
    n = np.asarray(spec["n"], dtype=np.float64)
    k = np.asarray(spec["k"], dtype=np.int64)
    T, c = float(spec["T"]), float(spec["c"])
    mult = multiplier.equivalent_data_multiplier(k[None, :], model.replace(n=n[:, None]), T=T, c=c)
    de = np.stack([np.asarray(equivalents.delta_de(k, T, model.replace(n=nv), c=c)) for nv in n])
    dims = ("n_map", "k_map")
    return {"multiplier_map": (dims, np.asarray(mult)), "delta_de_map": (dims, de)}


def difficulty_curve(model: Model, spec: Mapping[str, Any]) -> tuple[dict, dict]:
    """DE error at one (T, c) over k, for ``model`` with its teacher norm w_norm2 on the
    geometric grid ``spec["w_norm2"]`` (start, stop, num). Returns (variables, coordinates):
    delta_de_difficulty over (w_norm2_difficulty, k_difficulty), units of y^2, and
    rho_difficulty, decay_exponent_difficulty over w_norm2_difficulty."""
    grid = spec["w_norm2"]
    w = np.geomspace(float(grid["start"]), float(grid["stop"]), int(grid["num"]))
    k = np.asarray(spec["k"], dtype=np.int64)
    T, c = float(spec["T"]), float(spec["c"])
    models = [model.replace(w_norm2=float(v)) for v in w]
    de = np.stack([np.asarray(equivalents.delta_de(k, T, m, c=c)) for m in models])
    rho = np.asarray([float(equivalents.difficulty(m)) for m in models])
    return {
        "delta_de_difficulty": (("w_norm2_difficulty", "k_difficulty"), de),
        "rho_difficulty": ("w_norm2_difficulty", rho),
        "decay_exponent_difficulty": ("w_norm2_difficulty", expansions.decay_exponent(rho)),
    }, {"w_norm2_difficulty": w, "k_difficulty": k}


def _requested(p: Mapping[str, Any], model: Model) -> tuple[dict, dict]:
    """Variables and coordinates of the curves and optima ``p["curves"]`` asks for."""
    curves = p.get("curves") or {}
    variables, coords = optimum_values(p, model, curves), {}
    if "fine" in curves:
        variables.update(fine_curves(model, curves["fine"], p["hte_order"]))
        coords.update(zip(("T_fine", "c_fine", "k_fine"), _axes(curves["fine"]), strict=True))
    if "multiplier_map" in curves:
        spec = curves["multiplier_map"]
        variables.update(multiplier_map(model, spec))
        coords["n_map"] = np.asarray(spec["n"], dtype=np.float64)
        coords["k_map"] = np.asarray(spec["k"], dtype=np.int64)
    if "difficulty" in curves:
        curve, curve_coords = difficulty_curve(model, curves["difficulty"])
        variables.update(curve)
        coords.update(curve_coords)
    return variables, coords


def build(p: Mapping[str, Any], log: logging.Logger = _LOG) -> xr.Dataset:
    """Dataset of the theory stage for parameters ``p`` (``STAGE_PARAMS["theory"]``)."""
    model = Model.from_params(p)
    summary = {key: float(val) for key, val in equivalents.de_summary(model).items()}
    log.info(
        "theory: n=%d d=%d sigma=%g gamma=%g w_norm2=%g -> q=1-%.3g s2/sigma^2=%.6g rho=%.4g; "
        "%d k x %d T x %d c; extra: %s",
        *(p["n"], p["d"], p["sigma"], p["gamma"], model.w_norm2, summary["one_minus_q"]),
        *(summary["s2"] / p["sigma"] ** 2, summary["rho"], len(p["k"]), len(p["T"]), len(p["c"])),
        ", ".join(sorted(p.get("curves") or {})) or "none",
    )
    variables = grid_values(p, model, log)
    t0 = time.perf_counter()
    extra, coords = _requested(p, model)
    log.info("requested curves and optima in %.2f s", time.perf_counter() - t0)
    variables.update(extra)
    variables.update({name: ((), summary[name]) for name in _SUMMARY})
    variables.update(sigma2=((), p["sigma"] ** 2), w_norm2=((), float(model.w_norm2)))
    T, c, k = _axes(p)
    ds = xr.Dataset(
        variables,
        coords={"T": T, "c": c, "k": k, **coords},
        attrs=provenance_attrs("theory", p, None, title="itscale deterministic-equivalent theory"),
    )
    ds["w_norm2"].attrs.update(long_name="expected teacher norm w_mean^2 + w_std^2", units="1")
    return annotate(ds, _ATTRS)
