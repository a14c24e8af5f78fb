"""Tests of itscale.theory.expansions against independent routes.

References used here, none taken from the code under test:
- the exact per-input error ``selection.delta_exact`` (quadrature of the t-integral identity);
- closed-form Gaussian integrals written out in this file (softmax normalisers, tilted moments);
- the published best-of-k numbers of the model's theory notes (rho = 0.5 and rho = 2, 4);
- direct evaluations of ``equivalents.delta_de`` around a reported optimum.
"""

from __future__ import annotations

import numpy as np
import pytest

from itscale.theory import equivalents
from itscale.theory.expansions import (
    NO_FINITE_OPTIMUM,
    best_of_k_asymptote,
    best_of_k_asymptote_input,
    decay_exponent,
    delta_hte,
    delta_tilted_limit,
    equivalent_data_multiplier,
    hte_coefficients,
    local_slope,
    optimal_judge,
    optimal_judge_input,
    optimal_judge_limit,
    optimal_k,
    optimal_temperature,
)
from itscale.theory.selection import delta_exact

# The paper's regime: d = 10, n = 1e4, S = 1, sigma = 1e-4, gamma = 1e-3 (rho ~ 0.08).
PAPER = dict(n=1e4, d=10.0, S=1.0, sigma=1e-4, gamma=1e-3, w_norm2=4.0)
SIGMA2 = PAPER["sigma"] ** 2
# delta_exact is slowest for T << s^2: search T in [1e-2, 1e3] s2 (s2 ~ sigma^2 here)
FAST_T = dict(T_bounds=(1e-2 * SIGMA2, 1e3 * SIGMA2), n_grid=21)


def _de_with_difficulty(rho: float) -> tuple[dict, float]:
    """Paper parameters with w_norm2 chosen so that the DE difficulty 2 V / s2 equals rho."""
    base = {key: PAPER[key] for key in ("n", "d", "S", "sigma", "gamma")}
    summary = equivalents.de_summary(**base, w_norm2=1.0)
    w_norm2 = rho * float(summary["s2"]) / (2.0 * float(summary["V"]))
    return {**base, "w_norm2": w_norm2}, float(summary["s2"])


