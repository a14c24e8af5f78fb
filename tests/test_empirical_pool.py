"""The exact pool estimator against independent routes: brute enumeration, closed-form pass@k,
the project's exact Gaussian-model error, and numbers published with the RewardMATH data."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from itscale.empirical import (
    delta_pool,
    delta_pool_problems,
    normalise_scores,
    oracle_pool,
    pooled_sd,
)
from itscale.empirical.records import judge_arrays, read_records
from itscale.theory.selection import delta_exact

DATA = Path(__file__).resolve().parents[1] / "data" / "rewardmath" / "rewardmath_bon.jsonl.gz"


def brute_force(loss, score, k, T):
    """Problem average of the subset mean, by enumerating every k-subset (small pools only)."""
    per_problem = []
    for lrow, rrow in zip(loss, score, strict=True):
        keep = ~np.isnan(lrow)
        lp, rp = lrow[keep], rrow[keep]
        values = []
        for subset in itertools.combinations(range(lp.size), k):
            ls, rs = lp[list(subset)], rp[list(subset)]
            if T == 0:
                values.append(ls[rs == rs.max()].mean())
            elif np.isinf(T):
                values.append(ls.mean())
            else:
                w = np.exp((rs - rs.max()) / T)
                values.append(np.dot(ls, w) / w.sum())
        per_problem.append(np.mean(values))
    return np.mean(per_problem)


def _pools(kind: str, rng) -> tuple[np.ndarray, np.ndarray]:
    loss = rng.uniform(0.0, 2.0, size=(3, 8))
    score = rng.normal(size=(3, 8))
    if kind == "ties":
        score = np.round(score * 1.5)  # integer grades, many ties
    elif kind == "ragged":
        loss[0, 5:] = np.nan
        score[0, 5:] = np.nan
        loss[2, 6:] = np.nan
        score[2, 6:] = np.nan
    elif kind == "huge":  # reward-model scale: around -240 with spreads of hundreds
        score = -240.0 + rng.normal(size=(3, 8)) * np.array([[0.3], [30.0], [300.0]])
    elif kind == "negative_loss":
        loss = loss - 5.0
    return loss, score


@pytest.mark.parametrize("kind", ["plain", "ties", "ragged", "huge", "negative_loss"])
def test_against_brute_force(kind):
    rng = np.random.default_rng(["plain", "ties", "ragged", "huge", "negative_loss"].index(kind))
    loss, score = _pools(kind, rng)
    k_max = int((~np.isnan(loss)).sum(axis=1).min())
    k = np.array(sorted({1, 2, 3, k_max}))
    T = np.array([0.0, 0.1, 0.7, 3.0, 50.0, np.inf])
    got = delta_pool(loss, score, k, T)
    assert got.shape == (k.size, T.size)
    want = np.array([[brute_force(loss, score, kv, t) for t in T] for kv in k])
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=0)


def test_full_pool_and_single_candidate():
    rng = np.random.default_rng(7)
    loss, score = rng.uniform(size=(4, 6)), rng.normal(size=(4, 6)) * 3
    T = np.array([0.0, 0.2, 5.0])
    got = delta_pool_problems(loss, score, [1, 6], T)
    np.testing.assert_allclose(got[:, 0, :], loss.mean(axis=1)[:, None] * np.ones(3), rtol=1e-12)
    w = np.exp((score - score.max(axis=1, keepdims=True)) / 0.2)
    np.testing.assert_allclose(got[:, 1, 1], (loss * w).sum(1) / w.sum(1), rtol=1e-10)
    np.testing.assert_allclose(got[:, 1, 0], loss[np.arange(4), score.argmax(axis=1)], rtol=1e-12)


def test_quadrature_converges_under_step_halving():
    rng = np.random.default_rng(11)
    loss, score = rng.uniform(size=(20, 30)), rng.normal(size=(20, 30))
    k, T = [2, 5, 30], [0.02, 0.3, 3.0, 30.0]
    coarse = delta_pool_problems(loss, score, k, T)
    fine = delta_pool_problems(loss, score, k, T, step=0.15)
    np.testing.assert_allclose(coarse, fine, rtol=1e-11, atol=0)


def test_oracle_is_pass_at_k_and_min_of_subsets():
    rng = np.random.default_rng(3)
    correct = (rng.uniform(size=(6, 9)) < 0.3).astype(float)
    loss = 1.0 - correct
    for k in (1, 2, 4, 9):
        c = correct.sum(axis=1).astype(int)
        fail = np.mean([math.comb(9 - ci, k) / math.comb(9, k) for ci in c])
        assert oracle_pool(loss, [k])[0] == pytest.approx(fail, rel=1e-12)
    real = rng.normal(size=(3, 7))
    for k in (1, 3, 7):
        want = np.mean([np.mean([min(row[list(s)]) for s in itertools.combinations(range(7), k)])
                        for row in real])  # fmt: skip
        assert oracle_pool(real, [k])[0] == pytest.approx(want, rel=1e-12)


def test_normalisation_rescales_temperature():
    rng = np.random.default_rng(5)
    loss, score = rng.uniform(size=(10, 7)), rng.normal(size=(10, 7)) * 40.0 + 3.0
    normed, scale = normalise_scores(score, "pooled_sd")
    dev = score - score.mean(axis=1, keepdims=True)
    assert scale == pytest.approx(np.sqrt((dev**2).sum() / (10 * 6)), rel=1e-13)
    assert scale == pooled_sd(score)
    T = np.array([0.0, 0.3, 2.0])
    np.testing.assert_allclose(
        delta_pool(loss, normed, [3], T), delta_pool(loss, score, [3], T * scale), rtol=1e-10
    )


def test_gaussian_model_matches_delta_exact():
    """Pools of the project's model: the average pool estimate equals delta_exact (4 SE)."""
    m, s, mu_T, mu_R, K, P = 0.4, 1.0, 0.0, -0.6, 8, 3000
    rng = np.random.default_rng(2024)
    y = rng.normal(m, s, size=(P, K))
    loss, score = (y - mu_T) ** 2, -((y - mu_R) ** 2)  # softmax(score / T): delta_exact's T
    k = np.arange(1, K + 1)
    T = np.array([0.0, 0.3, 2.0])
    per = delta_pool_problems(loss, score, k, T)
    est, se = per.mean(axis=0), per.std(axis=0, ddof=1) / np.sqrt(P)
    exact = delta_exact(k[:, None], T[None, :], m, s, mu_T, mu_R)
    z = np.abs(est - exact) / se
    assert z.max() < 4.0, z
    assert est[-1, 0] < est[0, 0] - 10 * se[0, 0]  # selection visibly helps: a test that can fail


