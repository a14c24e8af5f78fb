"""Figure kind "compute_vs_data": the equivalent-data multiplier M(k, n), theory only.

Paper claim: where inference-time sampling is worth more data; M = inf where selection
reaches an error no amount of data reaches at k = 1. Table rows per n: the smallest k beyond
any data and the largest finite M on the k grid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from itscale.report import draw, summaries, table
from itscale.report.style import apply_style, new_figure

__all__ = ["SIZE", "theory_request", "plot", "rows"]

#: Figure size in units of the style's (width, height).
SIZE: tuple[float, float] = (1.0, 1.25)


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
    st = apply_style(style)
    fig = new_figure(SIZE, st)
    ax = fig.subplots()
    th = theory[0]
    sigma2 = float(th["sigma2"])
    T0, c0 = summaries.select_tc(th["T"].values, th["c"].values)
    nf, kf = th["n_map"].values, th["k_map"].values
    M = th["multiplier_map"].values.T  # (k, n)
    err = th["delta_de_map"].values.T / sigma2
    finite = np.isfinite(M) & (M > 0)
    inf_cells = np.isinf(M)
    n_edges, k_edges = _log_edges(nf), _log_edges(kf.astype(float))
    n_edges = np.clip(n_edges, nf[0], nf[-1]) if nf.size > 1 else n_edges
    k_edges = np.clip(k_edges, kf[0], kf[-1]) if kf.size > 1 else k_edges
    base = mpl.colormaps[st["colormap"]]
    cmap = mpl.colors.ListedColormap(base(np.linspace(0.2, 1.0, 256)))  # light: lines show
    m_hi = max(float(M[finite].max()) if finite.any() else 1.0, 1.01)
    norm = mpl.colors.LogNorm(vmin=1.0, vmax=m_hi)
    mesh = ax.pcolormesh(
        n_edges,
        k_edges,
        np.ma.masked_where(~finite, M),
        cmap=cmap,
        norm=norm,
        shading="flat",
        rasterized=True,
        zorder=0,
    )
    grey, hatch_grey = "0.87", "0.55"
    if inf_cells.any():
        ax.pcolormesh(
            n_edges,
            k_edges,
            np.ma.masked_where(~inf_cells, np.zeros_like(M)),
            cmap=mpl.colors.ListedColormap([grey]),
            vmin=-1.0,
            vmax=1.0,
            shading="flat",
            rasterized=True,
            zorder=0,
        )
        first = _upper_region(inf_cells)
        if first is not None:
            cols = np.flatnonzero(first < kf.size)
            xs, ys = [n_edges[cols[0]]], [k_edges[-1]]
            for j in cols:
                y = k_edges[first[j]]
                xs += [n_edges[j], n_edges[j + 1]]
                ys += [y, y]
            poly = list(zip(xs, ys, strict=True)) + [(n_edges[cols[-1] + 1], k_edges[-1])]
            ax.add_patch(
                mpl.patches.Polygon(
                    poly,
                    closed=True,
                    facecolor="none",
                    edgecolor=hatch_grey,
                    hatch="////",
                    lw=0,
                    zorder=0.5,
                )
            )
            ax.plot(xs, ys, color="k", lw=1.5, zorder=3, solid_joinstyle="miter")
    iso = [
        lv
        for lv in (1e-4, 1e-3, 0.01, 0.1, 3, 10, 30, 100, 300, 1000)
        if np.nanmin(err) < lv < np.nanmax(err)
    ]
    if iso:
        cs = ax.contour(
            nf, kf, err, levels=iso, colors="k", linewidths=0.6, linestyles="--", zorder=2
        )
        labels = ax.clabel(
            cs, fmt=lambda v: f"{v:g}", fontsize=float(st["font_size"]) - 2, inline_spacing=1
        )
        for text in labels:
            text.set_bbox({"facecolor": "white", "edgecolor": "none", "pad": 0.3, "alpha": 0.8})
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(n_edges[0], n_edges[-1])
    ax.set_ylim(k_edges[0], k_edges[-1])
    ax.set_xlabel(r"training-set size $n$")
    ax.set_ylabel(r"number of candidates $k$")
    cb = fig.colorbar(mesh, ax=ax, pad=0.02, aspect=25)
    cb.set_label(r"equivalent-data multiplier $M$")
    cb.ax.tick_params(direction="out", which="both")
    cb.ax.yaxis.set_major_locator(mpl.ticker.LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
    cb.ax.yaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _p: f"{v:g}"))
    cb.ax.yaxis.set_minor_formatter(mpl.ticker.NullFormatter())
    entries = [
        (
            Patch(facecolor=grey, edgecolor=hatch_grey, hatch="////", lw=0),
            r"$M=\infty$: $\delta(k;n) < \sigma^2$, unreachable by any data at $k=1$",
        ),
        (
            Line2D([], [], color="k", ls="--", lw=0.6),
            r"iso-error lines, labelled $\delta/\sigma^2$",
        ),
    ]
    if T0 != 0 or c0 != 0:
        scale, _ = summaries.t_scale(experiment, sigma2)
        ax.set_title(f"{draw.t_math(T0, scale)}, $c = {c0:g}$", loc="right", pad=3)
    draw.format_log_axes(fig)
    draw.legend(fig, entries, ncols=1)
    return fig


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
    name, kind = experiment["experiment"], experiment["kind"]
    rows = []
    for th in theory:
        p = summaries.point_params(th)
        sigma2 = float(th["sigma2"])
        for T in th["T"].values:
            for c in th["c"].values:
                de = th["delta_de"].sel(T=T, c=c)
                below = de["k"].values[de.values <= sigma2]
                rows.append(
                    table.row(
                        name,
                        kind,
                        "k_beyond_data",
                        f"n={p['n']}",
                        theory=float(below.min()) if below.size else math.nan,
                        source="itscale.equivalents.delta_de",
                        note="smallest k on the grid with delta(k; n) <= sigma^2, the error no "
                        "amount of data reaches at k = 1 (M = inf); nan: none on the grid",
                    )
                )
                mult = th["multiplier"].sel(T=T, c=c)
                finite = np.isfinite(mult.values)
                rows.append(
                    table.row(
                        name,
                        kind,
                        "max_finite_multiplier",
                        f"n={p['n']}",
                        theory=float(mult.values[finite].max()) if finite.any() else math.nan,
                        source="itscale.expansions.equivalent_data_multiplier",
                        note="largest finite M(k, n) on the k grid",
                    )
                )
    return rows
