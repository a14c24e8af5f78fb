"""Paper figures: one shared style and one function per figure kind.

Contract (called by ``workflow/scripts/figure.py``)::

    plot_<kind>(sampling, theory, *, experiment=None, style=None) -> matplotlib.figure.Figure

    sampling    list of xarray.Dataset, one per simulated sweep point, in sweep order (empty
                for theory-only experiments): delta_mc, delta_mc_se, delta_rb, delta_rb_se,
                delta_fs over (replicate, T, c, k); scalar sigma2; attrs["params"] (JSON).
                Optional: rho_fitted over (replicate), the difficulty 2 V / s^2 of each
                fitted training set (task_difficulty then plots one exponent per training
                set at its own difficulty).
    theory      list of xarray.Dataset, one per sweep point, same order: delta_de, delta_hte,
                delta_asymptote, multiplier over (T, c, k); delta_tilted over (T, c); scalars
                q, R, s2, V, rho, delta1, sigma2, w_norm2; attrs["params"].
    experiment  dict with at least ``T_unit`` ("absolute" or "two_sigma2": how temperatures
                are shown; the datasets hold absolute T). Optional.
    style       the config's plot_style (format, dpi, width, height, font_size, line_width,
                marker_size, colormap, error_bars, theory/hte/asymptote_line_style); missing
                keys take :data:`STYLE_DEFAULTS`. Optional.

The functions draw and return the figure; they never save or show it. :func:`save_figure`
writes it byte-deterministically (no dates, no software tag) and :func:`render` does both for
a path prefix. Kinds: best_of_k, softmax_judge, optimal_temperature, best_judge,
compute_vs_data, task_difficulty (:data:`KINDS`).

Conventions: errors are shown as delta / sigma^2; Monte Carlo points (the sampled estimator,
averaged over replicates) carry +-1 Monte Carlo standard error; theory is drawn as lines,
evaluated on a finer grid than the Monte Carlo one by :func:`itscale.report.table.theory_curves`.
A thin dash-dotted line in the colour of each curve is the finite-size exact average for the
simulated training sets (delta_fs), which the points must match within noise: the deviation
of the points from the DE theory beyond their error bars is the spread between training
sets, not Monte Carlo error. Stars mark optima: k* from expansions.optimal_k, T* and c* as
the minimum of the plotted DE curve (the exact optimiser values are in the numbers table).
All maths (theory curves, optima, fits) is delegated to :mod:`itscale.report.table`, which
calls :mod:`itscale.theory.equivalents` and :mod:`itscale.theory.expansions`; this module only
selects data and draws. Colours are the Okabe-Ito palette (colour-blind safe) and every curve
also has its own marker; legends sit outside the axes so they never cover data.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from itscale.report import table as numbers
from itscale.theory import expansions

__all__ = [
    "KINDS",
    "OKABE_ITO",
    "MARKERS",
    "STYLE_DEFAULTS",
    "SAVE_METADATA",
    "resolve_style",
    "apply_style",
    "figure_size",
    "save_figure",
    "render",
    "plot_best_of_k",
    "plot_softmax_judge",
    "plot_optimal_temperature",
    "plot_best_judge",
    "plot_compute_vs_data",
    "plot_task_difficulty",
]

KINDS: tuple[str, ...] = (
    "best_of_k",
    "softmax_judge",
    "optimal_temperature",
    "best_judge",
    "compute_vs_data",
    "task_difficulty",
)

#: Okabe & Ito (2008) colour-blind-safe palette, yellow left out (invisible on white).
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
)
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X")

STYLE_DEFAULTS: dict[str, Any] = {
    "format": "pdf",
    "dpi": 200,
    "width": 3.4,
    "height": 2.6,
    "font_size": 8,
    "line_width": 1.2,
    "marker_size": 3,
    "colormap": "viridis",
    "error_bars": True,
    "theory_line_style": "-",
    "hte_line_style": "--",
    "asymptote_line_style": ":",
}

#: savefig metadata per format: nothing time- or version-dependent is written.
SAVE_METADATA: dict[str, dict[str, Any]] = {
    "pdf": {"Creator": "itscale", "Producer": None, "CreationDate": None, "ModDate": None},
    "png": {"Software": None},
    "svg": {"Creator": "itscale", "Date": None},
}

# Figure size of each kind in units of (width, height) of the style (two-panel figures span
# both columns of a two-column paper).
_SIZE: dict[str, tuple[float, float]] = {
    "best_of_k": (2.0, 1.05),
    "softmax_judge": (1.0, 1.25),
    "optimal_temperature": (1.0, 1.3),
    "best_judge": (1.0, 1.3),
    "compute_vs_data": (1.0, 1.25),
    "task_difficulty": (2.0, 1.05),
}

_GREY = "0.45"
_FS_LINE: dict[str, Any] = {"ls": (0, (5, 1.5, 1, 1.5)), "lw": 0.7, "alpha": 0.8}


# --------------------------------------------------------------------------------------------
# style and output
# --------------------------------------------------------------------------------------------


def resolve_style(style: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The plot style with defaults filled in (unknown keys are kept and ignored)."""
    out = dict(STYLE_DEFAULTS)
    out.update(style or {})
    return out


