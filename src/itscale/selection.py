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
z-grid and every k costs one exponential per node. T = 0 is the order-statistics form
(Z = W); T = inf is no selection. Both inner functions are 1-D integrals against the closed-form
Gaussian distribution of W, done by Gauss-Legendre panels placed on both length scales of the
problem (the posterior spread s and the judge window sqrt(T)), so spike-shaped weights with
T << s^2 are resolved.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

from itscale.validation import as_finite, as_int_k, as_positive, as_temperature

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Quadrature layout (all lengths in units of s). Chosen by the accuracy study in
# benchmarks/bench_core.py and checked in tests/test_selection.py.
_GL_OUTER = 10  # Gauss-Legendre nodes per outer panel
_GL_INNER = 10  # nodes per inner (window) panel
_N_SPLIT = 4  # uniform panels across the Gaussian part of the window
# Gumbel-kernel breakpoints in x = (z - W) / T; 2.5 splits the steep right edge exp(-e^x)
# (without it the inner rule leaves a 5e-10 relative floor at small T, k = 2).
_X_BREAKS = np.array([2.5, 1.5, -1.0, -4.0, -10.0, -22.0])
_HALF_WIDTH = 9.0  # Gaussian support half-width: exp(-81/2) ~ 2.6e-18
_N_UNIFORM = 24  # uniform outer panels across the support of W
_GEOM_RATIO = 2.0  # ratio of graded outer panels near z = 0
_X_HI = 3.7  # 1 - exp(-e^3.7) = 1 - 2.7e-18: above this the Gumbel CDF is 1
_X_SPAN = 42.0  # exp(-42) ~ 5.7e-19: width of the Gumbel tail kept
_N_LINEAR = 6.0  # e^-6: margin of the linear regime u * k * E[w] << 1 for z < 0
_X_PANEL = 1.5  # width of the outer panels on z < 0, in units of T
_GH_NODES = 24  # Gauss-Hermite nodes of the smooth-kernel route
_SMOOTH_TAU = 2.0  # smooth route when T / s^2 >= _SMOOTH_TAU * (|b'| / s + 2)
_GL_SMOOTH = 8  # outer Gauss-Legendre nodes per panel of the smooth route
_X_SMOOTH = 2.0  # outer panel width of the smooth route, units of T
# Inputs per block of the robust route: its (inputs, outer, inner) temporaries of ~1 MB then stay
# in cache, about twice as fast as 48-input blocks (benchmarks/bench_selection.py).
_ROBUST_CHUNK = 4
_CHEB_MIN_K = 256  # longer k grids are interpolated in log k
_CHEB_NODES = 64

_GL_CACHE: dict[int, tuple[FloatArray, FloatArray]] = {}


def _gauss_legendre(n: int) -> tuple[FloatArray, FloatArray]:
    """Nodes and weights on [0, 1]."""
    if n not in _GL_CACHE:
        x, w = np.polynomial.legendre.leggauss(n)
        _GL_CACHE[n] = (0.5 * (x + 1.0), 0.5 * w)
    return _GL_CACHE[n]


def _panel_nodes(edges: FloatArray, n: int) -> tuple[FloatArray, FloatArray]:
    """Gauss-Legendre nodes on consecutive panels.

    edges: (..., P + 1), non-decreasing. Returns nodes and weights of shape (..., P * n);
    zero-width panels get zero weight.
    """
    x, w = _gauss_legendre(n)
    lo = edges[..., :-1, None]
    width = np.diff(edges, axis=-1)[..., None]
    nodes = lo + width * x
    weights = width * w
    shape = edges.shape[:-1] + (-1,)
    return nodes.reshape(shape), weights.reshape(shape)


def _npdf(x: ArrayLike) -> FloatArray:
    return np.exp(-0.5 * np.square(x)) * (1.0 / np.sqrt(2.0 * np.pi))


def _ball_probability(rho: FloatArray, beta_r: FloatArray) -> tuple[FloatArray, FloatArray]:
    """G(rho) = P(|Y| <= rho) and its complement 1 - G, for Y ~ N(beta_r, 1).

    G enters only through log(1 - G) ~ -G, so its absolute accuracy (1e-16) is what matters;
    the complement is a sum of two positive tails, accurate where G is close to 1.
    """
    hi = rho - beta_r
    lo = -rho - beta_r
    upper_side = lo > 0
    g_cdf = np.where(upper_side, ndtr(-lo) - ndtr(-hi), ndtr(hi) - ndtr(lo))
    complement = ndtr(-hi) + ndtr(lo)
    return g_cdf, complement


