"""Expansions, limits and optimisers built on the exact selection error.

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
- Optimisers of the deterministic-equivalent (DE) error ``equivalents.delta_de`` over the
  judge misspecification c, the temperature T and the number of candidates k, and the
  equivalent-data multiplier M(k, n) defined by delta(1; M n) = delta(k; n).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize_scalar

from itscale.theory import equivalents
from itscale.theory.selection import delta_exact, judge_centre
from itscale.validation import (
    as_finite,
    as_int_k,
    as_nonnegative,
    as_positive,
    as_temperature,
)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Returned by :func:`optimal_k` where delta is still smallest at ``k_max`` (no finite optimum).
NO_FINITE_OPTIMUM = -1


def _out(x: NDArray) -> NDArray:
    """0-d arrays become numpy scalars, others are returned unchanged."""
    x = np.asarray(x)
    return x[()] if x.ndim == 0 else x


def _scalar(x: ArrayLike, name: str, check: Callable[[ArrayLike, str], FloatArray]) -> float:
    arr = check(x, name)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar here, got shape {arr.shape}")
    return float(arr)


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
    return tuple(_out(np.asarray(c, dtype=np.float64)) for c in np.broadcast_arrays(c0, c1, c2, c3))


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
    return _out(total)


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
        return _out(np.pi * np.square(s) * np.exp(np.square(b / s)) / np.square(k))


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
    return _out(out)


def decay_exponent(rho: ArrayLike) -> FloatArray:
    """Asymptotic best-of-k decay exponent 2 min(1, 1/rho) (delta ~ k^-exponent); rho >= 0.

    For rho > 1 the approach to it is only logarithmic; compare measured slopes with
    :func:`local_slope` over the same k range rather than with this limit.
    """
    rho = as_nonnegative(rho, "rho")
    with np.errstate(divide="ignore"):
        return _out(np.where(rho <= 1.0, 2.0, 2.0 / np.maximum(rho, 1.0)))


def _de_params(n, d, S, sigma, gamma, w_norm2) -> dict[str, FloatArray]:
    return {
        "n": as_positive(n, "n"),
        "d": as_positive(d, "d"),
        "S": as_positive(S, "S"),
        "sigma": as_positive(sigma, "sigma"),
        "gamma": as_positive(gamma, "gamma"),
        "w_norm2": as_nonnegative(w_norm2, "w_norm2"),
    }


def local_slope(
    k1: ArrayLike,
    k2: ArrayLike,
    *,
    T: ArrayLike,
    c: ArrayLike,
    n: float,
    d: float,
    S: float,
    sigma: float,
    gamma: float,
    w_norm2: float,
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
    p = _de_params(n, d, S, sigma, gamma, w_norm2)
    d1 = equivalents.delta_de(k1, T, c=c, **p)
    d2 = equivalents.delta_de(k2, T, c=c, **p)
    return _out((np.log(d2) - np.log(d1)) / (np.log(k2) - np.log(k1)))


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
    return _out(m_t), _out(s2_t)


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
    return _out(np.square(m_t - mu_T) + s2_t)


def optimal_judge_limit(T: ArrayLike, s2: ArrayLike) -> FloatArray:
    """Judge misspecification c* = T / (2 s2) that is optimal as k -> inf.

    With mu_R = mu_T - c b the tilted mean is m' - mu_T = b [1 - w (1 + c)], w = 2 s2/(T + 2 s2),
    which vanishes at c = T / (2 s2) for every bias b, leaving delta -> s'^2. It is therefore
    also the DE optimum as k -> inf (the DE s2 is the same for every input). T >= 0 (inf gives
    inf), s2 > 0 a variance. Dimensionless.
    """
    T = as_temperature(T, "T")
    s2 = as_positive(s2, "s2")
    return _out(T / (2.0 * s2))


# --------------------------------------------------------------------------------------------
# 1-D minimisation helpers
# --------------------------------------------------------------------------------------------


# Relative x-tolerance of the Brent refinements: a smooth minimum evaluated with ~1e-12
# relative rounding is located to ~1e-6 relative at best, so asking for more only costs calls.
_REL_XATOL = 1e-6


def _refine(f: Callable[[float], float], lo: float, hi: float, xatol: float) -> tuple[float, float]:
    """Bounded Brent minimisation of scalar f on [lo, hi]; returns (x, f(x))."""
    res = minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": xatol})
    return float(res.x), float(res.fun)


def _grid_then_brent(
    f_grid: Callable[[FloatArray], FloatArray],
    f_scalar: Callable[[float], float],
    grid: FloatArray,
) -> tuple[float, float]:
    """Minimise over an increasing 1-D grid, then refine between the argmin's neighbours.

    Returns (x*, f(x*)); x* is the grid end when the grid minimum sits at an end. The Brent
    tolerance is _REL_XATOL (1 + |x|).
    """
    values = np.asarray(f_grid(grid), dtype=np.float64)
    i = int(np.argmin(values))
    if i == 0 or i == grid.size - 1:
        return float(grid[i]), float(values[i])
    xatol = _REL_XATOL * (1.0 + abs(float(grid[i])))
    x, fx = _refine(f_scalar, float(grid[i - 1]), float(grid[i + 1]), xatol)
    if fx > values[i]:  # Brent never does worse than the grid point it started near
        return float(grid[i]), float(values[i])
    return x, fx


def _default_c_bounds(T: float, s2: float) -> tuple[float, float]:
    """(-1, 10 + 3 T / (2 s2)): brackets the optimum T/(2 s2) + O(1/k) without paying for huge c.

    The cost of delta_exact grows with the judge offset |b'| / s, i.e. roughly linearly in c.
    """
    return -1.0, 10.0 + 3.0 * float(optimal_judge_limit(T, s2))


def _c_grid(c_bounds: tuple[float, float], n_grid: int) -> FloatArray:
    """Grid on [lo, hi] uniform in asinh(c): fine near 0, geometric for large |c|."""
    lo, hi = _check_bounds(c_bounds, "c_bounds", allow_negative=True)
    return np.sinh(np.linspace(np.arcsinh(lo), np.arcsinh(hi), n_grid))


def _check_bounds(bounds, name: str, allow_negative: bool) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in bounds)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a pair (low, high), got {bounds!r}") from exc
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must be finite with low < high, got {bounds!r}")
    if not allow_negative and lo <= 0:
        raise ValueError(f"{name} must be positive, got {bounds!r}")
    return lo, hi


def _check_grid_size(n_grid: int) -> int:
    if isinstance(n_grid, bool) or not isinstance(n_grid, int | np.integer) or n_grid < 5:
        raise ValueError(f"n_grid must be an integer >= 5, got {n_grid!r}")
    return int(n_grid)


# --------------------------------------------------------------------------------------------
# Optimal judge
# --------------------------------------------------------------------------------------------


def optimal_judge_input(
    k: ArrayLike,
    T: ArrayLike,
    m: ArrayLike,
    s: ArrayLike,
    mu_T: ArrayLike,
    *,
    c_bounds: tuple[float, float] | None = None,
    n_grid: int = 33,
) -> FloatArray:
    """Per-input optimal judge c* minimising delta_exact(k, T, m, s, mu_T, mu_T - c (m - mu_T)).

    Broadcasts over k, T, m, s, mu_T; returns c* (dimensionless) of the broadcast shape. A grid
    uniform in asinh(c) over c_bounds (default (-1, 10 + 3 T / (2 s^2))) is evaluated in one
    vectorised call, then Brent refines between the neighbours of the grid minimum. c* equals a
    bound when the minimum is there (e.g. small k and |b| of a few s: the upper bound). At
    inputs with b = m - mu_T = 0 or T = inf the error does not depend on c: c* is nan there.
    As k -> inf, c* -> T / (2 s^2) (:func:`optimal_judge_limit`).
    """
    k = as_int_k(k, "k")
    T = as_temperature(T, "T")
    m = as_finite(m, "m")
    s = as_positive(s, "s")
    mu_T = as_finite(mu_T, "mu_T")
    n_grid = _check_grid_size(n_grid)
    if c_bounds is not None:
        _check_bounds(c_bounds, "c_bounds", allow_negative=True)
    k, T, m, s, mu_T = np.broadcast_arrays(k, T, m, s, mu_T)
    out = np.full(k.shape, np.nan)
    for idx in np.ndindex(k.shape):
        args = (k[idx], T[idx], m[idx], s[idx], mu_T[idx])
        if args[2] == args[4] or np.isinf(args[1]):
            continue
        bounds = c_bounds if c_bounds is not None else _default_c_bounds(args[1], args[3] ** 2)
        grid = _c_grid(bounds, n_grid)

        def f_grid(c: FloatArray, a=args) -> FloatArray:
            return delta_exact(a[0], a[1], a[2], a[3], a[4], judge_centre(a[4], a[2], c))

        def f_scalar(c: float, fg=f_grid) -> float:
            return float(fg(np.asarray(c)))

        out[idx] = _grid_then_brent(f_grid, f_scalar, grid)[0]
    return _out(out)


def optimal_judge(
    k: ArrayLike,
    T: ArrayLike,
    *,
    n: float,
    d: float,
    S: float,
    sigma: float,
    gamma: float,
    w_norm2: float,
    c_bounds: tuple[float, float] | None = None,
    n_grid: int = 33,
    return_delta: bool = False,
) -> FloatArray | tuple[FloatArray, FloatArray]:
    """Optimal judge c*(k, T) minimising the DE error delta_de over c within c_bounds.

    k: integers >= 1, T >= 0, broadcast together; the model parameters are scalars. c_bounds
    defaults to (-1, 10 + 3 T / (2 s2)) with s2 the DE predictive variance (the optimum tends
    to T / (2 s2) from above as k grows). Method: a grid uniform in asinh(c), evaluated in
    one delta_de call per (k, T), then bounded Brent between the grid neighbours of the
    minimum. c* is a bound when the minimum is at it. Where delta does not depend on c (k = 1
    or T = inf) c* is nan. Returns c* (dimensionless), and
    the minimal delta (units of y^2) when return_delta is true.
    """
    k = as_int_k(k, "k")
    T = as_temperature(T, "T")
    p = _de_params(n, d, S, sigma, gamma, w_norm2)
    n_grid = _check_grid_size(n_grid)
    if c_bounds is not None:
        _check_bounds(c_bounds, "c_bounds", allow_negative=True)
    s2 = float(equivalents.predictive_variance_de(p["n"], p["d"], p["S"], p["sigma"], p["gamma"]))
    k, T = np.broadcast_arrays(k, T)
    c_star = np.empty(k.shape)
    d_star = np.empty(k.shape)
    for idx in np.ndindex(k.shape):
        kk, TT = k[idx], T[idx]
        if kk == 1 or np.isinf(TT):
            c_star[idx] = np.nan
            d_star[idx] = float(equivalents.delta_de(kk, TT, c=0.0, **p))
            continue
        grid = _c_grid(c_bounds if c_bounds is not None else _default_c_bounds(TT, s2), n_grid)

        def f_grid(c: FloatArray, kk=kk, TT=TT) -> FloatArray:
            return equivalents.delta_de(kk, TT, c=c, **p)

        def f_scalar(c: float, fg=f_grid) -> float:
            return float(fg(np.asarray(c)))

        c_star[idx], d_star[idx] = _grid_then_brent(f_grid, f_scalar, grid)
    return (_out(c_star), _out(d_star)) if return_delta else _out(c_star)


# --------------------------------------------------------------------------------------------
# Optimal temperature
# --------------------------------------------------------------------------------------------


def optimal_temperature(
    k: ArrayLike,
    *,
    c: float,
    n: float,
    d: float,
    S: float,
    sigma: float,
    gamma: float,
    w_norm2: float,
    T_bounds: tuple[float, float] | None = None,
    n_grid: int = 41,
    return_delta: bool = False,
) -> FloatArray | tuple[FloatArray, FloatArray]:
    """Optimal temperature T*(k) minimising delta_de over T in [0, inf].

    k: integers >= 1 (any shape). The search grid is geometric over T_bounds (default
    [1e-4, 1e4] times the DE predictive variance s2) plus the two exact ends T = 0 (best-of-k)
    and T = inf (no selection). T* is 0.0 or inf when that end is the minimum; otherwise the
    minimum is refined by Brent in log T between grid neighbours (in T on [0, T_1] next to the
    lower end, in 1/T next to the upper end). k = 1 (no dependence on T) gives inf. Returns
    T* (units of y^2), and the minimal delta when return_delta is true.
    """
    k = as_int_k(k, "k")
    c = _scalar(c, "c", as_finite)
    p = _de_params(n, d, S, sigma, gamma, w_norm2)
    n_grid = _check_grid_size(n_grid)
    if T_bounds is None:
        s2 = float(
            equivalents.predictive_variance_de(p["n"], p["d"], p["S"], p["sigma"], p["gamma"])
        )
        T_lo, T_hi = 1e-4 * s2, 1e4 * s2
    else:
        T_lo, T_hi = _check_bounds(T_bounds, "T_bounds", allow_negative=False)
    grid = np.concatenate([[0.0], np.geomspace(T_lo, T_hi, n_grid), [np.inf]])
    t_star = np.empty(k.shape)
    d_star = np.empty(k.shape)
    for idx in np.ndindex(k.shape):
        kk = k[idx]
        if kk == 1:
            t_star[idx] = np.inf
            d_star[idx] = float(equivalents.delta_de(kk, np.inf, c=c, **p))
            continue

        def f(T: float, kk=kk) -> float:
            return float(equivalents.delta_de(kk, T, c=c, **p))

        values = np.asarray(equivalents.delta_de(kk, grid, c=c, **p), dtype=np.float64)
        i = int(np.argmin(values))
        best = (grid[i], values[i])
        if 0 < i < grid.size - 1:
            if i == 1:
                cand = _refine(f, 0.0, grid[2], _REL_XATOL * grid[1])
            elif i == grid.size - 2:
                a_hi = 1.0 / grid[i - 1]
                a, fa = _refine(
                    lambda a, f=f: f(1.0 / a if a > 0 else np.inf), 0.0, a_hi, _REL_XATOL * a_hi
                )
                cand = (1.0 / a if a > 0 else np.inf, fa)
            else:
                u, fu = _refine(
                    lambda u, f=f: f(float(np.exp(u))),
                    float(np.log(grid[i - 1])),
                    float(np.log(grid[i + 1])),
                    _REL_XATOL,
                )
                cand = (float(np.exp(u)), fu)
            if cand[1] <= best[1]:
                best = cand
        t_star[idx], d_star[idx] = best
    return (_out(t_star), _out(d_star)) if return_delta else _out(t_star)


# --------------------------------------------------------------------------------------------
# Optimal number of candidates
# --------------------------------------------------------------------------------------------


def _k_search_grid(k_max: int, dense_up_to: int = 256, ratio: float = 1.05) -> IntArray:
    """Integers 1..dense_up_to, then a geometric grid (ratio) up to k_max inclusive."""
    dense = np.arange(1, min(k_max, dense_up_to) + 1)
    if k_max <= dense_up_to:
        return dense
    n_geo = int(np.ceil(np.log(k_max / dense_up_to) / np.log(ratio))) + 1
    geo = np.unique(np.round(np.geomspace(dense_up_to, k_max, n_geo)).astype(np.int64))
    return np.unique(np.concatenate([dense, geo]))


def optimal_k(
    T: ArrayLike,
    *,
    c: ArrayLike,
    n: float,
    d: float,
    S: float,
    sigma: float,
    gamma: float,
    w_norm2: float,
    k_max: int = 10_000,
    return_delta: bool = False,
) -> IntArray | tuple[IntArray, FloatArray]:
    """Finite optimal number of candidates k* = argmin over 1..k_max of delta_de(k, T, c).

    T >= 0 and c broadcast together. Where the smallest delta in 1..k_max is at k_max (delta
    still decreasing, as for a well-specified judge) there is no finite optimum in range and
    k* = NO_FINITE_OPTIMUM (-1). k* = 1 means selection only hurts. Method: delta_de on all
    integers up to 256 and a 5 % geometric grid beyond, then every integer between the grid
    neighbours of the minimum. Returns k* (int64), and delta at k* (nan where k* = -1) when
    return_delta is true.
    """
    T = as_temperature(T, "T")
    c = as_finite(c, "c")
    p = _de_params(n, d, S, sigma, gamma, w_norm2)
    if isinstance(k_max, bool) or not isinstance(k_max, int | np.integer) or k_max < 2:
        raise ValueError(f"k_max must be an integer >= 2, got {k_max!r}")
    grid = _k_search_grid(int(k_max))
    T, c = np.broadcast_arrays(T, c)
    k_star = np.empty(T.shape, dtype=np.int64)
    d_star = np.empty(T.shape)
    for idx in np.ndindex(T.shape):
        values = np.asarray(equivalents.delta_de(grid, T[idx], c=c[idx], **p), dtype=np.float64)
        i = int(np.argmin(values))
        if i == grid.size - 1:
            k_star[idx], d_star[idx] = NO_FINITE_OPTIMUM, np.nan
            continue
        lo, hi = grid[max(i - 1, 0)], grid[i + 1]
        if hi - lo > 2:
            fine = np.arange(lo, hi + 1)
            fine_values = np.asarray(equivalents.delta_de(fine, T[idx], c=c[idx], **p))
            j = int(np.argmin(fine_values))
            k_star[idx], d_star[idx] = fine[j], fine_values[j]
        else:
            k_star[idx], d_star[idx] = grid[i], values[i]
    return (_out(k_star), _out(d_star)) if return_delta else _out(k_star)


# --------------------------------------------------------------------------------------------
# Inference-time compute versus data
# --------------------------------------------------------------------------------------------


def _delta_no_selection(n: FloatArray, d, S, sigma, gamma, w_norm2) -> FloatArray:
    """delta(1; n) = (1 - q)^2 S^2 w_norm2 + s2 from the DE closed forms (decreasing in n)."""
    bias2 = equivalents.bias_variance(n, d, S, sigma, gamma, w_norm2)
    return bias2 + equivalents.predictive_variance_de(n, d, S, sigma, gamma)


def equivalent_data_multiplier(
    k: ArrayLike,
    n: ArrayLike,
    *,
    T: float,
    c: float,
    d: float,
    S: float,
    sigma: float,
    gamma: float,
    w_norm2: float,
    max_decades: float = 200.0,
) -> FloatArray:
    """Equivalent-data multiplier M(k, n): delta_de(1; M n) = delta_de(k; n).

    k (integers >= 1) and n (>= 1) broadcast together: pass n[:, None] and k[None, :] for a
    map. T, c and the other model parameters are scalars. Without selection delta(1; n) =
    (1-q)^2 S^2 w_norm2 + s2 decreases in n towards sigma^2 (q -> 1, s2 -> sigma^2), so:

    - M = inf where delta(k; n) <= sigma^2: no amount of data reaches the error of selection
      (also where M n would exceed n 10^max_decades, i.e. delta(k; n) is within rounding of
      sigma^2);
    - M = nan where delta(k; n) > delta(1; 1): M n would be below one sample, outside the closed
      forms (a harmful judge);
    - otherwise M solves the equation by vectorised bisection in log n (to ~1e-13 relative).
    M(1, n) = 1 up to quadrature rounding. Dimensionless, broadcast shape.
    """
    k = as_int_k(k, "k")
    n = as_finite(n, "n")
    if (n < 1).any():
        raise ValueError(f"n must be >= 1, got min {n.min()!r}")
    T = _scalar(T, "T", as_temperature)
    c = _scalar(c, "c", as_finite)
    p = _de_params(1.0, d, S, sigma, gamma, w_norm2)
    p.pop("n")
    k, n = np.broadcast_arrays(k, n)
    target = np.empty(k.shape)
    n_flat, k_flat = n.ravel(), k.ravel()
    t_flat = target.reshape(-1)
    for n_val in np.unique(n_flat):
        sel = np.flatnonzero(n_flat == n_val)
        ks, inv = np.unique(k_flat[sel], return_inverse=True)
        t_flat[sel] = np.asarray(equivalents.delta_de(ks, T, c=c, n=n_val, **p))[inv.ravel()]
    target = t_flat.reshape(k.shape)

    def g(log_n: FloatArray) -> FloatArray:
        return _delta_no_selection(
            np.exp(log_n), p["d"], p["S"], p["sigma"], p["gamma"], p["w_norm2"]
        )

    sigma2 = float(p["sigma"]) ** 2
    M = np.full(k.shape, np.nan)
    unreachable = target <= sigma2
    too_bad = target > g(np.zeros(1))[0]
    M[unreachable] = np.inf
    todo = ~unreachable & ~too_bad
    if todo.any():
        log_n0 = np.log(n[todo])
        tgt = target[todo]
        # bracket [lo, hi] in log n with g(lo) >= tgt >= g(hi); g is decreasing
        hi = log_n0.copy()
        step = np.log(10.0)
        hi_cap = log_n0 + max_decades * step
        while True:
            grow = (g(hi) > tgt) & (hi < hi_cap)
            if not grow.any():
                break
            hi = np.where(grow, np.minimum(hi + step, hi_cap), hi)
        capped = g(hi) > tgt
        grew = hi > log_n0
        lo = np.where(grew, hi - step, 0.0)  # g(lo) >= tgt: last step that was still above
        for _ in range(64):
            mid = 0.5 * (lo + hi)
            above = g(mid) > tgt
            lo = np.where(above, mid, lo)
            hi = np.where(above, hi, mid)
        m_todo = np.exp(0.5 * (lo + hi) - log_n0)
        m_todo[capped] = np.inf
        M[todo] = m_todo
    return _out(M)


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
