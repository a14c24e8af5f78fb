"""High-temperature expansion of the pool estimator to third order in a = 1/T, exact for subsets.

Per problem, with the pool's central moments M_pq = (1/K) sum_i (l_i - mean l)^p (r_i - mean r)^q
(loss l, score r, K candidates) and k the subset size:

    delta_p(k, T) = M10 + a g1 M11 + (a^2 / 2) g2 M12 + (a^3 / 6) (A M13 + B M11 M02) + O(a^4)

    g1 = (k-1)/k * K/(K-1),      g2 = (k-1)(k-2)/k^2 * K^2/((K-1)(K-2)),
    A  =  K (k-1) [K^2 (k^2 - 6k + 6) + K (k^2 + 6) - 6k] / [k^3 (K-1)(K-2)(K-3)],
    B  = -3 K (k-1) [K^2 (k^2 - 4k + 6) - K (k^2 + 6) + 6k] / [k^3 (K-1)(K-2)(K-3)].

They are the expectations, over k-subsets drawn without replacement, of the subset's plug-in
joint cumulants kappa(l), kappa(l,r), kappa(l,r,r), kappa(l,r,r,r) (derivation in
docs/empirical.md). As K -> inf they become the factors of ``itscale.expansions.delta_hte``
(with r = -u); at k = K they are 1, 1, 1 and (A, B) = (1, -3): the pool's own cumulants. Pools
with K <= 3 (where the closed form is 0/0) use explicit enumeration of the subsets.
Coefficient c_j has units of loss x score^j; T is in score units.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import ArrayLike, NDArray

from itscale.empirical.pool import _as_k, _as_pool

__all__ = [
    "delta_pool_hte",
    "delta_pool_hte_problems",
    "hte_pool_coefficients",
    "subset_factors",
    "validity_threshold",
]

FloatArray = NDArray[np.float64]


def subset_factors(k: ArrayLike, K: ArrayLike) -> tuple[FloatArray, ...]:
    """(g1, g2, A, B) of the module docstring, broadcast over k and K (K >= 4, 1 <= k <= K)."""
    k = np.asarray(k, dtype=np.float64)
    K = np.asarray(K, dtype=np.float64)
    g1 = (k - 1) / k * K / (K - 1)
    g2 = (k - 1) * (k - 2) / k**2 * K**2 / ((K - 1) * (K - 2))
    den = k**3 * (K - 1) * (K - 2) * (K - 3)
    A = K * (k - 1) * (K**2 * (k**2 - 6 * k + 6) + K * (k**2 + 6) - 6 * k) / den
    B = -3 * K * (k - 1) * (K**2 * (k**2 - 4 * k + 6) - K * (k**2 + 6) + 6 * k) / den
    return g1, g2, A, B


def _plugin_cumulants(x: FloatArray, r: FloatArray) -> FloatArray:
    """Plug-in (1/n) joint cumulants kappa(l), (l,r), (l,r,r), (l,r,r,r) of points (x=l, r)."""
    dl = x - x.mean()
    dr = r - r.mean()
    m11, m12, m13 = (np.mean(dl * dr**q) for q in (1, 2, 3))
    m02 = np.mean(dr**2)
    return np.array([x.mean(), m11, m12, m13 - 3 * m11 * m02])


def _enumerated(x: FloatArray, r: FloatArray, k: int) -> FloatArray:
    """Subset average of the plug-in cumulants of (loss x, score r), by enumeration."""
    subsets = itertools.combinations(range(x.size), k)
    return np.mean([_plugin_cumulants(x[list(s)], r[list(s)]) for s in subsets], axis=0)


def hte_pool_coefficients(loss: ArrayLike, score: ArrayLike, k: ArrayLike) -> FloatArray:
    """Per-problem coefficients c_j of delta_p = sum_j c_j a^j, shape (problems, 4, len(k)).

    loss, score: (problems, pool), NaN for absent candidates; k: 1-D ints (<= smallest pool).
    """
    loss, score, sizes = _as_pool(loss, score)
    k = _as_k(k, sizes)
    present = ~np.isnan(loss)
    n = sizes[:, None].astype(np.float64)
    mean_l = np.nansum(loss, axis=1, keepdims=True) / n
    mean_r = np.nansum(score, axis=1, keepdims=True) / n
    dl = np.where(present, loss - mean_l, 0.0)
    dr = np.where(present, score - mean_r, 0.0)
    m = {q: (dl * dr**q).sum(axis=1) / sizes for q in (1, 2, 3)}
    m02 = (dr * dr).sum(axis=1) / sizes
    with np.errstate(divide="ignore", invalid="ignore"):
        g1, g2, A, B = subset_factors(k[None, :], sizes[:, None])
    out = np.empty((loss.shape[0], 4, k.size))
    out[:, 0, :] = mean_l
    out[:, 1, :] = g1 * m[1][:, None]
    out[:, 2, :] = g2 * m[2][:, None] / 2
    out[:, 3, :] = (A * m[3][:, None] + B * (m[1] * m02)[:, None]) / 6
    for p in np.flatnonzero(sizes <= 3):
        lp, rp = loss[p, present[p]], score[p, present[p]]
        for j, kv in enumerate(k):
            kap = _enumerated(lp, rp, int(kv))
            out[p, :, j] = kap / np.array([1.0, 1.0, 2.0, 6.0])
    return out


def delta_pool_hte_problems(
    loss: ArrayLike, score: ArrayLike, k: ArrayLike, T: ArrayLike, order: int = 3
) -> FloatArray:
    """Per-problem expansion truncated after a^order, shape (problems, len(k), len(T)).

    T > 0 (inf allowed) in score units; order in 0..3. Units of the loss.
    """
    if order not in (0, 1, 2, 3):
        raise ValueError(f"order must be 0, 1, 2 or 3, got {order!r}")
    T = np.asarray(T, dtype=np.float64)
    if T.ndim != 1 or np.isnan(T).any() or (T <= 0).any():
        raise ValueError("T must be a 1-D array of temperatures > 0 (the expansion is in 1/T)")
    c = hte_pool_coefficients(loss, score, k)
    a = 1.0 / T
    total = np.zeros(c.shape[:1] + (c.shape[2], T.size))
    for j in range(order, -1, -1):  # Horner in a
        total = total * a + c[:, j, :, None]
    return total


def delta_pool_hte(
    loss: ArrayLike, score: ArrayLike, k: ArrayLike, T: ArrayLike, order: int = 3
) -> FloatArray:
    """Problem average of :func:`delta_pool_hte_problems`, shape (len(k), len(T))."""
    return delta_pool_hte_problems(loss, score, k, T, order).mean(axis=0)


def validity_threshold(
    T: ArrayLike, expansion: ArrayLike, lower: ArrayLike, upper: ArrayLike, rtol: float = 1e-9
) -> FloatArray:
    """Smallest grid temperature from which the expansion stays inside [lower, upper].

    T: 1-D grid (any order; T = 0 entries are ignored). expansion, lower, upper: arrays whose
    last axis is T (e.g. the bootstrap interval of the exact curve). Returns, per leading index,
    the smallest T > 0 such that the expansion is inside the interval at that T and at every
    larger grid T; inf where it is outside even at the largest T. Score units. The interval
    is widened by ``rtol`` times its magnitude (a zero-width interval still admits round-off).
    """
    T = np.asarray(T, dtype=np.float64)
    keep = np.flatnonzero(T > 0)
    order = keep[np.argsort(T[keep])]
    Ts = T[order]
    exp_ = np.asarray(expansion, dtype=np.float64)[..., order]
    lo = np.asarray(lower, dtype=np.float64)[..., order]
    hi = np.asarray(upper, dtype=np.float64)[..., order]
    tol = rtol * np.maximum(np.abs(lo), np.abs(hi))
    inside = (exp_ >= lo - tol) & (exp_ <= hi + tol)
    # inside from position i to the end <=> the reversed cumulative AND is True at i
    tail_ok = np.flip(np.logical_and.accumulate(np.flip(inside, -1), axis=-1), -1)
    first = np.where(tail_ok.any(-1), np.argmax(tail_ok, axis=-1), -1)
    return np.where(first >= 0, Ts[np.maximum(first, 0)], np.inf)
