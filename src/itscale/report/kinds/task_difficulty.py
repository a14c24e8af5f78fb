"""Figure kind "task_difficulty": best-of-k error against k for several difficulties rho.

Paper claim: harder tasks gain less; the decay exponent tends to 2 min(1, 1/rho). Table rows:
the fitted decay exponent per sweep point and per simulated training set.

The one theory evaluation left in the report lives here (:func:`exponent_at`): the DE decay
exponent at the difficulties the simulated training sets turned out to have (rho_fitted),
which exist only after sampling, so the theory stage cannot compute it in advance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from itscale.model import Model
from itscale.report import draw, summaries, table
from itscale.report.style import apply_style, colour, marker, new_figure
from itscale.theory import equivalents, expansions

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["SIZE", "theory_request", "exponent_at", "plot", "rows"]

#: Figure size in units of the style's (width, height).
SIZE: tuple[float, float] = (2.0, 1.05)


def theory_request(points: Sequence[Mapping[str, Any]], i: int) -> dict[str, Any]:
    """The DE error on a fine k grid at the shown (T, c)."""
    p = points[i]
    T0, c0 = summaries.select_tc(p["T"], p["c"])
    kf = summaries.fine_k(min(p["k"]), max(p["k"]))
    return {"fine": {"k": kf.tolist(), "T": [T0], "c": [c0]}}


def exponent_at(
    theory: xr.Dataset, rho: Sequence[float], k: Sequence[int], *, T: float = 0.0, c: float = 0.0
) -> np.ndarray:
    """Decay exponent -d ln delta_de / d ln k fitted over ``k`` (as
    :func:`~itscale.report.summaries.fit_power_law`) at difficulties ``rho``, varied through
    the teacher norm at the point's n, d, sigma, gamma (rho is proportional to w_norm2)."""
    model = Model.from_params(summaries.point_params(theory))
    k = np.asarray(list(k), dtype=np.int64)
    rho1 = float(equivalents.difficulty(model.replace(w_norm2=1.0)))
    out = []
    for r in np.asarray(list(rho), dtype=np.float64):
        de = equivalents.delta_de(k, T, model.replace(w_norm2=float(r) / rho1), c=c)
        out.append(-summaries.fit_power_law(k, np.asarray(de))[0])
    return np.asarray(out)


def plot(sampling, theory, *, experiment=None, style=None) -> Figure:
    """Best-of-k error against k for several difficulties rho, and the decay exponent.

    (a) log-log delta/sigma^2 against k, one curve per rho, the k range of the fits shaded.
    (b) exponent -d ln delta / d ln k fitted over that range: Monte Carlo (points, +-1 SE),
    the same fit to the exact average for the simulated training sets (crosses) and to the
    exact DE theory (line), and the asymptotic 2 min(1, 1/rho) (dashed). Points sit at the
    DE difficulty of their sweep point.
    """
    st = apply_style(style)
    fig = new_figure(SIZE, st)
    ax_a, ax_b = fig.subplots(1, 2)
    entries = []
    order = np.argsort([float(th["rho"]) for th in theory], kind="stable")
    k_all = theory[0]["k"].values
    fit_mask = summaries.exponent_fit_range(k_all)
    k_fit = k_all[fit_mask]
    rhos = []
    per_replicate = False
    for j, i in enumerate(order):
        th = theory[int(i)]
        col, mk = colour(j), marker(j)
        sigma2 = float(th["sigma2"])
        T0, c0 = summaries.select_tc(th["T"].values, th["c"].values)
        k = th["k"].values
        cur = summaries.fine_curves(th)
        kf = cur["k"].values
        de = cur["delta_de"].isel(T=0, c=0)
        ax_a.plot(kf, de.values / sigma2, color=col, ls=st["theory_line_style"], zorder=2)
        rho = float(th["rho"])
        rhos.append(rho)
        mc, fs = summaries.mc(sampling, int(i)), summaries.fs(sampling, int(i))
        if mc is not None:
            m = mc[0].sel(T=T0, c=c0).values
            s = mc[1].sel(T=T0, c=c0).values
            f = fs.sel(T=T0, c=c0).values
            draw.fs_line(ax_a, k, f / sigma2, col)
            draw.mc_points(ax_a, k, m / sigma2, s / sigma2, col, mk, st, log_y=True)
            smp = sampling[int(i)]
            if "rho_fitted" in smp:  # one point per training set, at its own difficulty
                x = smp["rho_fitted"].values
                e_mc, e_se, e_fs = summaries.replicate_exponents(smp, fit_mask, T0, c0)
                per_replicate = True
            else:  # the replicate mean, at the DE difficulty of the sweep point
                p, pse, _ = summaries.fit_power_law(k[fit_mask], m[fit_mask], s[fit_mask])
                x, e_mc, e_se = np.array([rho]), np.array([-p]), np.array([pse])
                e_fs = np.array([-summaries.fit_power_law(k[fit_mask], f[fit_mask])[0]])
            rhos.extend(np.ravel(x).tolist())
            draw.mc_points(ax_b, x, e_mc, e_se, col, mk, st)
            ax_b.plot(x, e_fs, marker="x", color=col, ms=4.5, mew=0.9, ls="none", zorder=4)
        entries.append((draw.curve_handle(j, st), rf"$\rho = {rho:.2g}$"))
    ax_a.axvspan(float(k_fit.min()), float(k_fit.max()), color="0.93", zorder=0, lw=0)
    ax_a.set_xscale("log")
    ax_a.set_yscale("log")
    ax_a.set_xlabel(r"number of candidates $k$")
    ax_a.set_ylabel(r"$\delta / \sigma^2$")

    rf = np.geomspace(min(rhos) / 1.3, max(rhos) * 1.3, 33)
    th0 = theory[int(order[0])]
    T0, c0 = summaries.select_tc(th0["T"].values, th0["c"].values)
    local = exponent_at(th0, rf, k_fit, T=T0, c=c0)
    ax_b.plot(rf, local, color="k", ls=st["theory_line_style"], zorder=2)
    ax_b.plot(
        rf, expansions.decay_exponent(rf), color="k", ls=st["hte_line_style"], lw=0.9, zorder=1.5
    )
    ax_b.set_xscale("log")
    ax_b.set_xlabel(r"difficulty $\rho = 2V/s^2$")
    ax_b.set_ylabel(r"decay exponent $-d\ln\delta/d\ln k$")
    ax_b.set_ylim(0.0, 2.3)
    ax_b.axvline(1.0, color=draw.GREY, lw=0.5, zorder=0)
    draw.panel_label(ax_a, "(a)")
    draw.panel_label(ax_b, "(b)")
    if per_replicate:
        ax_b.text(
            0.03,
            0.04,
            "(b): one point per training set,\nat its own difficulty",
            transform=ax_b.transAxes,
            ha="left",
            va="bottom",
            fontsize=float(st["font_size"]) - 1,
        )
    extra = [
        (
            Line2D([], [], color="k", ls=st["hte_line_style"], lw=0.9),
            r"(b) asymptotic $2\min(1, 1/\rho)$",
        ),
        (Patch(facecolor="0.93", lw=0), f"(a) fit range $k\\in[{k_fit.min()}, {k_fit.max()}]$"),
    ]
    if sampling:
        extra.insert(
            0,
            (
                Line2D([], [], color="k", marker="x", ls="none", ms=4.5, mew=0.9),
                "(b) fit to exact, same training sets",
            ),
        )
    entries += draw.key_handles(
        st,
        ax_a,
        mc=bool(sampling),
        fs=bool(sampling),
        theory="exact DE theory (b: fit)",
        extra=extra,
    )
    draw.format_log_axes(fig)
    draw.legend(fig, entries, ncols=5)
    return fig


