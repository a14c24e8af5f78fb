"""Real LLM-as-a-judge data: records of scored candidates, the exact pool estimator, bootstrap.

A researcher with K sampled answers per prompt, each with a quality (loss, or 0/1 correctness)
and one or more judge scores, reads them with :func:`read_records`, and :func:`analyse` gives
the error against k and T with bootstrap intervals, the empirical optima, and the
high-temperature expansion with the temperature above which it holds.
"""

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

__all__ = [
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
