"""Expansions and limits of the selection error: high temperature, best-of-k, k -> inf.

Notation (per test input): candidates y ~ N(m, s^2), target mu_T, judge centre mu_R,
bias b = m - mu_T, judge offset b' = m - mu_R, temperature T (0 = best-of-k, inf = no
selection), k candidates. Everything is in units of y (or y^2 for errors and T).

Contents
--------
- ``delta_hte``: series of delta in a = 1/T to third order, with the exact finite-k
  coefficients. The softmax-weighted mean of e = (y - mu_T)^2 is the mean of e under the
  empirical measure of the k samples tilted by exp(-a u), u = (y - mu_R)^2. Its derivatives in a
  are empirical joint cumulants of (e, u); their expectations over the k samples carry falling
  factorials in 1/k, and at third order an extra (k-1)/k^2 term appears because the expected
  empirical fourth cumulant is not f3 times the population one.
- Best-of-k (T = 0, teacher judge) large-k asymptotes, per input and averaged over inputs, and
  the decay exponent 2 min(1, 1/rho) in terms of the difficulty rho = 2 V / s^2.
- The k -> inf limit at fixed T: the selected sample is distributed as the Gaussian tilted by
  the softmax weight, N(m', s'^2) with 1/s'^2 = 1/s^2 + 2/T and m' = s'^2 (m/s^2 + 2 mu_R/T).
- The same high-temperature series and k -> inf limit averaged over deterministic-equivalent
  test inputs (``delta_hte_de``, ``delta_tilted_limit_de``).

The optimisers (optimal judge, temperature and k) live in :mod:`itscale.theory.optima` and the
equivalent-data multiplier in :mod:`itscale.theory.multiplier`; both are re-exported here, so
``itscale.expansions.optimal_k`` and ``itscale.expansions.equivalent_data_multiplier`` import
as before.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from itscale._types import FloatArray, to_output
from itscale.model import Model, takes_model
from itscale.theory import equivalents
from itscale.theory.multiplier import equivalent_data_multiplier
from itscale.theory.optima import (
    NO_FINITE_OPTIMUM,
    optimal_judge,
    optimal_judge_input,
    optimal_judge_limit,
    optimal_k,
    optimal_temperature,
)
from itscale.validation import as_finite, as_int_k, as_nonnegative, as_positive, as_temperature

__all__ = [
    "best_of_k_asymptote",
    "best_of_k_asymptote_input",
    "decay_exponent",
    "delta_hte",
    "delta_hte_de",
    "delta_tilted_limit",
    "delta_tilted_limit_de",
    "hte_coefficients",
    "local_slope",
    "tilted_gaussian",
    # re-exported from itscale.theory.optima and itscale.theory.multiplier
    "NO_FINITE_OPTIMUM",
    "equivalent_data_multiplier",
    "optimal_judge",
    "optimal_judge_input",
    "optimal_judge_limit",
    "optimal_k",
    "optimal_temperature",
]


def _positive_temperature(T: ArrayLike, name: str = "T") -> FloatArray:
    arr = as_temperature(T, name)
    if (arr <= 0).any():
        raise ValueError(
            f"{name} must be > 0 (inf allowed); the expansion is in 1/T, got {arr.min()!r}"
        )
    return arr


# --------------------------------------------------------------------------------------------
# High-temperature expansion
# --------------------------------------------------------------------------------------------


def hte_coefficients(
    k: ArrayLike, m: ArrayLike, s: ArrayLike, mu_T: ArrayLike, mu_R: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Coefficients (c0, c1, c2, c3) of delta = c0 + c1 a + c2 a^2 + c3 a^3 + O(a^4), a = 1/T.

    Broadcasts over all arguments; k are integers >= 1, s > 0 is the predictive standard
    deviation. c_j has units of y^(2 + 2 j). Built from the population joint cumulants of
    e = (y - mu_T)^2 and u = (y - mu_R)^2 for y ~ N(m, s^2):

        k(e)       = s^2 + b^2,               k(e,u)   = 2 s^2 (s^2 + 2 b b'),
        k(u,u)     = 2 s^2 (s^2 + 2 b'^2),    k(e,u,u) = 8 s^4 (s^2 + 2 b b' + b'^2),
        k(e,u,u,u) = 48 s^6 (s^2 + 2 b b' + 2 b'^2),

    and the finite-k factors f1 = 1 - 1/k, f2 = f1 (1 - 2/k), f3 = f2 (1 - 3/k):

        c0 = k(e), c1 = -f1 k(e,u), c2 = f2 k(e,u,u) / 2,
        c3 = -[f3 k(e,u,u,u) - (k-1)/k^2 (k(e,u,u,u) + 6 k(e,u) k(u,u))] / 6.
    """
    k = as_int_k(k, "k").astype(np.float64)
    m = as_finite(m, "m")
    s = as_positive(s, "s")
    mu_T = as_finite(mu_T, "mu_T")
    mu_R = as_finite(mu_R, "mu_R")
    b = m - mu_T
    bp = m - mu_R
    s2 = np.square(s)
    k_e = s2 + b * b
    k_eu = 2.0 * s2 * (s2 + 2.0 * b * bp)
    k_uu = 2.0 * s2 * (s2 + 2.0 * bp * bp)
    k_euu = 8.0 * s2**2 * (s2 + 2.0 * b * bp + bp * bp)
    k_euuu = 48.0 * s2**3 * (s2 + 2.0 * b * bp + 2.0 * bp * bp)
    f1 = 1.0 - 1.0 / k
    f2 = f1 * (1.0 - 2.0 / k)
    f3 = f2 * (1.0 - 3.0 / k)
    extra = (k - 1.0) / np.square(k) * (k_euuu + 6.0 * k_eu * k_uu)
    c0 = k_e + 0.0 * f1
    c1 = -f1 * k_eu
    c2 = 0.5 * f2 * k_euu
    c3 = -(f3 * k_euuu - extra) / 6.0
    return tuple(
        to_output(np.asarray(c, dtype=np.float64)) for c in np.broadcast_arrays(c0, c1, c2, c3)
    )


