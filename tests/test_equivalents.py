"""Deterministic equivalents: quadratic root accuracy, limits, and agreement with fitted BLR."""

from decimal import Decimal, localcontext

import numpy as np
import pytest

from itscale.simulation.data import draw_teacher, draw_test_inputs, draw_training_set
from itscale.simulation.posterior import fit_posterior, posterior_traces, predictive
from itscale.theory.equivalents import (
    bias_variance,
    de_summary,
    difficulty,
    predictive_variance_de,
    renormalized_ridge,
    shrinkage,
)

PAPER = dict(d=10, S=1.0, sigma=1e-4, gamma=1e-3)


def _decimal_coeffs(n, d, S, sigma, gamma):
    """lam and the linear coefficient B' = S^2 (1 - d/n) - lam, exact in 60-digit decimals."""
    n, d, S, sigma, gamma = (Decimal(float(v)) for v in (n, d, S, sigma, gamma))
    lam = d * sigma**2 / (n * gamma**2)
    return lam, S**2 * (1 - d / n) - lam, S**2


def _decimal_root(n, d, S, sigma, gamma):
    with localcontext() as ctx:
        ctx.prec = 60
        lam, lin, S2 = _decimal_coeffs(n, d, S, sigma, gamma)
        return (-lin + (lin**2 + 4 * lam * S2).sqrt()) / 2


def _relative_residual(R, n, d, S, sigma, gamma):
    """|R^2 + R B' - lam S^2| over its largest term, evaluated in 60-digit decimals."""
    with localcontext() as ctx:
        ctx.prec = 60
        lam, lin, S2 = _decimal_coeffs(n, d, S, sigma, gamma)
        r = Decimal(float(R))
        terms = (r * r, r * lin, -lam * S2)
        return float(abs(sum(terms)) / max(abs(t) for t in terms))


def _naive_root(n, d, S, sigma, gamma):
    lam = d * sigma**2 / (n * gamma**2)
    B = S**2 * (d / n - 1) + lam
    return 0.5 * (B + np.sqrt(B**2 + 4 * lam * S**2))


@pytest.mark.parametrize("n", [1e4, 2e4, 3e4])
def test_ridge_paper_regime_is_cancellation_free(n):
    p = PAPER
    R = renormalized_ridge(n, **p)
    exact = float(_decimal_root(n, **p))
    res = _relative_residual(R, n, **p)
    res_naive = _relative_residual(_naive_root(n, **p), n, **p)
    assert res < 1e-14  # measured ~1e-16
    assert abs(R / exact - 1) < 1e-14
    assert res_naive > 100 * max(res, 1e-16)  # the textbook formula loses ~5 digits (~1e-11)
    assert abs(_naive_root(n, **p) / exact - 1) > 1e-13


@pytest.mark.parametrize(
    "n,d,S,sigma,gamma",
    [
        (800, 400, 1.0, 0.3, 0.3),
        (100, 1000, 2.0, 0.1, 1.0),
        (500, 500, 1.0, 1e-3, 1.0),
        (1e6, 3, 0.5, 1e-6, 1e2),
        (10, 1e5, 1.0, 1e2, 1e-3),
        (1e4, 10, 3.0, 1.0, 1e-4),
    ],
)
def test_ridge_root_residual(n, d, S, sigma, gamma):
    R = renormalized_ridge(n, d, S, sigma, gamma)
    assert R > 0
    assert _relative_residual(R, n, d, S, sigma, gamma) < 1e-13
    assert abs(R / float(_decimal_root(n, d, S, sigma, gamma)) - 1) < 1e-13


def test_ridge_small_lambda_limits():
    S, lam_target = 1.5, 1e-9
    # d < n: R -> lam / (1 - d/n)
    n, d = 1000, 250
    sigma = np.sqrt(lam_target * n / d)  # gamma = 1
    R = renormalized_ridge(n, d, S, sigma, 1.0)
    np.testing.assert_allclose(R, lam_target / (1 - d / n), rtol=1e-8)
    # d > n: R -> S^2 (d/n - 1) (the ridge fills the null space)
    n, d = 250, 1000
    sigma = np.sqrt(lam_target * n / d)
    np.testing.assert_allclose(renormalized_ridge(n, d, S, sigma, 1.0), S**2 * 3, rtol=1e-8)
    # d = n: R -> S sqrt(lam)
    sigma = np.sqrt(lam_target)
    np.testing.assert_allclose(
        renormalized_ridge(300, 300, S, sigma, 1.0), S * np.sqrt(lam_target), rtol=1e-4
    )


