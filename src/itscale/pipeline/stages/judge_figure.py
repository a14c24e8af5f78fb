"""Stage "judge_figure": a judge-data experiment's two-panel figure in one format.

Draws :func:`itscale.empirical.figure.plot_analysis` (the same figure as ``itscale analyse``)
from the analysis dataset in the shared plot style; saved byte-deterministically and
atomically.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import xarray as xr

from itscale.empirical.figure import plot_analysis

__all__ = ["render"]

_LOG = logging.getLogger("itscale.judge_figures")


def render(
    params: Mapping[str, Any],
    analysis: xr.Dataset,
    path: str | os.PathLike,
    log: logging.Logger = _LOG,
) -> Path:
    """Draw the figure of the judge-figure job ``params`` into ``path`` (suffix = format).

    ``params``: experiment, title, plot_style (and the analysis path, which keys the job).
    """
    log.info("rendering %s from %s", params["experiment"], params["analysis"])
    plot_analysis(analysis, path, style=params["plot_style"], title=params["title"] or None)
    return Path(path)
