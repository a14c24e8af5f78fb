"""Bootstrap over problems: determinism, an independent resampling route, coverage of the true
Gaussian-model error, optima and paired comparisons."""

from __future__ import annotations

import numpy as np
import pytest

from itscale.empirical import delta_pool_problems
from itscale.empirical.bootstrap import (
    bootstrap_argmin,
    bootstrap_counts,
    bootstrap_means,
    paired_difference,
    percentile_interval,
)
from itscale.theory.selection import delta_exact


def test_counts_are_seeded_and_sum_to_problems():
    a, b = bootstrap_counts(50, 20, seed=3), bootstrap_counts(50, 20, seed=3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, bootstrap_counts(50, 20, seed=4))
    assert a.shape == (20, 50) and (a.sum(axis=1) == 50).all()


def test_means_equal_explicit_resampling():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(30, 2, 3))
    counts = bootstrap_counts(30, 7, seed=1)
    idx = [np.repeat(np.arange(30), c) for c in counts]  # the resampled problem lists
    want = np.stack([values[i].mean(axis=0) for i in idx])
    np.testing.assert_allclose(bootstrap_means(values, counts), want, rtol=1e-13)


def test_percentile_interval_coverage_of_true_error():
    """200 synthetic data sets of 40 Gaussian-model pools (K = 6): the 95% percentile interval
    of the pool estimate at k = 3 covers delta_exact in 0.95 +- 4 binomial SE (0.062)."""
    m, s, mu_T, mu_R, K, P, n_sets = 0.3, 1.0, 0.0, 0.5, 6, 40, 200
    truth = float(delta_exact(3, 0.0, m, s, mu_T, mu_R))
    y = np.random.default_rng(99).normal(m, s, size=(n_sets * P, K))
    per = delta_pool_problems((y - mu_T) ** 2, -((y - mu_R) ** 2), [3], [0.0])[:, 0, 0]
    per = per.reshape(n_sets, P)
    counts = bootstrap_counts(P, 200, seed=5)
    lower, upper = percentile_interval(bootstrap_means(per.T, counts), 0.95)
    coverage = np.mean((lower <= truth) & (truth <= upper))
    se = np.sqrt(0.95 * 0.05 / n_sets)
    assert abs(coverage - 0.95) < 4 * se, coverage


def test_argmin_and_interval():
    grid = np.array([1.0, 2.0, 3.0, 4.0])
    rng = np.random.default_rng(2)
    curve = np.array([3.0, 1.0, 2.0, 4.0])  # clear minimum at grid value 2
    values = curve + 0.1 * rng.normal(size=(100, 4))
    point, lower, upper = bootstrap_argmin(values, grid, bootstrap_counts(100, 300, 0))
    assert point == 2.0 and lower == 2.0 and upper == 2.0
    flat = 0.3 * rng.normal(size=(100, 4))  # no clear minimum: the interval spans the grid
    _, lower, upper = bootstrap_argmin(flat, grid, bootstrap_counts(100, 300, 0))
    assert lower < upper


def test_paired_difference():
    rng = np.random.default_rng(4)
    shared = rng.normal(size=200)  # problem difficulty, common to both judges
    a = shared + 0.05 * rng.normal(size=200)
    b = shared + 0.2 + 0.05 * rng.normal(size=200)
    counts = bootstrap_counts(200, 500, 1)
    diff, lower, upper, frac = paired_difference(a, b, counts)
    assert diff == pytest.approx(np.mean(a - b))
    assert lower < diff < upper < 0 and frac == 1.0
    # unpaired spread would be ~0.07; the paired interval is far narrower
    assert upper - lower < 0.05
    _, _, _, frac_same = paired_difference(a, a + 0.0 * b, counts)
    assert frac_same == 0.0


def test_argmin_ties_resolve_to_first_grid_point():
    grid = np.array([0.0, 0.1, 1.0])
    values = np.array([[0.5, 0.5 - 1e-16, 0.9], [0.7, 0.7, 0.8]])  # equal up to rounding
    point, lower, upper = bootstrap_argmin(values, grid, bootstrap_counts(2, 50, 0))
    assert point == 0.0 and lower == 0.0 and upper == 0.0
