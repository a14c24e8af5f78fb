"""Figure kind "task_difficulty": best-of-k error against k for several difficulties rho.

Paper claim: harder tasks gain less; the decay exponent tends to 2 min(1, 1/rho). Table rows:
the fitted decay exponent per sweep point and per simulated training set.

The DE theory at the difficulties the simulated training sets turned out to have (rho_fitted)
comes from the finite-size stage (delta_de_fitted, decay_exponent_fitted); the DE exponent
curve of panel (b) from the theory stage of the first sweep point (its ``difficulty`` curve).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from itscale.model import Model
from itscale.report import draw, summaries, table
from itscale.report.kinds import _rows
from itscale.report.style import colour, marker, open_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["SIZE", "theory_request", "plot", "rows"]

#: Figure size in units of the style's (width, height).
SIZE: tuple[float, float] = (2.0, 1.05)

#: The difficulty curve spans the points' teacher norms w_norm2 widened by this factor each
#: way (the fitted training sets' difficulties scatter around their point's), in this many
#: geometric steps; panel (b) shows the part within the difficulties it plots.
_SPAN, _STEPS = 4.0, 65


def theory_request(points: Sequence[Mapping[str, Any]], i: int) -> dict[str, Any]:
    """The DE error on a fine k grid at the shown (T, c); for the first point also the DE
    error over the exponent fit range of k with its teacher norm varied (panel (b))."""
    p = points[i]
    T0, c0 = summaries.select_tc(p["T"], p["c"])
    kf = summaries.fine_k(min(p["k"]), max(p["k"]))
    request: dict[str, Any] = {"fine": {"k": kf.tolist(), "T": [T0], "c": [c0]}}
    if i == 0:
        w = [float(Model.from_params(q).w_norm2) for q in points]
        k = np.asarray(p["k"])
        request["difficulty"] = {
            "w_norm2": {"start": min(w) / _SPAN, "stop": max(w) * _SPAN, "num": _STEPS},
            "k": k[summaries.exponent_fit_range(k)].tolist(),
            "T": T0,
            "c": c0,
        }
    return request


def plot(sampling, theory, *, experiment=None, style=None) -> Figure:
    """Best-of-k error against k for several difficulties rho, and the decay exponent.

    (a) log-log delta/sigma^2 against k, one curve per rho, the k range of the fits shaded.
    (b) exponent -d ln delta / d ln k fitted over that range: Monte Carlo (points, +-1 SE),
    the same fit to the exact average for the simulated training sets (crosses) and to the
    exact DE theory (line), and the asymptotic 2 min(1, 1/rho) (dashed). Points sit at the
    difficulty of their training set, or without it at the DE difficulty of their point.
    """
    st, fig, (ax_a, ax_b) = open_figure(SIZE, style, 1, 2)
    entries = []
    order = np.argsort([float(th["rho"]) for th in theory], kind="stable")
    k_all = theory[0]["k"].values
    fit_mask = summaries.exponent_fit_range(k_all)
    k_fit = k_all[fit_mask]
    rhos = []
    for j, i in enumerate(order):
        th = theory[int(i)]
        smp = sampling[int(i)] if sampling else None
        rhos.append(float(th["rho"]))
        rhos.extend(_draw_point((ax_a, ax_b), j, th, smp, fit_mask, st))
        entries.append((draw.curve_handle(j, st), rf"$\rho = {float(th['rho']):.2g}$"))
    ax_a.axvspan(float(k_fit.min()), float(k_fit.max()), color="0.93", zorder=0, lw=0)
    ax_a.set_xscale("log")
    ax_a.set_yscale("log")
    ax_a.set_xlabel(r"number of candidates $k$")
    ax_a.set_ylabel(r"$\delta / \sigma^2$")
    _draw_exponent_theory(ax_b, theory[0], (min(rhos) / 1.3, max(rhos) * 1.3), st)
    draw.panel_label(ax_a, "(a)")
    draw.panel_label(ax_b, "(b)")
    if any("rho_fitted" in smp for smp in sampling):
        ax_b.text(
            0.03,
            0.04,
            "(b): one point per training set,\nat its own difficulty",
            transform=ax_b.transAxes,
            ha="left",
            va="bottom",
            fontsize=float(st["font_size"]) - 1,
        )
    return draw.finish(
        fig,
        entries,
        ncols=5,
        st=st,
        ax=ax_a,
        mc=bool(sampling),
        fs=bool(sampling),
        theory="exact DE theory (b: fit)",
        extra=_legend_extra(bool(sampling), k_fit, st),
    )


def _draw_point(axes, j: int, th, smp, fit_mask: np.ndarray, st) -> list[float]:
    """Sweep point ``th`` as curve ``j``: its DE line, Monte Carlo and finite size in (a),
    and its fitted exponents in (b). Returns the difficulties of the points in (b)."""
    ax_a, ax_b = axes
    col, mk = colour(j), marker(j)
    sigma2 = float(th["sigma2"])
    T0, c0 = summaries.select_tc(th["T"].values, th["c"].values)
    k = th["k"].values
    cur = summaries.fine_curves(th)
    de = cur["delta_de"].isel(T=0, c=0)
    ax_a.plot(cur["k"].values, de.values / sigma2, color=col, ls=st["theory_line_style"], zorder=2)
    if smp is None:
        return []
    m, s, f = summaries.Sampled.of(smp).at(T=T0, c=c0)
    draw.sampled(ax_a, k, m / sigma2, s / sigma2, f / sigma2, col, mk, st, log_y=True)
    if "rho_fitted" in smp:  # one point per training set, at its own difficulty
        x = smp["rho_fitted"].values
        e_mc, e_se, e_fs = summaries.replicate_exponents(smp, fit_mask, T0, c0)
    else:  # the replicate mean, at the DE difficulty of the sweep point
        p, pse, _ = summaries.fit_power_law(k[fit_mask], m[fit_mask], s[fit_mask])
        x, e_mc, e_se = np.array([float(th["rho"])]), np.array([-p]), np.array([pse])
        e_fs = np.array([-summaries.fit_power_law(k[fit_mask], f[fit_mask])[0]])
    draw.mc_points(ax_b, x, e_mc, e_se, col, mk, st)
    ax_b.plot(x, e_fs, marker="x", color=col, ms=4.5, mew=0.9, ls="none", zorder=4)
    return np.ravel(x).tolist()


def _draw_exponent_theory(ax, th, window: tuple[float, float], st) -> None:
    """Panel (b)'s theory within the difficulty ``window``: the fit to the DE error over the
    k fit range (line) and the asymptotic exponent (dashed), from the theory stage's
    difficulty curve; axes and the rho = 1 line."""
    rho = th["rho_difficulty"].values
    keep = (rho >= window[0]) & (rho <= window[1])
    k = th["k_difficulty"].values
    de = th["delta_de_difficulty"].values[keep]
    fitted = [-summaries.fit_power_law(k, row)[0] for row in de]
    ax.plot(rho[keep], fitted, color="k", ls=st["theory_line_style"], zorder=2)
    asymptotic = th["decay_exponent_difficulty"].values[keep]
    ax.plot(rho[keep], asymptotic, color="k", ls=st["hte_line_style"], lw=0.9, zorder=1.5)
    ax.set_xscale("log")
    ax.set_xlabel(r"difficulty $\rho = 2V/s^2$")
    ax.set_ylabel(r"decay exponent $-d\ln\delta/d\ln k$")
    ax.set_ylim(0.0, 2.3)
    ax.axvline(1.0, color=draw.GREY, lw=0.5, zorder=0)


def _legend_extra(simulated: bool, k_fit: np.ndarray, st) -> list[tuple[Any, str]]:
    """Legend entries of the crosses (with Monte Carlo), asymptote and fit range."""
    extra = [
        (
            draw.line_handle(color="k", ls=st["hte_line_style"], lw=0.9),
            r"(b) asymptotic $2\min(1, 1/\rho)$",
        ),
        (
            draw.patch_handle(facecolor="0.93", lw=0),
            f"(a) fit range $k\\in[{k_fit.min()}, {k_fit.max()}]$",
        ),
    ]
    if simulated:
        cross = draw.line_handle(color="k", marker="x", ls="none", ms=4.5, mew=0.9)
        extra.insert(0, (cross, "(b) fit to exact, same training sets"))
    return extra


def rows(experiment, sampling, theory) -> list[dict[str, Any]]:
    """Rows of the numbers table for this kind (see :mod:`itscale.report.table`)."""
    row = _rows.row_maker(experiment)
    out = []
    for i, th in enumerate(theory):
        out += _point_rows(row, th, sampling[i] if sampling else None)
    return out


def _point_rows(row: _rows.Row, th, smp) -> list[dict[str, Any]]:
    """Decay exponent of one sweep point (replicate mean), against the finite-size average
    and per training set."""
    sel = f"rho={table.fmt(float(th['rho']))}"
    k = th["k"].values
    em = summaries.exponent_fit_range(k)
    k_range = f"k in [{k[em].min()}, {k.max()}]"
    T0 = float(th["T"].values[0])
    c0 = float(th["c"].values[0])
    mean = se = fs = None
    if smp is not None:
        mean, se, fs = summaries.Sampled.of(smp).at(T=T0, c=c0)
    value, value_se = _rows.mc_exponent(k, em, mean, se)
    out = [
        _rows.exponent_row(
            row,
            sel,
            k,
            em,
            th["delta_de"].sel(T=T0, c=c0).values,
            value,
            value_se,
            theory=float(th["decay_exponent"]),
            note=f"-slope of a log-log least-squares fit over {k_range} to the replicate mean; "
            "theory = 2 min(1, 1/rho) (reached only logarithmically for rho > 1)",
        )
    ]
    if smp is None:
        return out
    out.append(_rows.exponent_vs_fs_row(row, sel, k, em, fs, value, value_se))
    return out + _replicate_rows(row, sel, smp, em, (T0, c0))


def _replicate_rows(row: _rows.Row, sel: str, smp, em: np.ndarray, tc) -> list[dict[str, Any]]:
    """One row per training set: its Monte Carlo exponent against the DE theory at its own
    difficulty (the finite-size stage's delta_de_fitted and decay_exponent_fitted)."""
    if "delta_de_fitted" not in smp:
        return []
    T0, c0 = tc
    k = smp["k"].values
    k_range = f"k in [{k[em].min()}, {k.max()}]"
    mc_r, se_r, fs_r = summaries.replicate_exponents(smp, em, T0, c0)
    rho_r = smp["rho_fitted"].values
    de_r = smp["delta_de_fitted"].sel(T=T0, c=c0).transpose("replicate", "k").values
    return [
        row(
            "decay_exponent_replicate",
            f"{sel}; replicate {r}; rho_fitted={table.fmt(float(rho_r[r]))}",
            value=float(mc_r[r]),
            se=float(se_r[r]),
            theory=float(smp["decay_exponent_fitted"].values[r]),
            theory_grid=-summaries.fit_power_law(k[em], de_r[r][em])[0],
            source="itscale.expansions.decay_exponent; theory_grid: fit to "
            "equivalents.delta_de at the replicate's difficulty",
            note=f"one training set; fit over {k_range}; the DE theory taken at the "
            f"difficulty of the fitted training set (exact average for it: "
            f"{table.fmt(float(fs_r[r]))})",
        )
        for r in range(rho_r.size)
    ]
