"""Stage "figure": one experiment's figure, drawn once by its figure kind, in every format.

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
from itscale.report.style import figure_targets

__all__ = ["render"]

_LOG = logging.getLogger("itscale.figures")


def render(
    params: Mapping[str, Any],
    sampling: Sequence[xr.Dataset],
    theory: Sequence[xr.Dataset],
    paths: Sequence[str | os.PathLike],
    log: logging.Logger = _LOG,
) -> list[Path]:
    """Draw the figure of the figure job ``params`` once and save it to each of ``paths``
    (one stem, the suffixes give the formats); returns the paths.

    ``params``: experiment, kind, title, T_unit (how temperatures are labelled), plot_style.
    """
    prefix, formats = figure_targets(paths)
    log.info(
        "rendering %s (kind %s) from %d sampling and %d theory dataset(s) as %s",
        *(params["experiment"], params["kind"], len(sampling), len(theory), ", ".join(formats)),
    )
    return render_kind(
        params["kind"],
        sampling,
        theory,
        prefix,
        experiment=params,
        style=params["plot_style"],
        formats=formats,
    )
