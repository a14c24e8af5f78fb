"""Exact averages of the per-input selection error over a Gaussian bias.

Over test inputs the student's bias b = m - mu_T (and, for a general judge, the judge offset
b' = m - mu_R) is Gaussian, both for one fitted posterior (itscale.theory.finite_size) and in the
deterministic-equivalent limit (itscale.theory.equivalents). The per-input error is invariant
under a common shift of y, mu_T and mu_R, so only (b, b') matter; this module holds the one
quadrature rule both averages use.

Quadrature. As a function of b the per-input error switches from the selected-sample regime
to b^2 + s^2 around |b| ~ s sqrt(2 ln k): a feature of width ~ s / sqrt(1 + 2 ln k) that
Gauss-Hermite in b resolves only when it is wide compared with the spread of b, i.e. at small
difficulty rho = 2 var_b / s^2 (at rho = 6, k = 1e3, 64-node Gauss-Hermite is off by 0.5%).
So the rule is composite Gauss-Legendre in z = b / sqrt(var_b) on [0, 10] (the integrand is
even), panel width min(1.5, 5 a / sqrt(1 + 2 ln k_max)) with a = s / (sqrt(var_b) max(1,
|1 + c|)), n_quad nodes per panel.
"""

from __future__ import annotations

import numpy as np

from itscale._types import FloatArray, IntArray
from itscale.theory.selection import (
    delta_exact_curves,
    delta_exact_points,
    interpolate_k,
    judge_centre,
    k_points,
)

__all__ = [
    "average_c_family",
    "average_pair",
    "c_family_rule",
    "curves_c_family",
    "half_line_rule",
    "pair_rule",
]

_Z_MAX = 10.0  # quadrature range in standard deviations: 2 phi(10) ~ 1.5e-22
_H_MAX = 1.5  # widest panel, in standard deviations
_FEATURE = 5.0  # panel width in units of the feature width s / sqrt(1 + 2 ln k)
_RANK_TOL = 1e-12  # relative eigenvalue below which a direction of (b, b') is dropped
_WEIGHT_TOL = 1e-14  # 2-D product weights below this (relative to the largest) are dropped


def half_line_rule(scale: float, k_max: int, n_quad: int) -> tuple[FloatArray, FloatArray]:
    """Nodes z >= 0 and weights (sum 1) for E[f(Z)], Z ~ N(0, 1), f even.

    scale: width, in units of z, of a unit change of the integrand's arguments in units of s
    (s / sqrt(var) / max(1, |1 + c|)); inf if the direction has no spread.
    """
    h = min(_H_MAX, _FEATURE * scale / np.sqrt(1.0 + 2.0 * np.log(k_max)))
    n_panels = int(np.ceil(_Z_MAX / h))
    edges = np.linspace(0.0, _Z_MAX, n_panels + 1)
    x, w = np.polynomial.legendre.leggauss(n_quad)
    width = np.diff(edges)[:, None]
    z = (edges[:-1, None] + width * 0.5 * (x + 1.0)).ravel()
    wz = (width * 0.5 * w).ravel() * np.exp(-0.5 * z**2)
    return z, wz / wz.sum()


def pair_rule(cov: FloatArray, s: float, k_max: int, n_quad: int) -> tuple[FloatArray, FloatArray]:
    """Nodes (J, 2) and weights (J,) for E[f(p)], p ~ N(0, cov) in R^2, f(p) = f(-p).

    Eigen factorisation cov = U diag(ev) U^T; directions with ev <= _RANK_TOL * max(ev) are
    dropped, so a singular cov gives a 1-D rule along its range (or a single node at 0).
    """
    ev, U = np.linalg.eigh(cov)
    top = ev.max()
    if top <= 0:
        return np.zeros((1, 2)), np.ones(1)
    keep = ev > _RANK_TOL * top
    sd = np.sqrt(ev[keep])
    axes = U[:, keep] * sd  # (2, r)
    if axes.shape[1] == 1:
        z, w = half_line_rule(s / sd[0], k_max, n_quad)
        return z[:, None] * axes[:, 0], w
    z1, w1 = half_line_rule(s / sd[0], k_max, n_quad)
    z2, w2 = half_line_rule(s / sd[1], k_max, n_quad)
    # full line for the second direction; the half line for the first covers p -> -p
    z2 = np.concatenate([-z2[::-1], z2])
    w2 = np.concatenate([w2[::-1], w2]) / 2.0
    ww = np.outer(w1, w2).ravel()
    zz = np.stack([np.repeat(z1, z2.size), np.tile(z2, z1.size)], axis=1)
    keep_w = ww > _WEIGHT_TOL * ww.max()
    return zz[keep_w] @ axes.T, ww[keep_w] / ww[keep_w].sum()


