"""The two-panel figure of an LLM-as-a-judge analysis (output of :func:`analyse`).

(a) error against k at T = 0 (or the smallest T of the grid) for each judge, with bootstrap
bands, the oracle (lowest loss among k) and a random pick; (b) error against T at k_ref for
each judge, with bands, the third-order high-temperature expansion dashed and T* starred:
T > 0 on a log axis, T = 0 (best score wins) on a narrow axis at its left. Drawn in the
project's plot style (:mod:`itscale.report.style`); the command line and the pipeline both
call :func:`plot_analysis`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from itscale.report import draw
from itscale.report.style import apply_style, colour, marker, new_figure, save_figure

__all__ = ["SIZE", "plot_analysis"]

#: Figure size in units of the plot style's (width, height).
SIZE: tuple[float, float] = (2.2, 1.5)

_BAND = 0.18  # opacity of the bootstrap bands


def _settings(res: xr.Dataset) -> dict[str, Any]:
    """The :class:`AnalysisConfig` of the result, as a dict (empty if not recorded)."""
    return json.loads(res.attrs.get("config", "{}"))


def _panel_k(ax, res: xr.Dataset, st: Mapping[str, Any]) -> None:
    """(a) error against k at the smallest T: judges, oracle, random pick."""
    T0 = float(res["T"].values.min())
    k = res["k"].values
    for i, judge in enumerate(res["judge"].values):
        sel = {"judge": judge, "T": T0}
        lower, upper = res["delta_lower"].sel(sel), res["delta_upper"].sel(sel)
        ax.fill_between(k, lower, upper, color=colour(i), alpha=_BAND, lw=0)
        ax.plot(k, res["delta"].sel(sel), color=colour(i), marker=marker(i), mfc="white")
    ax.fill_between(k, res["oracle_lower"], res["oracle_upper"], color="k", alpha=_BAND, lw=0)
    ax.plot(k, res["oracle"], color="k", ls=st["theory_line_style"])
    ax.axhline(float(res["baseline"]), color=draw.GREY, ls=":", lw=1.0)
    ax.set_xlabel("candidates per selection $k$")
    ax.set_ylabel("error (mean loss of the selected)")
    ax.set_xticks(k if len(k) <= 12 else k[:: -(-len(k) // 12)])
    when = "best score wins, $T = 0$" if T0 == 0 else f"$T = {T0:g}$"
    draw.panel_label(ax, f"(a) {when}")


def _judge_T(ax, ax0, res: xr.Dataset, i: int, judge, pos: np.ndarray, st) -> list[float]:
    """One judge's curve against T at k_ref; returns the values it drew (for the y range)."""
    sel = {"judge": judge, "k": int(res.attrs["k_ref"])}
    T = res["T"].values
    y, lo, hi = (res[v].sel(sel).values for v in ("delta", "delta_lower", "delta_upper"))
    ax.fill_between(T[pos], lo[pos], hi[pos], color=colour(i), alpha=_BAND, lw=0)
    ax.plot(T[pos], y[pos], color=colour(i), marker=marker(i), mfc="white", markevery=2)
    shown = [*lo[pos], *hi[pos]]
    zero = np.flatnonzero(T == 0)
    if zero.size:
        j, x = zero[0], (i + 0.5) / res.sizes["judge"] - 0.5  # side by side at T = 0
        err = [[y[j] - lo[j]], [hi[j] - y[j]]]
        ax0.errorbar([x], [y[j]], yerr=err, color=colour(i), marker=marker(i), mfc="white")
        shown += [lo[j], hi[j]]
    t_star = float(res["T_star"].sel(sel))
    if t_star == 0 and zero.size:
        draw.star(ax0, x, float(y[zero[0]]), colour(i))
    elif np.isfinite(t_star) and t_star > 0:
        draw.star(ax, t_star, float(res["delta"].sel(sel).sel(T=t_star)), colour(i))
    return shown


