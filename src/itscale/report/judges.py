"""Rows of the numbers table for a judge-data experiment, read from its analysis dataset.

Per experiment: the oracle and random-pick errors at ``k_ref``; per judge: the error at
``k_ref`` and the smallest T of the grid (best-of-k at T = 0), the grid optimum T* at ``k_ref``
and the temperature from which the third-order expansion stays inside the bootstrap interval.
Intervals are the analysis's percentile bootstrap intervals over problems; they go into the
``note`` as text and their half-width into ``se``. Nothing is recomputed here.
"""

from __future__ import annotations

import json
from typing import Any

import xarray as xr

from itscale.report.table import fmt, row

__all__ = ["KIND", "SOURCE", "judge_rows"]

#: ``kind`` column of these rows (judge-data experiments have no figure kind module).
KIND = "judge_data"
#: ``source`` column: the library function that computed the values.
SOURCE = "itscale.empirical.analyse"


def _row(name: str, quantity: str, selector: str, value: float, **kw: Any) -> dict[str, Any]:
    """One row of this experiment (kind and source filled in)."""
    return row(name, KIND, quantity, selector, value=value, source=SOURCE, **kw)


def _interval(res: xr.Dataset, name: str, sel: dict[str, Any]) -> dict[str, Any]:
    """value, se (half-width of its interval) and the interval as note text, of ``name``."""
    config = json.loads(res.attrs["config"])
    lower, upper = float(res[f"{name}_lower"].sel(sel)), float(res[f"{name}_upper"].sel(sel))
    note = (
        f"{config['level']:.0%} percentile bootstrap interval [{fmt(lower)}, {fmt(upper)}] "
        f"over {res.attrs['n_problems']} problems, {config['bootstrap']} resamples; "
        "se = half-width of that interval"
    )
    return {"value": float(res[name].sel(sel)), "se": (upper - lower) / 2.0, "note": note}


def _t_units(res: xr.Dataset) -> str:
    normalised = json.loads(res.attrs["config"])["normalise"] == "pooled_sd"
    return "pooled within-problem SD of the judge's scores" if normalised else "judge score"


def _judge(name: str, res: xr.Dataset, judge: str, k_ref: int, T0: float) -> list[dict]:
    """Error at (k_ref, smallest T), T* at k_ref, and the expansion's validity threshold."""
    at, units, t_units = {"judge": judge, "k": k_ref}, res["delta"].attrs["units"], _t_units(res)
    best = _interval(res, "delta", {**at, "T": T0})
    what = f"selecting among {k_ref} by the best score" if T0 == 0 else f"T = {fmt(T0)}"
    best["note"] = f"mean loss {what} (exact pool estimator); {best['note']}"
    t_star = _interval(res, "T_star", at)
    t_star["note"] = (
        "grid argmin of the error over T (0 = best score wins; a grid end means no interior "
        f"optimum on the grid); interval of the argmin: {t_star['note']}"
    )
    selector = f"judge={judge}; k={k_ref}"
    quantity = "best_of_k_error" if T0 == 0 else "error_smallest_T"
    return [
        _row(name, quantity, f"{selector}; T={fmt(T0)}", units=units, **best),
        _row(name, "T_star", selector, units=t_units, **t_star),
        _row(
            name,
            "expansion_validity_T",
            selector,
            float(res["T_valid"].sel(at)),
            units=t_units,
            note="smallest grid T from which the third-order high-temperature expansion stays "
            "inside the bootstrap interval of the exact error at every larger grid T "
            "(inf: nowhere on the grid)",
        ),
    ]


def judge_rows(name: str, res: xr.Dataset) -> list[dict[str, Any]]:
    """Rows of judge-data experiment ``name`` from its analysis dataset ``res``."""
    k_ref, T0 = int(res.attrs["k_ref"]), float(res["T"].values.min())
    units = res["delta"].attrs["units"]
    oracle = _interval(res, "oracle", {"k": k_ref})
    oracle["note"] = (
        f"expected lowest loss among {k_ref} (1 - pass@k for 0/1 labels); {oracle['note']}"
    )
    baseline = _interval(res, "baseline", {})
    baseline["note"] = f"mean loss of a random pick (k = 1); {baseline['note']}"
    rows = [
        _row(name, "oracle_error", f"k={k_ref}", units=units, **oracle),
        _row(name, "random_error", "k=1", units=units, **baseline),
    ]
    for judge in res["judge"].values:
        rows += _judge(name, res, str(judge), k_ref, T0)
    return rows
