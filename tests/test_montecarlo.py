"""Tests of the Monte Carlo engine (itscale.simulation.montecarlo)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, special
from scipy.stats import norm

from itscale.simulation import _reference as ref
from itscale.simulation import montecarlo as mc

# ------------------------------------------------------------------------------------------
# Independent reference implementations
# ------------------------------------------------------------------------------------------


def judge(mu_T, m, c):
    return mu_T - c * (m - mu_T)


def brute_force(z, m, s, mu_T, k_grid, T, c):
    """Per (input, trial, k) estimate by explicit selection, one trial at a time."""
    n, trials, _ = z.shape
    out = np.empty((n, trials, len(k_grid)))
    mu_R = judge(mu_T, m, c)
    for i in range(n):
        for t in range(trials):
            y = m[i] + s[i] * z[i, t]
            e = (y - mu_T[i]) ** 2
            for j, k in enumerate(k_grid):
                if T == 0:
                    out[i, t, j] = e[np.argmin(np.abs(y[:k] - mu_R[i]))]
                elif np.isinf(T):
                    out[i, t, j] = np.mean(e[:k])
                else:
                    p = special.softmax(-((y[:k] - mu_R[i]) ** 2) / T)
                    out[i, t, j] = np.dot(p, e[:k])
    return out


def best_of_k_integral(k, m, s, mu_T, mu_R):
    """T = 0 exact per-input error: Int e(y) k f(y) (1 - G(|y - mu_R|))^(k-1) dy."""

    def G(r):
        return norm.cdf((mu_R + r - m) / s) - norm.cdf((mu_R - r - m) / s)

    def integrand(y):
        return (y - mu_T) ** 2 * k * norm.pdf(y, m, s) * (1 - G(abs(y - mu_R))) ** (k - 1)

    lo, hi = m - 12 * s, m + 12 * s
    val, _ = integrate.quad(integrand, lo, hi, points=[mu_R], limit=200, epsabs=1e-13)
    return val


def exact_k1(k_grid, T, m, s, mu_T, mu_R):
    """Exact value for k = 1 (any T) and T = inf (any k): b^2 + s^2, broadcast over k."""
    val = (np.asarray(m) - np.asarray(mu_T)) ** 2 + np.asarray(s) ** 2
    return np.repeat(val[..., None], len(k_grid), axis=-1)


def inputs(n, rng):
    m = rng.normal(0.0, 1.0, n)
    s = rng.uniform(0.4, 1.5, n)
    mu_T = m + rng.normal(0.0, 0.8, n)
    return m, s, mu_T


def replicated(m0, s0, t0, n):
    return np.full(n, m0), np.full(n, s0), np.full(n, t0)


STATS_FIELDS = ("blocks", "count", "mean", "m2")


def assert_stats_equal(a, b):
    for f in STATS_FIELDS:
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    for x, y in zip(mc.summarise(a), mc.summarise(b), strict=True):
        assert np.array_equal(x, y, equal_nan=True)


# ------------------------------------------------------------------------------------------
# Statistical checks against exact values
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("m0", "s0", "t0"), [(0.0, 1.0, 0.0), (1.0, 0.5, 0.2), (-0.3, 2.0, 1.5), (2.0, 0.3, -1.0)]
)
def test_k1_and_no_selection_give_b2_plus_s2(m0, s0, t0):
    m, s, mu_T = replicated(m0, s0, t0, 400)
    stats = mc.run(
        m, s, mu_T, k_grid=[1, 3, 10], T_grid=[0.0, 0.3, np.inf], c_grid=[0.0, 1.0],
        trials=20, seed=11, replicate=0, block_size=100,
    )  # fmt: skip
    mean, se = mc.summarise(stats)
    exact = (m0 - t0) ** 2 + s0**2
    k1 = mean[:, :, 0]
    assert np.all(np.abs(k1 - exact) < 4 * se[:, :, 0])
    no_sel = mean[2]
    assert np.all(np.abs(no_sel - exact) < 4 * se[2])
    # k = 1 is the same draw whatever the temperature and judge
    assert np.all(k1 == k1[0, 0])


@pytest.mark.parametrize("c", [0.0, 0.6])
def test_best_of_two_matches_numerical_integration(c):
    m0, s0, t0 = 0.4, 0.8, -0.1
    m, s, mu_T = replicated(m0, s0, t0, 3000)
    stats = mc.run(
        m, s, mu_T, k_grid=[1, 2, 5], T_grid=[0.0], c_grid=[c],
        trials=10, seed=5, replicate=2, block_size=1000,
    )  # fmt: skip
    mean, se = mc.summarise(stats)
    mu_R = judge(t0, m0, c)
    for j, k in enumerate([1, 2, 5]):
        exact = best_of_k_integral(k, m0, s0, t0, mu_R)
        assert abs(mean[0, 0, j] - exact) < 4 * se[0, 0, j], (k, mean[0, 0, j], exact)


def test_integral_reference_is_consistent():
    # k = 1 of the integral reference is b^2 + s^2
    assert best_of_k_integral(1, 0.4, 0.8, -0.1, 0.3) == pytest.approx(0.5**2 + 0.64, rel=1e-10)


# ------------------------------------------------------------------------------------------
# Kernels against brute force on the same draws
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("c", [0.0, 0.5, -0.7])
def test_best_of_k_equals_brute_force_exactly(c):
    rng = np.random.default_rng(1)
    m, s, mu_T = inputs(6, rng)
    k_grid = [1, 2, 3, 8, 25]
    z = mc.candidate_normals(seed=4, replicate=0, block=2, rows=6, trials=7, k_max=25)
    got = mc.prefix_estimates(z, m, s, mu_T, k_grid=k_grid, T=0.0, c=c)
    assert np.array_equal(got, brute_force(z, m, s, mu_T, k_grid, 0.0, c))


@pytest.mark.parametrize("T_over_s2", [1e-4, 1e-2, 0.3, 1.0, 30.0, 1e4])
@pytest.mark.parametrize("c", [0.0, 1.0])
def test_softmax_matches_scipy_brute_force(T_over_s2, c):
    rng = np.random.default_rng(2)
    m, s, mu_T = inputs(5, rng)
    s = np.full(5, 0.9)
    T = T_over_s2 * 0.81
    k_grid = [1, 2, 4, 9, 30]
    z = mc.candidate_normals(seed=1, replicate=3, block=0, rows=5, trials=6, k_max=30)
    got = mc.prefix_estimates(z, m, s, mu_T, k_grid=k_grid, T=T, c=c)
    ref = brute_force(z, m, s, mu_T, k_grid, T, c)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=0)


def test_no_selection_matches_brute_force():
    rng = np.random.default_rng(3)
    m, s, mu_T = inputs(4, rng)
    z = mc.candidate_normals(seed=2, replicate=0, block=1, rows=4, trials=5, k_max=12)
    got = mc.prefix_estimates(z, m, s, mu_T, k_grid=[1, 5, 12], T=np.inf, c=0.3)
    np.testing.assert_allclose(got, brute_force(z, m, s, mu_T, [1, 5, 12], np.inf, 0.3), 1e-14)


def test_robust_softmax_agrees_with_fast_path():
    rng = np.random.default_rng(4)
    K, N = 40, 300
    y = rng.normal(size=(K, N))
    e = (y - 0.2) ** 2
    mu_R = rng.normal(size=N)
    slots = ref._grid_slots(np.array([1, 2, 10, 40]))
    fast = np.empty((4, N))
    robust = np.empty((4, N))
    bad = ref._softmax_fast(y, e, mu_R, 1 / 0.7, slots, fast)
    ref._softmax_robust(y, e, mu_R, 0.7, slots, robust)
    assert not bad.any()
    np.testing.assert_allclose(fast, robust, rtol=1e-13)
    # at T / s^2 = 1e-4 most sequences overflow the fast path and take the robust one
    assert ref._softmax_fast(y, e, mu_R, 1e4, slots, fast).mean() > 0.5


def test_tiny_temperature_is_finite_and_approaches_best_of_k():
    rng = np.random.default_rng(5)
    m, s, mu_T = inputs(300, rng)
    stats = mc.run(
        m, s, mu_T, k_grid=[1, 2, 5, 20, 60], T_grid=[0.0, 1e-8, 1e-4], c_grid=[0.0, 0.5],
        trials=8, seed=9, replicate=0, block_size=128, memory_budget=2**21, best_of_k="plain",
    )  # fmt: skip
    mean, se = mc.summarise(stats)
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(se))
    # T / s^2 ~ 1e-4 .. 6e-4 here: the soft choice is almost always the hard one
    scale = s.min() ** 2
    assert 1e-4 / scale < 1e-3
    np.testing.assert_allclose(mean[1], mean[0], rtol=1e-5)
    np.testing.assert_allclose(mean[2], mean[0], rtol=0.05)
    assert np.all(np.abs(mean[2] - mean[0]) < np.abs(mean[0, :, :1] - mean[0]) + 1e-12)


def test_engine_uses_the_documented_draws():
    rng = np.random.default_rng(6)
    m, s, mu_T = inputs(9, rng)
    k_grid = [1, 3, 7]
    T_grid = [0.0, 0.5, np.inf]
    stats = mc.simulate_block(
        m, s, mu_T, k_grid=k_grid, T_grid=T_grid, c_grid=[0.25], trials=4,
        seed=8, replicate=1, block=5, memory_budget=6000, best_of_k="plain",
    )  # fmt: skip
    z = mc.candidate_normals(seed=8, replicate=1, block=5, rows=9, trials=4, k_max=7)
    for t, T in enumerate(T_grid):
        per_input = brute_force(z, m, s, mu_T, k_grid, T, 0.25).mean(axis=1)
        np.testing.assert_allclose(stats.mean[0, t, 0], per_input.mean(axis=0), rtol=1e-13)
        dev = per_input - per_input.mean(axis=0)
        np.testing.assert_allclose(stats.m2[0, t, 0], (dev**2).sum(axis=0), rtol=1e-10)


# ------------------------------------------------------------------------------------------
# Standard errors, combination, Rao-Blackwellisation
# ------------------------------------------------------------------------------------------


def test_summarise_matches_direct_mean_and_se():
    rng = np.random.default_rng(7)
    m, s, mu_T = inputs(250, rng)
    kw = dict(k_grid=[1, 4], T_grid=[0.0, np.inf], c_grid=[0.0], trials=3, seed=1, replicate=0)
    kw["best_of_k"] = "plain"  # T = 0 on the documented draws
    stats = mc.run(m, s, mu_T, block_size=60, **kw)
    assert stats.blocks.tolist() == [0, 1, 2, 3, 4] and stats.count.tolist() == [60] * 4 + [10]
    per_input = []
    for b in range(5):
        sl = slice(60 * b, 60 * (b + 1))
        rows = m[sl].size
        z = mc.candidate_normals(seed=1, replicate=0, block=b, rows=rows, trials=3, k_max=4)
        per_input.append(
            [
                brute_force(z, m[sl], s[sl], mu_T[sl], [1, 4], T, 0.0).mean(axis=1)
                for T in (0, np.inf)
            ]
        )
    vals = np.concatenate([np.array(p) for p in per_input], axis=1)  # (T, n, k)
    mean, se = mc.summarise(stats)
    np.testing.assert_allclose(mean[:, 0], vals.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(se[:, 0], vals.std(axis=1, ddof=1) / np.sqrt(250), rtol=1e-10)


def test_rao_blackwell_with_reference_exact_function():
    rng = np.random.default_rng(8)
    m, s, mu_T = inputs(101, rng)
    stats = mc.run(
        m, s, mu_T, k_grid=[1, 2, 9], T_grid=[0.0, np.inf], c_grid=[0.0, 2.0], trials=5,
        seed=0, replicate=0, block_size=25, rao_blackwell=True, exact_fn=exact_k1,
    )  # fmt: skip
    assert stats.estimator == "rao_blackwell"
    mean, se = mc.summarise(stats)
    vals = (m - mu_T) ** 2 + s**2
    np.testing.assert_allclose(mean, vals.mean(), rtol=1e-13)
    np.testing.assert_allclose(se, vals.std(ddof=1) / np.sqrt(101), rtol=1e-10)
    sampled = mc.run(
        m, s, mu_T, k_grid=[1, 2, 9], T_grid=[np.inf], c_grid=[0.0], trials=40,
        seed=0, replicate=0, block_size=25,
    )  # fmt: skip
    s_mean, s_se = mc.summarise(sampled)
    assert np.all(np.abs(s_mean[0, 0] - vals.mean()) < 4 * np.hypot(s_se[0, 0], se[1, 0]))


def test_rao_blackwell_against_selection_module():
    selection = pytest.importorskip("itscale.theory.selection")
    if not hasattr(selection, "delta_exact_curves"):
        pytest.skip("itscale.theory.selection.delta_exact_curves not available yet")
    m0, s0, t0 = 0.3, 0.7, -0.2
    m, s, mu_T = replicated(m0, s0, t0, 1500)
    kw = dict(
        k_grid=[1, 2, 6], T_grid=[0.0, 0.4], c_grid=[0.0, 0.5], seed=3, replicate=0, block_size=500
    )
    rb_mean, _ = mc.summarise(mc.run(m[:2], s[:2], mu_T[:2], trials=1, rao_blackwell=True, **kw))
    mean, se = mc.summarise(mc.run(m, s, mu_T, trials=10, **kw))
    assert np.all(np.abs(mean - rb_mean) < 4 * se)


def test_rao_blackwell_rejects_bad_exact_function():
    m, s, mu_T = inputs(4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="exact_fn"):
        mc.simulate_block(
            m, s, mu_T, k_grid=[1, 2], T_grid=[1.0], c_grid=[0.0], trials=1, seed=0,
            replicate=0, block=0, rao_blackwell=True, exact_fn=lambda *a: np.zeros(3),
        )  # fmt: skip


# ------------------------------------------------------------------------------------------
# Determinism
# ------------------------------------------------------------------------------------------

DET_KW = dict(
    k_grid=[1, 2, 5, 16], T_grid=[0.0, 1e-3, 0.5, np.inf], c_grid=[0.0, 0.8], trials=9,
    seed=21, replicate=4,
)  # fmt: skip
BLOCK = 50


@pytest.fixture(scope="module")
def det_inputs():
    return inputs(6 * BLOCK - 17, np.random.default_rng(9))


@pytest.fixture(scope="module")
def reference_stats(det_inputs):
    return mc.run(*det_inputs, block_size=BLOCK, **DET_KW)


def test_identical_across_memory_budgets(det_inputs, reference_stats):
    for budget in (40_000, 60_000, 200_000, 2**30):  # 40 kB: one input per chunk
        stats = mc.run(*det_inputs, block_size=BLOCK, memory_budget=budget, **DET_KW)
        assert_stats_equal(stats, reference_stats)


def test_identical_across_worker_counts(det_inputs, reference_stats):
    calls = []
    stats = mc.run(
        *det_inputs, block_size=BLOCK, workers=2, progress=lambda d, t: calls.append((d, t)),
        **DET_KW,
    )  # fmt: skip
    assert_stats_equal(stats, reference_stats)
    assert sorted(calls) == [(d, 6) for d in range(1, 7)]


def test_identical_across_shards_and_order(det_inputs, reference_stats):
    m, s, mu_T = det_inputs
    cut = 3 * BLOCK
    first = mc.run(m[:cut], s[:cut], mu_T[:cut], block_size=BLOCK, **DET_KW)
    second = mc.run(m[cut:], s[cut:], mu_T[cut:], block_size=BLOCK, first_block=3, **DET_KW)
    assert_stats_equal(mc.combine([first, second]), reference_stats)
    assert_stats_equal(mc.combine([second, first]), reference_stats)
    singles = [
        mc.simulate_block(
            m[b * BLOCK : (b + 1) * BLOCK],
            s[b * BLOCK : (b + 1) * BLOCK],
            mu_T[b * BLOCK : (b + 1) * BLOCK],
            block=b,
            **DET_KW,
        )  # fmt: skip
        for b in reversed(range(6))
    ]
    assert_stats_equal(mc.combine(singles), reference_stats)


def test_combine_rejects_duplicates_and_mismatch(det_inputs, reference_stats):
    with pytest.raises(ValueError, match="more than once"):
        mc.combine([reference_stats, reference_stats])
    m, s, mu_T = det_inputs
    other = mc.run(
        m[:10], s[:10], mu_T[:10], block_size=BLOCK, first_block=7, **{**DET_KW, "trials": 2}
    )
    with pytest.raises(ValueError, match="partials"):
        mc.combine([reference_stats, other])
    with pytest.raises(ValueError, match="partials"):
        mc.combine([])


def test_combine_refuses_to_mix_records_and_plain(det_inputs):
    m, s, mu_T = det_inputs
    kw = dict(k_grid=[1, 3], T_grid=[0.0], c_grid=[0.0], trials=2, seed=1, replicate=0)
    rec = mc.simulate_block(m[:5], s[:5], mu_T[:5], block=0, **kw)
    plain = mc.simulate_block(m[5:10], s[5:10], mu_T[5:10], block=1, best_of_k="plain", **kw)
    assert (rec.best_of_k, plain.best_of_k) == ("records", "plain")
    with pytest.raises(ValueError, match="best_of_k"):
        mc.combine([rec, plain])
    plain0 = mc.simulate_block(m[:5], s[:5], mu_T[:5], block=0, best_of_k="plain", **kw)
    assert mc.combine([plain0, plain]).best_of_k == "plain"


def test_seed_and_replicate_change_the_draws(det_inputs, reference_stats):
    m, s, mu_T = det_inputs
    other = mc.run(m, s, mu_T, block_size=BLOCK, **{**DET_KW, "replicate": 5})
    assert not np.array_equal(other.mean, reference_stats.mean)


# ------------------------------------------------------------------------------------------
# Argument validation
# ------------------------------------------------------------------------------------------

GOOD = dict(k_grid=[1, 2], T_grid=[0.0], c_grid=[0.0], trials=2, seed=0, replicate=0)


@pytest.mark.parametrize(
    ("override", "name"),
    [
        (dict(m=[0.0, np.nan]), "m"),
        (dict(s=[1.0, 0.0]), "s"),
        (dict(s=[1.0, -1.0]), "s"),
        (dict(mu_T=[0.0]), "same length"),
        (dict(mu_T=[[0.0, 1.0]]), "mu_T"),
        (dict(k_grid=[2, 1]), "k_grid"),
        (dict(k_grid=[0, 1]), "k_grid"),
        (dict(k_grid=[1.5]), "k_grid"),
        (dict(k_grid=[]), "k_grid"),
        (dict(T_grid=[-1.0]), "T_grid"),
        (dict(T_grid=[np.nan]), "T_grid"),
        (dict(T_grid=[1e-320]), "T_grid"),
        (dict(c_grid=[np.inf]), "c_grid"),
        (dict(trials=0), "trials"),
        (dict(trials=2.5), "trials"),
        (dict(seed=-1), "seed"),
        (dict(replicate=True), "replicate"),
        (dict(block_size=0), "block_size"),
        (dict(first_block=-2), "first_block"),
        (dict(workers=0), "workers"),
        (dict(memory_budget=0), "memory_budget"),
        (dict(memory_budget=100), "memory_budget"),
        (dict(progress="log"), "progress"),
    ],
)
def test_bad_arguments_raise_value_error(override, name):
    args = dict(m=[0.0, 1.0], s=[1.0, 1.0], mu_T=[0.0, 0.5], block_size=4, **GOOD)
    args.update(override)
    m, s, mu_T = args.pop("m"), args.pop("s"), args.pop("mu_T")
    with pytest.raises(ValueError, match=name):
        mc.run(m, s, mu_T, **args)


def test_prefix_estimates_rejects_short_draws():
    with pytest.raises(ValueError, match="z"):
        mc.prefix_estimates(np.zeros((1, 2, 3)), [0.0], [1.0], [0.0], k_grid=[4], T=0.0, c=0.0)


def test_summarise_rejects_non_stats():
    with pytest.raises(ValueError, match="stats"):
        mc.summarise({"mean": 1})
