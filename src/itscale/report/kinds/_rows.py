"""Table rows shared by several figure kinds: an experiment's row maker and the decay-exponent rows.

Not a figure kind: the registry skips modules whose name starts with an underscore.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from itscale.report import summaries, table

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["Row", "row_maker", "points", "mc_exponent", "exponent_row", "exponent_vs_fs_row"]

#: ``row(quantity, selector, **columns)``: :func:`itscale.report.table.row` of one experiment.
Row = Callable[..., dict[str, Any]]


def row_maker(experiment: Mapping[str, Any]) -> Row:
    """:func:`~itscale.report.table.row` with the experiment's name and kind filled in."""
    return functools.partial(table.row, experiment["experiment"], experiment["kind"])


def points(
    experiment: Mapping[str, Any], sampling: Sequence[xr.Dataset], theory: Sequence[xr.Dataset]
) -> Iterator[tuple[xr.Dataset, float, xr.DataArray | None]]:
    """Per sweep point: its theory dataset, the divisor of its temperatures in the table
    (:func:`~itscale.report.summaries.t_scale`) and the replicate mean of its Monte Carlo
    estimate over (T, c, k) (None for a theory-only experiment)."""
    for i, th in enumerate(theory):
        scale, _ = summaries.t_scale(experiment, float(th["sigma2"]))
        yield th, scale, summaries.mc_summary(sampling[i], "mc")[0] if sampling else None


def mc_exponent(
    k: np.ndarray, em: np.ndarray, mean: np.ndarray | None, se: np.ndarray | None
) -> tuple[float, float]:
    """Decay exponent (-slope of :func:`~itscale.report.summaries.fit_power_law` over
    ``k[em]``) of Monte Carlo means over k, and its standard error; (nan, nan) without them."""
    if mean is None:
        return math.nan, math.nan
    p, pse, _ = summaries.fit_power_law(k[em], mean[em], se[em])
    return -p, pse


def exponent_row(
    row: Row, sel: str, k, em, de, value: float, se: float, *, theory: float, note: str
) -> dict[str, Any]:
    """Row ``decay_exponent``: ``value`` +- ``se`` (see :func:`mc_exponent`) against the
    asymptotic ``theory`` and the same fit to the DE error ``de`` over k (theory_grid)."""
    return row(
        "decay_exponent",
        sel,
        value=value,
        se=se,
        theory=theory,
        theory_grid=-summaries.fit_power_law(k[em], de[em])[0],
        source=table.SRC_EXPONENT,
        note=note,
    )


def exponent_vs_fs_row(row: Row, sel: str, k, em, fs, value: float, se: float) -> dict[str, Any]:
    """Row ``decay_exponent_vs_finite_size``: ``value`` +- ``se`` against the same fit to the
    finite-size exact average ``fs`` over k of the same training sets."""
    return row(
        "decay_exponent_vs_finite_size",
        sel,
        value=value,
        se=se,
        theory_grid=-summaries.fit_power_law(k[em], fs[em])[0],
        source="itscale.finite_size.delta_fitted",
        note=table.NOTE_FS_EXPONENT,
    )
