"""Optimal judge, temperature and number of candidates, and the k -> inf optimal judge.

Optimisers of the exact per-input error (:func:`optimal_judge_input`) and of the
deterministic-equivalent error :func:`itscale.theory.equivalents.delta_de` over the judge
misspecification c (:func:`optimal_judge`), the temperature T (:func:`optimal_temperature`)
and the number of candidates k (:func:`optimal_k`). Each evaluates a grid in one vectorised
call and refines the grid minimum by bounded Brent (integers for k). The DE optimisers take a
scalar :class:`~itscale.model.Model` as ``model`` (or, as before, its six fields as keywords).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize_scalar

from itscale._types import FloatArray, IntArray, to_output
from itscale.model import Model, judge_centre, takes_model
from itscale.theory import equivalents
from itscale.theory.selection import delta_exact
from itscale.validation import as_finite, as_int_k, as_positive, as_scalar, as_temperature

__all__ = [
    "NO_FINITE_OPTIMUM",
    "optimal_judge",
    "optimal_judge_input",
    "optimal_judge_limit",
    "optimal_k",
    "optimal_temperature",
]

#: Returned by :func:`optimal_k` where delta is still smallest at ``k_max`` (no finite optimum).
NO_FINITE_OPTIMUM = -1


def optimal_judge_limit(T: ArrayLike, s2: ArrayLike) -> FloatArray:
    """Judge misspecification c* = T / (2 s2) that is optimal as k -> inf.

    With mu_R = mu_T - c b the tilted mean is m' - mu_T = b [1 - w (1 + c)], w = 2 s2/(T + 2 s2),
    which vanishes at c = T / (2 s2) for every bias b, leaving delta -> s'^2. It is therefore
    also the DE optimum as k -> inf (the DE s2 is the same for every input). T >= 0 (inf gives
    inf), s2 > 0 a variance. Dimensionless.
    """
    T = as_temperature(T, "T")
    s2 = as_positive(s2, "s2")
    return to_output(T / (2.0 * s2))


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
    return to_output(out)


@takes_model
def optimal_judge(
    k: ArrayLike,
    T: ArrayLike,
    model: Model,
    *,
    c_bounds: tuple[float, float] | None = None,
    n_grid: int = 33,
    return_delta: bool = False,
) -> FloatArray | tuple[FloatArray, FloatArray]:
    """Optimal judge c*(k, T) minimising the DE error delta_de over c within c_bounds.

    k: integers >= 1, T >= 0, broadcast together; model: scalar fields. c_bounds
    defaults to (-1, 10 + 3 T / (2 s2)) with s2 the DE predictive variance (the optimum tends
    to T / (2 s2) from above as k grows). Method: a grid uniform in asinh(c), evaluated in
    one delta_de call per (k, T), then bounded Brent between the grid neighbours of the
    minimum. c* is a bound when the minimum is at it. Where delta does not depend on c (k = 1
    or T = inf) c* is nan. Returns c* (dimensionless), and
    the minimal delta (units of y^2) when return_delta is true.
    """
    k = as_int_k(k, "k")
    T = as_temperature(T, "T")
    n_grid = _check_grid_size(n_grid)
    if c_bounds is not None:
        _check_bounds(c_bounds, "c_bounds", allow_negative=True)
    s2 = float(model.s2)
    k, T = np.broadcast_arrays(k, T)
    c_star = np.empty(k.shape)
    d_star = np.empty(k.shape)
    for idx in np.ndindex(k.shape):
        kk, TT = k[idx], T[idx]
        if kk == 1 or np.isinf(TT):
            c_star[idx] = np.nan
            d_star[idx] = float(equivalents.delta_de(kk, TT, model, c=0.0))
            continue
        grid = _c_grid(c_bounds if c_bounds is not None else _default_c_bounds(TT, s2), n_grid)

        def f_grid(c: FloatArray, kk=kk, TT=TT) -> FloatArray:
            return equivalents.delta_de(kk, TT, model, c=c)

        def f_scalar(c: float, fg=f_grid) -> float:
            return float(fg(np.asarray(c)))

        c_star[idx], d_star[idx] = _grid_then_brent(f_grid, f_scalar, grid)
    return (to_output(c_star), to_output(d_star)) if return_delta else to_output(c_star)


def _refine_temperature(
    f: Callable[[float], float], grid: FloatArray, values: FloatArray
) -> tuple[float, float]:
    """(T*, delta*) from the values on the grid [0, geometric..., inf], refined by Brent.

    In T on [0, T_2] next to the lower end, in 1/T next to the upper end, in log T elsewhere;
    an end of the grid is returned as it is.
    """
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
    return best


@takes_model
def optimal_temperature(
    k: ArrayLike,
    model: Model,
    *,
    c: float = 0.0,
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
    c = as_scalar(c, "c", as_finite)
    n_grid = _check_grid_size(n_grid)
    if T_bounds is None:
        s2 = float(model.s2)
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
            d_star[idx] = float(equivalents.delta_de(kk, np.inf, model, c=c))
            continue

        def f(T: float, kk=kk) -> float:
            return float(equivalents.delta_de(kk, T, model, c=c))

        values = np.asarray(equivalents.delta_de(kk, grid, model, c=c), dtype=np.float64)
        best = _refine_temperature(f, grid, values)
        t_star[idx], d_star[idx] = best
    return (to_output(t_star), to_output(d_star)) if return_delta else to_output(t_star)


def _k_search_grid(k_max: int, dense_up_to: int = 256, ratio: float = 1.05) -> IntArray:
    """Integers 1..dense_up_to, then a geometric grid (ratio) up to k_max inclusive."""
    dense = np.arange(1, min(k_max, dense_up_to) + 1)
    if k_max <= dense_up_to:
        return dense
    n_geo = int(np.ceil(np.log(k_max / dense_up_to) / np.log(ratio))) + 1
    geo = np.unique(np.round(np.geomspace(dense_up_to, k_max, n_geo)).astype(np.int64))
    return np.unique(np.concatenate([dense, geo]))


@takes_model
def optimal_k(
    T: ArrayLike,
    model: Model,
    *,
    c: ArrayLike = 0.0,
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
    if isinstance(k_max, bool) or not isinstance(k_max, int | np.integer) or k_max < 2:
        raise ValueError(f"k_max must be an integer >= 2, got {k_max!r}")
    grid = _k_search_grid(int(k_max))
    T, c = np.broadcast_arrays(T, c)
    k_star = np.empty(T.shape, dtype=np.int64)
    d_star = np.empty(T.shape)
    for idx in np.ndindex(T.shape):
        values = np.asarray(equivalents.delta_de(grid, T[idx], model, c=c[idx]), dtype=np.float64)
        i = int(np.argmin(values))
        if i == grid.size - 1:
            k_star[idx], d_star[idx] = NO_FINITE_OPTIMUM, np.nan
            continue
        lo, hi = grid[max(i - 1, 0)], grid[i + 1]
        if hi - lo > 2:
            fine = np.arange(lo, hi + 1)
            fine_values = np.asarray(equivalents.delta_de(fine, T[idx], model, c=c[idx]))
            j = int(np.argmin(fine_values))
            k_star[idx], d_star[idx] = fine[j], fine_values[j]
        else:
            k_star[idx], d_star[idx] = grid[i], values[i]
    return (to_output(k_star), to_output(d_star)) if return_delta else to_output(k_star)
