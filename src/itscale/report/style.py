"""Shared figure style: palette, markers, rcParams, figure creation and deterministic saving.

Every figure kind draws with :func:`apply_style` (global rcParams, some of which are read when
the figure is saved), creates its figure with :func:`new_figure` at its own size in units of
the style's (width, height), and is saved by :func:`save_figure` byte-deterministically (no
dates, no software tag). Colours are the Okabe-Ito palette (colour-blind safe) and every curve
also has its own marker. matplotlib is imported only when a figure is made, so the job plan
(which reads the figure kinds' declarations) never loads it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "OKABE_ITO",
    "MARKERS",
    "STYLE_DEFAULTS",
    "SAVE_METADATA",
    "resolve_style",
    "apply_style",
    "scaled_size",
    "new_figure",
    "open_figure",
    "save_figure",
    "figure_targets",
    "colour",
    "marker",
]

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
    import matplotlib as mpl

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


def scaled_size(
    size: tuple[float, float], style: Mapping[str, Any] | None = None
) -> tuple[float, float]:
    """Figure size (inches) of a kind's ``size`` in units of the style's (width, height)."""
    st = resolve_style(style)
    return float(st["width"]) * size[0], float(st["height"]) * size[1]


def new_figure(size: tuple[float, float], st: Mapping[str, Any]) -> Figure:
    """A constrained-layout figure of ``size`` (units of the style's width, height), no pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=scaled_size(size, st), dpi=int(st["dpi"]), layout="constrained")
    FigureCanvasAgg(fig)  # a canvas that can measure text (legend fitting), without pyplot
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02, wspace=0.04, hspace=0.04)
    return fig


def open_figure(
    size: tuple[float, float], style: Mapping[str, Any] | None, *args: Any, **kwargs: Any
) -> tuple[dict[str, Any], Figure, Any]:
    """Apply the style and make a figure of ``size`` with ``fig.subplots(*args, **kwargs)``.

    Returns (resolved style, figure, axes): how every figure kind starts drawing.
    """
    st = apply_style(style)
    fig = new_figure(size, st)
    return st, fig, fig.subplots(*args, **kwargs)


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
    import matplotlib as mpl

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


def figure_targets(paths: Sequence[str | os.PathLike]) -> tuple[Path, list[str]]:
    """``(prefix, formats)`` of output paths ``<prefix>.<format>`` that share one prefix."""
    paths = [Path(p) for p in paths]
    prefixes = {p.with_suffix("") for p in paths}
    if not paths or len(prefixes) != 1 or not all(p.suffix for p in paths):
        raise ValueError(f"expected <prefix>.<format> paths with one prefix, got {paths}")
    return prefixes.pop(), [p.suffix.removeprefix(".") for p in paths]


def colour(i: int) -> str:
    """Colour of curve ``i`` (Okabe-Ito, cycled)."""
    return OKABE_ITO[i % len(OKABE_ITO)]


def marker(i: int) -> str:
    """Marker of curve ``i`` (cycled)."""
    return MARKERS[i % len(MARKERS)]
