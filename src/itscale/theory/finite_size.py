"""Exact input average of the selection error for one fitted posterior (no Monte Carlo).

For a fitted posterior (mu_w, A) and teacher w_T, a test input x ~ N(0, (S^2/d) I) gives the
jointly Gaussian pair (mu_T, m) = (x.w_T, x.mu_w) with covariance
(S^2/d) [[|w_T|^2, w_T.mu_w], [w_T.mu_w, |mu_w|^2]], and a predictive variance
s^2(x) = sigma^2 + x^T A^{-1} x that concentrates at s2_0 = sigma^2 + (S^2/d) tr A^{-1}
(variance 2 (S^2/d)^2 tr A^{-2}).

The per-input error of softmax selection is invariant under a common shift of y, mu_T and
mu_R, so it depends on (mu_T, m) only through the bias b = m - mu_T and the judge offset
b' = m - mu_R. The 2-D Gaussian average over (mu_T, m) therefore reduces to an average over
(b, b'):

* judge family mu_R = mu_T - c (m - mu_T): b' = (1 + c) b, the covariance of (b, b') is
  singular (rank 1) and the average is exactly 1-D in b ~ N(0, var_b) with
  var_b = (S^2/d) |mu_w - w_T|^2 (:func:`delta_fitted`);
* a general judge vector w_R: b' = x.(mu_w - w_R), a 2-D Gaussian average with an eigen
  factorisation of the 2x2 covariance that falls back to 1-D or 0-D when it is singular
  (:func:`delta_fitted_judge`).

The covariance is built from the difference vectors mu_w - w_T and mu_w - w_R, not from the
(mu_T, m) covariance, because b is tiny compared with mu_T in the paper's regime
(var_b / var(mu_T) ~ 1e-11) and differencing the latter would lose those digits. The input
error itself comes from :func:`itscale.theory.selection.delta_exact_curves`, evaluated at mu_T = 0,
m = b, mu_R = b - b'.

Quadrature. The per-input error, as a function of b, switches from the selected-sample regime
to b^2 + s^2 around |b| ~ s sqrt(2 ln k): a feature of width ~ s / sqrt(1 + 2 ln k) that
Gauss-Hermite in b resolves only when it is wide compared with sqrt(var_b), i.e. for small
difficulty rho = 2 var_b / s^2 (at rho = 6, k = 1e3 GH with 64 nodes is off by 0.5%). So the
average uses composite Gauss-Legendre panels in z = b / sqrt(var_b) on [0, 10] (the integrand
is even), panel width min(1.5, 5 a / sqrt(1 + 2 ln k_max)) with a = s / (sqrt(var_b) max(1,
|1 + c|)), ``n_quad`` nodes per panel. Measured against a 5x finer rule at T = 0: <= 3e-9
relative for rho in [0.002, 30], c in [-1, 2], k_max in [16, 16384], with 56 nodes for
rho <~ 1 and up to ~800 at rho = 30, k = 16384, c = 2. At T > 0 the per-input quadrature of
itscale.theory.selection (~1e-7 relative at present) dominates.

Replacing s^2(x) by s2_0 is the only modelling approximation; its leading O(1/d) correction is
:func:`delta_fitted_spread_correction`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy.linalg import solve_triangular

from itscale._types import FloatArray, IntArray
from itscale.simulation.posterior import Posterior, posterior_traces
from itscale.theory.bias_average import (
    average_c_family,
    average_pair,
    c_family_rule,
    curves_c_family,
)
from itscale.validation import as_finite, as_int_k, as_positive, as_scalar, as_temperature

__all__ = [
    "InputMoments",
    "delta_fitted",
    "delta_fitted_judge",
    "delta_fitted_spread_correction",
    "fitted_input_moments",
]


class InputMoments(NamedTuple):
    """Moments over test inputs x ~ N(0, S^2/d I) of one fitted posterior.

    cov_mu_T_m: (2, 2) covariance of (mu_T, m). var_b: variance of b = m - mu_T (from the
    difference vector, cancellation-free). s2_mean: mean of s^2(x). s2_var: variance of s^2(x).
    All in units of y^2 (y^4 for s2_var).
    """

    cov_mu_T_m: FloatArray
    var_b: float
    s2_mean: float
    s2_var: float


def _check(posterior: Posterior, w: ArrayLike, name: str) -> tuple[int, FloatArray]:
    if not isinstance(posterior, Posterior):
        raise ValueError(f"posterior must be a Posterior, got {type(posterior).__name__}")
    d = posterior.mean.shape[0]
    w_ = as_finite(w, name)
    if w_.shape != (d,):
        raise ValueError(f"{name} must have shape ({d},), got shape {w_.shape}")
    return d, w_


def _n_quad(n_quad: int) -> int:
    arr = as_int_k(n_quad, "n_quad")
    if arr.ndim != 0:
        raise ValueError(f"n_quad must be a scalar integer >= 1, got shape {arr.shape}")
    return int(arr)


def _k_grid(k: ArrayLike) -> tuple[IntArray, tuple[int, ...]]:
    k_ = as_int_k(k, "k")
    if k_.ndim > 1:
        raise ValueError(f"k must be a scalar or a 1-D grid, got shape {k_.shape}")
    return np.atleast_1d(k_), k_.shape


def fitted_input_moments(posterior: Posterior, w_T: ArrayLike, *, S: float) -> InputMoments:
    """Input-averaged moments of (mu_T, m, s^2) for one fitted posterior and teacher w_T (d,)."""
    d, w = _check(posterior, w_T, "w_T")
    S_ = as_scalar(S, "S", as_positive)
    var_x = S_**2 / d
    mu = posterior.mean
    cov = var_x * np.array([[w @ w, w @ mu], [w @ mu, mu @ mu]])
    u = mu - w
    tr1, tr2 = posterior_traces(posterior)
    return InputMoments(
        cov_mu_T_m=cov,
        var_b=float(var_x * (u @ u)),
        s2_mean=float(posterior.sigma**2 + var_x * tr1),
        s2_var=float(2.0 * var_x**2 * tr2),
    )


def delta_fitted(
    k: ArrayLike,
    T: ArrayLike,
    posterior: Posterior,
    w_T: ArrayLike,
    *,
    S: float,
    c: ArrayLike = 0.0,
    n_quad: int = 8,
) -> FloatArray:
    """Selection error delta(k, T) averaged exactly over test inputs, for one fitted posterior.

    Judge family mu_R = mu_T - c (m - mu_T). k: scalar or 1-D grid of integers >= 1; T >= 0
    (0 = best-of-k, inf = no selection) and c: scalars or arrays of any shape, combined as an
    outer product. Returns shape T.shape + c.shape + k.shape, units of y^2 (divide by sigma^2
    for the figures). s^2(x) is replaced by its input mean (see delta_fitted_spread_correction).
    n_quad: Gauss-Legendre nodes per panel (panel widths adapt to rho, c and max k).
    """
    k_grid, k_shape = _k_grid(k)
    T_ = as_temperature(T, "T")
    c_ = as_finite(c, "c")
    nq = _n_quad(n_quad)
    mom = fitted_input_moments(posterior, w_T, S=S)
    s = np.sqrt(mom.s2_mean)
    out = average_c_family(k_grid, T_, s, mom.var_b, c_, nq)
    return out.reshape(T_.shape + c_.shape + k_shape)


def delta_fitted_judge(
    k: ArrayLike,
    T: ArrayLike,
    posterior: Posterior,
    w_T: ArrayLike,
    w_R: ArrayLike,
    *,
    S: float,
    n_quad: int = 8,
) -> FloatArray:
    """As delta_fitted, for a general linear judge mu_R(x) = x.w_R with w_R (d,).

    2-D average over (b, b') = (x.(mu_w - w_T), x.(mu_w - w_R)) with an eigen factorisation of
    their 2x2 covariance; a singular covariance (w_R on the line through w_T and mu_w, d = 1)
    falls back to 1-D. The product rule needs thousands of nodes (e.g. ~5000 at rho ~ 1, k = 8),
    cheap at T = 0 but slow at T > 0 with the current per-input cost; the c family is 1-D and
    much cheaper. Returns shape T.shape + k.shape, units of y^2.
    """
    k_grid, k_shape = _k_grid(k)
    T_ = as_temperature(T, "T")
    nq = _n_quad(n_quad)
    d, w_t = _check(posterior, w_T, "w_T")
    _, w_r = _check(posterior, w_R, "w_R")
    mom = fitted_input_moments(posterior, w_t, S=S)
    s = np.sqrt(mom.s2_mean)
    P = np.stack([posterior.mean - w_t, posterior.mean - w_r], axis=1)  # (d, 2)
    cov = (float(S) ** 2 / d) * (P.T @ P)
    return average_pair(k_grid, T_, s, cov, nq).reshape(T_.shape + k_shape)


def delta_fitted_spread_correction(
    k: ArrayLike,
    T: ArrayLike,
    posterior: Posterior,
    w_T: ArrayLike,
    *,
    S: float,
    c: ArrayLike = 0.0,
    n_quad: int = 8,
) -> FloatArray:
    """Leading correction to delta_fitted from the spread of s^2(x) around its mean; same shape.

    Write s^2(x) = s2_0 + eps. Given b, eps has mean var_x r (b^2 / var_b - 1) with
    r = u^T A^{-1} u / |u|^2, u = mu_w - w_T, var_x = S^2/d (Gaussian conditioning), and
    variance ~ 2 var_x^2 tr A^{-2}. Expanding f(b, s^2) to second order in eps,

        correction = E_b[ f_s(b) E[eps | b] ] + (1/2) E_b[ f_ss(b) ] Var(eps),

    with f_s, f_ss central differences in s^2 of step h = sqrt(Var eps) (capped at s2_0 / 2).
    Both terms are O(1/d) relative to the x^T A^{-1} x part of s^2, the neglected ones
    O(1/d^2). Costs three delta_fitted evaluations.
    """
    k_grid, k_shape = _k_grid(k)
    T_ = as_temperature(T, "T")
    c_ = as_finite(c, "c")
    nq = _n_quad(n_quad)
    d, w = _check(posterior, w_T, "w_T")
    mom = fitted_input_moments(posterior, w, S=S)
    s2 = mom.s2_mean
    h = min(np.sqrt(mom.s2_var), 0.5 * s2)
    var_x = float(S) ** 2 / d
    u = posterior.mean - w
    uu = float(u @ u)
    if uu > 0:
        Lu = solve_triangular(posterior.chol, u, lower=True, check_finite=False)
        r = float(Lu @ Lu) / uu
    else:
        r = 0.0
    b, wq = c_family_rule(mom.var_b, np.sqrt(s2), c_, int(k_grid.max()), nq)
    z2 = b**2 / mom.var_b if mom.var_b > 0 else np.ones_like(b)
    mean_eps = var_x * r * (z2 - 1.0)
    f = [curves_c_family(k_grid, T_, np.sqrt(s2 + step), b, c_) for step in (-h, 0.0, h)]
    f_s = (f[2] - f[0]) / (2.0 * h)
    f_ss = (f[2] - 2.0 * f[1] + f[0]) / h**2
    first = np.einsum("...jk,j->...k", f_s, wq * mean_eps)
    second = 0.5 * mom.s2_var * np.einsum("...jk,j->...k", f_ss, wq)
    return (first + second).reshape(T_.shape + c_.shape + k_shape)
