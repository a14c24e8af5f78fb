"""Figure kind "best_of_k": best-of-k (T = 0) with the teacher as judge, error against k.

Paper claim: the error falls as pi s^2 / (k^2 sqrt(1 - rho)), slope -2 on a log-log plot.
Table rows: the 1/k^2 coefficient and the decay exponent per sweep point (Monte Carlo, DE
theory on the grid, asymptote), against the finite-size exact average too.
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
SIZE: tuple[float, float] = (2.0, 1.05)


def theory_request(points: Sequence[Mapping[str, Any]], i: int) -> dict[str, Any]:
    """The DE error and its large-k asymptote on a fine k grid at the shown (T, c)."""
    p = points[i]
    T0, c0 = summaries.select_tc(p["T"], p["c"])
    kf = summaries.fine_k(min(p["k"]), max(p["k"]))
    return {"fine": {"k": kf.tolist(), "T": [T0], "c": [c0], "asymptote": True}}


def plot(sampling, theory, *, experiment=None, style=None) -> Figure:
    """delta/sigma^2 against k at T = 0, c = 0 for each sweep point, three panels.

    (a) linear error against log k; (b) log-log with a k^-2 guide; (c) compensated
    k^2 delta / sigma^2, whose plateau is the 1/k^2 coefficient pi s^2 / (sigma^2 sqrt(1-rho)).
    Monte Carlo points, exact DE lines, the large-k asymptote (dotted) and the exact average
    for the simulated training sets (thin dash-dotted).
    """
    st, fig, axes = open_figure(SIZE, style, 1, 3)
    sweep = summaries.sweep_parameter(theory)
    entries = []
    y_max = 0.0
    comp_vals = []
    for i, th in enumerate(theory):
        de, comp = _draw_point(axes, th, summaries.sampled(sampling, i), i, st)
        y_max = max(y_max, float(de.max()))
        comp_vals += comp
        entries.append((draw.curve_handle(i, st), draw.curve_label(th, sweep)))
    _label_axes(axes, y_max, comp_vals)
    _slope_guide(axes[1], theory[0], st)
    for ax, lab in zip(axes, ("(a)", "(b)", "(c)"), strict=True):
        draw.panel_label(ax, lab)
    return draw.finish(
        fig,
        entries,
        ncols=4,
        st=st,
        ax=axes[0],
        mc=bool(sampling),
        fs=bool(sampling),
        theory="exact DE theory",
        asymptote=r"asymptote $\pi s^2 / (k^2\sqrt{1-\rho})$",
    )


def _draw_point(axes, th, smp, i: int, st) -> tuple[np.ndarray, list[np.ndarray]]:
    """One sweep point in the three panels: DE line, asymptote, Monte Carlo and finite size.

    Returns the DE error / sigma^2 on the fine grid and the compensated values shown in (c).
    """
    col, mk = colour(i), marker(i)
    sigma2 = float(th["sigma2"])
    k = th["k"].values
    k2 = k.astype(float) ** 2
    cur = summaries.fine_curves(th)
    kf = cur["k"].values
    kf2 = kf.astype(float) ** 2
    de = cur["delta_de"].isel(T=0, c=0).values / sigma2
    asym = cur["delta_asymptote"].isel(T=0, c=0).values / sigma2
    for ax, yf in zip(axes, (de, de, kf2 * de), strict=True):
        ax.plot(kf, yf, color=col, ls=st["theory_line_style"], zorder=2)
    if np.isfinite(asym).all():
        for ax, ya in zip(axes, (asym, asym, kf2 * asym), strict=True):
            ax.plot(kf, ya, color=col, ls=st["asymptote_line_style"], zorder=1.5, lw=1.0)
    comp = [kf2 * de]
    if smp is not None:
        T0, c0 = summaries.select_tc(th["T"].values, th["c"].values)
        mean, se, fsv = smp.at(sigma2, T=T0, c=c0)
        for ax, f, log_y in zip(axes, (1.0, 1.0, k2), (False, True, False), strict=True):
            draw.sampled(ax, k, f * mean, f * se, f * fsv, col, mk, st, log_y=log_y)
        comp.append(k2 * (mean + se))
    return de, comp


def _label_axes(axes, y_max: float, comp_vals: list[np.ndarray]) -> None:
    """Log k axes, labels, and the y ranges of (a) and (c) from the values shown."""
    ax_a, ax_b, ax_c = axes
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel(r"number of candidates $k$")
    ax_a.set_ylim(0.0, 1.08 * y_max)
    ax_a.set_ylabel(r"$\delta / \sigma^2$")
    ax_b.set_yscale("log")
    ax_b.set_ylabel(r"$\delta / \sigma^2$")
    ax_c.set_ylabel(r"$k^2\,\delta / \sigma^2$")
    ax_c.set_ylim(0.0, 1.12 * summaries.value_range(comp_vals)[1])


def _slope_guide(ax, th0, st) -> None:
    """A k^-2 guide in (b), below the curves over the upper part of the k range."""
    kk = th0["k"].values
    k_lo = max(float(kk.min()) * 2, math.sqrt(float(kk.min()) * float(kk.max())))
    kg = np.geomspace(k_lo, float(kk.max()), 20)
    T0, c0 = summaries.select_tc(th0["T"].values, th0["c"].values)
    y_end = 0.3 * float(th0["delta_de"].sel(T=T0, c=c0).values[-1]) / float(th0["sigma2"])
    ax.plot(kg, y_end * (kg / kg[-1]) ** -2.0, color="k", lw=0.8)
    k_mid = math.sqrt(kg[0] * kg[-1])
    ax.text(
        k_mid,
        0.5 * y_end * (k_mid / kg[-1]) ** -2,
        "slope $-2$",
        ha="right",
        va="top",
        fontsize=float(st["font_size"]) - 1,
    )


def rows(experiment, sampling, theory) -> list[dict[str, Any]]:
    """Rows of the numbers table for this kind (see :mod:`itscale.report.table`)."""
    row = _rows.row_maker(experiment)
    sweep = summaries.sweep_parameter(theory)
    out = []
    for i, th in enumerate(theory):
        out += _point_rows(row, th, summaries.sampled(sampling, i), table.selector(th, sweep))
    return out


def _point_rows(row: _rows.Row, th, smp, sel: str) -> list[dict[str, Any]]:
    """The 1/k^2 coefficient and decay exponent of one sweep point (and against the
    finite-size average), and its difficulty rho."""
    k = th["k"].values
    T0 = float(th["T"].values[0])
    c0 = float(th["c"].values[0])
    de = th["delta_de"].sel(T=T0, c=c0).values
    em = summaries.exponent_fit_range(k)
    mv = ms = fs = None
    if smp is not None:
        mv, ms, fs = smp.at(T=T0, c=c0)
    coef = _coefficient_rows(row, sel, th, de, mv, ms, fs)
    slope, slope_se = _rows.mc_exponent(k, em, mv, ms)
    note = f"-slope of a least-squares log-log fit over k in [{k[em].min()}, {k.max()}]; "
    expo = [
        _rows.exponent_row(
            row,
            sel,
            k,
            em,
            de,
            slope,
            slope_se,
            theory=float(th["decay_exponent"]),
            note=note + "theory = 2 min(1, 1/rho)",
        )
    ]
    if smp is not None:
        expo.append(_rows.exponent_vs_fs_row(row, sel, k, em, fs, slope, slope_se))
    rho_note = "difficulty 2 V / s^2 of the deterministic equivalent"
    rho_row = row(
        "rho", sel, theory=float(th["rho"]), source="itscale.equivalents.de_summary", note=rho_note
    )
    return [coef[0], expo[0], *coef[1:], *expo[1:], rho_row]


def _coefficient_rows(row: _rows.Row, sel: str, th, de, mv, ms, fs) -> list[dict[str, Any]]:
    """The 1/k^2 coefficient, weighted mean of k^2 delta / sigma^2 over the large k, of the
    Monte Carlo means ``mv`` +- ``ms`` against its asymptote and the same estimator on the DE
    error ``de``; with Monte Carlo also against the finite-size average ``fs``."""
    sigma2 = float(th["sigma2"])
    k = th["k"].values
    cm = summaries.coefficient_fit_range(k)
    value = se = math.nan
    if mv is not None:
        value, se = summaries.coefficient(k[cm], mv[cm] / sigma2, ms[cm] / sigma2)
    weights = None if ms is None else ms[cm] / sigma2
    rho, s2 = float(th["rho"]), float(th["s2"])
    out = [
        row(
            "coef_k2_delta_over_sigma2",
            sel,
            value=value,
            se=se,
            theory=math.pi * s2 / sigma2 / math.sqrt(1.0 - rho) if rho < 1 else math.inf,
            theory_grid=summaries.coefficient(k[cm], de[cm] / sigma2, weights_se=weights)[0],
            units="1",
            source="itscale.expansions.best_of_k_asymptote; theory_grid: equivalents.delta_de",
            note=f"weighted mean of k^2 delta / sigma^2 over k in [{k[cm].min()}, {k.max()}]; "
            "theory = pi s^2 / (sigma^2 sqrt(1 - rho))",
        )
    ]
    if mv is not None:
        out.append(
            row(
                "coef_k2_delta_over_sigma2_vs_finite_size",
                sel,
                value=value,
                se=se,
                theory_grid=summaries.coefficient(k[cm], fs[cm] / sigma2, weights_se=weights)[0],
                source="itscale.finite_size.delta_fitted",
                note="as coef_k2_delta_over_sigma2; theory_grid: the same estimator on the "
                "exact average for the same training sets (expected within noise)",
            )
        )
    return out
