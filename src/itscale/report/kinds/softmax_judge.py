"""Figure kind "softmax_judge": softmax selection with a misspecified judge, error against k.

Paper claim: monotone in k for a small misspecification c, a finite optimal k* for a large
one; the third-order high-temperature expansion follows the exact curve. Table rows: k*
for every (T, c) (DE optimum, grid argmin of theory and Monte Carlo).
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
    st, fig, ax = open_figure(SIZE, style)
    pt = summaries.point(sampling, theory, experiment)
    entries = []
    values = []
    star_curves = []
    for j, c in enumerate(pt.th["c"].values):
        values += _draw_curve(ax, j, float(c), pt, st)
        star = _k_star(ax, j, float(c), pt, st)
        if star is not None:
            star_curves.append(star)
        entries.append((draw.curve_handle(j, st), rf"$c = {c:g}$"))
    ax.set_xscale("log")
    ax.set_xlabel(r"number of candidates $k$")
    ax.set_ylabel(r"$\delta / \sigma^2$")
    ax.set_title(draw.t_math(float(pt.th["T"].values[0]), pt.scale), loc="right", pad=3)
    lo, hi = summaries.value_range(values)
    pad = 0.06 * (hi - lo)
    ax.set_ylim(lo - (3.0 if star_curves else 1.0) * pad, hi + 1.0 * pad)
    if star_curves:
        _zoom_inset(ax, star_curves[-1], pt, st)
    star = "optimal $k^*$" if star_curves else None
    key = {"theory": "exact DE theory", "hte": True, "star": star}
    return draw.finish(fig, entries, ncols=4, st=st, ax=ax, simulated=pt.smp is not None, **key)


def _draw_curve(ax, j: int, c: float, pt: summaries.Point, st) -> list[np.ndarray]:
    """Judge ``c`` at the first T: DE and high-temperature lines on the fine k grid, Monte
    Carlo and finite size on the k grid. Returns the values drawn (/ sigma^2)."""
    col, mk = colour(j), marker(j)
    T0 = float(pt.th["T"].values[0])
    kf = pt.curves["k"].values
    de = pt.curves["delta_de"].sel(T=T0, c=c).values / pt.sigma2
    hte = pt.curves["delta_hte"].sel(T=T0, c=c).values / pt.sigma2
    ax.plot(kf, de, color=col, ls=st["theory_line_style"], zorder=2)
    ax.plot(kf, hte, color=col, ls=st["hte_line_style"], lw=0.9, zorder=1.5)
    values = [de, hte]
    if pt.smp is not None:
        m, se, fs = pt.smp.at(pt.sigma2, T=T0, c=c)
        draw.sampled(ax, pt.th["k"].values, m, se, fs, col, mk, st)
        values += [m - se, m + se]
    return values


def _k_star(ax, j: int, c: float, pt: summaries.Point, st) -> tuple[int, float, int, float] | None:
    """Mark the DE-optimal k* of judge ``c`` (star and label) if it lies inside the k range;
    returns (curve index, c, k*, delta there) or None."""
    T0 = float(pt.th["T"].values[0])
    ks = int(pt.th["k_star"].sel(T=T0, c=c))
    ds = float(pt.th["delta_k_star"].sel(T=T0, c=c))
    if not 1 < ks < int(pt.th["k"].values.max()):
        return None
    col = colour(j)
    draw.star(ax, ks, ds / pt.sigma2, col)
    ax.annotate(
        rf"$k^*={ks}$",
        (ks, ds / pt.sigma2),
        textcoords="offset points",
        xytext=(0, -7),
        ha="center",
        va="top",
        color=col,
        fontsize=float(st["font_size"]) - 1,
    )
    return j, c, ks, ds


def _zoom_inset(ax, curve, pt: summaries.Point, st) -> None:
    """Inset magnifying the curve with a finite k*: its minimum and the rise after it."""
    j, c, ks, ds = curve
    col, mk = colour(j), marker(j)
    T0 = float(pt.th["T"].values[0])
    k, kf = pt.th["k"].values, pt.curves["k"].values
    k_lo = max(2, ks // 3)
    sel = kf >= k_lo
    de = pt.curves["delta_de"].sel(T=T0, c=c).values[sel] / pt.sigma2
    ins = ax.inset_axes([0.5, 0.5, 0.46, 0.36])
    ins.plot(kf[sel], de, color=col, ls=st["theory_line_style"], zorder=2)
    vals = [de]
    if pt.smp is not None:
        ksel = k >= k_lo
        m, se, fs = (v[ksel] for v in pt.smp.at(pt.sigma2, T=T0, c=c))
        draw.sampled(ins, k[ksel], m, se, fs, col, mk, st)
        vals += [m - se, m + se]
    draw.star(ins, ks, ds / pt.sigma2, col)
    lo, hi = summaries.value_range(vals)
    ins.set_ylim(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))
    ins.set_xscale("log")
    ins.set_xlim(k_lo / 1.15, float(k.max()) * 1.15)
    draw.log_axis(ins, "x")
    ins.tick_params(labelsize=float(st["font_size"]) - 2, which="both")
    ins.set_title(rf"$c = {c:g}$, zoomed", fontsize=float(st["font_size"]) - 2, pad=2)
    ins.yaxis.get_major_formatter().set_useOffset(False)


def rows(experiment, sampling, theory) -> list[dict[str, Any]]:
    """Rows of the numbers table for this kind (see :mod:`itscale.report.table`)."""
    row = _rows.row_maker(experiment)
    out = []
    for th, scale, mean in _rows.points(experiment, sampling, theory):
        k = th["k"].values
        for T in th["T"].values:
            for c in th["c"].values:
                ks = int(th["k_star"].sel(T=T, c=c))
                de = th["delta_de"].sel(T=T, c=c).values
                value = math.nan
                if mean is not None:
                    value = float(k[int(np.argmin(mean.sel(T=T, c=c).values))])
                out.append(
                    row(
                        "k_star",
                        f"{table.t_text(T, scale)}; c={table.fmt(c)}",
                        value=value,
                        theory=float(ks) if ks > 0 else math.nan,
                        theory_grid=float(k[int(np.argmin(de))]),
                        source="itscale.expansions.optimal_k",
                        note=f"argmin over k in 1..{k.max()}; theory nan: still decreasing at "
                        f"k = {k.max()}; value/theory_grid: argmin on the k grid (grid end "
                        "= no interior minimum)",
                    )
                )
    return out
