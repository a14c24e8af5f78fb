"""Stage "judges": the analysis of a judge-data experiment (error against k and T per judge).

Calls :func:`itscale.empirical.analyse` on the records dataset with the experiment's settings:
curves with percentile-bootstrap intervals, the optima k* and T*, the third-order expansion
and its validity threshold, paired judge differences. An unknown judge, or a k larger than
some pool, stops the job with the library's message prefixed by the records file's name.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import xarray as xr

from itscale.empirical.analysis import AnalysisConfig, analyse
from itscale.empirical.records import KGridError
from itscale.pipeline.datasets import annotate, provenance_attrs

__all__ = ["ATTRS", "analysis_config", "build", "label"]

_LOG = logging.getLogger("itscale.judges")

#: long_name and units of the text coordinates (written as character arrays; the library sets
#: the other variables').
ATTRS: dict[str, tuple[str, str]] = {
    "judge": ("judge name", "1"),
    "judge_b": ("judge name (second judge of a paired difference)", "1"),
}


def analysis_config(p: Mapping[str, Any]) -> AnalysisConfig:
    """The :class:`AnalysisConfig` of the analysis parameters ``p``."""
    return AnalysisConfig(
        judges=tuple(p["judges"]),
        k=tuple(p["k"]),
        T=tuple(p["T"]),
        bootstrap=p["bootstrap"],
        seed=p["seed"],
        level=p["level"],
        normalise=p["normalise"],
        k_ref=p["k_ref"],
        drop_small_pools=p["drop_small_pools"],
    )


def build(records: xr.Dataset, p: Mapping[str, Any], log: logging.Logger = _LOG) -> xr.Dataset:
    """Dataset of the judges stage (``STAGE_PARAMS["judges"]``) from the records dataset.

    Dims judge, k, T (and judge_b); see :func:`itscale.empirical.analyse` for the variables.
    """
    source = records.attrs["source_file"]
    log.info(
        "%s: %d judge(s) x %d k x %d T, %d bootstrap resamples (seed %d), normalise %s",
        *(source, len(p["judges"]), len(p["k"]), len(p["T"]), p["bootstrap"], p["seed"]),
        p["normalise"],
    )
    try:
        res = analyse(records, analysis_config(p))
    except KGridError as exc:
        raise KGridError(f"{source}: {exc} (in the config: drop_small_pools: true)") from None
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from None
    return label(res, p, source)


def label(res: xr.Dataset, p: Mapping[str, Any], source: str) -> xr.Dataset:
    """``res`` of :func:`itscale.empirical.analyse` with provenance and CF attributes, ready for
    :func:`itscale.pipeline.datasets.write_dataset` (the command line writes it the same way)."""
    title = f"itscale judges: LLM-as-a-judge analysis of {source}"
    res.attrs.update(provenance_attrs("judges", p, p["seed"], title=title))
    return annotate(res, ATTRS)
