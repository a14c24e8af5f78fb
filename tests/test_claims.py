"""The paper's qualitative claims, asserted on the theory arrays (no Monte Carlo).

At the paper's settings (d = 10, S = 1, sigma = 1e-4, gamma = 1e-3, teacher weights N(0, 2^2),
n = 1e4, T / 2 sigma^2 = 10 where a temperature is finite), with the deterministic-equivalent
error itscale.theory.equivalents.delta_de:

- with the teacher as judge (c = 0) the error decreases monotonically in k (T = 0 and T > 0);
- a misspecified judge (c = 15) has an interior minimum in k: a finite optimal k*;
- at fixed k the error has an interior minimum in T (c = 10): neither T = 0 nor T = inf;
- at finite T the optimal judge is not the teacher: c* > 0;
- best-of-k reaches errors below sigma^2, which no amount of data reaches at k = 1;
- harder tasks (larger rho) decay more slowly in k.
"""

from __future__ import annotations

import numpy as np
import pytest

from itscale.theory import equivalents, expansions

P = {"n": 10_000, "d": 10, "S": 1.0, "sigma": 1e-4, "gamma": 1e-3, "w_norm2": 4.0}
SIGMA2 = P["sigma"] ** 2
T10 = 10.0 * 2.0 * SIGMA2  # T / (2 sigma^2) = 10
K = np.unique(np.round(np.geomspace(1, 100, 25)).astype(int))


def de(k, T, c, **over):
    return np.asarray(equivalents.delta_de(k, T, c=c, **{**P, **over}))


@pytest.mark.parametrize("T", [0.0, T10])
def test_teacher_judge_decreases_monotonically_in_k(T):
    d = de(K, T, 0.0)
    assert np.all(np.diff(d) < 0), d / SIGMA2


def test_misspecified_judge_has_interior_minimum_in_k():
    k = np.arange(1, 101)
    d = de(k, T10, 15.0)
    i = int(np.argmin(d))
    assert 1 < k[i] < k[-1], f"k* = {k[i]}"
    assert d[-1] > d[i] * (1 + 1e-4), "no rise after the minimum"
    assert d[0] > d[i]


def test_small_misspecification_still_monotone():
    d = de(K, T10, 5.0)
    assert np.all(np.diff(d) < 0)


def test_interior_minimum_in_temperature():
    T = np.concatenate([[0.0], 2 * SIGMA2 * np.array([0.3, 1.0, 3.0, 10.0, 30.0]), [np.inf]])
    d = de(10, T, 10.0)
    i = int(np.argmin(d))
    assert 0 < i < T.size - 1, f"minimum at T = {T[i]}"
    assert d[i] < min(d[0], d[-1])


def test_optimal_judge_is_not_the_teacher_at_finite_T():
    c = np.array([0.0, 2.5, 5.0, 7.5, 10.0, 15.0])
    d = de(50, T10, c)
    i = int(np.argmin(d))
    assert c[i] > 0, d / SIGMA2
    assert d[i] < d[0]
    # and it approaches T / (2 s^2) as k -> inf
    s2 = float(equivalents.predictive_variance_de(P["n"], P["d"], P["S"], P["sigma"], P["gamma"]))
    assert float(expansions.optimal_judge_limit(T10, s2)) == pytest.approx(10.0, rel=2e-3)


def test_selection_beats_any_amount_of_data():
    n = np.array([1e2, 1e4, 1e6, 1e9])
    d1 = np.array([float(de(1, 0.0, 0.0, n=v)) for v in n])
    assert np.all(d1 > SIGMA2)
    assert float(de(2, 0.0, 0.0)) < SIGMA2


def test_harder_tasks_gain_less():
    rho1 = float(equivalents.difficulty(P["n"], P["d"], P["S"], P["sigma"], P["gamma"], 1.0))
    k1, k2 = 20, 200
    slopes = []
    for rho in (0.25, 1.0, 3.0):
        d = de(np.array([k1, k2]), 0.0, 0.0, w_norm2=rho / rho1)
        slopes.append(-np.log(d[1] / d[0]) / np.log(k2 / k1))
    assert slopes[0] > slopes[1] > slopes[2] > 0
    assert slopes[0] == pytest.approx(2.0, abs=0.15)
