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

Layout: node rules (_best_of_k_nodes, _softmax_nodes, _softmax_nodes_smooth) -> power sums over
k (_power_sums) -> per-input evaluation (_direct) or tables (_tabulated) -> public functions.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

from itscale.model import judge_centre
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

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Quadrature layout (all lengths in units of s). Chosen by self-convergence studies against
# rules about twice as fine (the same study is tests/test_selection.py's convergence test).
_GL_OUTER = 10  # Gauss-Legendre nodes per outer panel
_GL_RHO = 10  # Gauss-Legendre nodes per outer panel on z > 0 at T > 0 (inner quadrature each)
_GL_INNER = 9  # nodes per inner (window) panel
_GL_RHO_COARSE = 8  # the same two orders for averages over inputs (coarse=True)
_GL_INNER_COARSE = 8
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
_N_SERIES = 24  # terms of the Gumbel series at z <= 0: 1 / 23! ~ 4e-23
_GH_NODES = 40  # Gauss-Hermite nodes of the smooth-kernel route
_SMOOTH_TAU = 1.0  # smooth route when T / s^2 >= _SMOOTH_TAU * (|b'| / s + 2)
_GL_SMOOTH = 8  # outer Gauss-Legendre nodes per panel of the smooth route
_X_SMOOTH = 2.0  # outer panel width of the smooth route, units of T
# Inputs per task of the robust route: large enough that two threads overlap well (1.9x at 32
# inputs, 1.3x at 4; measured on 400 inputs at k_max = 1e4).
_ROBUST_CHUNK = 32
_CHEB_MIN_K = 256  # longer k grids are interpolated in log k
_CHEB_NODES = 64

_GL_CACHE: dict[int, tuple[FloatArray, FloatArray]] = {}
_log = logging.getLogger(__name__)


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


def _log_survival(cdf: FloatArray, sur: FloatArray) -> FloatArray:
    """log(1 - F) from whichever of F and 1 - F is computed without cancellation."""
    return np.where(cdf < 0.5, np.log1p(-np.minimum(cdf, 0.5)), np.log(np.maximum(sur, 1e-300)))


def _rho_edges(beta_r: FloatArray, tau: FloatArray, k_max: int) -> FloatArray:
    """Outer panel edges on the radius rho = sqrt(z) >= 0, shape (n, P + 1)."""
    abs_br = np.abs(beta_r)
    rho_hi = np.sqrt(np.square(abs_br + _HALF_WIDTH) + 4.0 * tau)
    rho_lo = np.sqrt(np.maximum(np.square(np.maximum(abs_br - _HALF_WIDTH, 0.0)) - 45.0 * tau, 0.0))
    # uniform panels no wider than the Gaussian case's 2 _HALF_WIDTH / _N_UNIFORM (the support
    # of W grows by the judge window at T > 0, and the panels must still resolve unit scales)
    n_uniform = max(int(np.ceil(np.max(rho_hi - rho_lo) * _N_UNIFORM / (2.0 * _HALF_WIDTH))), 1)
    h = (rho_hi - rho_lo) / n_uniform
    # finest scale near z = 0: the judge window sqrt(T) (F is smooth on the scale T in z), or at
    # T = 0 the best-of-k gap ~ s / k; no grading where the support of W starts above z = 0
    rho0 = np.where(tau > 0, 0.25 * np.sqrt(tau), 0.05 / k_max)
    rho0 = np.where(rho_lo > 0, h, np.minimum(rho0, h))
    n_geom = int(np.ceil(np.log(np.max(h / rho0)) / np.log(_GEOM_RATIO))) + 1
    n_geom = max(n_geom, 1)
    geom = np.minimum(rho0[:, None] * _GEOM_RATIO ** np.arange(n_geom), h[:, None])
    uniform = h[:, None] * np.arange(1, n_uniform + 1)
    edges = np.concatenate([np.zeros_like(h)[:, None], geom, uniform], axis=1)
    return rho_lo[:, None] + edges