def delta_hte(
    k: ArrayLike,
    T: ArrayLike,
    m: ArrayLike,
    s: ArrayLike,
    mu_T: ArrayLike,
    mu_R: ArrayLike,
    order: int = 3,
) -> FloatArray:
    """High-temperature expansion of the per-input error to ``order`` in a = 1/T.

    k: integers >= 1; T > 0 (inf allowed: gives b^2 + s^2); s > 0 standard deviation; m, mu_T,
    mu_R finite. order in {0, 1, 2, 3} (0 is no selection). Broadcasts numpy-style; returns
    the broadcast shape, units of y^2. The truncation error is O(T^-(order+1)) at fixed k (for
    k = 2 only odd powers of a occur, so order 2 equals order 1 and order 3 is good to a^5).
    See :func:`hte_coefficients` for the coefficients.
    """
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or not 0 <= order <= 3:
        raise ValueError(f"order must be one of 0, 1, 2, 3, got {order!r}")
    T = _positive_temperature(T)
    coeffs = hte_coefficients(k, m, s, mu_T, mu_R)
    a = 1.0 / T
    total = np.zeros(np.broadcast_shapes(a.shape, np.shape(coeffs[0])))
    for j in range(order, -1, -1):  # Horner in a
        total = total * a + coeffs[j]
    return to_output(total)


# --------------------------------------------------------------------------------------------
# Best-of-k asymptotics
# --------------------------------------------------------------------------------------------


def best_of_k_asymptote_input(k: ArrayLike, s: ArrayLike, b: ArrayLike) -> FloatArray:
    """Large-k best-of-k error at one input with the teacher as judge: pi s^2 exp(b^2/s^2) / k^2.

    k > 0 (real values allowed, for plotting), s > 0 standard deviation, b = m - mu_T finite.
    The selected sample is the one nearest mu_T; with density phi_0 = exp(-b^2/(2 s^2)) /
    (sqrt(2 pi) s) there, its distance r has P(r > x) ~ exp(-2 k phi_0 x), so
    E[r^2] ~ 2 / (2 k phi_0)^2 = pi s^2 exp(b^2/s^2) / k^2. Valid for k >> exp(b^2/(2 s^2)).
    Units of y^2; overflows to inf for |b| >> s.
    """
    k = as_positive(k, "k")
    s = as_positive(s, "s")
    b = as_finite(b, "b")
    with np.errstate(over="ignore"):
        return to_output(np.pi * np.square(s) * np.exp(np.square(b / s)) / np.square(k))


def best_of_k_asymptote(k: ArrayLike, s2: ArrayLike, rho: ArrayLike) -> FloatArray:
    """Input-averaged best-of-k asymptote pi s2 / (k^2 sqrt(1 - rho)), teacher judge.

    Average of :func:`best_of_k_asymptote_input` over b ~ N(0, V), rho = 2 V / s2. k > 0, s2 > 0
    (a variance), rho >= 0. For rho >= 1 the average coefficient diverges (the decay is slower
    than k^-2) and the function returns +inf there, never nan. Units of y^2.
    """
    k = as_positive(k, "k")
    s2 = as_positive(s2, "s2")
    rho = as_nonnegative(rho, "rho")
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.sqrt(np.where(rho < 1.0, 1.0 - rho, 1.0))
        out = np.where(rho < 1.0, np.pi * s2 / (np.square(k) * root), np.inf)
    return to_output(out)


def decay_exponent(rho: ArrayLike) -> FloatArray:
    """Asymptotic best-of-k decay exponent 2 min(1, 1/rho) (delta ~ k^-exponent); rho >= 0.

    For rho > 1 the approach to it is only logarithmic; compare measured slopes with
    :func:`local_slope` over the same k range rather than with this limit.
    """
    rho = as_nonnegative(rho, "rho")
    with np.errstate(divide="ignore"):
        return to_output(np.where(rho <= 1.0, 2.0, 2.0 / np.maximum(rho, 1.0)))


