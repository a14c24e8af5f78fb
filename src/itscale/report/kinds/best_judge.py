"""Figure kind "best_judge": error against the judge misspecification c at fixed T.

Paper claim: the best judge is not the teacher, c*(k) > 0, tending to T / (2 s^2) as k grows.
Table rows: c* for every (T, k > 1) (DE optimum within the c range, grid minimum of theory
and Monte Carlo) and the k -> inf limit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from itscale.report import draw, summaries, table
from itscale.report.style import apply_style, colour, marker, new_figure

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
    st = apply_style(style)
    fig = new_figure(SIZE, st)
    ax = fig.subplots()
    th = theory[0]
    sigma2 = float(th["sigma2"])
    scale, _ = summaries.t_scale(experiment, sigma2)
    T0 = float(th["T"].values[0])
    cg = th["c"].values
    ks = [int(v) for v in th["k"].values if v > 1]
    cur = summaries.fine_curves(th)
    cf = cur["c"].values
    mc, fs = summaries.mc(sampling, 0), summaries.fs(sampling, 0)
    entries = []
    values = []
    for j, k in enumerate(ks):
        col, mk = colour(j), marker(j)
        de = cur["delta_de"].sel(T=T0, k=k).values / sigma2
        ax.plot(cf, de, color=col, ls=st["theory_line_style"], zorder=2)
        values.append(de)
        if mc is not None:
            m = mc[0].sel(T=T0, k=k).values / sigma2
            se = mc[1].sel(T=T0, k=k).values / sigma2
            draw.fs_line(ax, cg, fs.sel(T=T0, k=k).values / sigma2, col)
            draw.mc_points(ax, cg, m, se, col, mk, st)
            values += [m - se, m + se]
        cs, ds = summaries.curve_minimum(cf, de * sigma2)
        if cf[0] < cs < cf[-1]:  # interior optimum only (a range end is no optimum)
            draw.star(ax, cs, ds / sigma2, col)
        entries.append((draw.curve_handle(j, st), rf"$k = {k}$"))
    tilted = cur["delta_tilted"].sel(T=T0).values / sigma2
    ax.plot(cf, tilted, color=draw.GREY, ls=":", lw=1.0, zorder=1)
    c_inf = float(th["c_star_limit"].sel(T=T0))
    ax.axvline(c_inf, color=draw.GREY, ls="-", lw=0.7, zorder=0)
    vals = np.concatenate([np.ravel(v) for v in values])
    lo, hi = float(np.nanmin(vals)), float(np.nanmax(vals))
    ax.set_ylim(max(0.0, lo - 0.08 * (hi - lo)), hi + 0.12 * (hi - lo))
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
    ax.set_xlim(float(cg.min()), float(cg.max()))
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(nbins=6, steps=[1, 2, 5, 10]))
    ax.set_xlabel(r"judge misspecification $c$")
    ax.set_ylabel(r"$\delta / \sigma^2$")
    ax.set_title(draw.t_math(T0, scale), loc="right", pad=3)
    entries += draw.key_handles(
        st,
        ax,
        mc=mc is not None,
        fs=fs is not None,
        theory="exact DE theory",
        star="optimal judge $c^*(k)$",
        extra=[(Line2D([], [], color=draw.GREY, ls=":"), r"$k\to\infty$ limit")],
    )
    draw.format_log_axes(fig)
    draw.legend(fig, entries, ncols=3)
    return fig


def rows(experiment, sampling, theory) -> list[dict[str, Any]]:
    """Rows of the numbers table for this kind (see :mod:`itscale.report.table`)."""
    name, kind = experiment["experiment"], experiment["kind"]
    rows = []
    for i, th in enumerate(theory):
        sigma2 = float(th["sigma2"])
        scale, _ = summaries.t_scale(experiment, sigma2)
        cg = th["c"].values
        for T in th["T"].values:
            sel_T = table.t_text(T, scale)
            for k in th["k"].values:
                if k == 1:
                    continue
                cs = float(th["c_star"].sel(T=T, k=k))
                de = th["delta_de"].sel(T=T, k=k).values
                value = math.nan
                if sampling:
                    mean, _ = summaries.mc_summary(sampling[i], "mc")
                    value = summaries.curve_minimum(cg, mean.sel(T=T, k=k).values)[0]
                note = "value/theory_grid: argmin on the c grid refined by a parabola"
                if cs <= cg.min() or cs >= cg.max():
                    note += "; theory at the end of the c range: no interior optimum in range"
                rows.append(
                    table.row(
                        name,
                        kind,
                        "c_star",
                        f"{sel_T}; k={int(k)}",
                        value=value,
                        theory=cs,
                        theory_grid=summaries.curve_minimum(cg, de)[0],
                        source="itscale.expansions.optimal_judge",
                        note=note,
                    )
                )
            rows.append(
                table.row(
                    name,
                    kind,
                    "c_star_limit",
                    sel_T,
                    theory=float(th["c_star_limit"].sel(T=T)),
                    source="itscale.expansions.optimal_judge_limit",
                    note="k -> inf optimal judge T / (2 s^2)",
                )
            )
    return rows
