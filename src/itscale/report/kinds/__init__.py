"""Figure kinds: the registry that finds each kind's module, and renders a figure of a kind.

A figure kind is one module of this package, named after the kind (``figure.kind`` in the
config), that owns everything about its figure:

``SIZE``
    figure size in units of the plot style's (width, height);
``theory_request(points, i) -> dict``
    what the theory stage computes for sweep point ``i`` besides its grid values (plotting
    grids and optima; see :mod:`itscale.pipeline.stages.theory`), from the resolved
    parameters of the experiment's points; it enters the theory job's key;
``plot(sampling, theory, *, experiment=None, style=None) -> Figure``
    draws the figure from the datasets of the experiment's points (never saves it);
``rows(experiment, sampling, theory) -> list[dict]``
    its rows of the numbers table (:func:`itscale.report.table.row`).

The registry discovers the modules (no list to extend): adding a kind is one new module, its
name in the schema's ``figure.kind`` enum and a report caption.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from itscale.report.style import resolve_style, save_figure, scaled_size

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["KINDS", "get_kind", "figure_size", "render"]

#: Every figure kind: the modules of this package.
KINDS: tuple[str, ...] = tuple(
    sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
)


def get_kind(kind: str) -> ModuleType:
    """The module of figure kind ``kind`` (``SIZE``, ``theory_request``, ``plot``, ``rows``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown figure kind {kind!r}; expected one of {KINDS}")
    return importlib.import_module(f"{__name__}.{kind}")


def figure_size(kind: str, style: Mapping[str, Any] | None = None) -> tuple[float, float]:
    """Figure size (inches) of a figure kind for a style."""
    return scaled_size(get_kind(kind).SIZE, style)


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
    st = resolve_style(style)
    fig = get_kind(kind).plot(sampling, theory, experiment=experiment, style=st)
    return save_figure(fig, prefix, formats, dpi=int(st["dpi"]))
