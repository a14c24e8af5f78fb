"""The two-panel figure of an LLM-as-a-judge analysis (output of :func:`analyse`).

(a) error against k at T = 0 (or the smallest T of the grid) for each judge, with bootstrap
bands, the oracle (lowest loss among k) and a random pick; (b) error against T > 0 at k_ref for
each judge, with bands, the third-order high-temperature expansion dashed and T* marked.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

__all__ = ["plot_analysis"]


def _panel_k(ax, res: xr.Dataset, colours) -> None:
    T0 = float(res["T"].values.min())
    k = res["k"].values
    for judge, colour in zip(res["judge"].values, colours, strict=True):
        sel = {"judge": judge, "T": T0}
        ax.fill_between(
            k, res["delta_lower"].sel(sel), res["delta_upper"].sel(sel), color=colour, alpha=0.2
        )
        ax.plot(k, res["delta"].sel(sel), "o-", color=colour, ms=3, label=str(judge))
    ax.fill_between(k, res["oracle_lower"], res["oracle_upper"], color="k", alpha=0.15)
    ax.plot(k, res["oracle"], "k-", lw=1.2, label="oracle (best of k)")
    ax.axhline(float(res["baseline"]), color="0.4", ls=":", lw=1.2, label="random pick")
    label = "best score wins" if T0 == 0 else f"T = {T0:g}"
    ax.set(xlabel="candidates per selection k", ylabel="error (mean loss of the selected)")
    ax.set_title(f"(a) error against k, {label}", fontsize=10)
    ax.legend(fontsize=7, loc="best")


def _panel_T(ax, res: xr.Dataset, colours) -> None:
    k_ref = int(res.attrs["k_ref"])
    T = res["T"].values
    pos = (T > 0) & np.isfinite(T)
    Tp = T[pos]
    lo, hi = np.inf, -np.inf
    for judge, colour in zip(res["judge"].values, colours, strict=True):
        sel = {"judge": judge, "k": k_ref}
        y = res["delta"].sel(sel).values[pos]
        ax.fill_between(
            Tp,
            res["delta_lower"].sel(sel).values[pos],
            res["delta_upper"].sel(sel).values[pos],
            color=colour,
            alpha=0.2,
        )
        t_star = float(res["T_star"].sel(sel))
        ax.plot(Tp, y, "-", color=colour, label=f"{judge} (T* = {t_star:.3g})")
        ax.plot(Tp, res["expansion"].sel(sel).values[pos], "--", color=colour, lw=1)
        if t_star > 0 and np.isfinite(t_star):
            y_star = float(res["delta"].sel(judge=judge, k=k_ref, T=t_star))
            ax.plot([t_star], [y_star], "*", color=colour, ms=10, mec="k", mew=0.5)
        lo, hi = min(lo, y.min()), max(hi, y.max())
    pad = 0.1 * (hi - lo + 1e-12)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xscale("log")
    ax.plot([], [], "k--", lw=1, label="3rd-order expansion")
    ax.plot([], [], "k*", ms=8, label="T* (grid optimum)")
    ax.set(xlabel="temperature T (normalised score units)", ylabel="error")
    ax.set_title(f"(b) error against T, k = {k_ref}", fontsize=10)
    ax.legend(fontsize=7, loc="best")


def plot_analysis(res: xr.Dataset, path: str | os.PathLike | None = None):
    """Draw the figure; save it to ``path`` (format from the suffix) if given. Returns the figure.

    Panel (b) needs at least one finite T > 0 in the grid; otherwise it says so.
    """
    colours = [plt.get_cmap("tab10")(i % 10) for i in range(res.sizes["judge"])]
    fig, (ax_k, ax_T) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    _panel_k(ax_k, res, colours)
    T = res["T"].values
    if ((T > 0) & np.isfinite(T)).any():
        _panel_T(ax_T, res, colours)
    else:
        ax_T.text(0.5, 0.5, "no T > 0 in the grid", ha="center", transform=ax_T.transAxes)
        ax_T.set_axis_off()
    if path is not None:
        fig.savefig(Path(path), dpi=150)
        plt.close(fig)
    return fig