def _loglog_slope(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


# ------------------------------------------------------------------------------------------
# High-temperature expansion
# ------------------------------------------------------------------------------------------

# One input with bias b = 0.5 s and judge offset b' = 1.0 s (judge c = 1), s != 1, m != 0.
S_IN, M_IN = 1.3, 0.4
MU_T_IN = M_IN - 0.5 * S_IN
MU_R_IN = M_IN - 1.0 * S_IN


def _remainder(k: int, T: np.ndarray, order: int) -> np.ndarray:
    exact = delta_exact(k, T, M_IN, S_IN, MU_T_IN, MU_R_IN)
    return np.abs(exact - delta_hte(k, T, M_IN, S_IN, MU_T_IN, MU_R_IN, order=order))


def _shortened_third_order(k: int, T: np.ndarray) -> np.ndarray:
    """The expansion that keeps only f3 k(e,u,u,u) at third order (no (k-1)/k^2 term).

    Written out from the population cumulants of e = (y - mu_T)^2, u = (y - mu_R)^2.
    """
    s2 = S_IN**2
    b, bp = M_IN - MU_T_IN, M_IN - MU_R_IN
    a = 1.0 / T
    f1 = 1.0 - 1.0 / k
    f2 = f1 * (1.0 - 2.0 / k)
    f3 = f2 * (1.0 - 3.0 / k)
    k_e = s2 + b * b
    k_eu = 2.0 * s2 * (s2 + 2.0 * b * bp)
    k_euu = 8.0 * s2**2 * (s2 + 2.0 * b * bp + bp * bp)
    k_euuu = 48.0 * s2**3 * (s2 + 2.0 * b * bp + 2.0 * bp * bp)
    return k_e - a * f1 * k_eu + 0.5 * a**2 * f2 * k_euu - a**3 / 6.0 * f3 * k_euuu


@pytest.mark.parametrize("k", [2, 5, 20])
def test_hte_third_order_remainder_is_T_minus_4(k):
    T = np.geomspace(20.0, 200.0, 6) * S_IN**2
    slope = _loglog_slope(T, _remainder(k, T, 3))
    # k = 2: sum_i p_i e_i = (e1 + e2)/2 + (e1 - e2)/2 * tanh(a (u2 - u1)/2) has only odd powers
    # of a, so the a^4 term vanishes and the remainder is T^-5.
    expected = -5.0 if k == 2 else -4.0
    assert slope == pytest.approx(expected, abs=0.3)


@pytest.mark.parametrize("k", [2, 5, 20])
def test_hte_second_order_remainder_is_T_minus_3(k):
    # T range above 100 s^2: at k = 5 the a^3 coefficient is small next to the a^4 one.
    T = np.geomspace(100.0, 1000.0, 6) * S_IN**2
    assert _loglog_slope(T, _remainder(k, T, 2)) == pytest.approx(-3.0, abs=0.3)
    assert _loglog_slope(T, _remainder(k, T, 1)) == pytest.approx(-3.0 if k == 2 else -2.0, abs=0.3)


@pytest.mark.parametrize("k", [5, 20])
def test_shortened_third_order_leaves_T_minus_3(k):
    T = np.geomspace(50.0, 500.0, 6) * S_IN**2
    exact = delta_exact(k, T, M_IN, S_IN, MU_T_IN, MU_R_IN)
    short = np.abs(exact - _shortened_third_order(k, T))
    assert _loglog_slope(T, short) == pytest.approx(-3.0, abs=0.3)
    # the full third order is better by a factor that grows like T
    ratio = _remainder(k, T, 3) / short
    assert _loglog_slope(T, ratio) == pytest.approx(-1.0, abs=0.3)
    assert ratio[-1] < 0.05


def test_hte_exact_special_cases():
    m, s, mu_T, mu_R = 0.3, 0.7, -0.2, 1.1
    no_sel = (m - mu_T) ** 2 + s**2
    # k = 1: no selection at any T; T = inf: no selection at any k.
    assert delta_hte(1, [0.5, 3.0, 40.0], m, s, mu_T, mu_R) == pytest.approx(no_sel, rel=1e-14)
    assert delta_hte([2, 7, 100], np.inf, m, s, mu_T, mu_R) == pytest.approx(no_sel, rel=1e-14)
    # the k -> inf first-order slope is -Cov(e, u) under N(m, s^2), here by Gauss-Hermite
    x, w = np.polynomial.hermite_e.hermegauss(40)
    w = w / w.sum()
    y = m + s * x
    e, u = (y - mu_T) ** 2, (y - mu_R) ** 2
    cov = w @ (e * u) - (w @ e) * (w @ u)
    c = hte_coefficients(10**9, m, s, mu_T, mu_R)
    assert c[1] == pytest.approx(-cov, rel=1e-8)


def test_hte_broadcasts():
    k = np.array([2, 5, 20])[:, None]
    T = np.array([10.0, 100.0, np.inf])[None, :]
    out = delta_hte(k, T, 0.1, 1.0, 0.0, -0.5, order=2)
    assert out.shape == (3, 3)
    assert out[1, 2] == pytest.approx(0.01 + 1.0)


# ------------------------------------------------------------------------------------------
# Best-of-k asymptotics
# ------------------------------------------------------------------------------------------


def test_best_of_k_asymptote_input_against_exact():
    k = np.array([500, 2000, 10000])
    for b in (0.0, 0.5, 1.0):
        exact = delta_exact(k, 0.0, b, 1.0, 0.0, 0.0)
        ratio = exact / best_of_k_asymptote_input(k, 1.0, b)
        assert np.abs(ratio - 1.0).max() < 0.02
    # published: at b = s the exact value is 0.6 % below at k = 500 and 0.15 % at k = 2000
    ratio = delta_exact([500, 2000], 0.0, 1.0, 1.0, 0.0, 0.0) / best_of_k_asymptote_input(
        [500, 2000], 1.0, 1.0
    )
    assert 1.0 - ratio == pytest.approx([0.006, 0.0015], abs=5e-4)


def test_best_of_k_asymptote_averaged_published_numbers():
    params, s2 = _de_with_difficulty(0.5)
    k = np.array([100, 1000, 10000])
    scaled = k**2 * equivalents.delta_de(k, 0.0, c=0.0, **params) / s2
    assert scaled == pytest.approx([4.307, 4.429, 4.4415], rel=1e-3)
    assert best_of_k_asymptote(1.0, 1.0, 0.5) == pytest.approx(np.pi / np.sqrt(0.5))


@pytest.mark.parametrize("rho", [0.1, 0.25, 0.5])
def test_best_of_k_asymptote_matches_de_at_large_k(rho):
    params, s2 = _de_with_difficulty(rho)
    k = np.array([500, 2000, 10000])
    exact = equivalents.delta_de(k, 0.0, c=0.0, **params)
    assert np.abs(exact / best_of_k_asymptote(k, s2, rho) - 1.0).max() < 0.02


def test_best_of_k_asymptote_diverges_for_hard_tasks():
    out = best_of_k_asymptote(100, 1.0, [0.99, 1.0, 3.0])
    assert np.isfinite(out[0]) and np.isinf(out[1:]).all()
    assert decay_exponent([0.0, 0.5, 1.0, 2.0, 4.0]) == pytest.approx([2, 2, 2, 1, 0.5])


def test_local_slope_published_numbers():
    for rho, expected in ((0.5, None), (2.0, (-1.20, -1.14)), (4.0, (-0.69, -0.64))):
        params, _ = _de_with_difficulty(rho)
        slopes = local_slope([100, 1000], [1000, 10000], T=0.0, c=0.0, **params)
        if expected is None:  # rho < 1: already close to -2
            assert slopes == pytest.approx([-2.0, -2.0], abs=0.02)
        else:  # rho > 1: well above the asymptote -2/rho, approached only logarithmically
            assert slopes == pytest.approx(expected, abs=0.011)
            assert (slopes < -decay_exponent(rho)).all()


# ------------------------------------------------------------------------------------------
# k -> inf: tilted Gaussian
# ------------------------------------------------------------------------------------------


def _softmax_normaliser(T: float, s: float, bp: float) -> float:
    """E[exp(-(y - mu_R)^2 / T)] for y ~ N(m, s^2), m - mu_R = bp (a Gaussian integral)."""
    return (1.0 + 2.0 * s**2 / T) ** -0.5 * np.exp(-(bp**2) / (T + 2.0 * s**2))


def _tilted_error(T: float, s: float, b: float, bp: float) -> float:
    """Error of the Gaussian tilted by exp(-(y - mu_R)^2/T), from completing the square."""
    prec = 1.0 / s**2 + 2.0 / T
    mean_minus_m = (2.0 / T) * (-bp) / prec  # tilted mean relative to m
    return (b + mean_minus_m) ** 2 + 1.0 / prec


def _one_over_k_coefficient(T: float, s: float, b: float, bp: float) -> float:
    """C1 in delta(k) = lim + C1 / k + O(1/k^2).

    delta(k) is a self-normalised importance-sampling mean: E[sum w_i e_i / sum w_j] with
    iid weights w. Its ratio-estimator bias is E[w^2 (lim - e)] / E[w]^2 / k, and w^2 is the
    softmax weight at temperature T/2, so C1 = E[w_{T/2}] / E[w_T]^2 * (lim_T - lim_{T/2}).
    """
    ratio = _softmax_normaliser(T / 2.0, s, bp) / _softmax_normaliser(T, s, bp) ** 2
    return ratio * (_tilted_error(T, s, b, bp) - _tilted_error(T / 2.0, s, b, bp))


@pytest.mark.parametrize(("T", "b", "c"), [(1.0, 0.5, 1.0), (1.0, 1.0, 0.0), (10.0, 0.5, 2.0)])
def test_tilted_limit_and_its_one_over_k_approach(T, b, c):
    s, m = 1.0, 0.2
    mu_T = m - b
    mu_R = mu_T - c * b
    bp = m - mu_R
    lim = delta_tilted_limit(T, m, s, mu_T, mu_R)
    assert lim == pytest.approx(_tilted_error(T, s, b, bp), rel=1e-13)
    c1 = _one_over_k_coefficient(T, s, b, bp)
    k = np.array([1000, 10000, 100000])
    gap = delta_exact(k, T, m, s, mu_T, mu_R) - lim
    # k * gap -> C1. Tolerances: at k = 1e3 the O(1/k^2) term (measured <= 0.2 % of C1); at
    # k = 1e5 the gap is ~2e-6 of delta, so delta_exact's ~1e-9 relative quadrature error is
    # up to ~6e-4 of it (measured at T = 10).
    assert (np.abs(k * gap / c1 - 1.0) < np.array([5e-3, 1e-3, 2e-3])).all()


def test_tilted_limit_ends():
    m, s, mu_T, mu_R = 0.3, 0.5, 0.1, -0.4
    assert delta_tilted_limit(0.0, m, s, mu_T, mu_R) == pytest.approx((mu_R - mu_T) ** 2)
    assert delta_tilted_limit(np.inf, m, s, mu_T, mu_R) == pytest.approx((m - mu_T) ** 2 + s**2)


# ------------------------------------------------------------------------------------------
# Optimal judge
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("b", "T"), [(1.0, 1.0), (0.3, 4.0)])
def test_optimal_judge_input_approaches_T_over_2s2(b, T):
    """c*(k) = T/(2 s^2) + D/k: D from minimising lim(c) + C1(c)/k in closed form."""
    s, m = 1.0, 0.0
    mu_T = m - b
    c0 = T / (2.0 * s**2)
    assert optimal_judge_limit(T, s**2) == pytest.approx(c0)
    w = 2.0 * s**2 / (T + 2.0 * s**2)
    h = 1e-5
    dC1 = (
        _one_over_k_coefficient(T, s, b, (1.0 + c0 + h) * b)
        - _one_over_k_coefficient(T, s, b, (1.0 + c0 - h) * b)
    ) / (2.0 * h)
    # lim(c) = b^2 (1 - w (1 + c))^2 + s'^2 has curvature 2 b^2 w^2 in c
    D = -dC1 / (2.0 * b**2 * w**2)
    k = np.array([1000, 10000])
    c_star = optimal_judge_input(k, T, m, s, mu_T)
    assert k * (c_star - c0) == pytest.approx([D, D], rel=0.02)
    # b = 0 (judge centre independent of c) and k = 1 have no optimum; T = inf likewise
    assert np.isnan(optimal_judge_input(10, T, 0.5, s, 0.5))
    assert np.isnan(optimal_judge_input(10, np.inf, m, s, mu_T))


