"""Figure kind "optimal_temperature": error against the temperature T at fixed k.

Paper claim: a misspecified judge has an interior optimal temperature T*(k). Table rows: T*
for every (c, k > 1) (DE optimum over [0, inf], and the grid minimum of theory and Monte
Carlo refined by a parabola in ln T).
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
    st, fig, (ax0, ax) = open_figure(
        SIZE, style, 1, 2, sharey=True, gridspec_kw={"width_ratios": [1, 7]}
    )
    pt = summaries.point(sampling, theory, experiment)
    entries = []
    values = []
    for j, k in enumerate(int(v) for v in pt.th["k"].values if v > 1):
        values += _draw_curve((ax0, ax), j, k, pt, st)
        entries.append((draw.curve_handle(j, st), rf"$k = {k}$"))
    delta1 = float(pt.th["delta1"]) / pt.sigma2
    for a in (ax0, ax):
        a.axhline(delta1, color=draw.GREY, ls=":", lw=0.9, zorder=1)
    _broken_axes(ax0, ax, pt.t_label)
    vals = np.concatenate([np.ravel(v) for v in values] + [[delta1]])
    vals = vals[np.isfinite(vals) & (vals > 0)]
    ax.set_ylim(vals.min() / 1.5, vals.max() * 1.5)
    ax.set_title(rf"$c = {float(pt.th['c'].values[0]):g}$", loc="right", pad=3)
    key = {"theory": "exact DE theory", "star": "optimal $T^*(k)$"}
    extra = [draw.grey_level(r"no selection ($T\to\infty$)")]
    return draw.finish(
        fig, entries, ncols=3, st=st, ax=ax, simulated=pt.smp is not None, extra=extra, **key
    )


def _draw_curve(axes, j: int, k: int, pt: summaries.Point, st) -> list[np.ndarray]:
    """``k`` candidates at the first c: the DE line (T > 0 on the log axis, T = 0 as a level
    on the narrow axis), Monte Carlo and finite size, and the optimum T*(k) (star). Returns
    the values drawn (/ sigma^2)."""
    ax0, ax = axes
    col, mk = colour(j), marker(j)
    c0 = float(pt.th["c"].values[0])
    Tg = pt.th["T"].values
    pos = Tg > 0
    has_zero = bool((Tg == 0).any())
    Tf = pt.curves["T"].values[pt.curves["T"].values > 0]
    de = pt.curves["delta_de"].sel(c=c0, k=k)
    line = {"color": col, "ls": st["theory_line_style"], "zorder": 2}
    ax.plot(Tf / pt.scale, de.sel(T=Tf).values / pt.sigma2, **line)
    values = [de.values / pt.sigma2]
    if has_zero:
        ax0.plot([-0.6, 0.6], [float(de.sel(T=0.0)) / pt.sigma2] * 2, **line)
    if pt.smp is not None:
        m, se, fs = pt.smp.at(pt.sigma2, c=c0, k=k)
        x = Tg[pos] / pt.scale
        draw.sampled(ax, x, m[pos], se[pos], fs[pos], col, mk, st, log_y=True)
        if has_zero:
            draw.mc_points(ax0, [0.0], m[~pos], se[~pos], col, mk, st, log_y=True)
        values.append(m)
    ts, ds = summaries.curve_minimum(de["T"].values, de.values, log=True)
    if ts == 0:
        draw.star(ax0, 0.0, ds / pt.sigma2, col)
    elif math.isfinite(ts):
        draw.star(ax, ts / pt.scale, ds / pt.sigma2, col)
    return values


def _broken_axes(ax0, ax, t_label: str) -> None:
    """Log T axis next to a narrow T = 0 axis, labels, and broken-axis marks between them."""
    import matplotlib as mpl

    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(t_label)
    ax0.set_ylabel(r"$\delta / \sigma^2$")
    ax0.set_xlim(-1, 1)
    ax0.set_xticks([0.0], ["0"])
    ax0.xaxis.set_minor_locator(mpl.ticker.NullLocator())
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


def rows(experiment, sampling, theory) -> list[dict[str, Any]]:
    """Rows of the numbers table for this kind (see :mod:`itscale.report.table`)."""
    row = _rows.row_maker(experiment)
    out = []
    for th, scale, mean in _rows.points(experiment, sampling, theory):
        Tg = th["T"].values
        for c in th["c"].values:
            for k in th["k"].values[th["k"].values > 1]:
                ts = float(th["T_star"].sel(c=c, k=k))
                de = th["delta_de"].sel(c=c, k=k).values
                tg = summaries.curve_minimum(Tg, de, log=True)[0]
                value = math.nan
                if mean is not None:
                    value = summaries.curve_minimum(Tg, mean.sel(c=c, k=k).values, log=True)[0]
                out.append(
                    row(
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
    return out
