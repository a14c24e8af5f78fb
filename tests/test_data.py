"""Data generation: determinism, distributions, stream independence, block-wise test inputs."""

import math

import numpy as np
import pytest

from itscale.simulation.data import draw_teacher, draw_test_inputs, draw_training_set, n_blocks


def test_deterministic_per_seed_and_replicate():
    w1 = draw_teacher(3, 1, 7, 0.5, 2.0)
    np.testing.assert_array_equal(w1, draw_teacher(3, 1, 7, 0.5, 2.0))
    assert not np.array_equal(w1, draw_teacher(4, 1, 7, 0.5, 2.0))
    assert not np.array_equal(w1, draw_teacher(3, 2, 7, 0.5, 2.0))
    X1, y1 = draw_training_set(3, 1, 11, 7, 1.0, 0.1, w1)
    X2, y2 = draw_training_set(3, 1, 11, 7, 1.0, 0.1, w1)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, draw_training_set(3, 2, 11, 7, 1.0, 0.1, w1)[0])
    t1 = draw_test_inputs(3, 1, 50, 7, 1.0, 16)
    np.testing.assert_array_equal(t1, draw_test_inputs(3, 1, 50, 7, 1.0, 16))
    assert not np.array_equal(t1, draw_test_inputs(5, 1, 50, 7, 1.0, 16))


def test_teacher_moments():
    d = 40_000
    w = draw_teacher(0, 0, d, 0.3, 1.7)
    assert abs(w.mean() - 0.3) < 4 * 1.7 / math.sqrt(d)
    # sample variance has relative standard error sqrt(2/d)
    assert abs(w.var() / 1.7**2 - 1) < 4 * math.sqrt(2 / d)
    vec_mean = np.linspace(-1, 1, 5)
    np.testing.assert_array_equal(draw_teacher(0, 0, 5, vec_mean, 0.0), vec_mean)


def test_training_inputs_and_labels():
    n, d, S, sigma = 4000, 25, 2.0, 0.3
    w = draw_teacher(1, 0, d, 0.0, 1.0)
    X, y = draw_training_set(1, 0, n, d, S, sigma, w)
    assert X.shape == (n, d) and y.shape == (n,)
    # entries ~ N(0, S^2/d): variance estimate over n*d entries
    N = n * d
    assert abs(X.var() / (S**2 / d) - 1) < 4 * math.sqrt(2 / N)
    assert abs(X.mean()) < 4 * S / math.sqrt(d * N)
    # |x|^2 ~ S^2 chi2_d / d: mean S^2, variance 2 S^4 / d
    sq = np.sum(X**2, axis=1)
    assert abs(sq.mean() - S**2) < 4 * S**2 * math.sqrt(2 / d / n)
    noise = y - X @ w
    assert abs(noise.std() / sigma - 1) < 4 * math.sqrt(1 / (2 * n))
    # noise independent of the inputs: correlations with each column are O(1/sqrt(n))
    corr = (X - X.mean(0)).T @ (noise - noise.mean()) / (n * X.std(0) * noise.std())
    assert np.max(np.abs(corr)) < 4.5 / math.sqrt(n)
    # sigma = 0 gives noise-free labels
    X0, y0 = draw_training_set(1, 0, n, d, S, 0.0, w)
    np.testing.assert_array_equal(X0, X)
    np.testing.assert_allclose(y0, X @ w, rtol=0, atol=0)


