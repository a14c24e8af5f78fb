"""Figure kind "softmax_judge": softmax selection with a misspecified judge, error against k.

Paper claim: monotone in k for a small misspecification c, a finite optimal k* for a large
one; the third-order high-temperature expansion follows the exact curve. Table rows: k*
for every (T, c) (DE optimum, grid argmin of theory and Monte Carlo).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from itscale.report import draw, summaries, table
from itscale.report.style import apply_style, colour, marker, new_figure

__all__ = ["SIZE", "theory_request", "plot", "rows"]

#: Figure size in units of the style's (width, height).
SIZE: tuple[float, float] = (1.0, 1.25)


def theory_request(points: Sequence[Mapping[str, Any]], i: int) -> dict[str, Any]:
    """DE error and high-temperature expansion on a fine k grid at the first T for every c,
    and the DE-optimal k* for every (T, c) of the grid."""
    p = points[i]
    kf = summaries.fine_k(min(p["k"]), max(p["k"]))
    fine = {"k": kf.tolist(), "T": [p["T"][0]], "c": list(p["c"]), "hte": True}
    return {"fine": fine, "k_star": True}


def plot(sampling, theory, *, experiment=None, style=None) -> Figure:
    """delta/sigma^2 against k at fixed T for each judge misspecification c.

    Monte Carlo points, exact DE lines, the third-order high-temperature expansion (dashed),
    the exact average for the simulated training sets (thin dash-dotted), and the DE-optimal
    finite k* (star) where one exists inside the k range.
    """
    st = apply_style(style)
    fig = new_figure(SIZE, st)
    ax = fig.subplots()
    th = theory[0]
    sigma2 = float(th["sigma2"])
    scale, _ = summaries.t_scale(experiment, sigma2)
    T0 = float(th["T"].values[0])
    k = th["k"].values
    cur = summaries.fine_curves(th)
    kf = cur["k"].values
    mc, fs = summaries.mc(sampling, 0), summaries.fs(sampling, 0)
    entries = []
    values = []
    any_star = False
    star_curves = []
    for j, c in enumerate(th["c"].values):
        col, mk = colour(j), marker(j)
        de = cur["delta_de"].sel(T=T0, c=c).values / sigma2
        hte = cur["delta_hte"].sel(T=T0, c=c).values / sigma2
        ax.plot(kf, de, color=col, ls=st["theory_line_style"], zorder=2)
        ax.plot(kf, hte, color=col, ls=st["hte_line_style"], lw=0.9, zorder=1.5)
        values += [de, hte]
        if mc is not None:
            m = mc[0].sel(T=T0, c=c).values / sigma2
            se = mc[1].sel(T=T0, c=c).values / sigma2
            draw.fs_line(ax, k, fs.sel(T=T0, c=c).values / sigma2, col)
            draw.mc_points(ax, k, m, se, col, mk, st)
            values += [m - se, m + se]
        ks = int(th["k_star"].sel(T=T0, c=c))
        ds = float(th["delta_k_star"].sel(T=T0, c=c))
        if 1 < ks < int(k.max()):
            any_star = True
            star_curves.append((j, float(c), ks, ds))
            draw.star(ax, ks, ds / sigma2, col)
            ax.annotate(
                rf"$k^*={ks}$",
                (ks, ds / sigma2),
                textcoords="offset points",
                xytext=(0, -7),
                ha="center",
                va="top",
                color=col,
                fontsize=float(st["font_size"]) - 1,
            )
        entries.append((draw.curve_handle(j, st), rf"$c = {c:g}$"))
    ax.set_xscale("log")
    ax.set_xlabel(r"number of candidates $k$")
    ax.set_ylabel(r"$\delta / \sigma^2$")
    ax.set_title(draw.t_math(T0, scale), loc="right", pad=3)
    vals = np.concatenate([np.ravel(v) for v in values])
    lo, hi = float(np.nanmin(vals)), float(np.nanmax(vals))
    pad = 0.06 * (hi - lo)
    ax.set_ylim(lo - (3.0 if any_star else 1.0) * pad, hi + 1.0 * pad)
    if star_curves:
        _zoom_inset(ax, star_curves[-1], kf, cur, T0, sigma2, k, mc, fs, st)
    entries += draw.key_handles(
        st,
        ax,
        mc=mc is not None,
        fs=fs is not None,
        theory="exact DE theory",
        hte=True,
        star="optimal $k^*$" if any_star else None,
    )
    draw.format_log_axes(fig)
    draw.legend(fig, entries, ncols=4)
    return fig


def _zoom_inset(ax, curve, kf, cur, T0, sigma2, k, mc, fs, st) -> None:
    """Inset magnifying the curve with a finite k*: its minimum and the rise after it."""
    j, c, ks, ds = curve
    col, mk = colour(j), marker(j)
    k_lo = max(2, ks // 3)
    sel = kf >= k_lo
    de = cur["delta_de"].sel(T=T0, c=c).values[sel] / sigma2
    ins = ax.inset_axes([0.5, 0.5, 0.46, 0.36])
    ins.plot(kf[sel], de, color=col, ls=st["theory_line_style"], zorder=2)
    vals = [de]
    if mc is not None:
        ksel = k >= k_lo
        m = mc[0].sel(T=T0, c=c).values[ksel] / sigma2
        se = mc[1].sel(T=T0, c=c).values[ksel] / sigma2
        draw.fs_line(ins, k[ksel], fs.sel(T=T0, c=c).values[ksel] / sigma2, col)
        draw.mc_points(ins, k[ksel], m, se, col, mk, st)
        vals += [m - se, m + se]
    draw.star(ins, ks, ds / sigma2, col)
    v = np.concatenate(vals)
    lo, hi = float(np.nanmin(v)), float(np.nanmax(v))
    ins.set_ylim(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))
    ins.set_xscale("log")
    ins.set_xlim(k_lo / 1.15, float(k.max()) * 1.15)
    draw.log_axis(ins, "x")
    ins.tick_params(labelsize=float(st["font_size"]) - 2, which="both")
    ins.set_title(rf"$c = {c:g}$, zoomed", fontsize=float(st["font_size"]) - 2, pad=2)
    ins.yaxis.get_major_formatter().set_useOffset(False)


def rows(experiment, sampling, theory) -> list[dict[str, Any]]:
    """Rows of the numbers table for this kind (see :mod:`itscale.report.table`)."""
    name, kind = experiment["experiment"], experiment["kind"]
    rows = []
    for i, th in enumerate(theory):
        k = th["k"].values
        sigma2 = float(th["sigma2"])
        scale, _ = summaries.t_scale(experiment, sigma2)
        for T in th["T"].values:
            for c in th["c"].values:
                ks = int(th["k_star"].sel(T=T, c=c))
                de = th["delta_de"].sel(T=T, c=c).values
                kg = float(k[int(np.argmin(de))])
                value = math.nan
                if sampling:
                    mean, _ = summaries.mc_summary(sampling[i], "mc")
                    value = float(k[int(np.argmin(mean.sel(T=T, c=c).values))])
                sel = f"{table.t_text(T, scale)}; c={table.fmt(c)}"
                rows.append(
                    table.row(
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
