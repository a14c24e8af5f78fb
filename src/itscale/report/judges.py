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


def _interval(res: xr.Dataset, name: str, sel: dict[str, Any]) -> tuple[float, float, str]:
    """(value, half-width of its interval, note text) of ``name`` at ``sel``."""
    config = json.loads(res.attrs["config"])
    value = float(res[name].sel(sel))
    lower, upper = float(res[f"{name}_lower"].sel(sel)), float(res[f"{name}_upper"].sel(sel))
    note = (
        f"{config['level']:.0%} percentile bootstrap interval [{fmt(lower)}, {fmt(upper)}] "
        f"over {res.attrs['n_problems']} problems, {config['bootstrap']} resamples; "
        "se = half-width of that interval"
    )
    return value, (upper - lower) / 2.0, note


def _t_units(res: xr.Dataset) -> str:
    normalised = json.loads(res.attrs["config"])["normalise"] == "pooled_sd"
    return "pooled within-problem SD of the judge's scores" if normalised else "judge score"


def _judge(name: str, res: xr.Dataset, judge: str, k_ref: int, T0: float) -> list[dict]:
    units = res["delta"].attrs.get("units", "1")
    at = {"judge": judge, "k": k_ref}
    value, half, note = _interval(res, "delta", {**at, "T": T0})
    what = f"selecting among {k_ref} by the best score" if T0 == 0 else f"T = {fmt(T0)}"
    out = [
        row(
            name,
            KIND,
            "best_of_k_error" if T0 == 0 else "error_smallest_T",
            f"judge={judge}; k={k_ref}; T={fmt(T0)}",
            value=value,
            se=half,
            units=units,
            source=SOURCE,
            note=f"mean loss {what} (exact pool estimator); {note}",
        ),
    ]
    value, half, note = _interval(res, "T_star", at)
    out.append(
        row(
            name,
            KIND,
            "T_star",
            f"judge={judge}; k={k_ref}",
            value=value,
            se=half,
            units=_t_units(res),
            source=SOURCE,
            note=f"grid argmin of the error over T (0 = best score wins; a grid end means no "
            f"interior optimum on the grid); interval of the argmin: {note}",
        )
    )
    out.append(
        row(
            name,
            KIND,
            "expansion_validity_T",
            f"judge={judge}; k={k_ref}",
            value=float(res["T_valid"].sel(at)),
            units=_t_units(res),
            source=SOURCE,
            note="smallest grid T from which the third-order high-temperature expansion stays "
            "inside the bootstrap interval of the exact error at every larger grid T "
            "(inf: nowhere on the grid)",
        )
    )
    return out


def judge_rows(name: str, res: xr.Dataset) -> list[dict[str, Any]]:
    """Rows of judge-data experiment ``name`` from its analysis dataset ``res``."""
    k_ref, T0 = int(res.attrs["k_ref"]), float(res["T"].values.min())
    units = res["delta"].attrs.get("units", "1")
    value, half, note = _interval(res, "oracle", {"k": k_ref})
    rows = [
        row(
            name,
            KIND,
            "oracle_error",
            f"k={k_ref}",
            value=value,
            se=half,
            units=units,
            source=SOURCE,
            note=f"expected lowest loss among {k_ref} (1 - pass@k for 0/1 labels); {note}",
        ),
    ]
    value, half, note = _interval(res, "baseline", {})
    rows.append(
        row(
            name,
            KIND,
            "random_error",
            "k=1",
            value=value,
            se=half,
            units=units,
            source=SOURCE,
            note=f"mean loss of a random pick (k = 1); {note}",
        )
    )
    for judge in res["judge"].values:
        rows += _judge(name, res, str(judge), k_ref, T0)
    return rows
