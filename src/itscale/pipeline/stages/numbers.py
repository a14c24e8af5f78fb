"""Stage "numbers": the key numbers of every figure with their theory values, as one table.

Reads each experiment's sampling and theory datasets (in sweep order) and builds the rows of
:mod:`itscale.report.table`, then appends the rows of every judge-data experiment read from
its analysis dataset (:mod:`itscale.report.judges`); :func:`write` saves ``numbers.csv``
and its NetCDF mirror ``numbers.nc`` (the workflow: under ``results/numbers/<key>/``, then
published to ``figures/`` with the figures). Nothing time- or host-dependent is written, so a
rerun on the same datasets gives byte-identical files.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import itscale
from itscale.pipeline.datasets import read_dataset
from itscale.pipeline.params import canonical_json
from itscale.report import table
from itscale.report.judges import judge_rows

__all__ = ["build", "write"]

_LOG = logging.getLogger("itscale.numbers")


def build(
    experiments: Mapping[str, Mapping[str, Any]],
    log: logging.Logger = _LOG,
    judge_data: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Rows of every experiment, then of every judge-data experiment, in the order given.

    ``experiments``: per name, the figure job's experiment, kind, T_unit and the paths of its
    sampling (None for theory-only points) and theory datasets. ``judge_data``: per name, the
    experiment name and the path of its analysis dataset.
    """
    jobs = []
    for name, exp in experiments.items():
        sampling = [read_dataset(path) for path in exp["sampling"] if path is not None]
        theory = [read_dataset(path) for path in exp["theory"]]
        jobs.append((exp, sampling, theory))
        log.info(
            "%s (%s): %d sampling and %d theory dataset(s)",
            *(name, exp["kind"], len(sampling), len(theory)),
        )
    rows = table.numbers_table(jobs)
    for name, jd in (judge_data or {}).items():
        log.info("%s (judge data): %s", name, jd["analysis"])
        rows += judge_rows(jd["experiment"], read_dataset(jd["analysis"]))
    return rows


def write(
    rows: Sequence[Mapping[str, Any]],
    experiments: Mapping[str, Mapping[str, Any]],
    csv_path: str | os.PathLike,
    nc_path: str | os.PathLike,
    judge_data: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Write the table as CSV and NetCDF; the NetCDF records the experiments' dataset paths
    (and the judge-data experiments' analysis paths, if any)."""
    attrs = {
        "stage": "numbers",
        "experiments": canonical_json(dict(experiments)),
        "itscale_version": itscale.__version__,
    }
    if judge_data:
        attrs["judge_data"] = canonical_json(dict(judge_data))
    table.write_table(rows, csv_path, nc_path, attrs=attrs)
