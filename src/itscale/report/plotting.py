"""Compatibility: the names of the former ``itscale.report.plotting`` (``itscale.plotting``).

Figures now live in one module per kind (:mod:`itscale.report.kinds`) with the shared style
in :mod:`itscale.report.style`; this module re-exports the public names, and
``plot_<kind>`` is the ``plot`` function of kind ``<kind>``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from matplotlib.figure import Figure

from itscale.report.kinds import KINDS, figure_size, get_kind, render
from itscale.report.style import (
    MARKERS,
    OKABE_ITO,
    SAVE_METADATA,
    STYLE_DEFAULTS,
    apply_style,
    resolve_style,
    save_figure,
)

__all__ = [
    "Figure",
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
    *(f"plot_{kind}" for kind in KINDS),
]


def __getattr__(name: str) -> Callable[..., Any]:
    """``plot_<kind>``: the plot function of a figure kind."""
    if name.startswith("plot_") and name.removeprefix("plot_") in KINDS:
        return get_kind(name.removeprefix("plot_")).plot
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