def test_rewardmath_published_best_of_10():
    """Best-of-10 accuracy with ties averaged, as published with the data (computed upstream)."""
    ds = read_records(DATA)
    published = {"InternLM2-7B-Reward": 0.373, "judge:gpt-4o": 0.356}
    for judge, accuracy in published.items():
        loss, score = judge_arrays(ds, judge)
        assert round(1.0 - delta_pool(loss, score, [10], [0.0])[0, 0], 3) == accuracy
    assert round(1.0 - delta_pool(loss, score, [1], [0.0])[0, 0], 3) == 0.100  # random pick


@pytest.mark.parametrize(
    ("loss", "score", "k", "T", "message"),
    [
        ([[1.0, np.nan]], [[1.0, 2.0]], [1], [0.0], "NaN at the same places"),
        ([[1.0, 2.0]], [[1.0, 2.0]], [3], [0.0], "exceeds the pool"),
        ([[1.0, 2.0]], [[1.0, 2.0]], [0], [0.0], "k must be >= 1"),
        ([[1.0, 2.0]], [[1.0, 2.0]], [1], [-1.0], "T must be >= 0"),
        ([[1.0, 2.0]], [[1.0, np.inf]], [1], [0.0], "finite"),
        ([1.0, 2.0], [1.0, 2.0], [1], [0.0], "2-D"),
    ],
)
def test_bad_arguments(loss, score, k, T, message):
    with pytest.raises(ValueError, match=message):
        delta_pool(np.array(loss), np.array(score), np.array(k), np.array(T))