def _best_of_k_nodes(u, k_max):
    """T = 0: outer nodes with weight * (a_0, a_1, a_2)(z), shape (n, 3, J), and log(1 - F)."""
    edges = _rho_edges(u, np.zeros_like(u), k_max)
    rho, w = _panel_nodes(edges, _GL_OUTER)
    br = u[:, None]
    f_plus = _npdf(rho - br)
    f_minus = _npdf(rho + br)
    g_cdf, g_sur = _ball_probability(rho, br)
    log_sur = _log_survival(g_cdf, g_sur)
    m0 = w * (f_plus + f_minus)
    m1 = w * rho * (f_plus - f_minus)
    return np.stack([m0, m1, m0 * np.square(rho)], axis=1), log_sur


@numba.njit(nogil=True, cache=True)
def _inner_kernel(z, active, tau, u, gl_x, gl_w, x_breaks, n_split, half_width, x_hi, x_span, out):
    """Inner sums of _inner for every outer node; out (n, 7, J) (see _inner for the rows).

    Nodes with active[i, j] False (zero outer weight: panels a chunk shares but this input
    does not need) are skipped; their zeros give a = 0, F = 0, 1 - F = 1.
    """
    n, n_outer = z.shape
    n_edges = x_breaks.size + n_split + 1
    edges = np.empty(n_edges)
    for i in range(n):
        t = tau[i]
        ui = u[i]
        for j in range(n_outer):
            if not active[i, j]:
                for row in range(7):
                    out[i, row, j] = 0.0
                continue
            zz = z[i, j]
            rho_a = np.sqrt(max(zz - x_hi * t, 0.0))
            rho_w = np.sqrt(max(zz + x_span * t, 0.0))  # window top: x = -x_span
            rho_lo = min(max(max(ui - half_width, 0.0), rho_a), rho_w)
            rho_hi = min(max(ui + half_width, rho_lo), rho_w)
            # panels: the Gumbel kernel's breakpoints (fixed x) and a uniform split of the
            # window part carrying the Gaussian mass of W, sorted (insertion sort, <= 11 edges)
            for b in range(x_breaks.size):
                e = np.sqrt(max(zz - t * x_breaks[b], 0.0))
                edges[b] = min(max(e, rho_lo), rho_hi)
            for s in range(n_split + 1):
                edges[x_breaks.size + s] = rho_lo + (rho_hi - rho_lo) * s / n_split
            for a in range(1, n_edges):
                key = edges[a]
                b = a - 1
                while b >= 0 and edges[b] > key:
                    edges[b + 1] = edges[b]
                    b -= 1
                edges[b + 1] = key
            total = 0.0
            sur = 0.0
            a0 = 0.0
            a1 = 0.0
            a2 = 0.0
            for p in range(n_edges - 1):
                width = edges[p + 1] - edges[p]
                if width <= 0.0:
                    continue
                for g in range(gl_x.size):
                    rho = edges[p] + width * gl_x[g]
                    ex = np.exp((zz - rho * rho) / t)  # e^x, x = (z - rho^2) / tau
                    # P(X > x); exp(-e^x) is 0 below 1e-20 and 1 within 1e-17 outside (-39, 3.8)
                    keep = 0.0 if ex > 46.0 else (1.0 - ex if ex < 1e-17 else np.exp(-ex))
                    d = rho - ui
                    f_plus = np.exp(-0.5 * d * d) * (width * gl_w[g])
                    # f(rho + u) = f(rho - u) exp(-2 rho u): below 1e-20 of it, dropped
                    two_ru = 2.0 * rho * ui
                    f_minus = 0.0 if two_ru > 46.0 else f_plus * np.exp(-two_ru)
                    even = f_plus + f_minus  # weight * density of |Y| (times sqrt(2 pi))
                    kd = keep * ex  # Gumbel density kernel
                    total += even
                    sur += even * keep
                    a0 += kd * even
                    a1 += kd * (f_plus - f_minus) * rho
                    a2 += kd * even * rho * rho
            out[i, 0, j] = total
            out[i, 1, j] = sur
            out[i, 2, j] = a0
            out[i, 3, j] = a1
            out[i, 4, j] = a2
            out[i, 5, j] = rho_a
            out[i, 6, j] = rho_hi