def test_test_inputs_independent_of_training_inputs():
    n, d = 500, 8
    w = draw_teacher(2, 0, d, 0.0, 1.0)
    X, y = draw_training_set(2, 0, n, d, 1.0, 0.5, w)
    Xt = draw_test_inputs(2, 0, n, d, 1.0, 64)
    # no test row equals any training row (not even approximately)
    dist2 = np.sum((Xt[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    assert dist2.min() > 1e-6
    # the flattened streams are uncorrelated: |r| < 4 / sqrt(N)
    N = X.size
    r = np.corrcoef(X.ravel(), Xt.ravel())[0, 1]
    assert abs(r) < 4 / math.sqrt(N)
    eps = y - X @ w
    r_noise = np.corrcoef(eps, Xt[:, 0])[0, 1]
    assert abs(r_noise) < 4 / math.sqrt(n)
    # teacher stream differs from the input streams
    assert not np.allclose(w, X[0] * math.sqrt(d))


def test_test_inputs_scale():
    n, d, S = 20_000, 10, 0.7
    Xt = draw_test_inputs(4, 3, n, d, S, 1000)
    assert abs(Xt.var() / (S**2 / d) - 1) < 4 * math.sqrt(2 / Xt.size)


@pytest.mark.parametrize("n_test,block_size", [(100, 16), (96, 16), (5, 16), (17, 1), (64, 64)])
def test_blockwise_equals_full(n_test, block_size):
    d = 3
    full = draw_test_inputs(9, 2, n_test, d, 1.5, block_size)
    nb = n_blocks(n_test, block_size)
    assert nb == math.ceil(n_test / block_size)
    assert full.shape == (n_test, d)
    parts = [draw_test_inputs(9, 2, n_test, d, 1.5, block_size, blocks=b) for b in range(nb)]
    assert all(p.shape[0] == block_size for p in parts[:-1])
    assert parts[-1].shape[0] == n_test - (nb - 1) * block_size
    np.testing.assert_array_equal(np.concatenate(parts), full)
    # a range of blocks is the matching slice; an out-of-order list concatenates in that order
    lo, hi = nb // 3, nb
    sl = draw_test_inputs(9, 2, n_test, d, 1.5, block_size, blocks=range(lo, hi))
    np.testing.assert_array_equal(sl, full[lo * block_size :])
    rev = draw_test_inputs(9, 2, n_test, d, 1.5, block_size, blocks=list(range(nb))[::-1])
    np.testing.assert_array_equal(rev, np.concatenate(parts[::-1]))


def test_shorter_run_is_a_prefix():
    long = draw_test_inputs(1, 0, 100, 4, 1.0, 32)
    short = draw_test_inputs(1, 0, 70, 4, 1.0, 32)
    np.testing.assert_array_equal(short, long[:70])


def test_blocks_are_independent_streams():
    blocks = draw_test_inputs(0, 0, 4000, 2, 1.0, 2000)
    r = np.corrcoef(blocks[:2000].ravel(), blocks[2000:].ravel())[0, 1]
    assert abs(r) < 4 / math.sqrt(4000)


W5 = np.zeros(5)


@pytest.mark.parametrize(
    "call,name",
    [
        (lambda: draw_teacher(0, 0, 0, 0.0, 1.0), "d"),
        (lambda: draw_teacher(0, 0, 2.5, 0.0, 1.0), "d"),
        (lambda: draw_teacher(-1, 0, 3, 0.0, 1.0), "seed"),
        (lambda: draw_teacher(0, -2, 3, 0.0, 1.0), "replicate"),
        (lambda: draw_teacher(0, 0, 3, np.nan, 1.0), "w_mean"),
        (lambda: draw_teacher(0, 0, 3, np.zeros(4), 1.0), "w_mean"),
        (lambda: draw_teacher(0, 0, 3, 0.0, -1.0), "w_std"),
        (lambda: draw_training_set(0, 0, 0, 5, 1.0, 0.1, W5), "n"),
        (lambda: draw_training_set(0, 0, 10, 5, 0.0, 0.1, W5), "S"),
        (lambda: draw_training_set(0, 0, 10, 5, 1.0, -0.1, W5), "sigma"),
        (lambda: draw_training_set(0, 0, 10, 5, 1.0, 0.1, np.zeros(4)), "w_T"),
        (lambda: draw_training_set(0, 0, 10, 5, 1.0, 0.1, [np.inf] * 5), "w_T"),
        (lambda: draw_test_inputs(0, 0, 0, 5, 1.0, 4), "n_test"),
        (lambda: draw_test_inputs(0, 0, 10, 5, 1.0, 0), "block_size"),
        (lambda: draw_test_inputs(0, 0, 10, 5, -1.0, 4), "S"),
        (lambda: draw_test_inputs(0, 0, 10, 5, 1.0, 4, blocks=[0, 3]), "blocks"),
        (lambda: draw_test_inputs(0, 0, 10, 5, 1.0, 4, blocks=[-1]), "blocks"),
        (lambda: n_blocks(10, 0), "block_size"),
        (lambda: n_blocks(True, 3), "n_test"),
    ],
)
def test_bad_arguments(call, name):
    with pytest.raises(ValueError, match=name):
        call()