def c_family_rule(
    var_b: float, s: float, c: FloatArray, k_max: int, n_quad: int
) -> tuple[FloatArray, FloatArray]:
    """Nodes b (J,) and weights (J,) for E_b[f(b)], b ~ N(0, var_b), f even."""
    if var_b <= 0:
        return np.zeros(1), np.ones(1)
    sd = np.sqrt(var_b)
    slope = max(1.0, float(np.max(np.abs(1.0 + c), initial=1.0)))
    z, w = half_line_rule(s / (sd * slope), k_max, n_quad)
    return sd * z, w


def curves_c_family(k_grid: IntArray, T: FloatArray, s: float, b: FloatArray, c: FloatArray):
    """Per-node curves (T.size, c.size, J, nk) at mu_T = 0, m = b, judge family c."""
    mu_R = judge_centre(0.0, b[None, :], c.ravel()[:, None])  # (nc, J)
    return delta_exact_curves(k_grid, T.reshape(-1, 1, 1), b, s, 0.0, mu_R)


def _average_over_nodes(
    k_grid: IntArray, T: FloatArray, b: FloatArray, s: float, mu_R: FloatArray, w: FloatArray
) -> FloatArray:
    """sum_j w_j delta_exact(k, T; m = b_j, mu_T = 0, mu_R_j) over the last input axis.

    Evaluated at the k points of the quadrature (coarse orders: the averages' tolerance is
    1e-5), averaged there, and only then interpolated to every k of k_grid.
    """
    k_sorted, k_pos = np.unique(k_grid, return_inverse=True)
    at = delta_exact_points(
        k_points(k_sorted), T, b, s, 0.0, mu_R, k_max=int(k_sorted[-1]), coarse=True
    )
    return interpolate_k(np.einsum("...jk,j->...k", at, w), k_sorted)[..., k_pos.ravel()]


def average_c_family(
    k_grid: IntArray, T: FloatArray, s: float, var_b: float, c: FloatArray, n_quad: int = 8
) -> FloatArray:
    """E_b[delta_exact(k, T; m - mu_T = b, judge family c)], b ~ N(0, var_b), s fixed.

    k_grid 1-D ints; T and c any shapes, combined as an outer product. Returns
    T.shape + c.shape + (len(k_grid),), units of y^2.
    """
    b, w = c_family_rule(var_b, s, c, int(k_grid.max()), n_quad)
    mu_R = judge_centre(0.0, b[None, :], c.ravel()[:, None])  # (nc, J)
    out = _average_over_nodes(k_grid, T.reshape(-1, 1, 1), b, s, mu_R, w)
    return out.reshape(T.shape + c.shape + (k_grid.size,))


def average_pair(
    k_grid: IntArray, T: FloatArray, s: float, cov: FloatArray, n_quad: int = 8
) -> FloatArray:
    """E[delta_exact(k, T; b, b')] for (b, b') ~ N(0, cov), s fixed.

    Returns T.shape + (len(k_grid),), units of y^2.
    """
    pts, w = pair_rule(cov, s, int(k_grid.max()), n_quad)
    b, b_judge = pts[:, 0], pts[:, 1]
    out = _average_over_nodes(k_grid, T.reshape(-1, 1), b, s, b - b_judge, w)
    return out.reshape(T.shape + (k_grid.size,))
