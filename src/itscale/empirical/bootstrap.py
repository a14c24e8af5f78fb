"""Seeded bootstrap over problems: percentile intervals for curves, optima and paired differences.

Every estimate here is a problem average of per-problem values, so a bootstrap resample is a
reweighting: draw counts c (multinomial, P problems with equal probability, total P) and take
sum_p c_p v_p / P. The same counts are used for every curve of an analysis, so differences
between judges are paired. Intervals are **percentile** intervals (the alpha/2 and 1 - alpha/2
quantiles of the resampled statistic); they are not bias-corrected. The random stream is
``numpy.random.default_rng(SeedSequence(seed))``: the same seed gives the same numbers.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "bootstrap_argmin",
    "bootstrap_counts",
    "bootstrap_means",
    "paired_difference",
    "percentile_interval",
]

FloatArray = NDArray[np.float64]

#: Largest resamples x values block held at once (bounded memory for long grids).
_BLOCK = 4_000_000


def bootstrap_counts(n_problems: int, n_resamples: int, seed: int) -> NDArray[np.int64]:
    """Resampling counts, shape (n_resamples, n_problems), each row summing to n_problems."""
    if n_problems < 1 or n_resamples < 1:
        raise ValueError(f"need >= 1 problem and >= 1 resample, got {n_problems}, {n_resamples}")
    rng = np.random.default_rng(np.random.SeedSequence(int(seed)))
    probs = np.full(n_problems, 1.0 / n_problems)
    return rng.multinomial(n_problems, probs, size=n_resamples).astype(np.int64)


def bootstrap_means(values: ArrayLike, counts: ArrayLike) -> FloatArray:
    """Resampled problem averages: values (problems, ...) -> (resamples, ...)."""
    values = np.asarray(values, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    flat = values.reshape(values.shape[0], -1)
    out = np.empty((counts.shape[0], flat.shape[1]))
    step = max(1, _BLOCK // max(counts.shape[0], 1))
    for lo in range(0, flat.shape[1], step):
        out[:, lo : lo + step] = counts @ flat[:, lo : lo + step] / values.shape[0]
    return out.reshape((counts.shape[0],) + values.shape[1:])


def percentile_interval(
    samples: ArrayLike, level: float = 0.95, method: str = "linear"
) -> tuple[FloatArray, FloatArray]:
    """Percentile interval (lower, upper) over axis 0 of the resampled statistic."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    alpha = (1.0 - level) / 2.0
    q = np.quantile(np.asarray(samples), [alpha, 1.0 - alpha], axis=0, method=method)
    return q[0], q[1]


def _first_argmin(curves: FloatArray, rtol: float = 1e-10) -> NDArray[np.int64]:
    """Index of the first grid point within rtol of the minimum over the last axis (NaN skipped).

    Values equal to rounding (e.g. a softmax at T << the score gaps and T = 0) count as ties
    and the first of them (smallest k or T) is the optimum.
    """
    low = np.nanmin(curves, axis=-1, keepdims=True)
    return np.argmax(curves <= low + rtol * np.abs(low), axis=-1)


def bootstrap_argmin(
    values: ArrayLike, grid: ArrayLike, counts: ArrayLike, level: float = 0.95
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Grid optimum (argmin of the problem-average curve over the last axis) and its interval.

    values (problems, ..., G), grid (G,). Returns (point, lower, upper), each of shape (...):
    the grid value minimising the full-data average, and the percentile interval of the
    minimiser over resamples (quantiles taken among observed grid values). NaN entries of the
    curve are skipped; values within 1e-10 relative of the minimum are ties, resolved to the
    first grid point. An optimum at the grid's end means no interior optimum within the grid.
    """
    values = np.asarray(values, dtype=np.float64)
    grid = np.asarray(grid, dtype=np.float64)
    point = grid[_first_argmin(values.mean(axis=0))]
    best = grid[_first_argmin(bootstrap_means(values, counts))]
    lower, upper = percentile_interval(best, level, method="inverted_cdf")
    return point, lower, upper


def paired_difference(
    values_a: ArrayLike, values_b: ArrayLike, counts: ArrayLike, level: float = 0.95
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Paired bootstrap of mean(a) - mean(b) over problems.

    values_a, values_b: (problems, ...) per-problem errors of two judges on the same problems.
    Returns (difference, lower, upper, fraction of resamples with a < b), each of shape (...);
    a negative difference means judge a has the lower error.
    """
    diff = np.asarray(values_a, dtype=np.float64) - np.asarray(values_b, dtype=np.float64)
    means = bootstrap_means(diff, counts)
    lower, upper = percentile_interval(means, level)
    return diff.mean(axis=0), lower, upper, (means < 0).mean(axis=0)
