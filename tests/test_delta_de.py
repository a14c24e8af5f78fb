"""DE error averaged over test inputs: delta_de and delta_de_judge."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp

import itscale.theory.bias_average as bias_average
from itscale.theory.equivalents import de_summary, delta_de, delta_de_judge

PAPER = dict(n=1e4, d=10, S=1.0, sigma=1e-4, gamma=1e-3)


def with_difficulty(rho):
    """Paper regime with the teacher norm chosen so that rho takes the given value."""
    base = float(de_summary(**PAPER, w_norm2=1.0)["rho"])
    return dict(PAPER, w_norm2=rho / base)


def test_published_best_of_k_coefficients_at_rho_half():
    # Independent values (exact per-input formula averaged over the bias, computed separately):
    # k^2 delta / s^2 = 4.307, 4.429, 4.4415 at k = 1e2, 1e3, 1e4 for rho = 0.5.
    p = with_difficulty(0.5)
    s2 = float(de_summary(**p)["s2"])
    k = np.array([100, 1000, 10_000])
    got = delta_de(k, 0.0, c=0.0, **p) * k**2 / s2
    for value, published, rel in zip(got, [4.307, 4.429, 4.4415], [2e-4, 2e-4, 2e-5], strict=True):
        assert value == pytest.approx(published, rel=rel)
    assert got[-1] == pytest.approx(np.pi / np.sqrt(0.5), rel=1e-3)


@pytest.mark.parametrize("T", [0.0, 3e-9, 2e-7, np.inf])
def test_single_candidate_is_bias_variance_plus_predictive_variance(T):
    p = dict(PAPER, w_norm2=4.0)
    summ = de_summary(**p)
    got = delta_de(1, T, c=7.0, **p)
    assert got == pytest.approx(float(summ["V"] + summ["s2"]), rel=1e-6)


def test_monte_carlo_over_inputs():
    """Draw inputs (b ~ N(0, V)) and candidates; softmax-select; compare within 4 SE."""
    p = dict(n=200, d=100, S=1.0, sigma=0.5, gamma=1.0, w_norm2=1.5)
    summ = de_summary(**p)
    s, V = np.sqrt(float(summ["s2"])), float(summ["V"])
    k, T, c = 8, 0.4 * s**2, 3.0
    rng = np.random.default_rng(11)
    n_inputs = 400_000
    b = np.sqrt(V) * rng.standard_normal(n_inputs)
    y = b[:, None] + s * rng.standard_normal((n_inputs, k))  # mu_T = 0, m = b
    mu_R = -c * b
    logits = -((y - mu_R[:, None]) ** 2) / T
    p_sel = np.exp(logits - logsumexp(logits, axis=1, keepdims=True))
    est = np.sum(p_sel * y**2, axis=1)
    mean, se = est.mean(), est.std(ddof=1) / np.sqrt(n_inputs)
    assert abs(delta_de(k, T, c=c, **p) - mean) < 4 * se


def test_general_judge_reduces_to_the_family():
    p = dict(PAPER, w_norm2=4.0)
    q = float(de_summary(**p)["q"])
    c = np.array([0.0, 5.0, 15.0])
    gain = 1.0 + c * (1.0 - q)  # mu_R = mu_T - c (m - mu_T) = gain * mu_T for m = q mu_T
    k = np.array([1, 10, 100])[:, None]
    T = 20.0 * 1e-8
    family = delta_de(k, T, c=c, **p)
    general = delta_de_judge(k, T, judge_overlap=4.0 * gain, judge_norm2=4.0 * gain**2, **p)
    np.testing.assert_allclose(general, family, rtol=1e-6)


def test_general_judge_monte_carlo():
    p = dict(n=300, d=60, S=1.0, sigma=0.4, gamma=0.8, w_norm2=1.0)
    summ = de_summary(**p)
    s, q = np.sqrt(float(summ["s2"])), float(summ["q"])
    overlap, judge_norm2 = 0.6, 0.9  # w_T.w_R/d, |w_R|^2/d
    k, T = 6, 0.8 * s**2
    rng = np.random.default_rng(5)
    cov = np.array([[1.0, overlap], [overlap, judge_norm2]])  # S = 1
    mu = rng.multivariate_normal([0, 0], cov, size=300_000)
    mu_T, mu_R = mu[:, 0], mu[:, 1]
    y = q * mu_T[:, None] + s * rng.standard_normal((mu_T.size, k))
    logits = -((y - mu_R[:, None]) ** 2) / T
    p_sel = np.exp(logits - logsumexp(logits, axis=1, keepdims=True))
    est = np.sum(p_sel * (y - mu_T[:, None]) ** 2, axis=1)
    mean, se = est.mean(), est.std(ddof=1) / np.sqrt(est.size)
    got = delta_de_judge(k, T, judge_overlap=overlap, judge_norm2=judge_norm2, **p)
    assert abs(got - mean) < 4 * se


def test_bias_quadrature_converged(monkeypatch):
    """The average over the bias is accurate to 1e-5 relative across difficulties and judges."""
    k = np.array([1, 3, 100, 10_000])[:, None, None]
    T = np.array([0.0, 2e-7])[None, :, None]
    for rho, c in ((0.08, np.array([0.0, 15.0])), (3.0, np.array([0.0, 1.0]))):
        p = with_difficulty(rho)
        got = delta_de(k, T, c=c, **p)
        with monkeypatch.context() as ctx:
            ctx.setattr(bias_average, "_H_MAX", 0.5)
            ctx.setattr(bias_average, "_FEATURE", 2.0)
            ref = delta_de(k, T, c=c, **p)
        assert np.max(np.abs(got / ref - 1)) < 1e-5, rho


def test_broadcast_shape():
    out = delta_de(
        np.arange(1, 6)[:, None, None],
        np.array([0.0, 1e-8])[None, :, None],
        c=np.array([0.0, 1.0, 2.0]),
        **PAPER,
        w_norm2=4.0,
    )
    assert out.shape == (5, 2, 3)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(k=0), "k"),
        (dict(T=-1.0), "T"),
        (dict(sigma=-1e-4), "sigma"),
        (dict(c=np.nan), "c"),
        (dict(w_norm2=-1.0), "w_norm2"),
        (dict(n=0), "n"),
    ],
)
def test_bad_arguments(kwargs, name):
    args = dict(k=2, T=1e-8, c=0.0, **PAPER, w_norm2=4.0) | kwargs
    k, T = args.pop("k"), args.pop("T")
    with pytest.raises(ValueError, match=rf"^{name} "):
        delta_de(k, T, **args)


def test_fast_route_matches_direct_quadrature_at_finer_orders(monkeypatch):
    """delta_de tabulates the per-input error in the judge offset and averages at Chebyshev
    points in log k, with coarser quadrature orders; spec 1e-5. Reference: the direct
    quadrature for every bias node, at orders finer than both defaults, stepped in k."""
    import itscale.theory._tables as tables
    import itscale.theory.selection as sel

    p = dict(PAPER, w_norm2=4.0)
    k = np.arange(1, 3001)[:, None, None]
    T = (np.array([0.1, 3.0, 300.0]) * 2 * PAPER["sigma"] ** 2)[None, :, None]
    c = np.array([0.0, 15.0])[None, None, :]
    fast = delta_de(k, T, c=c, **p)
    monkeypatch.setattr(tables, "_TABLE_MIN_INPUTS", 10**12)
    monkeypatch.setattr(sel, "_GL_RHO_COARSE", 12)
    monkeypatch.setattr(sel, "_GL_INNER_COARSE", 12)
    monkeypatch.setattr(sel, "_CHEB_MIN_K", 10**9)
    probe = np.array([1, 2, 7, 40, 333, 3000])
    ref = delta_de(probe[:, None, None], T, c=c, **p)
    np.testing.assert_allclose(fast[probe - 1], ref, rtol=1e-5)
    assert np.max(np.abs(fast[probe - 1] / ref - 1)) < 1e-6  # the measured margin is ~1e-7