def _inner(z, tau, u, gl_inner, active=None):
    """Moments a_j(z) (j = 0, 1, 2) and F(z), 1 - F(z) of Z = W + tau X at outer nodes z.

    z: (n, J); tau, u: (n,), u >= 0 the judge offset in units of s. a_j(z) dz is
    E[Y^j 1{Z in dz}] with Y ~ N(u, 1) the candidate in judge coordinates, so a_0 is the density
    of Z. Integrates over the radius rho = |Y| = sqrt(W) in the window where the Gumbel kernel
    is neither 0 nor 1, intersected with the support of W; below the window the kernel is 1
    and the closed-form G is used, above it the kernel is 0. In rho both factors are entire
    functions: the kernel of x = (z - rho^2) / tau and the density of |Y| at rho.
    Returns a (n, 3, J), cdf (n, J), sur (n, J); nodes where active (n, J) is False (default:
    none) are skipped and get a = 0, F = 0.
    """
    gl_x, gl_w = _gauss_legendre(gl_inner)
    active = np.ones(z.shape, dtype=bool) if active is None else np.ascontiguousarray(active)
    sums = np.empty((z.shape[0], 7, z.shape[1]))
    _inner_kernel(
        np.ascontiguousarray(z),
        active,
        np.ascontiguousarray(tau, dtype=np.float64),
        np.ascontiguousarray(u, dtype=np.float64),
        gl_x,
        gl_w,
        np.asarray(_X_BREAKS, dtype=np.float64),
        int(_N_SPLIT),
        float(_HALF_WIDTH),
        float(_X_HI),
        float(_X_SPAN),
        sums,
    )
    norm = 1.0 / np.sqrt(2.0 * np.pi)
    a = sums[:, 2:5] * (norm / tau)[:, None, None]
    g_a, _ = _ball_probability(sums[:, 5], u[:, None])
    _, sur_b = _ball_probability(sums[:, 6], u[:, None])
    # mass of W below the window start that lies outside the f-support is < 1e-17
    cdf = g_a + (sums[:, 0] - sums[:, 1]) * norm  # P(X <= x) = 1 - P(X > x)
    sur = sur_b + sums[:, 1] * norm
    return a, cdf, sur


def _softmax_nodes(tau, u, q):
    """T > 0: outer nodes on z with weight * a_j(z), (n, 3, J), and log(1 - F(z)); inputs (n,)."""
    # Mean softmax weight E[exp(-W/T)] fixes where (k-1) F(z) ~ 1 on z < 0.
    log_ew = 0.5 * np.log(tau / (tau + 2.0)) - np.square(u) / (tau + 2.0)
    x1 = np.minimum(-_N_LINEAR - np.log(q.k_max) - log_ew, 0.0)
    n_neg = max(int(np.ceil(np.max(-x1) / _X_PANEL)), 1)
    # region z < x1 * tau: variable v = exp(z / tau) in (0, e^x1]
    vx, vw = _gauss_legendre(_GL_OUTER)
    v1 = np.exp(x1)[:, None]
    v = v1 * vx
    z_lin = tau[:, None] * np.log(v)
    w_lin = tau[:, None] * v1 * vw / v
    # region x1 * tau < z < 0: panels uniform in x = z / tau
    x_edges = x1[:, None] * (1.0 - np.arange(n_neg + 1) / n_neg)
    xs, xw = _panel_nodes(x_edges, _GL_OUTER)
    z_neg = tau[:, None] * xs
    w_neg = tau[:, None] * xw
    # region z > 0: radius rho = sqrt(z)
    rho, rw = _panel_nodes(_rho_edges(u, tau, q.k_max), q.gl_rho)
    z_pos = np.square(rho)
    w_pos = 2.0 * rho * rw
    a_neg, cdf_neg = _left_series(np.concatenate([z_lin, z_neg], axis=1), tau, u)
    a_pos, cdf_pos, sur_pos = _inner(z_pos, tau, u, q.gl_inner, w_pos > 0)
    wz = np.concatenate([w_lin, w_neg, w_pos], axis=1)
    a = np.concatenate([a_neg, a_pos], axis=2)
    cdf = np.concatenate([cdf_neg, cdf_pos], axis=1)
    sur = np.concatenate([1.0 - cdf_neg, sur_pos], axis=1)  # F(z <= 0) < 1 - 1/e
    return wz[:, None, :] * a, _log_survival(cdf, sur)