def test_optimal_judge_de_approaches_limit_and_is_a_minimum():
    T = 2.0 * SIGMA2  # c* -> T / (2 s2) ~ 1; small c keeps delta_exact on its cheap path
    k = np.array([10, 100, 1000])
    c_star, d_star = optimal_judge(k, T, **PAPER, c_bounds=(0.0, 3.0), n_grid=9, return_delta=True)
    c_lim = optimal_judge_limit(T, equivalents.predictive_variance_de(1e4, 10.0, 1.0, 1e-4, 1e-3))
    gaps = c_star - c_lim
    # approached from above, roughly as 1/k
    assert (gaps > 0).all() and (np.diff(gaps) < 0).all() and gaps[-1] < 0.01 * c_lim
    assert k[-1] * gaps[-1] == pytest.approx(k[-2] * gaps[-2], rel=0.2)
    for kk, cs, ds in zip(k, c_star, d_star, strict=True):
        around = equivalents.delta_de(kk, T, c=cs * np.array([0.97, 1.03]), **PAPER)
        assert (around >= ds).all()
    assert np.isnan(optimal_judge(1, T, **PAPER))


# ------------------------------------------------------------------------------------------
# Optimal temperature and number of candidates
# ------------------------------------------------------------------------------------------


def test_optimal_temperature_teacher_judge_is_best_of_k():
    # c = 0: at T = 0 the selected sample has the smallest error of the k, pointwise optimal.
    T_star = optimal_temperature(np.array([2, 50]), c=0.0, **PAPER, **FAST_T)
    assert (T_star == 0.0).all()
    assert np.isinf(optimal_temperature(1, c=0.0, **PAPER))


