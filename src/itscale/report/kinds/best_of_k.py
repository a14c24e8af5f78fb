"""Figure kind "best_of_k": best-of-k (T = 0) with the teacher as judge, error against k.

Paper claim: the error falls as pi s^2 / (k^2 sqrt(1 - rho)), slope -2 on a log-log plot.
Table rows: the 1/k^2 coefficient and the decay exponent per sweep point (Monte Carlo, DE
theory on the grid, asymptote), against the finite-size exact average too.
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
    st = apply_style(style)
    fig = new_figure(SIZE, st)
    axes = fig.subplots(1, 3)
    sweep = summaries.sweep_parameter(theory)
    entries = []
    y_max = 0.0
    comp_vals = []
    for i, th in enumerate(theory):
        col, mk = colour(i), marker(i)
        sigma2 = float(th["sigma2"])
        T0, c0 = summaries.select_tc(th["T"].values, th["c"].values)
        k = th["k"].values
        k2 = k.astype(float) ** 2
        cur = summaries.fine_curves(th)
        kf = cur["k"].values
        kf2 = kf.astype(float) ** 2
        de = cur["delta_de"].isel(T=0, c=0).values / sigma2
        asym = cur["delta_asymptote"].isel(T=0, c=0).values / sigma2
        y_max = max(y_max, float(de.max()))
        for ax, yf in zip(axes, (de, de, kf2 * de), strict=True):
            ax.plot(kf, yf, color=col, ls=st["theory_line_style"], zorder=2)
        if np.isfinite(asym).all():
            for ax, ya in zip(axes, (asym, asym, kf2 * asym), strict=True):
                ax.plot(kf, ya, color=col, ls=st["asymptote_line_style"], zorder=1.5, lw=1.0)
        comp_vals.append(kf2 * de)
        mc, fs = summaries.mc(sampling, i), summaries.fs(sampling, i)
        if mc is not None:
            mean = mc[0].sel(T=T0, c=c0).values / sigma2
            se = mc[1].sel(T=T0, c=c0).values / sigma2
            fsv = fs.sel(T=T0, c=c0).values / sigma2
            for ax, f in zip(axes, (1.0, 1.0, k2), strict=True):
                draw.fs_line(ax, k, f * fsv, col)
            draw.mc_points(axes[0], k, mean, se, col, mk, st)
            draw.mc_points(axes[1], k, mean, se, col, mk, st, log_y=True)
            draw.mc_points(axes[2], k, k2 * mean, k2 * se, col, mk, st)
            comp_vals.append(k2 * (mean + se))
        entries.append((draw.curve_handle(i, st), draw.curve_label(th, sweep)))

    ax_a, ax_b, ax_c = axes
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel(r"number of candidates $k$")
    ax_a.set_ylim(0.0, 1.08 * y_max)
    ax_a.set_ylabel(r"$\delta / \sigma^2$")
    ax_b.set_yscale("log")
    ax_b.set_ylabel(r"$\delta / \sigma^2$")
    ax_c.set_ylabel(r"$k^2\,\delta / \sigma^2$")
    comp = np.concatenate([np.ravel(v) for v in comp_vals])
    ax_c.set_ylim(0.0, 1.12 * float(np.nanmax(comp)))
    # k^-2 guide in (b), below the curves over the upper part of the k range
    th0 = theory[0]
    kk = th0["k"].values
    k_lo = max(float(kk.min()) * 2, math.sqrt(float(kk.min()) * float(kk.max())))
    kg = np.geomspace(k_lo, float(kk.max()), 20)
    T0, c0 = summaries.select_tc(th0["T"].values, th0["c"].values)
    y_end = 0.3 * float(th0["delta_de"].sel(T=T0, c=c0).values[-1]) / float(th0["sigma2"])
    ax_b.plot(kg, y_end * (kg / kg[-1]) ** -2.0, color="k", lw=0.8)
    k_mid = math.sqrt(kg[0] * kg[-1])
    ax_b.text(
        k_mid,
        0.5 * y_end * (k_mid / kg[-1]) ** -2,
        "slope $-2$",
        ha="right",
        va="top",
        fontsize=float(st["font_size"]) - 1,
    )
    for ax, lab in zip(axes, ("(a)", "(b)", "(c)"), strict=True):
        draw.panel_label(ax, lab)
    entries += draw.key_handles(
        st,
        ax_a,
        mc=bool(sampling),
        fs=bool(sampling),
        theory="exact DE theory",
        asymptote=r"asymptote $\pi s^2 / (k^2\sqrt{1-\rho})$",
    )
    draw.format_log_axes(fig)
    draw.legend(fig, entries, ncols=4)
    return fig


def rows(experiment, sampling, theory) -> list[dict[str, Any]]:
    """Rows of the numbers table for this kind (see :mod:`itscale.report.table`)."""
    name, kind = experiment["experiment"], experiment["kind"]
    rows = []
    sweep = summaries.sweep_parameter(theory)
    for i, th in enumerate(theory):
        sel = table.selector(th, sweep)
        sigma2 = float(th["sigma2"])
        k = th["k"].values
        T0 = float(th["T"].values[0])
        c0 = float(th["c"].values[0])
        de = th["delta_de"].sel(T=T0, c=c0).values
        rho, s2 = float(th["rho"]), float(th["s2"])
        theo_coef = math.pi * s2 / sigma2 / math.sqrt(1.0 - rho) if rho < 1 else math.inf
        cm = summaries.coefficient_fit_range(k)
        em = summaries.exponent_fit_range(k)
        de_slope = summaries.fit_power_law(k[em], de[em])[0]
        value = se = slope = slope_se = math.nan
        ms = None
        if sampling:
            mean, mse = summaries.mc_summary(sampling[i], "mc")
            mv = mean.sel(T=T0, c=c0).values
            ms = mse.sel(T=T0, c=c0).values
            value, se = summaries.coefficient(k[cm], mv[cm] / sigma2, ms[cm] / sigma2)
            slope, slope_se, _ = summaries.fit_power_law(k[em], mv[em], ms[em])
        de_coef, _ = summaries.coefficient(
            k[cm], de[cm] / sigma2, weights_se=None if ms is None else ms[cm] / sigma2
        )
        rows.append(
            table.row(
                name,
                kind,
                "coef_k2_delta_over_sigma2",
                sel,
                value=value,
                se=se,
                theory=theo_coef,
                theory_grid=de_coef,
                units="1",
                source="itscale.expansions.best_of_k_asymptote; theory_grid: equivalents.delta_de",
                note=f"weighted mean of k^2 delta / sigma^2 over k in [{k[cm].min()}, {k.max()}]; "
                "theory = pi s^2 / (sigma^2 sqrt(1 - rho))",
            )
        )
        rows.append(
            table.row(
                name,
                kind,
                "decay_exponent",
                sel,
                value=-slope,
                se=slope_se,
                theory=float(th["decay_exponent"]),
                theory_grid=-de_slope,
                source=table.SRC_EXPONENT,
                note=f"-slope of a least-squares log-log fit over k in [{k[em].min()}, {k.max()}]; "
                "theory = 2 min(1, 1/rho)",
            )
        )
        if sampling:
            fs = sampling[i]["delta_fs"].mean("replicate").sel(T=T0, c=c0).values
            rows.append(
                table.row(
                    name,
                    kind,
                    "coef_k2_delta_over_sigma2_vs_finite_size",
                    sel,
                    value=value,
                    se=se,
                    theory_grid=summaries.coefficient(
                        k[cm], fs[cm] / sigma2, weights_se=ms[cm] / sigma2
                    )[0],
                    source="itscale.finite_size.delta_fitted",
                    note="as coef_k2_delta_over_sigma2; theory_grid: the same estimator on the "
                    "exact average for the same training sets (expected within noise)",
                )
            )
            rows.append(
                table.row(
                    name,
                    kind,
                    "decay_exponent_vs_finite_size",
                    sel,
                    value=-slope,
                    se=slope_se,
                    theory_grid=-summaries.fit_power_law(k[em], fs[em])[0],
                    source="itscale.finite_size.delta_fitted",
                    note=table.NOTE_FS_EXPONENT,
                )
            )
        rows.append(
            table.row(
                name,
                kind,
                "rho",
                sel,
                theory=rho,
                source="itscale.equivalents.de_summary",
                note="difficulty 2 V / s^2 of the deterministic equivalent",
            )
        )
    return rows
