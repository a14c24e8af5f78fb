"""Fused compiled sampler: draw each trial's candidates and reduce them in one pass.

For one block of test inputs, every (input, trial) *sequence* draws its ``k_max`` standard
normals from its own xoshiro256** stream (:mod:`itscale.simulation._tiles`, sequence number
``2 (row * trials + trial)``; its ziggurat completions, rare, from sequence ``+1``) and
reduces them at once, for every temperature and judge, into the per-input trial sums of the
k-sample estimates. A tile is one trial of up to ``LANES`` rows, processed side by side so the
reductions run in SIMD lanes and a row's trial sums are vector additions in trial order;
nothing of size ``trials x k_max`` is kept.

* ``T = 0`` (plain best-of-k): running minimum of ``|y - mu_R|`` (first candidate on ties).
* ``0 < T < inf``: prefix softmax sums with the first candidate as reference (weight exactly
  1, so no prefix sum underflows), float64 accumulation; a sequence whose exponents exceed
  ``_EXP_LIMIT`` is recomputed with a running-maximum (online log-sum-exp) pass.
* ``T = inf``: running mean of the errors (the same for every judge).

Common random numbers: the same normals serve every ``k``, ``T`` and ``c``. Results depend
only on (key, row, trial), never on the number of threads or how rows are split.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from itscale.simulation._records import record_rows, slots_ge
from itscale.simulation._tiles import (
    add_lanes,
    argmin_tile,
    group_inputs,
    tile_candidates,
    tile_workspace,
)
from itscale.simulation._vecmath import fast_exp

__all__ = [
    "LANES",
    "block_means",
    "grid_slots",
    "plain_rows",
    "tile_bytes",
]

LANES = 64  # rows per tile, processed side by side (at most; the memory budget may cut it)
_EXP_LIMIT = 600.0  # softmax exponents above this take the running-maximum recomputation


def grid_slots(k_grid: np.ndarray) -> np.ndarray:
    """``(k_max,)`` int64: ``j`` where candidate count ``i + 1 == k_grid[j]``, else -1."""
    slots = np.full(int(k_grid[-1]), -1, dtype=np.int64)
    slots[np.asarray(k_grid, dtype=np.int64) - 1] = np.arange(len(k_grid))
    return slots


# --------------------------------------------------------------------------------------------
# Reductions of one tile (lanes innermost: SIMD over the rows' sequences of one trial)
# --------------------------------------------------------------------------------------------


@numba.njit(nogil=True, cache=True, error_model="numpy", fastmath={"contract"})
def _softmax_tile(y, e, a, inv_T, slots, out, work):
    """Prefix softmax estimates of every lane into ``out (nk, L)``; returns the number of lanes
    whose exponents exceeded ``_EXP_LIMIT`` (``work[2, l] > _EXP_LIMIT``: recompute those).

    y, e: ``(k_max, L)`` candidates and errors; a: ``(L,)`` judge centres; inv_T = 1 / T;
    slots: ``(k_max,)`` grid index of candidate count ``i + 1`` or -1; work: ``(4, L)``.
    """
    k_max, n_l = y.shape
    ref, den, mx, num = work[0], work[1], work[2], work[3]
    for lane in range(n_l):
        d = y[0, lane] - a[lane]
        ref[lane] = d * d  # reference d_1^2
        den[lane] = 0.0  # sum of weights
        mx[lane] = 0.0  # largest exponent
        num[lane] = 0.0  # sum of weight * error
    for i in range(k_max):
        yi, ei = y[i], e[i]
        for lane in range(n_l):
            d = yi[lane] - a[lane]
            x = (ref[lane] - d * d) * inv_T
            w = fast_exp(x)
            den[lane] += w
            num[lane] += w * ei[lane]
            mx[lane] = max(mx[lane], x)
        j = slots[i]
        if j >= 0:
            oj = out[j]
            for lane in range(n_l):
                oj[lane] = num[lane] / den[lane]
    n_bad = 0
    for lane in range(n_l):
        n_bad += (mx[lane] > _EXP_LIMIT) or not math.isfinite(num[lane])
    return n_bad


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _softmax_lane(y, e, a, T, slots, out, lane):
    """Running-maximum (online log-sum-exp) recomputation of one lane; stable for any T > 0."""
    d = y[0, lane] - a
    run_max = -(d * d) / T
    den = 1.0
    num = e[0, lane]
    for i in range(y.shape[0]):
        if i > 0:
            d = y[i, lane] - a
            logit = -(d * d) / T
            if logit > run_max:
                scale = math.exp(run_max - logit)
                den = den * scale + 1.0
                num = num * scale + e[i, lane]
                run_max = logit
            else:
                w = math.exp(logit - run_max)
                den += w
                num += w * e[i, lane]
        j = slots[i]
        if j >= 0:
            out[j, lane] = num / den


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _mean_tile(e, slots, out, work):
    """No selection (T = inf): running mean of the errors."""
    k_max, n_l = e.shape
    for lane in range(n_l):
        work[0, lane] = 0.0
    for i in range(k_max):
        for lane in range(n_l):
            work[0, lane] += e[i, lane]
        j = slots[i]
        if j >= 0:
            for lane in range(n_l):
                out[j, lane] = work[0, lane] / (i + 1)


# --------------------------------------------------------------------------------------------
# Rows of a block
# --------------------------------------------------------------------------------------------


@numba.njit(nogil=True, cache=True, error_model="numpy")
def plain_rows(key, m, s, mu_T, mu_R, T_grid, slots, trials, row0, row1, skip_T0, n_l, acc):
    """Trial sums of the k-sample estimates of rows ``row0 .. row1 - 1`` into ``acc``.

    Args:
        key: ``(4,)`` uint64 block key. m, s, mu_T: ``(rows,)``. mu_R: ``(nc, rows)`` judge
            centres. T_grid: ``(nT,)``. slots: ``(k_max,)`` grid index per candidate count or
            -1. trials: sequences per row. skip_T0: leave ``T = 0`` entries alone (the
            records sampler fills them). n_l: rows per tile (never changes results).
        acc: ``(nT, nc, nk, rows)`` float64, zero on entry for these rows; receives the sums
            over trials in trial order.
    """
    k_max = slots.size
    nT, nc, nk = acc.shape[:3]
    z, e, ws, lanes, a = tile_workspace(k_max, n_l, nc)
    work = np.empty((4, n_l))
    out = np.empty((nk, n_l))
    for g0 in range(row0, row1, n_l):
        n_lanes = group_inputs(m, s, mu_T, mu_R, g0, row1, lanes, a)
        for trial in range(trials):
            tile_candidates(key, g0, n_lanes, trials, trial, z, e, ws, lanes)
            for t in range(nT):
                T = T_grid[t]
                if T == 0.0 and skip_T0:
                    continue
                for c in range(nc):
                    if math.isinf(T) and c > 0:
                        add_lanes(out, acc[t, c], g0, n_lanes, nk)
                        continue
                    if T == 0.0:
                        argmin_tile(z, e, a[c], slots, out, work)
                    elif math.isinf(T):
                        _mean_tile(e, slots, out, work)
                    elif _softmax_tile(z, e, a[c], 1.0 / T, slots, out, work):
                        for lane in range(n_lanes):
                            if work[2, lane] > _EXP_LIMIT or not math.isfinite(work[3, lane]):
                                _softmax_lane(z, e, a[c, lane], T, slots, out, lane)
                    add_lanes(out, acc[t, c], g0, n_lanes, nk)


def tile_bytes(lanes: int, k_max: int, nk: int, nc: int) -> int:
    """Working memory of one thread's tile of ``lanes`` rows (``nc`` judges), in bytes."""
    return 8 * lanes * (3 * k_max + nk + 12 + nc) + 8 * 20 * (nk + 16)