def _left_series(z, tau, u):
    """a_j(z) (n, 3, J) and F(z) (n, J) at z <= 0, in closed form.

    Expanding the Gumbel kernel 1 - exp(-e^x) = sum_m (-1)^(m+1) e^(m x) / m! gives
    F(z) = sum_m (-1)^(m+1) / m! e^(m z / T) E[exp(-m W / T)] and the same series with
    1 / (m - 1)! and the moments E[Y^j exp(-m W / T)] for tau a_j(z); those expectations are
    Gaussian integrals (precision 1 + 2 m / tau, mean u / (1 + 2 m / tau)). For z <= 0 every
    term is below 1 / (m - 1)! in size, so _N_SERIES terms leave < 1e-20: no inner quadrature.
    """
    m = np.arange(1, _N_SERIES + 1, dtype=np.float64)
    prec = 1.0 + 2.0 * m[None, :] / tau[:, None]  # (n, M)
    mean = u[:, None] / prec
    gauss = np.exp(-0.5 * np.log(prec) - np.square(u[:, None]) * (m[None, :] / tau[:, None]) / prec)
    fact = np.cumprod(m)  # m!
    sign = (-1.0) ** (m + 1.0)
    c_cdf = gauss * (sign / fact)  # (n, M)
    c_a = gauss * (sign * m / fact) / tau[:, None]
    moments = np.stack([c_a, c_a * mean, c_a * (np.square(mean) + 1.0 / prec)], axis=1)
    powers = np.exp(z[:, :, None] / tau[:, None, None] * m)  # e^(m z / tau), (n, J, M)
    cdf = np.einsum("njm,nm->nj", powers, c_cdf)
    a = np.einsum("njm,nqm->nqj", powers, moments)
    return a, cdf


def _gauss_hermite(n: int) -> tuple[FloatArray, FloatArray]:
    """Nodes and weights for E[f(X)], X ~ N(0, 1)."""
    key = -n
    if key not in _GL_CACHE:
        x, w = np.polynomial.hermite_e.hermegauss(n)
        _GL_CACHE[key] = (x, w / np.sqrt(2.0 * np.pi))
    return _GL_CACHE[key]


def _softmax_nodes_smooth(tau, u, k_max):
    """T > 0, judge window wide compared with the spread of W: inner average by Gauss-Hermite.

    Outer variable x = z / T. Valid when the Gumbel kernel varies slowly over the Gaussian
    (see _SMOOTH_TAU); returns the same (weight * a_j, log(1 - F)) pairs as _softmax_nodes.
    """
    gx, gw = _gauss_hermite(_GH_NODES)
    y = u[:, None] + gx  # candidate offsets from the judge centre, units of s
    w_over_t = np.square(y) / tau[:, None]  # (n, H)
    powers = np.stack([np.ones_like(y), y, np.square(y)], axis=1)  # (n, 3, H)
    log_ew = np.log(np.sum(gw * np.exp(-w_over_t), axis=1))
    x_hi = w_over_t.max(axis=1) + 4.0
    x1 = np.minimum(-_N_LINEAR - np.log(k_max) - log_ew, x_hi)
    n_pan = max(int(np.ceil(np.max(x_hi - x1) / _X_SMOOTH)), 1)
    vx, vw = _gauss_legendre(_GL_SMOOTH)
    v1 = np.exp(x1)[:, None]
    v = v1 * vx
    x_lin = np.log(v)
    w_lin = v1 * vw / v
    x_edges = x1[:, None] + (x_hi - x1)[:, None] * (np.arange(n_pan + 1) / n_pan)
    xs, xw = _panel_nodes(x_edges, _GL_SMOOTH)
    x = np.concatenate([x_lin, xs], axis=1)  # (n, J)
    wx = np.concatenate([w_lin, xw], axis=1)
    arg = x[:, :, None] - w_over_t[:, None, :]  # (n, J, H)
    ex = np.exp(arg)
    keep = np.exp(-ex)
    a_dx = np.einsum("njh,h,nqh->nqj", ex * keep, gw, powers)
    cdf = np.einsum("njh,h->nj", -np.expm1(-ex), gw)
    sur = np.einsum("njh,h->nj", keep, gw)
    return wx[:, None, :] * a_dx, _log_survival(cdf, sur)