def test_optimal_temperature_interior_for_misspecified_judge():
    k, c = 50, 5.0
    T_star, d_star = optimal_temperature(k, c=c, **PAPER, **FAST_T, return_delta=True)
    assert 0.0 < T_star < np.inf
    ends = equivalents.delta_de(k, np.array([0.0, np.inf]), c=c, **PAPER)
    around = equivalents.delta_de(k, T_star * np.array([0.9, 1.1]), c=c, **PAPER)
    assert d_star < ends.min() and (around > d_star).all()


def test_optimal_k_finite_for_strong_misspecification_only():
    T = 20.0 * SIGMA2
    k_star, d_star = optimal_k(T, c=15.0, **PAPER, k_max=2000, return_delta=True)
    assert 1 < k_star < 2000
    neighbours = equivalents.delta_de(np.array([k_star - 1, k_star + 1, 2000]), T, c=15.0, **PAPER)
    assert (neighbours > d_star).all()
    assert optimal_k(T, c=0.0, **PAPER, k_max=2000) == NO_FINITE_OPTIMUM


# ------------------------------------------------------------------------------------------
# Equivalent-data multiplier
# ------------------------------------------------------------------------------------------


def test_equivalent_data_multiplier():
    model = {key: PAPER[key] for key in ("d", "S", "sigma", "gamma", "w_norm2")}
    n = np.array([20.0, 100.0, 1000.0, 1e4])[:, None]
    k = np.array([1, 2, 4, 16, 64])[None, :]
    M = equivalent_data_multiplier(k, n, T=0.0, c=0.0, **model)
    assert M.shape == (4, 5)
    assert M[:, 0] == pytest.approx(1.0, rel=1e-6)
    assert (M[:, 1:] >= M[:, :-1]).all()  # more candidates never need less data
    target = np.stack([equivalents.delta_de(k[0], 0.0, c=0.0, n=nn, **model) for nn in n[:, 0]])
    assert np.array_equal(np.isinf(M), target < SIGMA2)
    assert np.isinf(M).any() and np.isfinite(M[:, 1:]).any()
    # finite entries solve delta(1; M n) = delta(k; n) (closed form without selection)
    fin = np.isfinite(M)
    n_equiv = np.broadcast_to(n, M.shape)[fin] * M[fin]
    delta1 = equivalents.de_summary(
        n_equiv, model["d"], model["S"], model["sigma"], model["gamma"], model["w_norm2"]
    )["delta1"]
    assert delta1 == pytest.approx(target[fin], rel=1e-10)