def rows(experiment, sampling, theory) -> list[dict[str, Any]]:
    """Rows of the numbers table for this kind (see :mod:`itscale.report.table`)."""
    name, kind = experiment["experiment"], experiment["kind"]
    rows = []
    for i, th in enumerate(theory):
        sel = f"rho={table.fmt(float(th['rho']))}"
        k = th["k"].values
        em = summaries.exponent_fit_range(k)
        k_range = f"k in [{k[em].min()}, {k.max()}]"
        T0 = float(th["T"].values[0])
        c0 = float(th["c"].values[0])
        de = th["delta_de"].sel(T=T0, c=c0).values
        value = se = math.nan
        if sampling:
            mean, mse = summaries.mc_summary(sampling[i], "mc")
            p, pse, _ = summaries.fit_power_law(
                k[em], mean.sel(T=T0, c=c0).values[em], mse.sel(T=T0, c=c0).values[em]
            )
            value, se = -p, pse
        rows.append(
            table.row(
                name,
                kind,
                "decay_exponent",
                sel,
                value=value,
                se=se,
                theory=float(th["decay_exponent"]),
                theory_grid=-summaries.fit_power_law(k[em], de[em])[0],
                source=table.SRC_EXPONENT,
                note=f"-slope of a log-log least-squares fit over {k_range} to the replicate mean; "
                "theory = 2 min(1, 1/rho) (reached only logarithmically for rho > 1)",
            )
        )
        if not sampling:
            continue
        smp = sampling[i]
        fs = smp["delta_fs"].mean("replicate").sel(T=T0, c=c0).values
        rows.append(
            table.row(
                name,
                kind,
                "decay_exponent_vs_finite_size",
                sel,
                value=value,
                se=se,
                theory_grid=-summaries.fit_power_law(k[em], fs[em])[0],
                source="itscale.finite_size.delta_fitted",
                note=table.NOTE_FS_EXPONENT,
            )
        )
        if "rho_fitted" not in smp:
            continue
        mc_r, se_r, fs_r = summaries.replicate_exponents(smp, em, T0, c0)
        rho_r = smp["rho_fitted"].values
        de_r = exponent_at(th, rho_r, k[em], T=T0, c=c0)
        for r in range(rho_r.size):
            rows.append(
                table.row(
                    name,
                    kind,
                    "decay_exponent_replicate",
                    f"{sel}; replicate {r}; rho_fitted={table.fmt(float(rho_r[r]))}",
                    value=float(mc_r[r]),
                    se=float(se_r[r]),
                    theory=float(expansions.decay_exponent(float(rho_r[r]))),
                    theory_grid=float(de_r[r]),
                    source="itscale.expansions.decay_exponent; theory_grid: fit to "
                    "equivalents.delta_de at the replicate's difficulty",
                    note=f"one training set; fit over {k_range}; the DE theory taken at the "
                    f"difficulty of the fitted training set (exact average for it: "
                    f"{table.fmt(float(fs_r[r]))})",
                )
            )
    return rows