def _route_tasks(tau, u, q, u_route=None):
    """Chunks of inputs (n,) with finite tau, each with the node function of its route.

    The route is chosen with u_route (default u): a table passes the top of its u panel, so
    that one panel never mixes routes.
    """
    zero = tau == 0.0
    smooth = ~zero & (tau >= _SMOOTH_TAU * ((u if u_route is None else u_route) + 2.0))
    routes = (
        (zero, lambda i: _best_of_k_nodes(u[i], q.k_max), 256),
        (smooth, lambda i: _softmax_nodes_smooth(tau[i], u[i], q.k_max), 128),
        (~zero & ~smooth, lambda i: _softmax_nodes(tau[i], u[i], q), _ROBUST_CHUNK),
    )
    tasks = []
    for mask, nodes, chunk in routes:
        idx = np.flatnonzero(mask)
        tasks += [(nodes, idx[start : start + chunk]) for start in range(0, idx.size, chunk)]
    return tasks


_WORKER = threading.local()


def _run_tasks(tasks, work) -> None:
    """work(task) for every task, on num_threads() threads (serially inside a worker).

    Tasks are independent and the quadrature releases the GIL (numpy loops, nogil kernels),
    so threads give a near-linear speed-up; results do not depend on the thread count.
    """
    threads = min(num_threads(), len(tasks))
    if threads > 1 and not getattr(_WORKER, "busy", False):

        def run(task):
            _WORKER.busy = True
            try:
                work(task)
            finally:
                _WORKER.busy = False

        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(run, tasks))
    else:
        for task in tasks:
            work(task)


def _direct(tau, u, theta, q, u_route=None):
    """Quadrature for every input: delta / s^2 at k_eval, (n, K); theta=None gives the moments.

    Inputs (n,) in units of s: tau = T / s^2 (finite, >= 0), u = |m - mu_R| / s and
    theta = +-(mu_T - mu_R) / s with the sign that makes the judge offset u >= 0. With
    theta=None returns M_j = E[Y_sel^j] (j = 0, 1, 2) of the selected candidate in judge
    coordinates, (n, 3, K). M_0 = 1 exactly; its quadrature value divides the others, which
    cancels most of the outer quadrature's error (a tenfold gain at judge offsets >~ 10 s).
    """
    n = tau.shape[0]
    out = np.empty((n, q.k_eval.size) if theta is not None else (n, 3, q.k_eval.size))

    def work(task):
        nodes, sel = task
        wa, log_sur = nodes(sel)
        if theta is not None:  # e = (Y - theta)^2 = Y^2 - 2 theta Y + theta^2, node by node
            th = theta[sel][:, None]
            wa = np.stack([wa[:, 2] - 2.0 * th * wa[:, 1] + np.square(th) * wa[:, 0], wa[:, 0]], 1)
            sums = _power_sums(wa, log_sur, q.k_eval)
            out[sel] = sums[:, 0] / sums[:, 1]
        else:
            sums = _power_sums(wa, log_sur, q.k_eval)
            out[sel] = sums / sums[:, :1]

    _run_tasks(_route_tasks(tau, u, q, u_route), work)
    return out


