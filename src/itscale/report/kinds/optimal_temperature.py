"""Figure kind "optimal_temperature": error against the temperature T at fixed k.

Paper claim: a misspecified judge has an interior optimal temperature T*(k). Table rows: T*
for every (c, k > 1) (DE optimum over [0, inf], and the grid minimum of theory and Monte
Carlo refined by a parabola in ln T).
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
    """DE error for every k > 1 at the first c on a fine T grid (41 geometric values over the
    positive grid range, and T = 0 if in the grid), and T*(k) for every (c, k > 1)."""
    p = points[i]
    positive = [t for t in p["T"] if t > 0]
    Tf = np.geomspace(min(positive), max(positive), 41).tolist() if positive else []
    T = [0.0, *Tf] if any(t == 0 for t in p["T"]) else Tf
    ks = [k for k in p["k"] if k > 1]
    return {"fine": {"k": ks, "T": T, "c": [p["c"][0]]}, "T_star": {"n_grid": 13}}


def plot(sampling, theory, *, experiment=None, style=None) -> Figure:
    """delta/sigma^2 against T at fixed k (one curve per k), T*(k) marked.

    T > 0 on a log axis; T = 0 (best-of-k) on a narrow axis to its left. The error without
    selection (k = 1, or T -> inf) is the grey dotted level.
    """
    st = apply_style(style)
    fig = new_figure(SIZE, st)
    ax0, ax = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [1, 7]})
    th = theory[0]
    sigma2 = float(th["sigma2"])
    scale, t_label = summaries.t_scale(experiment, sigma2)
    Tg = th["T"].values
    pos = Tg > 0
    has_zero = bool((Tg == 0).any())
    c0 = float(th["c"].values[0])
    ks = [int(v) for v in th["k"].values if v > 1]
    cur = summaries.fine_curves(th)
    Tf = cur["T"].values[cur["T"].values > 0]
    mc, fs = summaries.mc(sampling, 0), summaries.fs(sampling, 0)
    entries = []
    values = []
    for j, k in enumerate(ks):
        col, mk = colour(j), marker(j)
        de = cur["delta_de"].sel(c=c0, k=k)
        ax.plot(
            Tf / scale,
            de.sel(T=Tf).values / sigma2,
            color=col,
            ls=st["theory_line_style"],
            zorder=2,
        )
        values.append(de.values / sigma2)
        if has_zero:
            ax0.plot(
                [-0.6, 0.6],
                [float(de.sel(T=0.0)) / sigma2] * 2,
                color=col,
                ls=st["theory_line_style"],
                zorder=2,
            )
        if mc is not None:
            m = mc[0].sel(c=c0, k=k).values / sigma2
            se = mc[1].sel(c=c0, k=k).values / sigma2
            draw.fs_line(ax, Tg[pos] / scale, fs.sel(c=c0, k=k).values[pos] / sigma2, col)
            draw.mc_points(ax, Tg[pos] / scale, m[pos], se[pos], col, mk, st, log_y=True)
            if has_zero:
                z = ~pos
                draw.mc_points(ax0, [0.0], m[z], se[z], col, mk, st, log_y=True)
            values.append(m)
        ts, ds = summaries.curve_minimum(de["T"].values, de.values, log=True)
        if ts == 0:
            draw.star(ax0, 0.0, ds / sigma2, col)
        elif math.isfinite(ts):
            draw.star(ax, ts / scale, ds / sigma2, col)
        entries.append((draw.curve_handle(j, st), rf"$k = {k}$"))
    delta1 = float(th["delta1"]) / sigma2
    for a in (ax0, ax):
        a.axhline(delta1, color=draw.GREY, ls=":", lw=0.9, zorder=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(t_label)
    ax0.set_ylabel(r"$\delta / \sigma^2$")
    ax0.set_xlim(-1, 1)
    ax0.set_xticks([0.0], ["0"])
    ax0.xaxis.set_minor_locator(mpl.ticker.NullLocator())
    # broken-axis marks between the T = 0 panel and the log-T panel
    ax0.spines["right"].set_visible(False)
    ax.spines["left"].set_visible(False)
    ax0.tick_params(axis="y", which="both", right=False)
    ax.tick_params(axis="y", which="both", left=False, labelleft=False)
    kw = {
        "marker": [(-1, -1.5), (1, 1.5)],
        "markersize": 5,
        "linestyle": "none",
        "color": "k",
        "mec": "k",
        "mew": 0.6,
        "clip_on": False,
    }
    ax0.plot([1, 1], [0, 1], transform=ax0.transAxes, **kw)
    ax.plot([0, 0], [0, 1], transform=ax.transAxes, **kw)
    vals = np.concatenate([np.ravel(v) for v in values] + [[delta1]])
    vals = vals[np.isfinite(vals) & (vals > 0)]
    ax.set_ylim(vals.min() / 1.5, vals.max() * 1.5)
    ax.set_title(rf"$c = {c0:g}$", loc="right", pad=3)
    entries += draw.key_handles(
        st,
        ax,
        mc=mc is not None,
        fs=fs is not None,
        theory="exact DE theory",
        star="optimal $T^*(k)$",
        extra=[(Line2D([], [], color=draw.GREY, ls=":"), r"no selection ($T\to\infty$)")],
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
        Tg = th["T"].values
        for c in th["c"].values:
            for k in th["k"].values:
                if k == 1:
                    continue
                ts = float(th["T_star"].sel(c=c, k=k))
                de = th["delta_de"].sel(c=c, k=k).values
                tg = summaries.curve_minimum(Tg, de, log=True)[0]
                value = math.nan
                if sampling:
                    mean, _ = summaries.mc_summary(sampling[i], "mc")
                    value = summaries.curve_minimum(Tg, mean.sel(c=c, k=k).values, log=True)[0]
                rows.append(
                    table.row(
                        name,
                        kind,
                        "T_star",
                        f"c={table.fmt(c)}; k={int(k)}",
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