def _panel_T(ax0, ax, res: xr.Dataset, st: Mapping[str, Any]) -> None:
    """(b) error against T at k_ref: T = 0 on ``ax0``, T > 0 on the log axis ``ax``."""
    T = res["T"].values
    pos = (T > 0) & np.isfinite(T)
    shown = []
    for i, judge in enumerate(res["judge"].values):
        shown += _judge_T(ax, ax0, res, i, judge, pos, st)
    lo, hi = np.nanmin(shown), np.nanmax(shown)
    pad = 0.08 * (hi - lo) + 1e-3
    ax.set_ylim(lo - pad, hi + pad)
    k_ref = int(res.attrs["k_ref"])
    for i, judge in enumerate(res["judge"].values):  # the expansion where it is on scale
        hte = res["expansion"].sel(judge=judge, k=k_ref).values[pos]
        hte[(hte < lo - pad) | (hte > hi + pad)] = np.nan
        ax.plot(T[pos], hte, color=colour(i), ls=st["hte_line_style"], lw=0.9)
    ax.set_xscale("log")
    ax.set_xlim(T[pos].min() / 1.3, T[pos].max() * 1.3)
    normalised = _settings(res).get("normalise") == "pooled_sd"
    unit = " / pooled score SD" if normalised else " (score units)"
    ax.set_xlabel(f"temperature $T${unit}")
    ax0.set_xlim(-0.7, 0.7)
    ax0.set_xticks([0.0], ["0"])
    ax0.tick_params(axis="x", which="minor", bottom=False, top=False)
    ax0.set_ylabel("error (mean loss of the selected)")
    ax.tick_params(axis="y", which="both", labelleft=False)
    for a, side in ((ax0, "right"), (ax, "left")):
        a.spines[side].set_linestyle((0, (2, 2)))
    draw.panel_label(ax0, f"(b) $k = {int(res.attrs['k_ref'])}$")


def _legend(fig: Figure, res: xr.Dataset, st: Mapping[str, Any]) -> None:
    entries = [
        (Line2D([], [], color=colour(i), marker=marker(i), mfc="white"), str(judge))
        for i, judge in enumerate(res["judge"].values)
    ]
    level = _settings(res).get("level", 0.95)
    entries += [
        (Line2D([], [], color="k", ls=st["theory_line_style"]), "oracle (lowest loss among k)"),
        (Line2D([], [], color=draw.GREY, ls=":"), "random pick (k = 1)"),
        (Patch(color="0.5", alpha=0.4, lw=0), f"{level:.0%} percentile bootstrap band"),
        (Line2D([], [], color="k", ls=st["hte_line_style"], lw=0.9), "3rd-order high-T expansion"),
        (Line2D([], [], color="k", marker="*", ls="none", ms=7), "T* (grid optimum)"),
        (Line2D([], [], color="k", marker="o", mfc="white", ls="none"), "narrow axis: T = 0"),
    ]
    draw.legend(fig, entries, ncols=4)


def plot_analysis(
    res: xr.Dataset,
    path: str | os.PathLike | None = None,
    *,
    style: Mapping[str, Any] | None = None,
    title: str | None = None,
) -> Figure:
    """Draw the figure of an :func:`analyse` result; save it to ``path`` if given (the suffix
    is the format: pdf, png or svg; written atomically, byte-deterministically).

    ``style``: the pipeline's ``plot_style`` (defaults: :data:`itscale.report.style.
    STYLE_DEFAULTS`). Panel (b) needs at least one finite T > 0; otherwise it says so.
    """
    st = apply_style(style)
    fig = new_figure(SIZE, st)
    grid = fig.add_gridspec(1, 3, width_ratios=[8, 1.3, 8])
    _panel_k(fig.add_subplot(grid[0]), res, st)
    ax0 = fig.add_subplot(grid[1])
    ax = fig.add_subplot(grid[2], sharey=ax0)
    T = res["T"].values
    if ((T > 0) & np.isfinite(T)).any():
        _panel_T(ax0, ax, res, st)
    else:
        ax.text(0.5, 0.5, "no T > 0 in the grid", ha="center", transform=ax.transAxes)
        ax.set_axis_off()
        ax0.set_axis_off()
    draw.format_log_axes(fig)
    _legend(fig, res, st)
    if title and fig.legends:  # the legend's title: it sits above the legend, never on it
        fig.legends[-1].set_title(title, prop={"weight": "bold"})
    if path is not None:
        path = Path(path)
        if not path.suffix:
            raise ValueError(f"path must end in .pdf, .png or .svg, got {str(path)!r}")
        save_figure(fig, path.with_suffix(""), [path.suffix[1:]], dpi=int(st["dpi"]))
    return fig