# ------------------------------------------------------------------------------------------
# Argument checks
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: delta_hte(0, 1.0, 0.0, 1.0, 0.0, 0.0), "k"),
        (lambda: delta_hte(2.5, 1.0, 0.0, 1.0, 0.0, 0.0), "k"),
        (lambda: delta_hte(2, 0.0, 0.0, 1.0, 0.0, 0.0), "T"),
        (lambda: delta_hte(2, -1.0, 0.0, 1.0, 0.0, 0.0), "T"),
        (lambda: delta_hte(2, 1.0, 0.0, 0.0, 0.0, 0.0), "s"),
        (lambda: delta_hte(2, 1.0, np.nan, 1.0, 0.0, 0.0), "m"),
        (lambda: delta_hte(2, 1.0, 0.0, 1.0, np.inf, 0.0), "mu_T"),
        (lambda: delta_hte(2, 1.0, 0.0, 1.0, 0.0, np.nan), "mu_R"),
        (lambda: delta_hte(2, 1.0, 0.0, 1.0, 0.0, 0.0, order=4), "order"),
        (lambda: best_of_k_asymptote_input(0, 1.0, 0.0), "k"),
        (lambda: best_of_k_asymptote(10, -1.0, 0.5), "s2"),
        (lambda: best_of_k_asymptote(10, 1.0, -0.5), "rho"),
        (lambda: decay_exponent(np.nan), "rho"),
        (lambda: delta_tilted_limit(-1.0, 0.0, 1.0, 0.0, 0.0), "T"),
        (lambda: optimal_judge_limit(1.0, 0.0), "s2"),
        (lambda: optimal_judge_input(2, 1.0, 0.0, 1.0, 0.5, c_bounds=(1.0, 0.0)), "c_bounds"),
        (lambda: optimal_judge(2, -1.0, **PAPER), "T"),
        (lambda: optimal_temperature(2, c=0.0, **PAPER, T_bounds=(0.0, 1.0)), "T_bounds"),
        (lambda: optimal_k(1.0, c=0.0, **PAPER, k_max=1), "k_max"),
        (lambda: local_slope(10, 10, T=0.0, c=0.0, **PAPER), "k2"),
        (
            lambda: equivalent_data_multiplier(
                2, 0.5, T=0.0, c=0.0, d=10, S=1, sigma=1e-4, gamma=1e-3, w_norm2=1.0
            ),
            "n",
        ),
        (
            lambda: equivalent_data_multiplier(
                2, 10.0, T=0.0, c=0.0, d=10, S=1, sigma=-1.0, gamma=1e-3, w_norm2=1.0
            ),
            "sigma",
        ),
    ],
)
def test_bad_arguments_name_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()
