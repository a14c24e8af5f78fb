"""Figure kind "best_judge": error against the judge misspecification c at fixed T.

Paper claim: the best judge is not the teacher, c*(k) > 0, tending to T / (2 s^2) as k grows.
Table rows: c* for every (T, k > 1) (DE optimum within the c range, grid minimum of theory
and Monte Carlo) and the k -> inf limit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from itscale.report import draw, summaries, table
from itscale.report.kinds import _rows
from itscale.report.style import colour, marker, open_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["SIZE", "theory_request", "plot", "rows"]

#: Figure size in units of the style's (width, height).
SIZE: tuple[float, float] = (1.0, 1.3)


def theory_request(points: Sequence[Mapping[str, Any]], i: int) -> dict[str, Any]:
    """DE error for every k > 1 at the first T on a fine c grid (41 values over the c range)
    with its k -> inf limit, and c*(k) for every (T, k > 1)."""
    p = points[i]
    cf = np.linspace(min(p["c"]), max(p["c"]), 41).tolist()
    ks = [k for k in p["k"] if k > 1]
    fine = {"k": ks, "T": [p["T"][0]], "c": cf, "tilted": True}
    return {"fine": fine, "c_star": {"n_grid": 13}}


def plot(sampling, theory, *, experiment=None, style=None) -> Figure:
    """delta/sigma^2 against the judge misspecification c at fixed T, one curve per k.

    c*(k) marked (star); the k -> inf limit of the error (grey dotted) and its optimum
    c*_inf = T / (2 s^2) (grey vertical line).
    """
    st, fig, ax = open_figure(SIZE, style)
    pt = summaries.point(sampling, theory, experiment)
    entries = []
    values = []
    for j, k in enumerate(int(v) for v in pt.th["k"].values if v > 1):
        values += _draw_curve(ax, j, k, pt, st)
        entries.append((draw.curve_handle(j, st), rf"$k = {k}$"))
    _draw_limit(ax, pt, st)
    lo, hi = summaries.value_range(values)
    ax.set_ylim(max(0.0, lo - 0.08 * (hi - lo)), hi + 0.12 * (hi - lo))
    _label_axes(ax, pt.th, draw.t_math(float(pt.th["T"].values[0]), pt.scale))
    key = {"theory": "exact DE theory", "star": "optimal judge $c^*(k)$"}
    extra = [draw.grey_level(r"$k\to\infty$ limit")]
    return draw.finish(
        fig, entries, ncols=3, st=st, ax=ax, simulated=pt.smp is not None, extra=extra, **key
    )


def _draw_curve(ax, j: int, k: int, pt: summaries.Point, st) -> list[np.ndarray]:
    """``k`` candidates at the first T: the DE line on the fine c grid with its interior
    optimum (star), Monte Carlo and finite size on the c grid. Returns the values drawn."""
    col, mk = colour(j), marker(j)
    T0 = float(pt.th["T"].values[0])
    cf = pt.curves["c"].values
    de = pt.curves["delta_de"].sel(T=T0, k=k).values / pt.sigma2
    ax.plot(cf, de, color=col, ls=st["theory_line_style"], zorder=2)
    values = [de]
    if pt.smp is not None:
        m, se, fs = pt.smp.at(pt.sigma2, T=T0, k=k)
        draw.sampled(ax, pt.th["c"].values, m, se, fs, col, mk, st)
        values += [m - se, m + se]
    cs, ds = summaries.curve_minimum(cf, de * pt.sigma2)
    if cf[0] < cs < cf[-1]:  # interior optimum only (a range end is no optimum)
        draw.star(ax, cs, ds / pt.sigma2, col)
    return values


def _draw_limit(ax, pt: summaries.Point, st) -> None:
    """The k -> inf limit of the error (grey dotted) and its optimal judge (grey line)."""
    T0 = float(pt.th["T"].values[0])
    tilted = pt.curves["delta_tilted"].sel(T=T0).values / pt.sigma2
    ax.plot(pt.curves["c"].values, tilted, color=draw.GREY, ls=":", lw=1.0, zorder=1)
    c_inf = float(pt.th["c_star_limit"].sel(T=T0))
    ax.axvline(c_inf, color=draw.GREY, ls="-", lw=0.7, zorder=0)
    ax.annotate(
        r"$c^*_\infty = T/2s^2$",
        (c_inf, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(3, -3),
        textcoords="offset points",
        ha="left",
        va="top",
        color=draw.GREY,
        fontsize=float(st["font_size"]) - 1,
    )


def _label_axes(ax, th, title: str) -> None:
    """c axis over the c grid, labels and the temperature as title."""
    import matplotlib as mpl

    cg = th["c"].values
    ax.set_xlim(float(cg.min()), float(cg.max()))
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(nbins=6, steps=[1, 2, 5, 10]))
    ax.set_xlabel(r"judge misspecification $c$")
    ax.set_ylabel(r"$\delta / \sigma^2$")
    ax.set_title(title, loc="right", pad=3)


def rows(experiment, sampling, theory) -> list[dict[str, Any]]:
    """Rows of the numbers table for this kind (see :mod:`itscale.report.table`)."""
    row = _rows.row_maker(experiment)
    out = []
    for th, scale, mean in _rows.points(experiment, sampling, theory):
        cg = th["c"].values
        for T in th["T"].values:
            sel_T = table.t_text(T, scale)
            for k in th["k"].values[th["k"].values > 1]:
                cs = float(th["c_star"].sel(T=T, k=k))
                de = th["delta_de"].sel(T=T, k=k).values
                value = math.nan
                if mean is not None:
                    value = summaries.curve_minimum(cg, mean.sel(T=T, k=k).values)[0]
                note = "value/theory_grid: argmin on the c grid refined by a parabola"
                if cs <= cg.min() or cs >= cg.max():
                    note += "; theory at the end of the c range: no interior optimum in range"
                out.append(
                    row(
                        "c_star",
                        f"{sel_T}; k={int(k)}",
                        value=value,
                        theory=cs,
                        theory_grid=summaries.curve_minimum(cg, de)[0],
                        source="itscale.expansions.optimal_judge",
                        note=note,
                    )
                )
            out.append(
                row(
                    "c_star_limit",
                    sel_T,
                    theory=float(th["c_star_limit"].sel(T=T)),
                    source="itscale.expansions.optimal_judge_limit",
                    note="k -> inf optimal judge T / (2 s^2)",
                )
            )
    return out
