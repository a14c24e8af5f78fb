"""Direct route of the exact selection quadrature: node rules, routes, power sums over k.

Per input (units of s: tau = T / s^2, judge offset u = |m - mu_R| / s) a node rule gives outer
nodes z with weight * a_j(z) (j = 0, 1, 2) and log(1 - F(z)): _best_of_k_nodes at T = 0,
_softmax_nodes (closed-form series on z <= 0, compiled inner quadrature on z > 0) and
_softmax_nodes_smooth (Gauss-Hermite inner average, for judge windows wide compared with s).
_power_sums takes k * sum a (1 - F)^(k - 1) for every k, and _direct runs the routes over
chunks of inputs on threads. See docs/theory.md, "Exact selection error".
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr

from itscale._types import FloatArray
from itscale.theory._kernel import _inner_kernel
from itscale.theory._threads import _run_tasks

__all__ = ["_Quadrature", "_direct", "_power_sums", "_route_tasks"]

# Quadrature layout (all lengths in units of s). Chosen by self-convergence studies against
# rules about twice as fine (the same study is tests/test_selection.py's convergence test).
_GL_OUTER = 10  # Gauss-Legendre nodes per outer panel
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

_GL_CACHE: dict[int, tuple[FloatArray, FloatArray]] = {}


class _Quadrature(NamedTuple):
    """Settings shared by every quadrature call of one evaluation."""

    k_eval: FloatArray  # sorted k at which the power sums are taken
    k_max: int  # largest k the evaluation stands for (sets the node placement)
    gl_rho: int  # outer Gauss-Legendre order on z > 0, robust route
    gl_inner: int  # inner Gauss-Legendre order, robust route
    table_tol: float  # Chebyshev tail accepted by the tables
    check_tol: float  # relative gap, table vs direct, accepted at the sampled inputs


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
