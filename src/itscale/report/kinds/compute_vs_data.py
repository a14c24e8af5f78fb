"""Figure kind "compute_vs_data": the equivalent-data multiplier M(k, n), theory only.

Paper claim: where inference-time sampling is worth more data; M = inf where selection
reaches an error no amount of data reaches at k = 1. Table rows per n: the smallest k beyond
any data and the largest finite M on the k grid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from itscale.report import draw, summaries
from itscale.report.kinds import _rows
from itscale.report.style import open_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["SIZE", "theory_request", "plot", "rows"]

#: Figure size in units of the style's (width, height).
SIZE: tuple[float, float] = (1.0, 1.25)

_INF_GREY, _HATCH_GREY = "0.87", "0.55"  # fill and hatching of the M = inf region


def theory_request(points: Sequence[Mapping[str, Any]], i: int) -> dict[str, Any]:
    """The first point computes the (n, k) map: 49 geometric n over the sweep's n range and
    49 k over its own k range, at its shown (T, c); the model is the first point's with n
    varied. The other points compute nothing extra."""
    if i != 0:
        return {}
    p = points[0]
    n_pts = np.array(sorted(float(q["n"]) for q in points))
    nf = np.geomspace(n_pts.min(), n_pts.max(), 49) if n_pts.size > 1 else n_pts
    kf = summaries.fine_k(min(p["k"]), max(p["k"]), 49)
    T0, c0 = summaries.select_tc(p["T"], p["c"])
    return {"multiplier_map": {"n": nf.tolist(), "k": kf.tolist(), "T": T0, "c": c0}}


def plot(sampling, theory, *, experiment=None, style=None) -> Figure:
    """Map of the equivalent-data multiplier M(k, n) over (n, k), from the DE theory.

    Colour: M where finite (log scale). Grey, hatched: M = inf, selection reaches an error
    below sigma^2 that no amount of data reaches at k = 1, outlined by the thick black line
    (a staircase: k is an integer). Dashed contours: iso-error lines of delta(k; n) / sigma^2.
    The theory stage of the first sweep point evaluates it on a grid finer than the sweep, over
    the sweep's n range and the experiment's k range; each cell is one (n, k) pair.
    """
    st, fig, ax = open_figure(SIZE, style)
    th = theory[0]
    sigma2 = float(th["sigma2"])
    T0, c0 = summaries.select_tc(th["T"].values, th["c"].values)
    nf, kf = th["n_map"].values, th["k_map"].values
    M = th["multiplier_map"].values.T  # (k, n)
    n_edges, k_edges = _log_edges(nf), _log_edges(kf.astype(float))
    n_edges = np.clip(n_edges, nf[0], nf[-1]) if nf.size > 1 else n_edges
    k_edges = np.clip(k_edges, kf[0], kf[-1]) if kf.size > 1 else k_edges
    mesh = _multiplier_mesh(ax, M, (n_edges, k_edges), st)
    if np.isinf(M).any():
        _infinite_region(ax, np.isinf(M), (n_edges, k_edges))
    _iso_lines(ax, nf, kf, th["delta_de_map"].values.T / sigma2, st)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(n_edges[0], n_edges[-1])
    ax.set_ylim(k_edges[0], k_edges[-1])
    ax.set_xlabel(r"training-set size $n$")
    ax.set_ylabel(r"number of candidates $k$")
    _colorbar(fig, ax, mesh)
    entries = [
        (
            draw.patch_handle(facecolor=_INF_GREY, edgecolor=_HATCH_GREY, hatch="////", lw=0),
            r"$M=\infty$: $\delta(k;n) < \sigma^2$, unreachable by any data at $k=1$",
        ),
        (
            draw.line_handle(color="k", ls="--", lw=0.6),
            r"iso-error lines, labelled $\delta/\sigma^2$",
        ),
    ]
    if T0 != 0 or c0 != 0:
        scale, _ = summaries.t_scale(experiment, sigma2)
        ax.set_title(f"{draw.t_math(T0, scale)}, $c = {c0:g}$", loc="right", pad=3)
    return draw.finish(fig, entries, ncols=1)


def _multiplier_mesh(ax, M: np.ndarray, edges, st):
    """Finite M(k, n) > 0 as colour cells (log scale, light end of the colormap); returns
    the mesh (for the colour bar)."""
    import matplotlib as mpl

    finite = np.isfinite(M) & (M > 0)
    base = mpl.colormaps[st["colormap"]]
    cmap = mpl.colors.ListedColormap(base(np.linspace(0.2, 1.0, 256)))  # light: lines show
    m_hi = max(float(M[finite].max()) if finite.any() else 1.0, 1.01)
    norm = mpl.colors.LogNorm(vmin=1.0, vmax=m_hi)
    return ax.pcolormesh(
        *edges,
        np.ma.masked_where(~finite, M),
        cmap=cmap,
        norm=norm,
        shading="flat",
        rasterized=True,
        zorder=0,
    )


def _infinite_region(ax, inf_cells: np.ndarray, edges) -> None:
    """The M = inf cells in grey, and if they form one region reaching the top of the map,
    hatched and outlined by a staircase (k is an integer)."""
    import matplotlib as mpl

    n_edges, k_edges = edges
    ax.pcolormesh(
        n_edges,
        k_edges,
        np.ma.masked_where(~inf_cells, np.zeros_like(inf_cells, dtype=float)),
        cmap=mpl.colors.ListedColormap([_INF_GREY]),
        vmin=-1.0,
        vmax=1.0,
        shading="flat",
        rasterized=True,
        zorder=0,
    )
    first = _upper_region(inf_cells)
    if first is None:
        return
    cols = np.flatnonzero(first < inf_cells.shape[0])
    xs, ys = [n_edges[cols[0]]], [k_edges[-1]]
    for j in cols:
        y = k_edges[first[j]]
        xs += [n_edges[j], n_edges[j + 1]]
        ys += [y, y]
    poly = list(zip(xs, ys, strict=True)) + [(n_edges[cols[-1] + 1], k_edges[-1])]
    hatch = {"facecolor": "none", "edgecolor": _HATCH_GREY, "hatch": "////", "lw": 0}
    ax.add_patch(mpl.patches.Polygon(poly, closed=True, zorder=0.5, **hatch))
    ax.plot(xs, ys, color="k", lw=1.5, zorder=3, solid_joinstyle="miter")


def _iso_lines(ax, nf: np.ndarray, kf: np.ndarray, err: np.ndarray, st) -> None:
    """Dashed iso-error contours of delta / sigma^2 (``err``, (k, n)), labelled."""
    iso = [
        lv
        for lv in (1e-4, 1e-3, 0.01, 0.1, 3, 10, 30, 100, 300, 1000)
        if np.nanmin(err) < lv < np.nanmax(err)
    ]
    if not iso:
        return
    cs = ax.contour(nf, kf, err, levels=iso, colors="k", linewidths=0.6, linestyles="--", zorder=2)
    labels = ax.clabel(
        cs, fmt=lambda v: f"{v:g}", fontsize=float(st["font_size"]) - 2, inline_spacing=1
    )
    for text in labels:
        text.set_bbox({"facecolor": "white", "edgecolor": "none", "pad": 0.3, "alpha": 0.8})


def _colorbar(fig, ax, mesh) -> None:
    """Colour bar of M with plain-number log ticks at 1, 2, 5 per decade."""
    import matplotlib as mpl

    cb = fig.colorbar(mesh, ax=ax, pad=0.02, aspect=25)
    cb.set_label(r"equivalent-data multiplier $M$")
    cb.ax.tick_params(direction="out", which="both")
    cb.ax.yaxis.set_major_locator(mpl.ticker.LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
    cb.ax.yaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _p: f"{v:g}"))
    cb.ax.yaxis.set_minor_formatter(mpl.ticker.NullFormatter())


def _log_edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges halfway (geometrically) between positive centres, for pcolormesh."""
    c = np.asarray(centres, dtype=np.float64)
    if c.size == 1:
        return np.array([c[0] / 1.5, c[0] * 1.5])
    mid = np.sqrt(c[1:] * c[:-1])
    return np.concatenate([[c[0] ** 2 / mid[0]], mid, [c[-1] ** 2 / mid[-1]]])


