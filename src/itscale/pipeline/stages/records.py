"""Stage "records": a judge-data experiment's records file read, checked and labelled.

Calls :func:`itscale.empirical.read_records` with the record format of the config; bad input
(missing field, non-numeric or non-finite value, duplicate candidate, empty file) raises
:class:`~itscale.empirical.RecordError` naming the file, the line and the field, before
anything is written. Every judge of the file is read (the judge list is the analysis's).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import xarray as xr

from itscale.empirical.records import RecordFormat, read_records
from itscale.pipeline.datasets import annotate, provenance_attrs

__all__ = ["ATTRS", "record_format", "build"]

_LOG = logging.getLogger("itscale.records")

#: long_name and units of the text variables (written as character arrays; the library sets
#: the others').
ATTRS: dict[str, tuple[str, str]] = {
    "problem": ("problem id", "1"),
    "judge": ("judge name", "1"),
    "candidate_id": ("candidate id from the input (empty: absent)", "1"),
}


def record_format(p: Mapping[str, Any]) -> RecordFormat:
    """The :class:`RecordFormat` of the records parameters ``p``."""
    return RecordFormat(
        layout=p["layout"],
        problem=p["problem"],
        candidate=p["candidate"],
        quality=p["quality"],
        quality_kind=p["quality_kind"],
        score_fields=tuple(p["score_fields"]),
        score_dict=p["score_dict"],
    )


def build(p: Mapping[str, Any], log: logging.Logger = _LOG) -> xr.Dataset:
    """Dataset of the records stage for parameters ``p`` (``STAGE_PARAMS["records"]``).

    Variables: loss (problem, candidate), score (judge, problem, candidate), NaN for absent
    candidates; attributes: the source file name and the sha256 of its bytes, and provenance.
    """
    log.info("reading %s (layout %s)", p["source"], p["layout"])
    ds = read_records(p["source"], record_format(p))
    sizes = ds["loss"].notnull().sum("candidate").values
    log.info(
        "%d problems, pools of %d to %d candidates, %d judges; sha256 %s",
        *(ds.sizes["problem"], sizes.min(), sizes.max(), ds.sizes["judge"]),
        ds.attrs["source_sha256"],
    )
    title = f"itscale records: scored candidates of {ds.attrs['source_file']}"
    ds.attrs.update(provenance_attrs("records", p, None, title=title))
    return annotate(ds, ATTRS)
