"""Stage "figure": one experiment's figure in one format, drawn by its figure kind.

The figure kind's module (:mod:`itscale.report.kinds`) draws from the experiment's sampling
and theory datasets (one per sweep point, in sweep order; no sampling for theory-only
experiments); the file is saved byte-deterministically and atomically.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from itscale.report.kinds import render as render_kind

__all__ = ["render"]

_LOG = logging.getLogger("itscale.figures")


def render(
    params: Mapping[str, Any],
    sampling: Sequence[xr.Dataset],
    theory: Sequence[xr.Dataset],
    path: str | os.PathLike,
    log: logging.Logger = _LOG,
) -> Path:
    """Draw the figure of the figure job ``params`` into ``path`` (its suffix is the format).

    ``params``: experiment, kind, title, T_unit (how temperatures are labelled), plot_style.
    """
    path = Path(path)
    log.info(
        "rendering %s (kind %s) from %d sampling and %d theory dataset(s)",
        *(params["experiment"], params["kind"], len(sampling), len(theory)),
    )
    render_kind(
        params["kind"],
        sampling,
        theory,
        path.with_suffix(""),
        experiment=params,
        style=params["plot_style"],
        formats=[path.suffix.removeprefix(".")],
    )
    return path