def _ball_density_terms(
    rho: FloatArray, beta_r: FloatArray, theta: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Density of |Y| at rho, and the same density weighted by e = (Y - theta)^2.

    Y ~ N(beta_r, 1) in coordinates centred on the judge; theta = mu_T - mu_R in units of s.
    """
    f_plus = _npdf(rho - beta_r)
    f_minus = _npdf(rho + beta_r)
    density = f_plus + f_minus
    weighted = np.square(rho - theta) * f_plus + np.square(rho + theta) * f_minus
    return density, weighted


def _rho_edges(beta_r: FloatArray, tau: FloatArray, k_max: int) -> FloatArray:
    """Outer panel edges on the radius rho = sqrt(z) >= 0, shape (n, P + 1)."""
    abs_br = np.abs(beta_r)
    rho_hi = np.sqrt(np.square(abs_br + _HALF_WIDTH) + 4.0 * tau)
    rho_lo = np.sqrt(np.maximum(np.square(np.maximum(abs_br - _HALF_WIDTH, 0.0)) - 45.0 * tau, 0.0))
    h = (rho_hi - rho_lo) / _N_UNIFORM
    # finest scales near z = 0: the judge window sqrt(T) and the best-of-k gap ~ s / k
    rho0 = 0.25 * np.minimum(np.where(tau > 0, np.sqrt(tau), np.inf), 0.2 / k_max)
    n_geom = int(np.ceil(np.log(np.max(h / rho0)) / np.log(_GEOM_RATIO))) + 1
    n_geom = max(n_geom, 1)
    geom = np.minimum(rho0[:, None] * _GEOM_RATIO ** np.arange(n_geom), h[:, None])
    uniform = h[:, None] * np.arange(1, _N_UNIFORM + 1)
    edges = np.concatenate([np.zeros_like(h)[:, None], geom, uniform], axis=1)
    return rho_lo[:, None] + edges


def _best_of_k_nodes(beta_r, theta, k_max):
    """T = 0: outer nodes with weight*a(z) and log survival log(1 - F)."""
    edges = _rho_edges(beta_r, np.zeros_like(beta_r), k_max)
    rho, w = _panel_nodes(edges, _GL_OUTER)
    br = beta_r[:, None]
    _, weighted = _ball_density_terms(rho, br, theta[:, None])
    g_cdf, g_sur = _ball_probability(rho, br)
    log_sur = np.where(
        g_cdf < 0.5, np.log1p(-np.minimum(g_cdf, 0.5)), np.log(np.maximum(g_sur, 1e-300))
    )
    return w * weighted, log_sur


def _inner(z, tau, beta_r, theta):
    """Density a(z) and distribution F(z), 1 - F(z) of Z = W + tau X at outer nodes z.

    z: (n, J); tau, beta_r, theta: (n, 1) with beta_r >= 0 (the law of W depends on |beta_r|;
    the caller flips theta with it). Integrates over the radius rho = sqrt(W) in the window where
    the Gumbel kernel is neither 0 nor 1, intersected with the support of W; below the window the
    kernel is 1 and the closed-form G is used, above it the kernel is 0. In rho both factors are
    entire functions: the kernel of x = (z - rho^2) / tau and the density of |Y| at rho.
    """
    rho_a = np.sqrt(np.maximum(z - _X_HI * tau, 0.0))
    rho_w = np.sqrt(z + _X_SPAN * tau)  # window top: x = -_X_SPAN
    rho_lo = np.clip(np.maximum(beta_r - _HALF_WIDTH, 0.0), rho_a, rho_w)
    rho_hi = np.clip(beta_r + _HALF_WIDTH, rho_lo, rho_w)
    # Panels: breakpoints where the Gumbel kernel changes character (fixed values of x), merged
    # with a uniform split of the part of the window that carries the Gaussian mass of W.
    kernel_bp = np.sqrt(np.maximum(z[..., None] - tau[..., None] * _X_BREAKS, 0.0))
    split = rho_lo[..., None] + (rho_hi - rho_lo)[..., None] * np.linspace(0.0, 1.0, _N_SPLIT + 1)
    kernel_bp = np.clip(kernel_bp, rho_lo[..., None], rho_hi[..., None])
    edges = np.sort(np.concatenate([kernel_bp, split], axis=-1), axis=-1)
    rho, weight = _panel_nodes(edges, _GL_INNER)
    # Everything below is elementwise on (n, J, inner); written in place to keep temporaries few.
    ex = np.square(rho)
    ex *= -1.0 / tau[..., None]
    ex += (z / tau)[..., None]
    np.exp(ex, out=ex)  # e^x, x = (z - rho^2) / tau
    keep = np.exp(-ex)  # P(X > x): kernel for the survival function
    br = beta_r[..., None]
    f_plus = rho - br
    np.square(f_plus, out=f_plus)
    f_plus *= -0.5
    np.exp(f_plus, out=f_plus)
    f_plus *= weight
    f_minus = rho * (-2.0 * br)  # f(rho + b) = f(rho - b) exp(-2 rho b) <= f(rho - b) for b >= 0
    np.exp(f_minus, out=f_minus)
    f_minus *= f_plus
    th = theta[..., None]
    err_plus = np.square(rho - th)
    err_minus = np.add(rho, th, out=rho)
    np.square(err_minus, out=err_minus)
    err_plus *= f_plus
    err_minus *= f_minus
    err_plus += err_minus  # weight * e * density of |Y| (times sqrt(2 pi))
    f_plus += f_minus  # weight * density of |Y| (times sqrt(2 pi))
    total = f_plus.sum(axis=-1)  # mass of W in the window
    sur_part = np.einsum("...i,...i->...", f_plus, keep)
    keep *= ex
    a = np.einsum("...i,...i->...", keep, err_plus)
    norm = 1.0 / np.sqrt(2.0 * np.pi)
    a *= norm / tau
    cdf_part = (total - sur_part) * norm  # P(X <= x) = 1 - keep
    sur_part *= norm
    g_a, _ = _ball_probability(rho_a, beta_r)
    _, sur_b = _ball_probability(rho_hi, beta_r)
    # mass of W below the window start that lies outside the f-support is < 1e-17
    cdf = g_a + cdf_part
    sur = sur_b + sur_part
    return a, cdf, sur


def _softmax_nodes(tau, beta_r, theta, k_max):
    """T > 0: outer nodes on z with weight*a(z) and log(1 - F(z)); inputs (n,)."""
    # Mean softmax weight E[exp(-W/T)] fixes where (k-1) F(z) ~ 1 on z < 0.
    log_ew = 0.5 * np.log(tau / (tau + 2.0)) - np.square(beta_r) / (tau + 2.0)
    x1 = np.minimum(-_N_LINEAR - np.log(k_max) - log_ew, 0.0)
    n_neg = max(int(np.ceil(np.max(-x1) / _X_PANEL)), 1)
    # region z < x1 * tau: variable u = exp(z / tau) in (0, e^x1]
    ux, uw = _gauss_legendre(_GL_OUTER)
    u1 = np.exp(x1)[:, None]
    u = u1 * ux
    z_lin = tau[:, None] * np.log(u)
    w_lin = tau[:, None] * u1 * uw / u
    # region x1 * tau < z < 0: panels uniform in x = z / tau
    x_edges = x1[:, None] * (1.0 - np.arange(n_neg + 1) / n_neg)
    xs, xw = _panel_nodes(x_edges, _GL_OUTER)
    z_neg = tau[:, None] * xs
    w_neg = tau[:, None] * xw
    # region z > 0: radius rho = sqrt(z)
    rho, rw = _panel_nodes(_rho_edges(beta_r, tau, k_max), _GL_OUTER)
    z_pos = np.square(rho)
    w_pos = 2.0 * rho * rw
    z = np.concatenate([z_lin, z_neg, z_pos], axis=1)
    wz = np.concatenate([w_lin, w_neg, w_pos], axis=1)
    sign = np.where(beta_r < 0, -1.0, 1.0)
    a, cdf, sur = _inner(z, tau[:, None], (sign * beta_r)[:, None], (sign * theta)[:, None])
    log_sur = np.where(cdf < 0.5, np.log1p(-np.minimum(cdf, 0.5)), np.log(np.maximum(sur, 1e-300)))
    return wz * a, log_sur


def _gauss_hermite(n: int) -> tuple[FloatArray, FloatArray]:
    """Nodes and weights for E[f(X)], X ~ N(0, 1)."""
    key = -n
    if key not in _GL_CACHE:
        x, w = np.polynomial.hermite_e.hermegauss(n)
        _GL_CACHE[key] = (x, w / np.sqrt(2.0 * np.pi))
    return _GL_CACHE[key]


def _softmax_nodes_smooth(tau, beta_r, theta, k_max):
    """T > 0, judge window wide compared with the spread of W: inner average by Gauss-Hermite.

    Outer variable x = z / T. Valid when the Gumbel kernel varies slowly over the Gaussian
    (see _SMOOTH_TAU); returns the same (weight * a, log(1 - F)) pairs as _softmax_nodes.
    """
    gx, gw = _gauss_hermite(_GH_NODES)
    y = beta_r[:, None] + gx  # candidate offsets from the judge centre, units of s
    w_over_t = np.square(y) / tau[:, None]  # (n, H)
    err = np.square(y - theta[:, None])
    log_ew = np.log(np.sum(gw * np.exp(-w_over_t), axis=1))
    x_hi = w_over_t.max(axis=1) + 4.0
    x1 = np.minimum(-_N_LINEAR - np.log(k_max) - log_ew, x_hi)
    n_pan = max(int(np.ceil(np.max(x_hi - x1) / _X_SMOOTH)), 1)
    ux, uw = _gauss_legendre(_GL_SMOOTH)
    u1 = np.exp(x1)[:, None]
    u = u1 * ux
    x_lin = np.log(u)
    w_lin = u1 * uw / u
    x_edges = x1[:, None] + (x_hi - x1)[:, None] * (np.arange(n_pan + 1) / n_pan)
    xs, xw = _panel_nodes(x_edges, _GL_SMOOTH)
    x = np.concatenate([x_lin, xs], axis=1)  # (n, J)
    wx = np.concatenate([w_lin, xw], axis=1)
    arg = x[:, :, None] - w_over_t[:, None, :]  # (n, J, H)
    ex = np.exp(arg)
    keep = np.exp(-ex)
    a_dx = np.einsum("njh,h,nh->nj", ex * keep, gw, err)
    cdf = np.einsum("njh,h->nj", -np.expm1(-ex), gw)
    sur = np.einsum("njh,h->nj", keep, gw)
    log_sur = np.where(cdf < 0.5, np.log1p(-np.minimum(cdf, 0.5)), np.log(np.maximum(sur, 1e-300)))
    return wx * a_dx, log_sur


def _curves_normalised(k_grid, tau, beta, beta_r, k_max):
    """delta / s^2 for inputs (n,) in units of s, all k of k_grid: returns (n, len(k_grid))."""
    theta = beta_r - beta
    out = np.empty((tau.shape[0], k_grid.shape[0]))
    inf = np.isinf(tau)
    out[inf] = (np.square(beta[inf]) + 1.0)[:, None]
    zero = tau == 0.0
    finite = ~inf & ~zero
    smooth = finite & (tau >= _SMOOTH_TAU * (np.abs(beta_r) + 2.0))
    routes = (
        (zero, lambda i: _best_of_k_nodes(beta_r[i], theta[i], k_max), 256),
        (smooth, lambda i: _softmax_nodes_smooth(tau[i], beta_r[i], theta[i], k_max), 128),
        (
            finite & ~smooth,
            lambda i: _softmax_nodes(tau[i], beta_r[i], theta[i], k_max),
            _ROBUST_CHUNK,
        ),
    )
    tasks = []
    for mask, nodes, chunk in routes:
        idx = np.flatnonzero(mask)
        tasks += [(nodes, idx[start : start + chunk]) for start in range(0, idx.size, chunk)]

    def work(task):
        nodes, sel = task
        wa, log_sur = nodes(sel)
        out[sel] = _power_sum(wa, log_sur, k_grid)

    # Chunks are independent and numpy releases the GIL in its loops, so threads give a
    # near-linear speed-up; results do not depend on the thread count.
    threads = min(num_threads(), len(tasks))
    if threads > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(work, tasks))
    else:
        for task in tasks:
            work(task)
    return out


_NUM_THREADS: list[int | None] = [None]


def set_num_threads(n: int | None) -> None:
    """Threads used by delta_exact / delta_exact_curves (None: ITSCALE_NUM_THREADS or all cores)."""
    if n is not None and (int(n) != n or n < 1):
        raise ValueError(f"n must be a positive integer or None, got {n!r}")
    _NUM_THREADS[0] = None if n is None else int(n)


def num_threads() -> int:
    """Current thread count for the exact quadrature."""
    if _NUM_THREADS[0] is not None:
        return _NUM_THREADS[0]
    env = os.environ.get("ITSCALE_NUM_THREADS")
    if env:
        return max(1, int(env))
    return os.cpu_count() or 1


def _power_sum(wa: FloatArray, log_sur: FloatArray, k_grid: IntArray) -> FloatArray:
    """k * sum_j wa[:, j] * (1 - F_j)^(k - 1) for every k of a sorted grid; (n, len(k_grid)).

    Powers are stepped along the grid (one multiply per node and k); grids longer than
    _CHEB_MIN_K are evaluated at Chebyshev points in log k and interpolated (the integral is
    an entire function of real k, smooth in log k).
    """
    if k_grid.size > _CHEB_MIN_K and k_grid[-1] > 4 * k_grid[0]:
        return _power_sum_chebyshev(wa, log_sur, k_grid)
    out = np.empty((wa.shape[0], k_grid.size))
    steps = np.diff(k_grid, prepend=1)
    power = np.exp(log_sur * float(k_grid[0] - 1))
    cache: dict[int, FloatArray] = {}
    for i, step in enumerate(steps):
        if i > 0:
            if step not in cache:
                cache[step] = np.exp(log_sur * float(step))
            power *= cache[step]
        out[:, i] = np.einsum("nj,nj->n", wa, power)
    return out * k_grid


def _power_sum_chebyshev(wa: FloatArray, log_sur: FloatArray, k_grid: IntArray) -> FloatArray:
    lo, hi = np.log(k_grid[0]), np.log(k_grid[-1])
    j = np.arange(_CHEB_NODES)
    cheb = np.cos(np.pi * (j + 0.5) / _CHEB_NODES)  # first-kind points in (-1, 1)
    k_nodes = np.exp(0.5 * (hi + lo) + 0.5 * (hi - lo) * cheb)
    values = np.einsum("nj,njk->nk", wa, np.exp(log_sur[:, :, None] * (k_nodes - 1.0))) * k_nodes
    log_values = np.log(values)
    # barycentric interpolation for first-kind Chebyshev points
    bary = (-1.0) ** j * np.sin(np.pi * (j + 0.5) / _CHEB_NODES)
    target = (2.0 * np.log(k_grid) - (hi + lo)) / (hi - lo)
    diff = target[:, None] - cheb[None, :]
    exact = np.isclose(diff, 0.0, atol=1e-15, rtol=0.0)
    diff[exact] = 1.0
    ratio = bary / diff
    interp = (ratio @ log_values.T) / ratio.sum(axis=1)[:, None]  # (K, n)
    hit_k, hit_node = np.nonzero(exact)
    interp[hit_k] = log_values[:, hit_node].T
    return np.exp(interp.T)


def judge_centre(mu_T: ArrayLike, m: ArrayLike, c: ArrayLike) -> FloatArray:
    """Judge centre of the misspecified-judge family: mu_R = mu_T - c (m - mu_T)."""
    mu_T = as_finite(mu_T, "mu_T")
    m = as_finite(m, "m")
    c = as_finite(c, "c")
    return mu_T - c * (m - mu_T)


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
    out = _curves_normalised(k_sorted, tau, beta, beta_r, int(k_sorted[-1])) * s2[:, None]
    return out[:, k_pos.ravel()].reshape(shape + (k_grid.size,))


def delta_exact(
    k: ArrayLike, T: ArrayLike, m: ArrayLike, s: ArrayLike, mu_T: ArrayLike, mu_R: ArrayLike
) -> FloatArray:
    """Exact per-input error E[sum_i p_i (y_i - mu_T)^2] for y_i ~ N(m, s^2), i = 1..k.

    Broadcasts numpy-style over all arguments. k: integers >= 1; T >= 0 (0 = best-of-k,
    inf = no selection); s > 0 is the predictive standard deviation. Units of y^2.
    """
    k = as_int_k(k, "k")
    T = as_temperature(T, "T")
    m = as_finite(m, "m")
    s = as_positive(s, "s")
    mu_T = as_finite(mu_T, "mu_T")
    mu_R = as_finite(mu_R, "mu_R")
    k_b, T_b, m_b, s_b, mt_b, mr_b = np.broadcast_arrays(k, T, m, s, mu_T, mu_R)
    shape = k_b.shape
    # Evaluate each distinct input once for all the k values it is paired with.
    keys = np.stack([a.ravel() for a in (T_b, m_b, s_b, mt_b, mr_b)], axis=1)
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    k_flat = k_b.ravel()
    k_uniq, k_inv = np.unique(k_flat, return_inverse=True)
    if uniq.shape[0] * k_uniq.size <= 4 * max(k_flat.size, 1):
        table = delta_exact_curves(k_uniq, *uniq.T)
        return table[inv.ravel(), k_inv.ravel()].reshape(shape)
    out = np.empty(k_flat.size)
    inv = inv.ravel()
    for j, kv in enumerate(k_uniq):
        sel = np.flatnonzero(k_inv == j)
        rows, pos = np.unique(inv[sel], return_inverse=True)
        out[sel] = delta_exact_curves(np.array([kv]), *uniq[rows].T)[pos.ravel(), 0]
    return out.reshape(shape)
