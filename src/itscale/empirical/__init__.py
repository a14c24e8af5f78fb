"""Real LLM-as-a-judge data: records of scored candidates, the exact pool estimator, bootstrap.

A researcher with K sampled answers per prompt, each with a quality (loss, or 0/1 correctness)
and one or more judge scores, reads them with :func:`read_records`, and :func:`analyse` gives
the error against k and T with bootstrap intervals, the empirical optima, and the
high-temperature expansion with the temperature above which it holds.

The names below are imported from their modules on first use, so a job that needs only one
module (reading records, drawing the figure) does not load the compiled estimator.
"""

from __future__ import annotations

import importlib

#: public name -> the module of this package it is imported from on first use
_EXPORTS: dict[str, str] = {
    "AnalysisConfig": "analysis",
    "analyse": "analysis",
    "delta_pool_hte": "expansion",
    "validity_threshold": "expansion",
    "baseline_pool": "pool",
    "baseline_pool_problems": "pool",
    "delta_pool": "pool",
    "delta_pool_problems": "pool",
    "normalise_scores": "pool",
    "oracle_pool": "pool",
    "oracle_pool_problems": "pool",
    "pool_sizes": "pool",
    "pooled_sd": "pool",
    "KGridError": "records",
    "RecordError": "records",
    "RecordFormat": "records",
    "check_k_grid": "records",
    "read_records": "records",
    "write_netcdf": "records",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    """Import a public name from its module on first access."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