def _upper_region(mask: np.ndarray) -> np.ndarray | None:
    """Per column, the first row of a mask that is True from that row to the top (len(mask)
    if the column is all False); None if some column is not of that form."""
    rows = mask.shape[0]
    first = np.full(mask.shape[1], rows)
    for j in range(mask.shape[1]):
        idx = np.flatnonzero(mask[:, j])
        if idx.size:
            if not mask[idx[0] :, j].all():
                return None
            first[j] = idx[0]
    return first


def rows(experiment, sampling, theory) -> list[dict[str, Any]]:
    """Rows of the numbers table for this kind (see :mod:`itscale.report.table`)."""
    row = _rows.row_maker(experiment)
    out = []
    for th in theory:
        sel = f"n={summaries.point_params(th)['n']}"
        sigma2 = float(th["sigma2"])
        for T in th["T"].values:
            for c in th["c"].values:
                de = th["delta_de"].sel(T=T, c=c)
                below = de["k"].values[de.values <= sigma2]
                out.append(
                    row(
                        "k_beyond_data",
                        sel,
                        theory=float(below.min()) if below.size else math.nan,
                        source="itscale.equivalents.delta_de",
                        note="smallest k on the grid with delta(k; n) <= sigma^2, the error no "
                        "amount of data reaches at k = 1 (M = inf); nan: none on the grid",
                    )
                )
                mult = th["multiplier"].sel(T=T, c=c).values
                finite = np.isfinite(mult)
                out.append(
                    row(
                        "max_finite_multiplier",
                        sel,
                        theory=float(mult[finite].max()) if finite.any() else math.nan,
                        source="itscale.expansions.equivalent_data_multiplier",
                        note="largest finite M(k, n) on the k grid",
                    )
                )
    return out