def block_means(
    key: np.ndarray,
    m: np.ndarray,
    s: np.ndarray,
    mu_T: np.ndarray,
    mu_R: np.ndarray,
    k_grid: np.ndarray,
    T_grid: np.ndarray,
    trials: int,
    *,
    records: bool = True,
    lanes: int = LANES,
    threads: int = 1,
) -> np.ndarray:
    """Per-input trial means of the sampled estimator, ``(nT, nc, nk, rows)`` (units of y^2).

    Args:
        key: ``(4,)`` uint64 block key (:func:`itscale.simulation._rng.block_key`).
        m, s, mu_T: ``(rows,)`` predictive mean, standard deviation, teacher output.
        mu_R: ``(nc, rows)`` judge centres. k_grid, T_grid: the grids.
        records: best-of-k (``T = 0``) by the records sampler (else the plain one).
        lanes: rows per tile; threads: threads over rows. Neither changes a bit.
    """
    rows = m.size
    nT, nc, nk = T_grid.size, mu_R.shape[0], k_grid.size
    acc = np.zeros((nT, nc, nk, rows))
    slots = grid_slots(k_grid)
    zero_T = np.flatnonzero(T_grid == 0.0) if records else np.empty(0, dtype=np.int64)
    plain = zero_T.size < nT
    ge = slots_ge(k_grid)

    def work(r0: int, r1: int) -> None:
        if plain:
            plain_rows(key, m, s, mu_T, mu_R, T_grid, slots, trials, r0, r1, records, lanes, acc)
        for t in zero_T.tolist():
            record_rows(key, m, s, mu_T, mu_R, slots, ge, trials, t, r0, r1, lanes, acc)

    n_thr = max(1, min(int(threads), rows))
    edges = np.linspace(0, rows, n_thr + 1).astype(int).tolist()
    if n_thr == 1:
        work(0, rows)
    else:
        with ThreadPoolExecutor(max_workers=n_thr) as pool:
            spans = zip(edges[:-1], edges[1:], strict=True)
            for fut in [pool.submit(work, a, b) for a, b in spans]:
                fut.result()
    acc /= trials
    return acc