def test_de_quantities_in_high_precision():
    n, d, S, sigma, gamma, w2 = 2e4, 10, 1.0, 1e-4, 1e-3, 0.8
    out = de_summary(n, d, S, sigma, gamma, w2)
    with localcontext() as ctx:
        ctx.prec = 60
        R = _decimal_root(n, d, S, sigma, gamma)
        Sd, sd, gd = Decimal(S), Decimal(sigma), Decimal(gamma)
        q = Sd**2 / (Sd**2 + R)
        s2 = sd**2 + gd**2 * R * Sd**2 / (Sd**2 + R)
        V = (1 - q) ** 2 * Sd**2 * Decimal(w2)
        ref = dict(R=R, q=q, one_minus_q=1 - q, s2=s2, V=V, rho=2 * V / s2, delta1=V + s2)
    for key, val in ref.items():
        np.testing.assert_allclose(out[key], float(val), rtol=1e-14, err_msg=key)
    # 1 - q ~ 1e-5 here: V computed from q itself would keep only ~11 digits
    assert abs(bias_variance(n, d, S, sigma, gamma, w2) / float(V) - 1) < 1e-14
    np.testing.assert_allclose(out["lam"], d * sigma**2 / (n * gamma**2), rtol=1e-15)


def test_broadcasting_matches_scalar_calls():
    n = np.array([100.0, 400.0, 1600.0])[:, None]
    gamma = np.array([0.1, 1.0])
    R = renormalized_ridge(n, 200, 1.0, 0.5, gamma)
    assert R.shape == (3, 2)
    for i in range(3):
        for j in range(2):
            assert R[i, j] == renormalized_ridge(float(n[i, 0]), 200, 1.0, 0.5, float(gamma[j]))
    for fn in (shrinkage, predictive_variance_de):
        assert fn(n, 200, 1.0, 0.5, gamma).shape == (3, 2)
    assert difficulty(n, 200, 1.0, 0.5, gamma, [[1.0]]).shape == (3, 2)
    summ = de_summary(n, 200, 1.0, 0.5, gamma, 1.0)
    assert all(v.shape == (3, 2) for v in summ.values())
    assert np.ndim(renormalized_ridge(100, 10, 1.0, 0.1, 0.1)) == 0


def test_de_matches_fitted_posterior():
    """d=400, n=800, visible shrinkage (q ~ 0.59): fitted m and s^2 against q mu_T and DE s^2.

    The slope of m on mu_T fluctuates by ~3% per teacher at d=400, so it is pooled over eight
    replicates (teacher and training set); s^2 concentrates at O(1/sqrt(d)).
    """
    n, d, S, sigma, gamma = 800, 400, 1.0, 0.3, 0.3
    q = shrinkage(n, d, S, sigma, gamma)
    s2_de = predictive_variance_de(n, d, S, sigma, gamma)
    assert 0.5 < q < 0.7
    Xt = draw_test_inputs(11, 0, 400, d, S, 400)
    num = den = 0.0
    for j in range(8):
        w = draw_teacher(11, j, d, 0.0, 1.0)
        X, y = draw_training_set(11, j, n, d, S, sigma, w)
        post = fit_posterior(X, y, sigma=sigma, gamma=gamma)
        m, s2 = predictive(post, Xt)
        mu_T = Xt @ w
        num += m @ mu_T
        den += mu_T @ mu_T
    assert abs(num / den / q - 1) < 0.03  # measured ~0.5%
    assert abs(s2.mean() / s2_de - 1) < 0.01  # measured ~0.1%
    assert np.max(np.abs(s2 / s2_de - 1)) < 0.15  # per input: ~2% rms spread
    # the shrinkage is visible: q mu_T predicts m far better than mu_T itself
    assert np.mean((m - q * mu_T) ** 2) < 0.5 * np.mean((m - mu_T) ** 2)
    # trace form of the same DE: 1 - q = tr(A^{-1}) / (d gamma^2)
    tr1, _ = posterior_traces(post)
    assert abs(tr1 / (d * gamma**2) / (1 - q) - 1) < 0.01


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(n=0.5), "n"),
        (dict(d=0), "d"),
        (dict(S=0.0), "S"),
        (dict(sigma=-1.0), "sigma"),
        (dict(gamma=np.nan), "gamma"),
        (dict(gamma=np.inf), "gamma"),
        (dict(w_norm2=-0.1), "w_norm2"),
    ],
)
def test_bad_arguments(kwargs, name):
    base = dict(n=100, d=10, S=1.0, sigma=0.1, gamma=1.0, w_norm2=1.0)
    base.update(kwargs)
    with pytest.raises(ValueError, match=name):
        de_summary(**base)
    if "w_norm2" not in kwargs:
        args = {k: v for k, v in base.items() if k != "w_norm2"}
        for fn in (renormalized_ridge, shrinkage, predictive_variance_de):
            with pytest.raises(ValueError, match=name):
                fn(**args)
    for fn in (bias_variance, difficulty):
        with pytest.raises(ValueError, match=name):
            fn(**base)