# --- Tabulation in (tau, u) -----------------------------------------------------------------
# delta / s^2 = M_2 - 2 theta M_1 + theta^2 M_0 with M_j(k; tau, u) smooth (analytic) in ln tau
# and u, so a batch with many inputs needs the quadrature only on a tensor Chebyshev grid:
# piecewise in u (panels split until the coefficient tail is below _TABLE_TOL), one piece in
# ln tau per group of nearby temperatures. What is interpolated is (M_1 / sqrt(M_2), ln M_2)
# (M_0 = 1): bounded or slowly varying even where M_2 spans many decades. A sample of inputs
# is then checked against the direct quadrature; any failure falls back to it.
_U_DEGREE = 12  # Chebyshev degree per u panel
_TAU_DEGREE = 4  # Chebyshev degree in ln tau per temperature piece
_TAU_PIECE = 0.25  # widest ln tau range of one piece
_U_MIN_WIDTH = 1.0 / 64.0  # no panel narrower than this (units of s); below it: direct
_TABLE_TOL = 1e-7  # largest accepted |last two Chebyshev coefficients|
_TABLE_TOL_COARSE = 1e-6
_CHECK_TOL_COARSE = 5e-6
_CHECK_TOL = 5e-7  # largest relative gap, tabulated vs direct, at the sampled inputs
_CHECK_INPUTS = 6
_TABLE_RATIO = 2.5  # tabulate only if inputs >= _TABLE_RATIO * quadrature calls of the table
_TABLE_MIN_INPUTS = 512

_CHEB_CACHE: dict[int, tuple[FloatArray, FloatArray, FloatArray]] = {}