def apply_style(style: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Set matplotlib's global rcParams for the shared style; returns the resolved style.

    Global on purpose: some parameters (pdf.fonttype, svg.hashsalt) are read when the figure
    is saved, after the plot function returned.
    """
    st = resolve_style(style)
    fs = float(st["font_size"])
    mpl.rcParams.update(
        {
            "font.size": fs,
            "axes.labelsize": fs,
            "axes.titlesize": fs,
            "xtick.labelsize": fs - 1,
            "ytick.labelsize": fs - 1,
            "legend.fontsize": fs - 1,
            "legend.frameon": False,
            "legend.handlelength": 1.8,
            "legend.columnspacing": 1.0,
            "legend.handletextpad": 0.5,
            "lines.linewidth": float(st["line_width"]),
            "lines.markersize": float(st["marker_size"]),
            "axes.linewidth": 0.6,
            "xtick.major.width": 0.6,
            "ytick.major.width": 0.6,
            "xtick.minor.width": 0.4,
            "ytick.minor.width": 0.4,
            "xtick.direction": "in",
            "ytick.direction": "in",
            "xtick.top": True,
            "ytick.right": True,
            "axes.grid": False,
            "mathtext.fontset": "dejavusans",
            "pdf.fonttype": 42,
            "ps.fonttype": 42,
            "svg.hashsalt": "itscale",
            "savefig.dpi": int(st["dpi"]),
            "figure.dpi": int(st["dpi"]),
            "errorbar.capsize": 1.5,
        }
    )
    return st


def figure_size(kind: str, style: Mapping[str, Any] | None = None) -> tuple[float, float]:
    """Figure size (inches) of a figure kind for a style."""
    if kind not in _SIZE:
        raise ValueError(f"unknown figure kind {kind!r}; expected one of {KINDS}")
    st = resolve_style(style)
    fw, fh = _SIZE[kind]
    return float(st["width"]) * fw, float(st["height"]) * fh


def _new_figure(kind: str, st: Mapping[str, Any]) -> Figure:
    fig = Figure(figsize=figure_size(kind, st), dpi=int(st["dpi"]), layout="constrained")
    FigureCanvasAgg(fig)  # a canvas that can measure text (legend fitting), without pyplot
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02, wspace=0.04, hspace=0.04)
    return fig


def save_figure(
    fig: Figure,
    prefix: str | os.PathLike,
    formats: Sequence[str] = ("pdf", "png"),
    dpi: int | None = None,
) -> list[Path]:
    """Save ``fig`` as ``<prefix>.<fmt>`` for each format, byte-deterministically.

    No creation dates or software versions are written (:data:`SAVE_METADATA`); files are
    written to a temporary name and renamed into place. Returns the paths written.
    """
    from itscale.pipeline.datasets import atomic_output

    paths = []
    for fmt in formats:
        if fmt not in SAVE_METADATA:
            raise ValueError(f"format must be one of {sorted(SAVE_METADATA)}, got {fmt!r}")
        path = Path(f"{os.fspath(prefix)}.{fmt}")
        with mpl.rc_context({"svg.hashsalt": "itscale", "pdf.fonttype": 42}):
            with atomic_output(path) as tmp:
                fig.savefig(tmp, format=fmt, dpi=dpi or fig.dpi, metadata=SAVE_METADATA[fmt])
        paths.append(path)
    return paths


def render(
    kind: str,
    sampling: Sequence[xr.Dataset],
    theory: Sequence[xr.Dataset],
    prefix: str | os.PathLike,
    *,
    experiment: Mapping[str, Any] | None = None,
    style: Mapping[str, Any] | None = None,
    formats: Sequence[str] = ("pdf", "png"),
) -> list[Path]:
    """Draw a figure of ``kind`` and save it as ``<prefix>.<fmt>``; returns the paths."""
    if kind not in KINDS:
        raise ValueError(f"unknown figure kind {kind!r}; expected one of {KINDS}")
    st = resolve_style(style)
    fig = globals()[f"plot_{kind}"](sampling, theory, experiment=experiment, style=st)
    return save_figure(fig, prefix, formats, dpi=int(st["dpi"]))


# --------------------------------------------------------------------------------------------
# drawing helpers
# --------------------------------------------------------------------------------------------


def _colour(i: int) -> str:
    return OKABE_ITO[i % len(OKABE_ITO)]


def _marker(i: int) -> str:
    return MARKERS[i % len(MARKERS)]


def _mc_points(ax, x, y, se, colour, marker, st, *, log_y: bool = False, zorder: float = 3):
    """Monte Carlo means with +-1 SE bars (lower bar clipped on a log axis)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    se = np.asarray(se, dtype=float)
    lower = np.minimum(se, 0.95 * y) if log_y else se
    yerr = np.vstack([lower, se]) if st["error_bars"] else None
    ax.errorbar(
        x,
        y,
        yerr=yerr,
        fmt=marker,
        color=colour,
        mfc="white",
        mec=colour,
        ms=float(st["marker_size"]) + 0.5,
        mew=0.8,
        elinewidth=0.7,
        ls="none",
        zorder=zorder,
    )


def _key_handles(
    st,
    ax=None,
    *,
    mc: bool,
    fs: bool = False,
    theory: str | None = "DE theory",
    hte: bool = False,
    asymptote: str | None = None,
    star: str | None = None,
    extra: Sequence[tuple[Any, str]] = (),
) -> list[tuple[Any, str]]:
    """Legend entries explaining the symbols and line styles (drawn in black).

    ``ax`` hosts an invisible (nan) error-bar artist used as the Monte Carlo legend handle.
    """
    out: list[tuple[Any, str]] = []
    if mc:
        if ax is not None:
            handle = ax.errorbar(
                [np.nan],
                [np.nan],
                yerr=[np.nan],
                fmt="o",
                color="k",
                mfc="white",
                mew=0.8,
                ms=float(st["marker_size"]) + 0.5,
                elinewidth=0.7,
                ls="none",
            )
        else:
            handle = Line2D(
                [],
                [],
                color="k",
                marker="o",
                mfc="white",
                ls="none",
                mew=0.8,
                ms=float(st["marker_size"]) + 0.5,
            )
        out.append((handle, r"Monte Carlo ($\pm$1 SE)"))
    if fs:
        out.append((Line2D([], [], color="k", **_FS_LINE), "exact, same training sets"))
    if theory:
        out.append((Line2D([], [], color="k", ls=st["theory_line_style"]), theory))
    if hte:
        out.append(
            (
                Line2D([], [], color="k", ls=st["hte_line_style"], lw=0.9),
                "high-T expansion (3rd order)",
            )
        )
    if asymptote:
        out.append((Line2D([], [], color="k", ls=st["asymptote_line_style"]), asymptote))
    if star:
        out.append((Line2D([], [], color="k", marker="*", ls="none", ms=7, mfc="k"), star))
    out.extend(extra)
    return out


def _fs_line(ax, x, y, colour) -> None:
    """Finite-size exact average for the simulated training sets (thin, on the MC grid)."""
    ax.plot(x, y, color=colour, zorder=1.8, **_FS_LINE)


def _curve_handle(i: int, st) -> Line2D:
    return Line2D(
        [],
        [],
        color=_colour(i),
        marker=_marker(i),
        mfc="white",
        mew=0.8,
        ms=float(st["marker_size"]) + 0.5,
        ls=st["theory_line_style"],
    )


def _legend(fig: Figure, entries: Sequence[tuple[Any, str]], ncols: int) -> None:
    """Legend above the axes, in as many columns as fit in the figure width (at most ncols)."""
    if not entries:
        return
    handles, labels = (list(v) for v in zip(*entries, strict=True))
    renderer = fig.canvas.get_renderer()
    width = fig.get_figwidth() * fig.dpi
    for n in range(min(ncols, len(handles)), 0, -1):
        leg = fig.legend(handles, labels, loc="outside upper center", ncols=n)
        if n == 1 or leg.get_window_extent(renderer).width <= 0.98 * width:
            return
        leg.remove()


def _log_axis(ax, which: str = "x") -> None:
    """Log axis with plain-number major labels (1, 10, 100, 0.1) and unlabelled minor ticks;
    spans shorter than ~2 decades also get labels at 2 and 5."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    lo, hi = ax.get_xlim() if which == "x" else ax.get_ylim()
    if lo <= 0 or hi <= 0:
        return
    span = math.log10(hi / lo)
    subs = (1.0, 2.0, 5.0) if span < 2.2 else (1.0,)
    axis.set_major_locator(mpl.ticker.LogLocator(base=10.0, subs=subs))
    axis.set_minor_locator(mpl.ticker.LogLocator(base=10.0, subs=np.arange(2, 10) * 1.0))
    axis.set_minor_formatter(mpl.ticker.NullFormatter())

    def fmt(v, _pos):
        if v <= 0:
            return ""
        e = math.floor(math.log10(v) + 1e-9)
        if -3 <= e <= 3:
            return f"{v:g}"
        m = v / 10**e
        return rf"$10^{{{e}}}$" if abs(m - 1) < 1e-6 else rf"${m:g}\times10^{{{e}}}$"

    axis.set_major_formatter(mpl.ticker.FuncFormatter(fmt))


def _sci(x: float) -> str:
    """Compact mathtext for a positive number: 10^4, 2x10^4, 0.25, 12."""
    if x == 0:
        return "0"
    e = int(math.floor(math.log10(abs(x))))
    m = x / 10**e
    if abs(e) <= 2:
        return f"{x:g}"
    if abs(m - 1) < 1e-9:
        return rf"10^{{{e}}}"
    return rf"{m:g}\times10^{{{e}}}"


def _curve_label(th: xr.Dataset, sweep: str | None) -> str:
    p = numbers.point_params(th)
    if sweep == "n":
        return rf"$n = {_sci(float(p['n']))}$"
    if sweep in ("w_std", "w_mean"):
        return rf"$\rho = {float(th['rho']):.2g}$"
    if sweep == "d":
        return rf"$d = {p['d']}$"
    if sweep is None:
        return rf"$n = {_sci(float(p['n']))}$"
    return rf"{sweep} = {p[sweep]:g}"


def _format_log_axes(fig: Figure) -> None:
    """Apply :func:`_log_axis` to every log-scaled axis of the figure (after all drawing)."""
    for ax in fig.axes:
        for which in ("x", "y"):
            scale = ax.get_xscale() if which == "x" else ax.get_yscale()
            if scale == "log" and ax.get_label() != "<colorbar>":
                _log_axis(ax, which)


def _panel_label(ax, text: str) -> None:
    ax.set_title(text, loc="left", fontweight="bold", pad=3)


def _select_tc(ds: xr.Dataset, T: float | None = None, c: float | None = None):
    """T and c to show for a single-curve-per-point figure: 0 if present, else the first."""
    Tv = ds["T"].values
    cv = ds["c"].values
    if T is None:
        T = 0.0 if (Tv == 0).any() else float(Tv[0])
    if c is None:
        c = 0.0 if (cv == 0).any() else float(cv[0])
    return float(T), float(c)


def _mc(sampling: Sequence[xr.Dataset], i: int):
    """(mean, se) of the sampled estimator of point i over (T, c, k), or None (theory only)."""
    if not sampling:
        return None
    return numbers.mc_summary(sampling[i], "mc")


def _fs(sampling: Sequence[xr.Dataset], i: int):
    """Finite-size exact average of point i, replicate mean over (T, c, k), or None."""
    if not sampling:
        return None
    return sampling[i]["delta_fs"].mean("replicate")


def _star(ax, x, y, colour) -> None:
    ax.plot([x], [y], marker="*", color=colour, ms=9, mec="k", mew=0.5, ls="none", zorder=5)


def _t_text(T: float, scale: float) -> str:
    unit = r"T/2\sigma^2" if scale != 1.0 else "T"
    return rf"${unit} = {T / scale:g}$"


# --------------------------------------------------------------------------------------------
# figure 1: best-of-k with the teacher as judge
# --------------------------------------------------------------------------------------------


def plot_best_of_k(sampling, theory, *, experiment=None, style=None) -> Figure:
    """delta/sigma^2 against k at T = 0, c = 0 for each sweep point, three panels.

    (a) linear error against log k; (b) log-log with a k^-2 guide; (c) compensated
    k^2 delta / sigma^2, whose plateau is the 1/k^2 coefficient pi s^2 / (sigma^2 sqrt(1-rho)).
    Monte Carlo points, exact DE lines, the large-k asymptote (dotted) and the exact average
    for the simulated training sets (thin dash-dotted).
    """
    st = apply_style(style)
    fig = _new_figure("best_of_k", st)
    axes = fig.subplots(1, 3)
    sweep = numbers.sweep_parameter(theory)
    entries = []
    y_max = 0.0
    comp_vals = []
    for i, th in enumerate(theory):
        col, mk = _colour(i), _marker(i)
        sigma2 = float(th["sigma2"])
        T0, c0 = _select_tc(th)
        k = th["k"].values
        k2 = k.astype(float) ** 2
        kf = numbers.fine_k(int(k.min()), int(k.max()))
        kf2 = kf.astype(float) ** 2
        cur = numbers.theory_curves(th, k=kf, T=[T0], c=[c0], asymptote=True)
        de = cur["delta_de"].isel(T=0, c=0).values / sigma2
        asym = cur["delta_asymptote"].isel(T=0, c=0).values / sigma2
        y_max = max(y_max, float(de.max()))
        for ax, yf in zip(axes, (de, de, kf2 * de), strict=True):
            ax.plot(kf, yf, color=col, ls=st["theory_line_style"], zorder=2)
        if np.isfinite(asym).all():
            for ax, ya in zip(axes, (asym, asym, kf2 * asym), strict=True):
                ax.plot(kf, ya, color=col, ls=st["asymptote_line_style"], zorder=1.5, lw=1.0)
        comp_vals.append(kf2 * de)
        mc, fs = _mc(sampling, i), _fs(sampling, i)
        if mc is not None:
            mean = mc[0].sel(T=T0, c=c0).values / sigma2
            se = mc[1].sel(T=T0, c=c0).values / sigma2
            fsv = fs.sel(T=T0, c=c0).values / sigma2
            for ax, f in zip(axes, (1.0, 1.0, k2), strict=True):
                _fs_line(ax, k, f * fsv, col)
            _mc_points(axes[0], k, mean, se, col, mk, st)
            _mc_points(axes[1], k, mean, se, col, mk, st, log_y=True)
            _mc_points(axes[2], k, k2 * mean, k2 * se, col, mk, st)
            comp_vals.append(k2 * (mean + se))
        entries.append((_curve_handle(i, st), _curve_label(th, sweep)))

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
    T0, c0 = _select_tc(th0)
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
        _panel_label(ax, lab)
    entries += _key_handles(
        st,
        ax_a,
        mc=bool(sampling),
        fs=bool(sampling),
        theory="exact DE theory",
        asymptote=r"asymptote $\pi s^2 / (k^2\sqrt{1-\rho})$",
    )
    _format_log_axes(fig)
    _legend(fig, entries, ncols=4)
    return fig


# --------------------------------------------------------------------------------------------
# figure 2: softmax selection with a misspecified judge
# --------------------------------------------------------------------------------------------


def plot_softmax_judge(sampling, theory, *, experiment=None, style=None) -> Figure:
    """delta/sigma^2 against k at fixed T for each judge misspecification c.

    Monte Carlo points, exact DE lines, the third-order high-temperature expansion (dashed),
    the exact average for the simulated training sets (thin dash-dotted), and the DE-optimal
    finite k* (star) where one exists inside the k range.
    """
    st = apply_style(style)
    fig = _new_figure("softmax_judge", st)
    ax = fig.subplots()
    th = theory[0]
    sigma2 = float(th["sigma2"])
    scale, _ = numbers.t_scale(experiment, sigma2)
    T0 = float(th["T"].values[0])
    k = th["k"].values
    kf = numbers.fine_k(int(k.min()), int(k.max()))
    cur = numbers.theory_curves(th, k=kf, T=[T0], hte=True)
    mc, fs = _mc(sampling, 0), _fs(sampling, 0)
    entries = []
    values = []
    any_star = False
    star_curves = []
    for j, c in enumerate(th["c"].values):
        col, mk = _colour(j), _marker(j)
        de = cur["delta_de"].sel(T=T0, c=c).values / sigma2
        hte = cur["delta_hte"].sel(T=T0, c=c).values / sigma2
        ax.plot(kf, de, color=col, ls=st["theory_line_style"], zorder=2)
        ax.plot(kf, hte, color=col, ls=st["hte_line_style"], lw=0.9, zorder=1.5)
        values += [de, hte]
        if mc is not None:
            m = mc[0].sel(T=T0, c=c).values / sigma2
            se = mc[1].sel(T=T0, c=c).values / sigma2
            _fs_line(ax, k, fs.sel(T=T0, c=c).values / sigma2, col)
            _mc_points(ax, k, m, se, col, mk, st)
            values += [m - se, m + se]
        ks, ds = numbers.k_star(th, T0, float(c), int(k.max()))
        if 1 < ks < int(k.max()):
            any_star = True
            star_curves.append((j, float(c), ks, ds))
            _star(ax, ks, ds / sigma2, col)
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
        entries.append((_curve_handle(j, st), rf"$c = {c:g}$"))
    ax.set_xscale("log")
    ax.set_xlabel(r"number of candidates $k$")
    ax.set_ylabel(r"$\delta / \sigma^2$")
    ax.set_title(_t_text(T0, scale), loc="right", pad=3)
    vals = np.concatenate([np.ravel(v) for v in values])
    lo, hi = float(np.nanmin(vals)), float(np.nanmax(vals))
    pad = 0.06 * (hi - lo)
    ax.set_ylim(lo - (3.0 if any_star else 1.0) * pad, hi + 1.0 * pad)
    if star_curves:
        _zoom_inset(ax, star_curves[-1], kf, cur, T0, sigma2, k, mc, fs, st)
    entries += _key_handles(
        st,
        ax,
        mc=mc is not None,
        fs=fs is not None,
        theory="exact DE theory",
        hte=True,
        star="optimal $k^*$" if any_star else None,
    )
    _format_log_axes(fig)
    _legend(fig, entries, ncols=4)
    return fig


def _zoom_inset(ax, curve, kf, cur, T0, sigma2, k, mc, fs, st) -> None:
    """Inset magnifying the curve with a finite k*: its minimum and the rise after it."""
    j, c, ks, ds = curve
    col, mk = _colour(j), _marker(j)
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
        _fs_line(ins, k[ksel], fs.sel(T=T0, c=c).values[ksel] / sigma2, col)
        _mc_points(ins, k[ksel], m, se, col, mk, st)
        vals += [m - se, m + se]
    _star(ins, ks, ds / sigma2, col)
    v = np.concatenate(vals)
    lo, hi = float(np.nanmin(v)), float(np.nanmax(v))
    ins.set_ylim(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))
    ins.set_xscale("log")
    ins.set_xlim(k_lo / 1.15, float(k.max()) * 1.15)
    _log_axis(ins, "x")
    ins.tick_params(labelsize=float(st["font_size"]) - 2, which="both")
    ins.set_title(rf"$c = {c:g}$, zoomed", fontsize=float(st["font_size"]) - 2, pad=2)
    ins.yaxis.get_major_formatter().set_useOffset(False)


# --------------------------------------------------------------------------------------------
# figure 3: optimal temperature
# --------------------------------------------------------------------------------------------


def plot_optimal_temperature(sampling, theory, *, experiment=None, style=None) -> Figure:
    """delta/sigma^2 against T at fixed k (one curve per k), T*(k) marked.

    T > 0 on a log axis; T = 0 (best-of-k) on a narrow axis to its left. The error without
    selection (k = 1, or T -> inf) is the grey dotted level.
    """
    st = apply_style(style)
    fig = _new_figure("optimal_temperature", st)
    ax0, ax = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [1, 7]})
    th = theory[0]
    sigma2 = float(th["sigma2"])
    scale, t_label = numbers.t_scale(experiment, sigma2)
    Tg = th["T"].values
    pos = Tg > 0
    has_zero = bool((Tg == 0).any())
    c0 = float(th["c"].values[0])
    ks = [int(v) for v in th["k"].values if v > 1]
    Tf = np.geomspace(float(Tg[pos].min()), float(Tg[pos].max()), 41)
    cur = numbers.theory_curves(th, k=ks, T=np.concatenate([[0.0], Tf]) if has_zero else Tf, c=[c0])
    mc, fs = _mc(sampling, 0), _fs(sampling, 0)
    entries = []
    values = []
    for j, k in enumerate(ks):
        col, mk = _colour(j), _marker(j)
        de = cur["delta_de"].sel(c=c0, k=k)
        ax.plot(
            Tf / scale,
            de.sel(T=Tf).values / sigma2,
            color=col,
            ls=st["theory_line_style"],
            zorder=2,
        )
        values.append(de.values / sigma2)
        if has_zero:
            ax0.plot(
                [-0.6, 0.6],
                [float(de.sel(T=0.0)) / sigma2] * 2,
                color=col,
                ls=st["theory_line_style"],
                zorder=2,
            )
        if mc is not None:
            m = mc[0].sel(c=c0, k=k).values / sigma2
            se = mc[1].sel(c=c0, k=k).values / sigma2
            _fs_line(ax, Tg[pos] / scale, fs.sel(c=c0, k=k).values[pos] / sigma2, col)
            _mc_points(ax, Tg[pos] / scale, m[pos], se[pos], col, mk, st, log_y=True)
            if has_zero:
                z = ~pos
                _mc_points(ax0, [0.0], m[z], se[z], col, mk, st, log_y=True)
            values.append(m)
        ts, ds = numbers.curve_minimum(de["T"].values, de.values, log=True)
        if ts == 0:
            _star(ax0, 0.0, ds / sigma2, col)
        elif math.isfinite(ts):
            _star(ax, ts / scale, ds / sigma2, col)
        entries.append((_curve_handle(j, st), rf"$k = {k}$"))
    delta1 = float(th["delta1"]) / sigma2
    for a in (ax0, ax):
        a.axhline(delta1, color=_GREY, ls=":", lw=0.9, zorder=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(t_label)
    ax0.set_ylabel(r"$\delta / \sigma^2$")
    ax0.set_xlim(-1, 1)
    ax0.set_xticks([0.0], ["0"])
    ax0.xaxis.set_minor_locator(mpl.ticker.NullLocator())
    # broken-axis marks between the T = 0 panel and the log-T panel
    ax0.spines["right"].set_visible(False)
    ax.spines["left"].set_visible(False)
    ax0.tick_params(axis="y", which="both", right=False)
    ax.tick_params(axis="y", which="both", left=False, labelleft=False)
    kw = {
        "marker": [(-1, -1.5), (1, 1.5)],
        "markersize": 5,
        "linestyle": "none",
        "color": "k",
        "mec": "k",
        "mew": 0.6,
        "clip_on": False,
    }
    ax0.plot([1, 1], [0, 1], transform=ax0.transAxes, **kw)
    ax.plot([0, 0], [0, 1], transform=ax.transAxes, **kw)
    vals = np.concatenate([np.ravel(v) for v in values] + [[delta1]])
    vals = vals[np.isfinite(vals) & (vals > 0)]
    ax.set_ylim(vals.min() / 1.5, vals.max() * 1.5)
    ax.set_title(rf"$c = {c0:g}$", loc="right", pad=3)
    entries += _key_handles(
        st,
        ax,
        mc=mc is not None,
        fs=fs is not None,
        theory="exact DE theory",
        star="optimal $T^*(k)$",
        extra=[(Line2D([], [], color=_GREY, ls=":"), r"no selection ($T\to\infty$)")],
    )
    _format_log_axes(fig)
    _legend(fig, entries, ncols=3)
    return fig


# --------------------------------------------------------------------------------------------
# figure 4: the best judge is not the teacher
# --------------------------------------------------------------------------------------------


def plot_best_judge(sampling, theory, *, experiment=None, style=None) -> Figure:
    """delta/sigma^2 against the judge misspecification c at fixed T, one curve per k.

    c*(k) marked (star); the k -> inf limit of the error (grey dotted) and its optimum
    c*_inf = T / (2 s^2) (grey vertical line).
    """
    st = apply_style(style)
    fig = _new_figure("best_judge", st)
    ax = fig.subplots()
    th = theory[0]
    sigma2 = float(th["sigma2"])
    scale, _ = numbers.t_scale(experiment, sigma2)
    T0 = float(th["T"].values[0])
    cg = th["c"].values
    cf = np.linspace(float(cg.min()), float(cg.max()), 41)
    ks = [int(v) for v in th["k"].values if v > 1]
    cur = numbers.theory_curves(th, k=ks, T=[T0], c=cf, tilted=True)
    mc, fs = _mc(sampling, 0), _fs(sampling, 0)
    entries = []
    values = []
    for j, k in enumerate(ks):
        col, mk = _colour(j), _marker(j)
        de = cur["delta_de"].sel(T=T0, k=k).values / sigma2
        ax.plot(cf, de, color=col, ls=st["theory_line_style"], zorder=2)
        values.append(de)
        if mc is not None:
            m = mc[0].sel(T=T0, k=k).values / sigma2
            se = mc[1].sel(T=T0, k=k).values / sigma2
            _fs_line(ax, cg, fs.sel(T=T0, k=k).values / sigma2, col)
            _mc_points(ax, cg, m, se, col, mk, st)
            values += [m - se, m + se]
        cs, ds = numbers.curve_minimum(cf, de * sigma2)
        if cf[0] < cs < cf[-1]:  # interior optimum only (a range end is no optimum)
            _star(ax, cs, ds / sigma2, col)
        entries.append((_curve_handle(j, st), rf"$k = {k}$"))
    tilted = cur["delta_tilted"].sel(T=T0).values / sigma2
    ax.plot(cf, tilted, color=_GREY, ls=":", lw=1.0, zorder=1)
    c_inf = numbers.c_star_limit(th, T0)
    ax.axvline(c_inf, color=_GREY, ls="-", lw=0.7, zorder=0)
    vals = np.concatenate([np.ravel(v) for v in values])
    lo, hi = float(np.nanmin(vals)), float(np.nanmax(vals))
    ax.set_ylim(max(0.0, lo - 0.08 * (hi - lo)), hi + 0.12 * (hi - lo))
    ax.annotate(
        r"$c^*_\infty = T/2s^2$",
        (c_inf, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(3, -3),
        textcoords="offset points",
        ha="left",
        va="top",
        color=_GREY,
        fontsize=float(st["font_size"]) - 1,
    )
    ax.set_xlim(float(cg.min()), float(cg.max()))
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(nbins=6, steps=[1, 2, 5, 10]))
    ax.set_xlabel(r"judge misspecification $c$")
    ax.set_ylabel(r"$\delta / \sigma^2$")
    ax.set_title(_t_text(T0, scale), loc="right", pad=3)
    entries += _key_handles(
        st,
        ax,
        mc=mc is not None,
        fs=fs is not None,
        theory="exact DE theory",
        star="optimal judge $c^*(k)$",
        extra=[(Line2D([], [], color=_GREY, ls=":"), r"$k\to\infty$ limit")],
    )
    _format_log_axes(fig)
    _legend(fig, entries, ncols=3)
    return fig


# --------------------------------------------------------------------------------------------
# figure 5: inference-time compute versus more data
# --------------------------------------------------------------------------------------------


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


def plot_compute_vs_data(sampling, theory, *, experiment=None, style=None) -> Figure:
    """Map of the equivalent-data multiplier M(k, n) over (n, k), from the DE theory.

    Colour: M where finite (log scale). Grey, hatched: M = inf, selection reaches an error
    below sigma^2 that no amount of data reaches at k = 1, outlined by the thick black line
    (a staircase: k is an integer). Dashed contours: iso-error lines of delta(k; n) / sigma^2.
    Evaluated by itscale.report.table.multiplier_map on a grid finer than the sweep, over the
    sweep's n range and the experiment's k range; each cell is one (n, k) pair.
    """
    st = apply_style(style)
    fig = _new_figure("compute_vs_data", st)
    ax = fig.subplots()
    n_pts = np.array(sorted(float(numbers.point_params(th)["n"]) for th in theory))
    th = theory[0]
    sigma2 = float(th["sigma2"])
    T0, c0 = _select_tc(th)
    k = th["k"].values
    nf = np.geomspace(n_pts.min(), n_pts.max(), 49) if n_pts.size > 1 else n_pts
    kf = numbers.fine_k(int(k.min()), int(k.max()), 49)
    grid = numbers.multiplier_map(theory, nf, kf, T=T0, c=c0)
    M = grid["multiplier"].values.T  # (k, n)
    err = grid["delta_de"].values.T / sigma2
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
        scale, _ = numbers.t_scale(experiment, sigma2)
        ax.set_title(f"{_t_text(T0, scale)}, $c = {c0:g}$", loc="right", pad=3)
    _format_log_axes(fig)
    _legend(fig, entries, ncols=1)
    return fig


# --------------------------------------------------------------------------------------------
# figure 6: task difficulty
# --------------------------------------------------------------------------------------------


def plot_task_difficulty(sampling, theory, *, experiment=None, style=None) -> Figure:
    """Best-of-k error against k for several difficulties rho, and the decay exponent.

    (a) log-log delta/sigma^2 against k, one curve per rho, the k range of the fits shaded.
    (b) exponent -d ln delta / d ln k fitted over that range: Monte Carlo (points, +-1 SE),
    the same fit to the exact average for the simulated training sets (crosses) and to the
    exact DE theory (line), and the asymptotic 2 min(1, 1/rho) (dashed). Points sit at the
    DE difficulty of their sweep point.
    """
    st = apply_style(style)
    fig = _new_figure("task_difficulty", st)
    ax_a, ax_b = fig.subplots(1, 2)
    entries = []
    order = np.argsort([float(th["rho"]) for th in theory], kind="stable")
    k_all = theory[0]["k"].values
    fit_mask = numbers.exponent_fit_range(k_all)
    k_fit = k_all[fit_mask]
    rhos = []
    per_replicate = False
    for j, i in enumerate(order):
        th = theory[int(i)]
        col, mk = _colour(j), _marker(j)
        sigma2 = float(th["sigma2"])
        T0, c0 = _select_tc(th)
        k = th["k"].values
        kf = numbers.fine_k(int(k.min()), int(k.max()))
        de = numbers.theory_curves(th, k=kf, T=[T0], c=[c0])["delta_de"].isel(T=0, c=0)
        ax_a.plot(kf, de.values / sigma2, color=col, ls=st["theory_line_style"], zorder=2)
        rho = float(th["rho"])
        rhos.append(rho)
        mc, fs = _mc(sampling, int(i)), _fs(sampling, int(i))
        if mc is not None:
            m = mc[0].sel(T=T0, c=c0).values
            s = mc[1].sel(T=T0, c=c0).values
            f = fs.sel(T=T0, c=c0).values
            _fs_line(ax_a, k, f / sigma2, col)
            _mc_points(ax_a, k, m / sigma2, s / sigma2, col, mk, st, log_y=True)
            smp = sampling[int(i)]
            if "rho_fitted" in smp:  # one point per training set, at its own difficulty
                x = smp["rho_fitted"].values
                e_mc, e_se, e_fs = numbers.replicate_exponents(smp, fit_mask, T0, c0)
                per_replicate = True
            else:  # the replicate mean, at the DE difficulty of the sweep point
                p, pse, _ = numbers.fit_power_law(k[fit_mask], m[fit_mask], s[fit_mask])
                x, e_mc, e_se = np.array([rho]), np.array([-p]), np.array([pse])
                e_fs = np.array([-numbers.fit_power_law(k[fit_mask], f[fit_mask])[0]])
            rhos.extend(np.ravel(x).tolist())
            _mc_points(ax_b, x, e_mc, e_se, col, mk, st)
            ax_b.plot(x, e_fs, marker="x", color=col, ms=4.5, mew=0.9, ls="none", zorder=4)
        entries.append((_curve_handle(j, st), rf"$\rho = {rho:.2g}$"))
    ax_a.axvspan(float(k_fit.min()), float(k_fit.max()), color="0.93", zorder=0, lw=0)
    ax_a.set_xscale("log")
    ax_a.set_yscale("log")
    ax_a.set_xlabel(r"number of candidates $k$")
    ax_a.set_ylabel(r"$\delta / \sigma^2$")

    rf = np.geomspace(min(rhos) / 1.3, max(rhos) * 1.3, 33)
    th0 = theory[int(order[0])]
    T0, c0 = _select_tc(th0)
    local = numbers.exponent_curve(th0, rf, k_fit, T=T0, c=c0)
    ax_b.plot(rf, local, color="k", ls=st["theory_line_style"], zorder=2)
    ax_b.plot(
        rf, expansions.decay_exponent(rf), color="k", ls=st["hte_line_style"], lw=0.9, zorder=1.5
    )
    ax_b.set_xscale("log")
    ax_b.set_xlabel(r"difficulty $\rho = 2V/s^2$")
    ax_b.set_ylabel(r"decay exponent $-d\ln\delta/d\ln k$")
    ax_b.set_ylim(0.0, 2.3)
    ax_b.axvline(1.0, color=_GREY, lw=0.5, zorder=0)
    _panel_label(ax_a, "(a)")
    _panel_label(ax_b, "(b)")
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
    entries += _key_handles(
        st,
        ax_a,
        mc=bool(sampling),
        fs=bool(sampling),
        theory="exact DE theory (b: fit)",
        extra=extra,
    )
    _format_log_axes(fig)
    _legend(fig, entries, ncols=5)
    return fig
