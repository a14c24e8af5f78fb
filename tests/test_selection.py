"""Exact per-input selection error, each check against an independent route."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate
from scipy.special import logsumexp
from scipy.stats import norm

import itscale.theory._nodes as nodes
import itscale.theory._tables as tables
import itscale.theory.selection as sel
from itscale.theory.selection import delta_exact, delta_exact_curves, judge_centre


def mc_selection(k, T, m, s, mu_T, mu_R, trials, seed):
    """Brute-force softmax selection: mean and standard error of sum_i p_i e_i."""
    rng = np.random.default_rng(seed)
    total, total2, done = 0.0, 0.0, 0
    batch = max(1, 2_000_000 // k)
    while done < trials:
        nb = min(batch, trials - done)
        y = m + s * rng.standard_normal((nb, k))
        e = (y - mu_T) ** 2
        if T == 0:
            est = e[np.arange(nb), np.argmin(np.abs(y - mu_R), axis=1)]
        else:
            logits = -((y - mu_R) ** 2) / T
            p = np.exp(logits - logsumexp(logits, axis=1, keepdims=True))
            est = np.sum(p * e, axis=1)
        total += est.sum()
        total2 += np.square(est).sum()
        done += nb
    mean = total / trials
    var = total2 / trials - mean**2
    return mean, np.sqrt(var / (trials - 1))


def t_integral(k, T, m, s, mu_T, mu_R):
    """The textbook route: delta = k Int_0^inf E[w e exp(-t w)] E[exp(-t w)]^(k-1) dt.

    Only for moderate T (the weights w = exp(-(y - mu_R)^2 / T) must not underflow). The inner
    Gaussian expectations use a dense Gauss-Legendre rule split at the judge centre.
    """
    x, wx = np.polynomial.legendre.leggauss(400)
    edges = np.unique(
        np.clip(
            [m - 12 * s, mu_R - 3 * np.sqrt(T), mu_R, mu_R + 3 * np.sqrt(T), m + 12 * s],
            m - 12 * s,
            m + 12 * s,
        )
    )
    half = np.diff(edges)[:, None] / 2
    y = (edges[:-1, None] + half * (x + 1)).ravel()
    wy = (half * wx).ravel() * norm.pdf(y, m, s)
    w = np.exp(-((y - mu_R) ** 2) / T)
    e = (y - mu_T) ** 2

    def integrand(u):
        t = np.exp(u)
        decay = np.exp(-t * w)
        return t * k * np.sum(wy * w * e * decay) * np.sum(wy * decay) ** (k - 1)

    return integrate.quad(integrand, -40, 60, epsabs=0, epsrel=1e-11, limit=400)[0]


def order_statistics(k, m, s, mu_T, mu_R):
    """T = 0 by direct integration over the selected value y."""

    def integrand(y):
        r = abs(y - mu_R)
        g = norm.cdf(mu_R + r, m, s) - norm.cdf(mu_R - r, m, s)
        return (y - mu_T) ** 2 * k * norm.pdf(y, m, s) * (1 - g) ** (k - 1)

    lo, hi = m - 14 * s, m + 14 * s
    scale = s / k
    pts = sorted({mu_R + d for d in (-10 * scale, -scale, 0.0, scale, 10 * scale)} | {m})
    pts = [p for p in pts if lo < p < hi]
    return integrate.quad(integrand, lo, hi, points=pts, epsabs=0, epsrel=1e-12, limit=800)[0]


@pytest.mark.parametrize("T", [0.0, 1e-4, 1e-2, 0.3, 1.0, 10.0, 1e4])
@pytest.mark.parametrize("offsets", [(0.0, 0.0), (0.7, -0.4), (-3.0, 4.0), (4.0, 8.0)])
def test_single_candidate_is_bias_plus_variance(T, offsets):
    b, b_judge = offsets  # m - mu_T and m - mu_R in units of s
    s = 1.7
    got = delta_exact(1, T, b * s, s, 0.0, (b - b_judge) * s)
    assert got == pytest.approx((b**2 + 1) * s**2, rel=1e-6)


def test_infinite_temperature_is_no_selection():
    k = np.array([1, 2, 10, 1000])
    got = delta_exact(k, np.inf, 0.5, 2.0, -1.0, 3.0)
    np.testing.assert_allclose(got, 1.5**2 + 4.0, rtol=1e-15)


@pytest.mark.parametrize(
    "k, T, m, s, mu_T, mu_R",
    [
        (2, 1.0, 0.3, 1.0, 0.0, 0.1),
        (5, 0.5, 1.0, 1.0, 0.0, -1.5),
        (20, 3.0, -2.0, 1.5, 0.5, 1.0),
        (10, 10.0, 1.0, 0.7, 0.0, 2.0),
        (50, 0.3, 0.0, 1.0, 0.0, 0.0),
        (3, 2.0, 0.0, 1.0, 1.0, -1.0),
    ],
)
def test_softmax_matches_t_integral(k, T, m, s, mu_T, mu_R):
    assert delta_exact(k, T, m, s, mu_T, mu_R) == pytest.approx(
        t_integral(k, T, m, s, mu_T, mu_R), rel=1e-7
    )


@pytest.mark.parametrize(
    "k, m, mu_T, mu_R",
    [
        (2, 0.3, 0.0, 0.1),
        (10, 1.0, 0.0, -1.0),
        (100, 2.0, 0.0, 0.0),
        (500, 4.0, 0.0, -4.0),
        (1000, 0.5, 0.0, 0.2),
    ],
)
def test_best_of_k_matches_order_statistics(k, m, mu_T, mu_R):
    assert delta_exact(k, 0.0, m, 1.0, mu_T, mu_R) == pytest.approx(
        order_statistics(k, m, 1.0, mu_T, mu_R), rel=1e-7
    )


# Monte Carlo at points spanning spiky (T << s^2), moderate and flat (T >> s^2) weights,
# best-of-k, and judge centres up to 4 s from the teacher and the student mean.
MC_POINTS = [
    (2, 0.0, 0.0, -1.0),
    (30, 0.0, 1.0, 3.0),
    (200, 0.0, -2.0, 2.0),
    (10, 1e-4, 0.5, -3.5),
    (300, 1e-4, 0.0, 4.0),
    (100, 1e-2, 2.0, -2.0),
    (3, 0.3, 4.0, 0.0),
    (50, 1.0, -1.0, 4.0),
    (1000, 1.0, 0.0, 0.0),
    (20, 30.0, 2.0, -4.0),
    (100, 1e4, 1.0, 1.0),
    (7, 3.0, -4.0, 4.0),
]


@pytest.mark.parametrize("k, tau, b, judge_shift", MC_POINTS)
def test_monte_carlo_within_four_standard_errors(k, tau, b, judge_shift):
    s, mu_T = 0.8, 0.25
    m = mu_T + b * s
    mu_R = mu_T + judge_shift * s
    T = tau * s**2
    exact = delta_exact(k, T, m, s, mu_T, mu_R)
    trials = max(4000, 400_000 // k)
    mean, se = mc_selection(k, T, m, s, mu_T, mu_R, trials, seed=hash((k, tau, b)) % 2**32)
    assert abs(mean - exact) < 4 * se, (mean, exact, se)


def test_zero_temperature_limit_is_continuous():
    k = np.array([2, 10, 100, 1000])
    at_zero = delta_exact(k, 0.0, 0.4, 1.0, 0.0, -0.3)
    gaps = [
        np.abs(delta_exact(k, T, 0.4, 1.0, 0.0, -0.3) / at_zero - 1) for T in (1e-3, 1e-5, 1e-7)
    ]
    assert np.all(gaps[1] < gaps[0]) and np.all(gaps[2] < gaps[1])
    assert np.all(gaps[2] < 1e-4)


def test_tilted_gaussian_limit_at_large_k():
    # k -> inf at fixed T: the selected sample is N(m', s'^2), 1/s'^2 = 1/s^2 + 2/T.
    m, s, mu_T, mu_R, T = 0.6, 1.0, 0.0, -0.8, 0.7
    s2p = 1.0 / (1.0 / s**2 + 2.0 / T)
    mp = s2p * (m / s**2 + 2.0 * mu_R / T)
    limit = (mp - mu_T) ** 2 + s2p
    k = np.array([1_000, 10_000, 100_000])
    gaps = np.abs(delta_exact_curves(k, T, m, s, mu_T, mu_R) / limit - 1)
    assert gaps[-1] < 1e-4
    # the approach is O(1/k): each decade of k shrinks the gap about tenfold
    assert np.all(gaps[1:] / gaps[:-1] < 0.2)


def refined(monkeypatch_ctx):
    """Quadrature settings about twice as fine as the defaults everywhere."""
    for module, name, value in [
        (nodes, "_GL_OUTER", 20),
        (sel, "_GL_INNER", 20),
        (nodes, "_N_SPLIT", 8),
        (nodes, "_N_UNIFORM", 64),
        (nodes, "_GEOM_RATIO", 1.6),
        (nodes, "_X_PANEL", 0.75),
        (sel, "_GL_RHO", 20),
        (nodes, "_GH_NODES", 64),
        (nodes, "_N_SERIES", 40),
        (nodes, "_GL_SMOOTH", 16),
        (nodes, "_X_SMOOTH", 1.0),
    ]:
        monkeypatch_ctx.setattr(module, name, value)


def test_quadrature_converged_to_one_part_per_million(monkeypatch):
    """Relative error <= 1e-6 for T/s^2 in 1e-4..1e4 and 0, k up to 1e5, offsets up to 4 s.

    Also at judge offsets of 20 and 30 s, which the input averages reach at large c.
    """
    taus = np.array([0.0, 1e-4, 1e-3, 1e-2, 0.1, 1.0, 3.0, 10.0, 100.0, 1e4])
    pairs = np.array(
        [(0, 0), (0.3, 0.2), (1, -1), (2, -3), (4, 8), (-1, 3), (4, -4), (-4, 4), (4, 0)]
        + [(1.5, -20), (-2, 30)],
        float,
    )
    k = np.array([1, 2, 3, 5, 10, 30, 100, 1000, 10_000, 100_000])
    tau = np.repeat(taus, len(pairs))
    b = np.tile(pairs[:, 0], len(taus))
    b_judge = np.tile(pairs[:, 1], len(taus))
    got = delta_exact_curves(k, tau, b, 1.0, 0.0, b - b_judge)
    with monkeypatch.context() as ctx:
        refined(ctx)
        ref = delta_exact_curves(k, tau, b, 1.0, 0.0, b - b_judge)
    assert np.max(np.abs(got / ref - 1)) < 1e-6


def test_chebyshev_k_interpolation_matches_stepping(monkeypatch):
    rng = np.random.default_rng(3)
    tau = np.concatenate([np.zeros(4), 10 ** rng.uniform(-4, 4, 12)])
    b = rng.uniform(-4, 4, tau.size)
    b_judge = rng.uniform(-8, 8, tau.size)
    k_dense = np.arange(1, 20_001)
    probe = np.array([1, 2, 3, 7, 46, 150, 999, 5000, 20_000])
    dense = delta_exact_curves(k_dense, tau, b, 1.0, 0.0, b - b_judge)[:, probe - 1]
    monkeypatch.setattr(sel, "_CHEB_MIN_K", 10**9)
    direct = delta_exact_curves(probe, tau, b, 1.0, 0.0, b - b_judge)
    np.testing.assert_allclose(dense, direct, rtol=1e-6)


def test_broadcasting_and_curves_agree():
    k = np.array([1, 3, 30])[:, None]
    T = np.array([0.0, 0.5, np.inf])[None, :]
    got = delta_exact(k, T, 0.2, 1.1, 0.0, -0.5)
    assert got.shape == (3, 3)
    curves = delta_exact_curves([1, 3, 30], np.array([0.0, 0.5, np.inf]), 0.2, 1.1, 0.0, -0.5)
    np.testing.assert_allclose(got, curves.T, rtol=1e-14)
    # unsorted, repeated k grids give the same values
    again = delta_exact_curves([30, 1, 30, 3], 0.5, 0.2, 1.1, 0.0, -0.5)
    np.testing.assert_allclose(again, curves[1][[2, 0, 2, 1]], rtol=1e-14)


def per_element(k, T, m, s, mu_T, mu_R):
    """delta_exact at every element of the broadcast, one single-input, single-k call each."""
    arrays = np.broadcast_arrays(k, T, m, s, mu_T, mu_R)
    out = np.empty(arrays[0].shape)
    for idx in np.ndindex(out.shape):
        kk, *rest = (a[idx] for a in arrays)
        out[idx] = delta_exact_curves(np.array([kk]), *rest)[0]
    return out


@pytest.mark.parametrize("case", ["k shared by inputs", "k per input"])
def test_irregular_broadcast_equals_per_element_evaluation(case):
    """k varying along several axes, scalars mixed in, repeated inputs, T = 0 and inf."""
    rng = np.random.default_rng(11)
    if case == "k shared by inputs":
        k = np.array([[1, 4, 4, 17], [2, 9, 60, 1], [5, 5, 3, 200]])[:, None, :]  # (3, 1, 4)
        T = np.array([[0.0], [0.7], [np.inf]])[None]  # (1, 3, 1)
        m = np.array([0.3, -1.2, 0.3, 2.0])  # (4,), a repeated value
        args = (k, T, m, 1.3, 0.2, np.array([-0.4, 0.1, 2.5])[:, None, None])
    else:  # every element its own k and input: the per-k route
        k = rng.integers(1, 50, size=(2, 5))
        args = (k, 10 ** rng.uniform(-2, 1, (2, 5)), rng.normal(size=5), 0.9, 0.0, -1.0)
    got = delta_exact(*args)
    assert got.flags.writeable and got.flags.c_contiguous
    ref = per_element(*args)
    assert got.shape == ref.shape == np.broadcast_shapes(*(np.shape(a) for a in args))
    np.testing.assert_allclose(got, ref, rtol=1e-6)
    scalar = delta_exact(*(np.ravel(a)[0] for a in args))
    assert np.shape(scalar) == ()
    assert scalar == pytest.approx(ref.flat[0], rel=1e-6)


def test_distinct_inputs_match_numpy_unique_over_the_broadcast():
    """Same rows, order and inverse as np.unique over the full grid (repeats, zeros, scalars)."""
    for trial in range(100):
        rng = np.random.default_rng(trial)
        full = tuple(rng.integers(1, 4, 2))
        shapes = [
            tuple(d if rng.random() < 0.5 else 1 for d in full)[rng.integers(0, 3) :]
            for _ in range(5)
        ]
        inputs = [np.round(rng.normal(size=sh), 1) * (rng.random(sh) < 0.7) for sh in shapes]
        uniq, inv = sel._distinct_inputs(*inputs)
        keys = np.stack([a.ravel() for a in np.broadcast_arrays(*inputs)], axis=1)
        ref, ref_inv = np.unique(keys, axis=0, return_inverse=True)
        np.testing.assert_array_equal(uniq, ref)
        np.testing.assert_array_equal(inv.ravel(), ref_inv.ravel())


def test_judge_centre_family():
    assert judge_centre(1.0, 3.0, 0.5) == pytest.approx(0.0)
    assert judge_centre(1.0, 3.0, 0.0) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(k=0), "k"),
        (dict(k=2.5), "k"),
        (dict(T=-1.0), "T"),
        (dict(T=np.nan), "T"),
        (dict(s=0.0), "s"),
        (dict(s=-1.0), "s"),
        (dict(m=np.inf), "m"),
        (dict(mu_T=np.nan), "mu_T"),
        (dict(mu_R=np.inf), "mu_R"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, name):
    args = dict(k=2, T=1.0, m=0.0, s=1.0, mu_T=0.0, mu_R=0.0) | kwargs
    with pytest.raises(ValueError, match=rf"^{name} "):
        delta_exact(**args)


def test_left_series_matches_inner_quadrature():
    """On z <= 0 the Gumbel series replaces the window quadrature: both routes agree."""
    for tau in (1e-3, 0.3, 5.0, 200.0):
        for u in (0.0, 0.7, 3.0):
            z = tau * np.array([[-25.0, -8.0, -2.0, -0.5, -1e-3, 0.0]])
            t, uu = np.array([tau]), np.array([u])
            a_series, cdf_series = nodes._left_series(z, t, uu)
            a_quad, cdf_quad, sur_quad = nodes._inner(z, t, uu, 20)
            # F enters through log(1 - F) ~ -F: absolute accuracy is what counts
            np.testing.assert_allclose(cdf_series, cdf_quad, rtol=0, atol=1e-14)
            np.testing.assert_allclose(1.0 - cdf_series, sur_quad, rtol=1e-12)
            scale = np.abs(a_quad).max()
            np.testing.assert_allclose(a_series, a_quad, rtol=1e-9, atol=1e-12 * scale)


def _batch(n, tau, c, seed=5):
    """n inputs of one experiment: s within +-1 %, bias ~ N(0, 0.3^2), judge family c."""
    rng = np.random.default_rng(seed)
    b = rng.normal(0.0, 0.3, n)
    s = rng.uniform(0.99, 1.01, n)
    return tau * np.square(s), b, s, -c * b


@pytest.mark.parametrize("tau, c", [(0.0, 0.0), (0.1, 5.0), (20.0, 5.0), (1e-3, 2.0)])
def test_tabulated_route_matches_direct_quadrature(monkeypatch, tau, c):
    """Many inputs go through tables in (T/s^2, |b'|/s); a sample must match the direct route."""
    T, b, s, mu_R = _batch(3000, tau, c)
    k = np.array([1, 2, 5, 30, 100, 1000])
    built = []
    original = tables._build_table

    def spy(*args):
        out = original(*args)
        built.append(out is not None)
        return out

    monkeypatch.setattr(tables, "_build_table", spy)
    got = delta_exact_curves(k, T, b, s, 0.0, mu_R)
    assert built and all(built), "the batch should have been tabulated"
    probe = np.linspace(0, b.size - 1, 60).astype(int)
    monkeypatch.setattr(tables, "_TABLE_MIN_INPUTS", 10**12)
    ref = delta_exact_curves(k, T[probe], b[probe], s[probe], 0.0, mu_R[probe])
    np.testing.assert_allclose(got[probe], ref, rtol=1e-6)


def test_failed_table_check_falls_back_to_direct(monkeypatch):
    T, b, s, mu_R = _batch(1200, 0.5, 3.0)
    k = np.array([1, 4, 64])
    monkeypatch.setattr(sel, "_CHECK_TOL", 0.0)  # every table fails its check
    got = delta_exact_curves(k, T, b, s, 0.0, mu_R)
    monkeypatch.setattr(tables, "_TABLE_MIN_INPUTS", 10**12)
    ref = delta_exact_curves(k, T, b, s, 0.0, mu_R)
    np.testing.assert_allclose(got, ref, rtol=1e-13)


def test_results_do_not_depend_on_thread_count():
    T, b, s, mu_R = _batch(2000, 0.3, 4.0)
    k = np.arange(1, 40)
    try:
        sel.set_num_threads(1)
        one = delta_exact_curves(k, T, b, s, 0.0, mu_R)
        sel.set_num_threads(2)
        two = delta_exact_curves(k, T, b, s, 0.0, mu_R)
    finally:
        sel.set_num_threads(None)
    np.testing.assert_array_equal(one, two)