def _lobatto(p: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Chebyshev points cos(pi j / p) on [-1, 1], barycentric weights, and the two rows of the
    values-to-coefficients map that give the coefficients of degree p - 1 and p."""
    if p not in _CHEB_CACHE:
        j = np.arange(p + 1)
        x = np.cos(np.pi * j / p) if p > 0 else np.zeros(1)
        bary = (-1.0) ** j
        bary[[0, -1]] *= 0.5
        half = np.ones(p + 1)
        half[[0, -1]] = 0.5
        rows = np.array([np.cos(np.pi * i * j / p) * half * (2.0 / p) for i in (p - 1, p)])
        rows[1] *= 0.5
        _CHEB_CACHE[p] = (x, bary, rows)
    return _CHEB_CACHE[p]


def _barycentric(x: FloatArray, nodes: FloatArray, bary: FloatArray) -> FloatArray:
    """Interpolation matrix (n, p): f(x) = matrix @ f(nodes), for points x (n,) and
    interpolation nodes with barycentric weights bary (p,); a point within 1e-15 of a node
    takes that node's value."""
    diff = x[:, None] - nodes[None, :]
    hit = np.abs(diff) <= 1e-15
    diff[hit] = 1.0
    w = bary / diff
    w /= w.sum(axis=1, keepdims=True)
    rows = np.flatnonzero(hit.any(axis=1))
    w[rows] = hit[rows].astype(float)
    return w


def _bary_weights(t: FloatArray, lo: float, hi: float, p: int) -> FloatArray:
    """Interpolation weights (n, p + 1) of points t in [lo, hi] on its degree-p Lobatto points."""
    if p == 0:
        return np.ones((t.size, 1))
    x, bary, _ = _lobatto(p)
    return _barycentric((2.0 * t - (lo + hi)) / (hi - lo), x, bary)


def _table_values(moments: FloatArray) -> FloatArray:
    """(1, M_1, M_2) -> (M_1 / sqrt(M_2), ln M_2) along axis -2."""
    m2 = np.maximum(moments[..., 2, :], 1e-300)
    return np.stack([moments[..., 1, :] / np.sqrt(m2), np.log(m2)], axis=-2)


def _tail(values: FloatArray, axis: int, p: int) -> float:
    """Largest |Chebyshev coefficient| of degree p - 1 or p along axis (0 if p < 2)."""
    if p < 2:
        return 0.0
    _, _, rows = _lobatto(p)
    return float(np.max(np.abs(np.tensordot(rows, values, axes=([1], [axis])))))


def _build_table(t_lo, t_hi, nt, u_max, q, budget):
    """Accepted boxes (t_lo, t_hi, u_lo, u_hi, values (nt, p + 1, 2, K) or None = direct).

    t_lo, t_hi: ln tau range (tau = 0 is the single node of nt = 1 with t_lo = -inf). Returns
    None if the table would need more than `budget` quadrature calls.
    """
    p = _U_DEGREE
    x_u = _lobatto(p)[0]
    edges = [0.0, 1.0]
    while edges[-1] < u_max:
        edges.append(2.0 * edges[-1])
    pending = [(t_lo, t_hi, a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    accepted = []
    calls = 0
    while pending:
        taus, us = [], []
        for lo_t, hi_t, lo_u, hi_u in pending:
            if nt == 1:
                t_nodes = np.array([np.exp(lo_t)])
            else:
                t_nodes = np.exp(0.5 * (lo_t + hi_t) + 0.5 * (hi_t - lo_t) * _lobatto(nt - 1)[0])
            u_nodes = 0.5 * (lo_u + hi_u) + 0.5 * (hi_u - lo_u) * x_u
            taus.append(np.repeat(t_nodes, p + 1))
            us.append(np.tile(u_nodes, nt))
        calls += sum(a.size for a in taus)
        if calls > budget:
            return None
        tops = np.repeat([box[3] for box in pending], nt * (p + 1))
        moments = _direct(np.concatenate(taus), np.concatenate(us), None, q, tops)
        vals = _table_values(moments).reshape(len(pending), nt, p + 1, 2, q.k_eval.size)
        nxt = []
        for box, v in zip(pending, vals, strict=True):
            lo_t, hi_t, lo_u, hi_u = box
            if _tail(v, 1, p) > q.table_tol:
                if hi_u - lo_u >= 2.0 * _U_MIN_WIDTH:
                    mid = 0.5 * (lo_u + hi_u)
                    nxt += [(lo_t, hi_t, lo_u, mid), (lo_t, hi_t, mid, hi_u)]
                else:
                    accepted.append((*box, None))
            elif _tail(v, 0, nt - 1) > q.table_tol:
                if hi_t - lo_t >= 2e-3:
                    mid = 0.5 * (lo_t + hi_t)
                    nxt += [(lo_t, mid, lo_u, hi_u), (mid, hi_t, lo_u, hi_u)]
                else:
                    accepted.append((*box, None))
            else:
                accepted.append((*box, v))
        pending = nxt
    return accepted


def _tabulated(tau, u, theta, q, nt):
    """delta / s^2 at q.k_eval for inputs sharing one temperature piece, or None (use direct)."""
    n = tau.size
    u_max = float(u.max())
    if nt == 1:
        t_lo = t_hi = float(np.log(tau[0])) if tau[0] > 0 else -np.inf
    else:
        t_lo, t_hi = float(np.log(tau.min())), float(np.log(tau.max()))
    n_panels = 2 + max(int(np.ceil(np.log2(max(u_max, 1.0)))), 0)
    budget = n // _TABLE_RATIO
    if n < _TABLE_MIN_INPUTS or nt * (_U_DEGREE + 1) * n_panels > budget:
        return None
    boxes = _build_table(t_lo, t_hi, nt, u_max, q, budget)
    if boxes is None:
        return None
    out = np.empty((n, q.k_eval.size))
    todo = np.ones(n, dtype=bool)
    ln_tau = np.log(tau) if nt > 1 else None
    direct = np.zeros(n, dtype=bool)
    for lo_t, hi_t, lo_u, hi_u, v in boxes:
        mine = todo & (u >= lo_u) & (u <= hi_u)
        if nt > 1:
            mine &= (ln_tau >= lo_t) & (ln_tau <= hi_t)
        idx = np.flatnonzero(mine)
        if idx.size == 0:
            continue
        todo[idx] = False
        if v is None:
            direct[idx] = True
            continue
        w = _bary_weights(u[idx], lo_u, hi_u, _U_DEGREE)
        if nt > 1:
            wt = _bary_weights(ln_tau[idx], lo_t, hi_t, nt - 1)
            w = (wt[:, :, None] * w[:, None, :]).reshape(idx.size, -1)
        vals = (w @ v.reshape(w.shape[1], -1)).reshape(idx.size, 2, q.k_eval.size)
        root = np.exp(0.5 * vals[:, 1])
        th = theta[idx][:, None]
        out[idx] = (root - 2.0 * th * vals[:, 0]) * root + np.square(th)
    direct |= todo
    # a posteriori check at a deterministic sample of the tabulated inputs
    tab = np.flatnonzero(~direct)
    if tab.size:
        order = tab[np.argsort(u[tab], kind="stable")]
        probe = order[np.unique(np.linspace(0, order.size - 1, _CHECK_INPUTS).astype(int))]
        exact = _direct(tau[probe], u[probe], theta[probe], q)
        if not np.all(out[tab] > 0) or np.max(np.abs(out[probe] / exact - 1)) > q.check_tol:
            _log.debug("tabulated selection error failed its check; direct quadrature used")
            return None
    if direct.any():
        idx = np.flatnonzero(direct)
        out[idx] = _direct(tau[idx], u[idx], theta[idx], q)
    return out


def _temperature_pieces(tau: FloatArray) -> list[tuple[IntArray, int]]:
    """Group inputs with finite tau: (indices, nt), nt = 1 for a single temperature value."""
    pieces = []
    zero = np.flatnonzero(tau == 0.0)
    if zero.size:
        pieces.append((zero, 1))
    pos = np.flatnonzero(tau > 0.0)
    if pos.size == 0:
        return pieces
    values, inverse = np.unique(tau[pos], return_inverse=True)
    ln_v = np.log(values)
    start = 0
    for i in range(1, values.size + 1):
        if i == values.size or ln_v[i] - ln_v[start] > _TAU_PIECE:
            if i - start <= _TAU_DEGREE + 1:  # few values: one exact piece each
                for j in range(start, i):
                    pieces.append((pos[inverse == j], 1))
            else:
                mask = (inverse >= start) & (inverse < i)
                pieces.append((pos[mask], _TAU_DEGREE + 1))
            start = i
    return pieces


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


class _Quadrature(NamedTuple):
    """Settings shared by every quadrature call of one evaluation."""

    k_eval: FloatArray  # sorted k at which the power sums are taken
    k_max: int  # largest k the evaluation stands for (sets the node placement)
    gl_rho: int  # outer Gauss-Legendre order on z > 0, robust route
    gl_inner: int  # inner Gauss-Legendre order, robust route
    table_tol: float  # Chebyshev tail accepted by the tables
    check_tol: float  # relative gap, table vs direct, accepted at the sampled inputs


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


def _power_sums(wa: FloatArray, log_sur: FloatArray, k_eval: FloatArray) -> FloatArray:
    """k * sum_j wa[:, q, j] * (1 - F_j)^(k - 1) for every k of a sorted k_eval; (n, Q, K).

    wa: (n, Q, J); log_sur: (n, J). Powers are stepped along k_eval (one multiply per node and
    k when the steps repeat, as on an integer grid).
    """
    out = np.empty(wa.shape[:2] + (k_eval.size,))
    steps = np.diff(k_eval, prepend=1.0)
    power = np.exp(log_sur * (k_eval[0] - 1.0))
    cache: dict[float, FloatArray] = {}
    for i, step in enumerate(steps.tolist()):
        if i > 0:
            if step not in cache:
                if len(cache) > 8:
                    cache.clear()
                cache[step] = np.exp(log_sur * step)
            power *= cache[step]
        out[:, :, i] = np.einsum("nqj,nj->nq", wa, power)
    return out * k_eval


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
