"""Exact per-input generalization error of softmax selection among k posterior samples.

One test input: candidates y_1..y_k ~ N(m, s^2) iid, judge reward r_i = -(y_i - mu_R)^2,
selection probabilities p_i = softmax(r / T), error e_i = (y_i - mu_T)^2. The quantity computed
is delta(k, T) = E[sum_i p_i e_i].

Method (see docs/theory.md, "Exact selection error"). By the Gumbel-max identity, softmax
selection at temperature T is the same as picking the candidate with the smallest

    Z_i = W_i + T X_i,   W_i = (y_i - mu_R)^2,   X_i iid with density exp(x - e^x),

so, with F the distribution function of Z and a(z) = E[e 1{Z in dz}]/dz,

    delta(k) = k * Int a(z) (1 - F(z))^(k - 1) dz.

This is the t-integral identity 1/z = Int exp(-t z) dt with t = exp(z / T), written so that no
softmax weight ever underflows. k enters only as an exponent: a and F are computed once on a
z-grid and every k costs one multiply per node. T = 0 is the order-statistics form (Z = W);
T = inf is no selection. The error is quadratic in the candidate, so the quadrature computes
the selected candidate's moments M_0, M_1, M_2 in judge coordinates, which depend only on
(T / s^2, |m - mu_R| / s, k). On z <= 0, F and a are closed-form series; on z > 0 they are 1-D
integrals against the Gaussian law of W, by Gauss-Legendre panels on both length scales of the
problem (the posterior spread s and the judge window sqrt(T)), so spike-shaped weights with
T << s^2 are resolved; the inner loop is a compiled, GIL-free kernel. Large batches are
interpolated from Chebyshev tables of the moments, checked against the direct route.

Layout: this module holds the public functions, the quadrature orders and tolerances, and the
Chebyshev interpolation in log k; the implementation is private: node rules, power sums over k
and the direct route in :mod:`itscale.theory._nodes` (inner loop compiled in
:mod:`itscale.theory._kernel`), Chebyshev tables of the moments in :mod:`itscale.theory._tables`,
threads in :mod:`itscale.theory._threads`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from itscale._types import FloatArray, IntArray
from itscale.model import judge_centre
from itscale.theory._nodes import _direct, _Quadrature
from itscale.theory._tables import _barycentric, _tabulated, _temperature_pieces
from itscale.theory._threads import _run_tasks, num_threads, set_num_threads
from itscale.validation import as_finite, as_int_k, as_positive, as_temperature

__all__ = [
    "delta_exact",
    "delta_exact_curves",
    "delta_exact_points",
    "interpolate_k",
    "judge_centre",
    "k_points",
    "num_threads",
    "set_num_threads",
]

# Quadrature orders and accepted errors of the two accuracy levels (default and coarse=True)
_GL_RHO = 10  # Gauss-Legendre nodes per outer panel on z > 0 at T > 0 (inner quadrature each)
_GL_INNER = 9  # nodes per inner (window) panel
_GL_RHO_COARSE = 8  # the same two orders for averages over inputs (coarse=True)
_GL_INNER_COARSE = 8
_TABLE_TOL = 1e-7  # largest accepted |last two Chebyshev coefficients|
_TABLE_TOL_COARSE = 1e-6
_CHECK_TOL_COARSE = 5e-6
_CHECK_TOL = 5e-7  # largest relative gap, tabulated vs direct, at the sampled inputs
_CHEB_MIN_K = 256  # longer k grids are interpolated in log k
_CHEB_NODES = 64


def _chebyshev_points() -> tuple[FloatArray, FloatArray]:
    """First-kind Chebyshev points on (-1, 1), ascending, with their barycentric weights."""
    j = np.arange(_CHEB_NODES)[::-1]
    x = np.cos(np.pi * (j + 0.5) / _CHEB_NODES)
    return x, (-1.0) ** j * np.sin(np.pi * (j + 0.5) / _CHEB_NODES)


def _long_grid(k_grid: IntArray) -> bool:
    """True if a sorted k grid is summed at Chebyshev points in log k and interpolated."""
    return bool(k_grid.size > _CHEB_MIN_K and k_grid[-1] > 4 * k_grid[0])


def k_points(k_grid: ArrayLike) -> FloatArray:
    """Candidate counts at which the quadrature is summed, for a sorted grid of unique k >= 1.

    The grid itself, or, for grids longer than _CHEB_MIN_K spanning more than a factor 4,
    _CHEB_NODES Chebyshev points in log k (ascending, real-valued): the integral is an entire
    function of real k, smooth in log k, and is then interpolated with interpolate_k.
    """
    k_grid = np.asarray(k_grid)
    if _long_grid(k_grid):
        lo, hi = np.log(k_grid[0]), np.log(k_grid[-1])
        return np.exp(0.5 * (hi + lo) + 0.5 * (hi - lo) * _chebyshev_points()[0])
    return k_grid.astype(np.float64)


def interpolate_k(values: ArrayLike, k_grid: ArrayLike) -> FloatArray:
    """Values (..., len(k_points(k_grid))) > 0 at k_points(k_grid) -> (..., len(k_grid)).

    Identity when the points are the grid; otherwise barycentric interpolation of log values
    in log k. Linear averages of delta (over inputs or biases) may be taken before it.
    """
    values = np.asarray(values, dtype=np.float64)
    k_grid = np.asarray(k_grid)
    if not _long_grid(k_grid):
        return values
    lo, hi = np.log(k_grid[0]), np.log(k_grid[-1])
    target = (2.0 * np.log(k_grid) - (hi + lo)) / (hi - lo)
    weights = _barycentric(target, *_chebyshev_points())  # (K, _CHEB_NODES)
    log_values = np.log(values.reshape(-1, _CHEB_NODES))
    return np.exp(log_values @ weights.T).reshape(values.shape[:-1] + (k_grid.size,))


def _quadrature(k_eval, k_max, coarse):
    """Default orders (~3e-8 relative error, measured against twice finer rules) or, for
    averages over inputs whose own tolerance is 1e-5, coarse ones (~2e-7)."""
    if coarse:
        return _Quadrature(
            k_eval,
            int(k_max),
            _GL_RHO_COARSE,
            _GL_INNER_COARSE,
            _TABLE_TOL_COARSE,
            _CHECK_TOL_COARSE,
        )
    return _Quadrature(k_eval, int(k_max), _GL_RHO, _GL_INNER, _TABLE_TOL, _CHECK_TOL)


def _curves_normalised(k_eval, tau, beta, beta_r, k_max, coarse=False):
    """delta / s^2 for inputs (n,) in units of s at the sorted k_eval: (n, len(k_eval))."""
    q = _quadrature(k_eval, k_max, coarse)
    sign = np.where(beta_r < 0, -1.0, 1.0)
    u = np.abs(beta_r)
    theta = sign * (beta_r - beta)
    out = np.empty((tau.shape[0], k_eval.size))
    inf = np.isinf(tau)
    out[inf] = (np.square(beta[inf]) + 1.0)[:, None]
    pieces = _temperature_pieces(tau)
    tabulated = []

    def tabulate(piece):
        idx, nt = piece
        vals = _tabulated(tau[idx], u[idx], theta[idx], q, nt)
        if vals is not None:
            out[idx] = vals
            tabulated.append(idx)

    # one temperature piece per thread (each table is built in rounds of few inputs), then
    # everything left over in one direct call, split across threads by input
    if len(pieces) > 1:
        _run_tasks(pieces, tabulate)
    elif pieces:
        tabulate(pieces[0])
    left = np.ones(tau.shape[0], dtype=bool)
    left[inf] = False
    for idx in tabulated:
        left[idx] = False
    idx = np.flatnonzero(left)
    if idx.size:
        out[idx] = _direct(tau[idx], u[idx], theta[idx], q)
    return out


def _prepare(T, m, s, mu_T, mu_R):
    T = as_temperature(T, "T")
    m = as_finite(m, "m")
    s = as_positive(s, "s")
    mu_T = as_finite(mu_T, "mu_T")
    mu_R = as_finite(mu_R, "mu_R")
    T, m, s, mu_T, mu_R = np.broadcast_arrays(T, m, s, mu_T, mu_R)
    tau = (T / np.square(s)).ravel()
    beta = ((m - mu_T) / s).ravel()
    beta_r = ((m - mu_R) / s).ravel()
    return T.shape, tau, beta, beta_r, np.square(s).ravel()


def delta_exact_points(
    k: ArrayLike,
    T: ArrayLike,
    m: ArrayLike,
    s: ArrayLike,
    mu_T: ArrayLike,
    mu_R: ArrayLike,
    *,
    k_max: int | None = None,
    coarse: bool = False,
) -> FloatArray:
    """Exact delta at real candidate counts k (1-D, sorted, >= 1), e.g. k_points(k_grid).

    T, m, s, mu_T, mu_R broadcast to shape B; returns B + (len(k),) in units of y^2. k_max
    (default ceil(max k)) sets the resolution of the quadrature; pass the largest k of the
    grid that the points stand for. coarse=True uses lower quadrature orders (relative error
    ~2e-7 instead of ~3e-8), for averages over inputs, whose required accuracy is 1e-5.
    """
    k = as_finite(k, "k")
    if k.ndim != 1 or (k < 1).any() or (np.diff(k) <= 0).any():
        raise ValueError("k must be a 1-D strictly increasing array of values >= 1")
    shape, tau, beta, beta_r, s2 = _prepare(T, m, s, mu_T, mu_R)
    if k.size == 0:
        return np.empty(shape + (0,))
    k_max = int(np.ceil(k[-1])) if k_max is None else int(k_max)
    out = _curves_normalised(k, tau, beta, beta_r, k_max, coarse) * s2[:, None]
    return out.reshape(shape + (k.size,))


def delta_exact_curves(
    k_grid: ArrayLike, T: ArrayLike, m: ArrayLike, s: ArrayLike, mu_T: ArrayLike, mu_R: ArrayLike
) -> FloatArray:
    """Exact delta for every k of a 1-D grid at once.

    k_grid: 1-D integers >= 1. T, m, s, mu_T, mu_R broadcast together to shape B (s is the
    predictive standard deviation, T in units of y^2). Returns shape B + (len(k_grid),), in
    units of y^2. Cost is dominated by the k-independent quadrature.
    """
    k_grid = as_int_k(k_grid, "k_grid")
    if k_grid.ndim != 1:
        raise ValueError(f"k_grid must be 1-D, got shape {k_grid.shape}")
    shape, tau, beta, beta_r, s2 = _prepare(T, m, s, mu_T, mu_R)
    if k_grid.size == 0:
        return np.empty(shape + (0,))
    k_sorted, k_pos = np.unique(k_grid, return_inverse=True)
    pts = k_points(k_sorted)
    out = _curves_normalised(pts, tau, beta, beta_r, int(k_sorted[-1])) * s2[:, None]
    out = interpolate_k(out, k_sorted)
    return out[:, k_pos.ravel()].reshape(shape + (k_grid.size,))


def _distinct_inputs(*inputs: FloatArray) -> tuple[FloatArray, IntArray]:
    """Distinct rows of the inputs' own broadcast, in lexicographic order, and the inverse.

    inputs: T, m, s, mu_T, mu_R. Pairing with k only repeats these rows, so they are the
    distinct inputs of the full broadcast too, found without sorting that grid. Same rows and
    order as ``np.unique(keys, axis=0)``; columns that do not vary are left out of the sort.
    Returns uniq (U, 5) and the inverse, of the inputs' broadcast shape.
    """
    arrays = np.broadcast_arrays(*inputs)
    keys = np.stack([a.ravel() for a in arrays], axis=1)
    varying = [j for j, a in enumerate(inputs) if a.size > 1]
    order = np.lexsort(keys[:, varying[::-1]].T) if varying else np.arange(keys.shape[0])
    ordered = keys[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    inv = np.empty(order.size, dtype=np.int64)
    inv[order] = np.cumsum(first) - 1
    return ordered[first], inv.reshape(arrays[0].shape)


def _gather(table: FloatArray, inv: IntArray, k_inv: IntArray, shape: tuple[int, ...]):
    """table[inv, k_inv] broadcast to shape, by whole rows where k and the inputs vary on
    different axes (the usual outer-product call), else element by element."""
    nd = len(shape)
    inv = inv.reshape((1,) * (nd - inv.ndim) + inv.shape)
    k_inv = k_inv.reshape((1,) * (nd - k_inv.ndim) + k_inv.shape)
    if any(a > 1 and b > 1 for a, b in zip(inv.shape, k_inv.shape, strict=True)):
        return table[np.broadcast_to(inv, shape), np.broadcast_to(k_inv, shape)]
    rows = table[inv]  # inv.shape + (len(k_uniq),)
    flat_k = k_inv.ravel()
    if not np.array_equal(flat_k, np.arange(table.shape[1])):
        rows = rows[..., flat_k]
    rows = rows.reshape(inv.shape + k_inv.shape)
    pairs = [ax for a in range(nd) for ax in (a, nd + a)]  # one of each pair has size 1
    sizes = [i * j for i, j in zip(inv.shape, k_inv.shape, strict=True)]
    out = rows.transpose(pairs).reshape(sizes)
    if out.shape != shape:
        out = np.broadcast_to(out, shape)  # read-only view: copied below
    return out if out.flags.writeable and out.flags.c_contiguous else out.copy()


def delta_exact(
    k: ArrayLike, T: ArrayLike, m: ArrayLike, s: ArrayLike, mu_T: ArrayLike, mu_R: ArrayLike
) -> FloatArray:
    """Exact per-input error E[sum_i p_i (y_i - mu_T)^2] for y_i ~ N(m, s^2), i = 1..k.

    Broadcasts numpy-style over all arguments. k: integers >= 1; T >= 0 (0 = best-of-k,
    inf = no selection); s > 0 is the predictive standard deviation. Units of y^2. Each
    distinct input is evaluated once for all the k values it is paired with, so
    ``delta_exact(k[None, :], T, m[:, None], ...)`` costs about what delta_exact_curves does.
    """
    k = as_int_k(k, "k")
    inputs = (
        as_temperature(T, "T"),
        as_finite(m, "m"),
        as_positive(s, "s"),
        as_finite(mu_T, "mu_T"),
        as_finite(mu_R, "mu_R"),
    )
    shape = np.broadcast_shapes(k.shape, *(a.shape for a in inputs))
    size = int(np.prod(shape))
    if size == 0:
        return np.empty(shape)
    uniq, inv = _distinct_inputs(*inputs)
    k_uniq, k_inv = np.unique(k, return_inverse=True)
    k_inv = k_inv.reshape(k.shape)
    if uniq.shape[0] * k_uniq.size <= 4 * size:
        table = delta_exact_curves(k_uniq, *(np.ascontiguousarray(col) for col in uniq.T))
        return _gather(table, inv, k_inv, shape)
    # few k per input: evaluate each k for the distinct inputs it is paired with
    out = np.empty(size)
    inv, k_inv = np.broadcast_to(inv, shape).ravel(), np.broadcast_to(k_inv, shape).ravel()
    for j, kv in enumerate(k_uniq):
        sel = np.flatnonzero(k_inv == j)
        rows, pos = np.unique(inv[sel], return_inverse=True)
        out[sel] = delta_exact_curves(np.array([kv]), *uniq[rows].T)[pos.ravel(), 0]
    return out.reshape(shape)
