"""Reference prefix estimators in numpy: k-sample estimates of given normals, for the tests.

The compiled sampler (:mod:`itscale.simulation._sampler`) is checked against these vectorised
numpy kernels on the same normals (:func:`itscale.simulation.montecarlo.candidate_normals`).
They follow the same recipe in a different form (arrays of every candidate, candidate-major):

* ``T = 0``: error of the running argmin of ``|y - mu_R|`` (first candidate on ties);
* ``0 < T < inf``: prefix softmax sums with the first candidate as reference (weight exactly
  1), sequences whose weights overflow recomputed by online log-sum-exp;
* ``T = inf``: running mean of the errors.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from itscale.model import judge_centre
from itscale.simulation._checks import check_grids, check_inputs
from itscale.simulation._sampler import grid_slots
from itscale.validation import FloatArray, IntArray, as_finite

__all__ = ["prefix_estimates"]

_GROUP = 8  # candidates transformed per vectorised call (buffer of _GROUP x 2 x sequences)


def _softmax_fast(
    y: FloatArray,
    e: FloatArray,
    mu_R: FloatArray,
    inv_T: float,
    grid_slot: list[int],
    out: FloatArray,
) -> np.ndarray:
    """Softmax prefix estimates with the first candidate as reference (weight exactly 1).

    Args:
        y, e: ``(K, N)`` candidates and their errors, candidate-major.
        mu_R: ``(N,)`` judge centre per sequence.
        inv_T: ``1 / T`` (finite, > 0).
        grid_slot: length ``K``; ``grid_slot[i] = j`` if ``i + 1 == k_grid[j]`` else ``-1``.
        out: ``(nk, N)`` receives the estimate for every ``k`` of the grid.

    Returns:
        ``(N,)`` boolean mask of sequences whose weights overflowed (their ``out`` is invalid).
    """
    K, N = y.shape
    group = min(_GROUP, K)
    buf = np.empty((group, 2, N))
    acc = np.zeros((2, N))
    ref = y[0] - mu_R
    np.multiply(ref, ref, out=ref)  # d_1^2
    with np.errstate(over="ignore", invalid="ignore"):
        for g0 in range(0, K, group):
            g1 = min(g0 + group, K)
            w = buf[: g1 - g0, 0]
            we = buf[: g1 - g0, 1]
            np.subtract(y[g0:g1], mu_R, out=w)
            np.multiply(w, w, out=w)
            np.subtract(ref, w, out=w)
            np.multiply(w, inv_T, out=w)
            np.exp(w, out=w)
            np.multiply(w, e[g0:g1], out=we)
            for r in range(g1 - g0):
                acc += buf[r]
                j = grid_slot[g0 + r]
                if j >= 0:
                    np.divide(acc[1], acc[0], out=out[j])
        return ~(np.isfinite(acc[0]) & np.isfinite(acc[1]))


def _softmax_robust(
    y: FloatArray,
    e: FloatArray,
    mu_R: FloatArray,
    T: float,
    grid_slot: list[int],
    out: FloatArray,
) -> None:
    """Softmax prefix estimates by online log-sum-exp (running maximum); stable for any T > 0.

    Shapes as in :func:`_softmax_fast`; fills ``out`` in place.
    """
    K, _ = y.shape
    d = y[0] - mu_R
    run_max = -(d * d) / T
    den = np.ones_like(run_max)
    num = e[0].copy()
    if grid_slot[0] >= 0:
        np.divide(num, den, out=out[grid_slot[0]])
    for i in range(1, K):
        d = y[i] - mu_R
        logit = -(d * d) / T
        new_max = np.maximum(run_max, logit)
        scale = np.exp(run_max - new_max)
        w = np.exp(logit - new_max)
        den = den * scale + w
        num = num * scale + w * e[i]
        run_max = new_max
        j = grid_slot[i]
        if j >= 0:
            np.divide(num, den, out=out[j])


def _softmax_prefix(
    y: FloatArray,
    e: FloatArray,
    mu_R: FloatArray,
    T: float,
    grid_slot: list[int],
    out: FloatArray,
) -> None:
    """Finite-T prefix estimates: fast path, robust recomputation of overflowed sequences."""
    bad = _softmax_fast(y, e, mu_R, 1.0 / T, grid_slot, out)
    if bad.any():
        idx = np.flatnonzero(bad)
        sub = np.empty((out.shape[0], idx.size))
        _softmax_robust(y[:, idx], e[:, idx], mu_R[idx], T, grid_slot, sub)
        out[:, idx] = sub


def _argmin_prefix(
    y: FloatArray, e: FloatArray, mu_R: FloatArray, grid_slot: list[int], out: FloatArray
) -> None:
    """Best-of-k (T = 0) prefix estimates: ``e`` of the running argmin of ``|y - mu_R|``.

    Ties keep the earlier candidate (as ``np.argmin``). Shapes as in :func:`_softmax_fast`.
    """
    K, N = y.shape
    group = min(_GROUP, K)
    buf = np.empty((group, N))
    best_d = np.full(N, np.inf)
    best_e = np.zeros(N)
    better = np.empty(N, dtype=bool)
    for g0 in range(0, K, group):
        g1 = min(g0 + group, K)
        dist = buf[: g1 - g0]
        np.subtract(y[g0:g1], mu_R, out=dist)
        np.abs(dist, out=dist)
        for r in range(g1 - g0):
            np.less(dist[r], best_d, out=better)
            np.putmask(best_e, better, e[g0 + r])
            np.minimum(best_d, dist[r], out=best_d)
            j = grid_slot[g0 + r]
            if j >= 0:
                out[j] = best_e


def _mean_prefix(e: FloatArray, grid_slot: list[int], out: FloatArray) -> None:
    """No selection (T = inf): running mean of ``e`` over the first k candidates."""
    acc = np.zeros(e.shape[1])
    for i in range(e.shape[0]):
        acc += e[i]
        j = grid_slot[i]
        if j >= 0:
            np.divide(acc, i + 1, out=out[j])


def _grid_slots(k_grid: IntArray) -> list[int]:
    """``slot[i] = j`` if candidate count ``i + 1`` is ``k_grid[j]``, else -1 (length k_max)."""
    return grid_slots(np.asarray(k_grid)).tolist()


def _fill_prefix(
    y: FloatArray,
    e: FloatArray,
    mu_R: FloatArray,
    T: float,
    grid_slot: list[int],
    out: FloatArray,
) -> None:
    """Dispatch on T: ``out (nk, N)`` gets the k-sample estimates of every sequence."""
    if T == 0.0:
        _argmin_prefix(y, e, mu_R, grid_slot, out)
    elif math.isinf(T):
        _mean_prefix(e, grid_slot, out)
    else:
        _softmax_prefix(y, e, mu_R, T, grid_slot, out)


def prefix_estimates(
    z: ArrayLike,
    m: ArrayLike,
    s: ArrayLike,
    mu_T: ArrayLike,
    *,
    k_grid: ArrayLike,
    T: float,
    c: float,
) -> FloatArray:
    """Per-trial k-sample estimates on given normals (the engine's kernel, for inspection).

    Args:
        z: ``(n, trials, k_max)`` standard normals; ``k_max >= max(k_grid)``.
        m, s, mu_T: ``(n,)`` predictive mean, predictive standard deviation, teacher output.
        k_grid: strictly increasing candidate counts.
        T: temperature (0 = best-of-k, inf = no selection).
        c: judge misspecification, ``mu_R = mu_T - c (m - mu_T)``.

    Returns:
        ``(n, trials, nk)``: ``sum_{i<=k} p_i (y_i - mu_T)^2`` per input, trial and ``k``, with
        ``y = m + s z`` (units of ``y^2``).
    """
    m_arr, s_arr, t_arr = check_inputs(m, s, mu_T)
    k_arr, T_arr, c_arr = check_grids(k_grid, [T], [c])
    z_arr = as_finite(z, "z")
    n = m_arr.size
    if z_arr.ndim != 3 or z_arr.shape[0] != n or z_arr.shape[2] < k_arr[-1]:
        raise ValueError(f"z must have shape (n, trials, >= max(k_grid)), got {z_arr.shape}")
    k_max = int(k_arr[-1])
    trials = z_arr.shape[1]
    y, e = _candidates(z_arr[:, :, :k_max], m_arr, s_arr, t_arr)
    mu_R = np.repeat(judge_centre(t_arr, m_arr, float(c_arr[0])), trials)
    out = np.empty((k_arr.size, n * trials))
    _fill_prefix(y, e, mu_R, float(T_arr[0]), _grid_slots(k_arr), out)
    return out.reshape(k_arr.size, n, trials).transpose(1, 2, 0).copy()


def _candidates(
    z: FloatArray,
    m: FloatArray,
    s: FloatArray,
    mu_T: FloatArray,
    y: FloatArray | None = None,
    e: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Candidates ``y = m + s z`` and errors ``e = (y - mu_T)^2``, candidate-major ``(K, N)``.

    ``z`` is ``(r, trials, K)``; sequence ``n = row * trials + trial``, ``N = r * trials``.
    ``y`` and ``e`` are optional ``(K, N)`` output buffers.
    """
    r, trials, K = z.shape
    zt = z.reshape(r * trials, K).T
    y = np.empty((K, r * trials)) if y is None else y
    e = np.empty((K, r * trials)) if e is None else e
    np.multiply(np.repeat(s, trials), zt, out=y)
    y += np.repeat(m, trials)
    np.subtract(y, np.repeat(mu_T, trials), out=e)
    np.multiply(e, e, out=e)
    return y, e


# --------------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------------
