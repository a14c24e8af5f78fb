"""Real LLM-as-a-judge data: records of scored candidates, the exact pool estimator, bootstrap.

A researcher with K sampled answers per prompt, each with a quality (loss, or 0/1 correctness)
and one or more judge scores, reads them with :func:`read_records`, and :func:`analyse` gives
the error against k and T with bootstrap intervals, the empirical optima, and the
high-temperature expansion with the temperature above which it holds.
"""

from itscale.empirical.analysis import AnalysisConfig, analyse
from itscale.empirical.expansion import delta_pool_hte, validity_threshold
from itscale.empirical.pool import (
    baseline_pool,
    baseline_pool_problems,
    delta_pool,
    delta_pool_problems,
    normalise_scores,
    oracle_pool,
    oracle_pool_problems,
    pool_sizes,
    pooled_sd,
)
from itscale.empirical.records import (
    KGridError,
    RecordError,
    RecordFormat,
    check_k_grid,
    read_records,
    write_netcdf,
)

__all__ = [
    "AnalysisConfig",
    "KGridError",
    "RecordError",
    "RecordFormat",
    "analyse",
    "check_k_grid",
    "delta_pool_hte",
    "read_records",
    "validity_threshold",
    "write_netcdf",
    "baseline_pool",
    "baseline_pool_problems",
    "delta_pool",
    "delta_pool_problems",
    "normalise_scores",
    "oracle_pool",
    "oracle_pool_problems",
    "pool_sizes",
    "pooled_sd",
]