@takes_model
def local_slope(
    k1: ArrayLike, k2: ArrayLike, model: Model, *, T: ArrayLike, c: ArrayLike = 0.0
) -> FloatArray:
    """Secant slope d ln delta / d ln k of the DE error between k1 and k2.

    (ln delta_de(k2) - ln delta_de(k1)) / (ln k2 - ln k1). k1, k2: integers >= 1, k1 != k2,
    broadcast together with T and c. Dimensionless. This is what a log-log fit of measured
    errors over [k1, k2] should be compared with (the asymptotic exponent is reached only
    logarithmically slowly when rho > 1).
    """
    k1 = as_int_k(k1, "k1")
    k2 = as_int_k(k2, "k2")
    if (np.broadcast_to(k1, np.broadcast_shapes(k1.shape, k2.shape)) == k2).any():
        raise ValueError("k2 must differ from k1")
    T = as_temperature(T, "T")
    c = as_finite(c, "c")
    d1 = equivalents.delta_de(k1, T, model, c=c)
    d2 = equivalents.delta_de(k2, T, model, c=c)
    return to_output((np.log(d2) - np.log(d1)) / (np.log(k2) - np.log(k1)))


# --------------------------------------------------------------------------------------------
# k -> inf at fixed T: the tilted Gaussian
# --------------------------------------------------------------------------------------------


def tilted_gaussian(
    T: ArrayLike, m: ArrayLike, s: ArrayLike, mu_R: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Mean and variance (m', s'^2) of N(m, s^2) tilted by the softmax weight exp(-(y-mu_R)^2/T).

    1/s'^2 = 1/s^2 + 2/T, m' = s'^2 (m/s^2 + 2 mu_R/T), written as m' = (1 - w) m + w mu_R and
    s'^2 = (1 - w) s^2 with w = 2 s^2 / (T + 2 s^2), so T = 0 (w = 1: a point mass at mu_R) and
    T = inf (w = 0: no tilt) are included. Broadcasts; units of y and y^2.
    """
    T = as_temperature(T, "T")
    m = as_finite(m, "m")
    s = as_positive(s, "s")
    mu_R = as_finite(mu_R, "mu_R")
    s2 = np.square(s)
    with np.errstate(invalid="ignore"):
        w = np.where(np.isinf(T), 0.0, 2.0 * s2 / (np.where(np.isinf(T), 1.0, T) + 2.0 * s2))
    m_t = (1.0 - w) * m + w * mu_R
    s2_t = (1.0 - w) * s2
    return to_output(m_t), to_output(s2_t)


def delta_tilted_limit(
    T: ArrayLike, m: ArrayLike, s: ArrayLike, mu_T: ArrayLike, mu_R: ArrayLike
) -> FloatArray:
    """k -> inf limit of the per-input error at fixed T: (m' - mu_T)^2 + s'^2.

    As k grows the selected sample is distributed as the tilted Gaussian of
    :func:`tilted_gaussian`. T >= 0 (T = 0 gives (mu_R - mu_T)^2, the best-of-k limit;
    T = inf gives b^2 + s^2). Broadcasts; units of y^2. The exact error approaches it as O(1/k).
    """
    mu_T = as_finite(mu_T, "mu_T")
    m_t, s2_t = tilted_gaussian(T, m, s, mu_R)
    return to_output(np.square(m_t - mu_T) + s2_t)


# --- averages over deterministic-equivalent test inputs ---

_POLY_NODES = 16  # Gauss-Hermite nodes: exact for polynomials in b of degree <= 31


def _de_input_average(fn, V: float) -> FloatArray:
    """Average fn(b) over DE test inputs b = m - mu_T ~ N(0, V); fn maps (J,) -> (..., J).

    Exact for the functions below, which are polynomials of low degree in b.
    """
    z, w = np.polynomial.hermite_e.hermegauss(_POLY_NODES)
    return fn(np.sqrt(V) * z) @ (w / w.sum())


def delta_hte_de(
    k: ArrayLike, T: ArrayLike, c: ArrayLike, *, s2: float, V: float, order: int = 3
) -> FloatArray:
    """delta_hte averaged over DE inputs (mu_T = 0, m = b ~ N(0, V), mu_R = -c b).

    k (nk,), T (nT,) > 0, c (nc,) 1-D grids; returns (nT, nc, nk), units of y^2. The expansion
    is a polynomial of degree 4 in b, so the Gauss-Hermite average is exact.
    """
    k_, T_, c_ = (np.atleast_1d(np.asarray(a)) for a in (k, T, c))
    return _de_input_average(
        lambda b: delta_hte(
            k_[None, None, :, None],
            T_[:, None, None, None],
            b,
            np.sqrt(s2),
            0.0,
            -c_[None, :, None, None] * b,
            order=order,
        ),
        V,
    )


def delta_tilted_limit_de(T: ArrayLike, c: ArrayLike, *, s2: float, V: float) -> FloatArray:
    """k -> inf limit averaged over DE inputs; T (nT,), c (nc,) -> (nT, nc), units of y^2."""
    T_, c_ = (np.atleast_1d(np.asarray(a, dtype=np.float64)) for a in (T, c))
    return _de_input_average(
        lambda b: delta_tilted_limit(
            T_[:, None, None], b, np.sqrt(s2), 0.0, -c_[None, :, None] * b
        ),
        V,
    )
