"""Drawing helpers shared by the figure kinds: Monte Carlo points, legends, axes, labels.

Conventions: errors are shown as delta / sigma^2; Monte Carlo points (the sampled estimator,
averaged over replicates) carry +-1 Monte Carlo standard error; theory is drawn as lines on
the theory stage's plotting grids. A thin dash-dotted line in the colour of each curve is the
finite-size exact average for the simulated training sets (delta_fs), which the points must
match within noise. Legends sit outside the axes so they never cover data. Every kind ends
with :func:`finish` (symbol key, log-axis labels, legend). matplotlib is imported only inside
the functions that draw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from itscale.report import style
from itscale.report.summaries import point_params

if TYPE_CHECKING:
    import xarray as xr
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

__all__ = [
    "GREY",
    "FS_LINE",
    "mc_points",
    "sampled",
    "key_handles",
    "line_handle",
    "patch_handle",
    "grey_level",
    "fs_line",
    "curve_handle",
    "legend",
    "finish",
    "log_axis",
    "format_log_axes",
    "sci",
    "curve_label",
    "panel_label",
    "star",
    "t_math",
]

GREY = "0.45"
FS_LINE: dict[str, Any] = {"ls": (0, (5, 1.5, 1, 1.5)), "lw": 0.7, "alpha": 0.8}


def mc_points(ax, x, y, se, colour, marker, st, *, log_y: bool = False, zorder: float = 3):
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


def sampled(ax, x, mean, se, fs, colour, marker, st, *, log_y: bool = False) -> None:
    """The simulated training sets of one curve: their finite-size exact average (line) and
    the Monte Carlo means with +-1 SE (points), on the Monte Carlo grid ``x``."""
    fs_line(ax, x, fs, colour)
    mc_points(ax, x, mean, se, colour, marker, st, log_y=log_y)


def line_handle(**kwargs: Any) -> Line2D:
    """A legend handle drawn as a line or marker (``Line2D`` keywords, no data)."""
    from matplotlib.lines import Line2D

    return Line2D([], [], **kwargs)


def patch_handle(**kwargs: Any) -> Patch:
    """A legend handle drawn as a filled patch (``Patch`` keywords)."""
    from matplotlib.patches import Patch

    return Patch(**kwargs)


def grey_level(label: str) -> tuple[Line2D, str]:
    """Legend entry of a grey dotted reference curve (a limit or a level)."""
    return line_handle(color=GREY, ls=":"), label


def key_handles(
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
            handle = line_handle(
                color="k",
                marker="o",
                mfc="white",
                ls="none",
                mew=0.8,
                ms=float(st["marker_size"]) + 0.5,
            )
        out.append((handle, r"Monte Carlo ($\pm$1 SE)"))
    if fs:
        out.append((line_handle(color="k", **FS_LINE), "exact, same training sets"))
    if theory:
        out.append((line_handle(color="k", ls=st["theory_line_style"]), theory))
    if hte:
        hte_handle = line_handle(color="k", ls=st["hte_line_style"], lw=0.9)
        out.append((hte_handle, "high-T expansion (3rd order)"))
    if asymptote:
        out.append((line_handle(color="k", ls=st["asymptote_line_style"]), asymptote))
    if star:
        out.append((line_handle(color="k", marker="*", ls="none", ms=7, mfc="k"), star))
    out.extend(extra)
    return out


def fs_line(ax, x, y, colour) -> None:
    """Finite-size exact average for the simulated training sets (thin, on the MC grid)."""
    ax.plot(x, y, color=colour, zorder=1.8, **FS_LINE)


def curve_handle(i: int, st) -> Line2D:
    """Legend handle of curve ``i``: its colour, its marker and the theory line style."""
    return line_handle(
        color=style.colour(i),
        marker=style.marker(i),
        mfc="white",
        mew=0.8,
        ms=float(st["marker_size"]) + 0.5,
        ls=st["theory_line_style"],
    )


def legend(fig: Figure, entries: Sequence[tuple[Any, str]], ncols: int) -> None:
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


def finish(
    fig: Figure,
    entries: Sequence[tuple[Any, str]],
    *,
    ncols: int,
    st=None,
    ax=None,
    simulated: bool | None = None,
    **key: Any,
) -> Figure:
    """End a figure: the symbol key (:func:`key_handles` with ``st``, ``ax`` and ``key``, unless
    ``st`` is None; ``simulated`` sets both its ``mc`` and ``fs``) after ``entries``, log-axis
    labels (:func:`format_log_axes`) and the legend above the axes in at most ``ncols``
    columns (:func:`legend`). Returns ``fig``."""
    entries = list(entries)
    if simulated is not None:
        key = {"mc": simulated, "fs": simulated, **key}
    if st is not None:
        entries += key_handles(st, ax, **key)
    format_log_axes(fig)
    legend(fig, entries, ncols=ncols)
    return fig


def log_axis(ax, which: str = "x") -> None:
    """Log axis with plain-number major labels (1, 10, 100, 0.1) and unlabelled minor ticks;
    spans shorter than ~2 decades also get labels at 2 and 5."""
    import matplotlib as mpl

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


def format_log_axes(fig: Figure) -> None:
    """Apply :func:`log_axis` to every log-scaled axis of the figure (after all drawing)."""
    for ax in fig.axes:
        for which in ("x", "y"):
            scale = ax.get_xscale() if which == "x" else ax.get_yscale()
            if scale == "log" and ax.get_label() != "<colorbar>":
                log_axis(ax, which)


def sci(x: float) -> str:
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


def curve_label(th: xr.Dataset, sweep: str | None) -> str:
    """Legend label of a sweep point: the swept parameter's value (rho for the teacher)."""
    p = point_params(th)
    if sweep == "n":
        return rf"$n = {sci(float(p['n']))}$"
    if sweep in ("w_std", "w_mean"):
        return rf"$\rho = {float(th['rho']):.2g}$"
    if sweep == "d":
        return rf"$d = {p['d']}$"
    if sweep is None:
        return rf"$n = {sci(float(p['n']))}$"
    return rf"{sweep} = {p[sweep]:g}"


def panel_label(ax, text: str) -> None:
    """Bold panel label, (a), (b), ..., at the top left."""
    ax.set_title(text, loc="left", fontweight="bold", pad=3)


def star(ax, x, y, colour) -> None:
    """An optimum, marked by a star in the curve's colour."""
    ax.plot([x], [y], marker="*", color=colour, ms=9, mec="k", mew=0.5, ls="none", zorder=5)


def t_math(T: float, scale: float) -> str:
    """Mathtext of a temperature, ``T/2sigma^2 = ...`` when ``scale`` is 2 sigma^2."""
    unit = r"T/2\sigma^2" if scale != 1.0 else "T"
    return rf"${unit} = {T / scale:g}$"
