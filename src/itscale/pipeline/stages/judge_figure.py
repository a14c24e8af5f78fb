"""Stage "judge_figure": a judge-data experiment's two-panel figure, drawn once, in every format.

Draws :func:`itscale.empirical.figure.plot_analysis` (the same figure as ``itscale analyse``)
from the analysis dataset in the shared plot style; saved byte-deterministically and
atomically.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from itscale.empirical.figure import plot_analysis
from itscale.report.style import figure_targets, resolve_style, save_figure

__all__ = ["render"]

_LOG = logging.getLogger("itscale.judge_figures")


def render(
    params: Mapping[str, Any],
    analysis: xr.Dataset,
    paths: Sequence[str | os.PathLike],
    log: logging.Logger = _LOG,
) -> list[Path]:
    """Draw the figure of the judge-figure job ``params`` once and save it to each of ``paths``
    (one stem, suffix = format); returns the paths.

    ``params``: experiment, title, plot_style (and the analysis path, which keys the job).
    """
    prefix, formats = figure_targets(paths)
    log.info("rendering %s from %s as %s", params["experiment"], params["analysis"], formats)
    style = resolve_style(params["plot_style"])
    fig = plot_analysis(analysis, style=style, title=params["title"] or None)
    return save_figure(fig, prefix, formats, dpi=int(style["dpi"]))
