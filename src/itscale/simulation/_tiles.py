"""Tiles of sequences in SIMD lanes: drawing a tile's normals and its running best-of-k.

A *tile* is one trial of up to ``L`` consecutive rows (test inputs) of a block, processed side
by side, candidate-major (arrays ``(K, L)``), so every loop over lanes vectorises; a row's
trial sums are then plain vector additions, in trial order whatever ``L`` is. Sequence ``q`` draws
its candidates from xoshiro256** stream ``2 q`` of the block key (:mod:`itscale.simulation._rng`)
and completes the rare ziggurat words that fail the fast step from stream ``2 q + 1`` (its
*auxiliary* stream), in candidate order. The first ``K`` candidates of a sequence are therefore
the same whatever ``K`` is drawn: the plain sampler and the records sampler share them.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from itscale.simulation._rng import normal_finish, seed_lanes, xoshiro_step, zig_fast

__all__ = [
    "add_lanes",
    "argmin_tile",
    "block_normals",
    "candidates_tile",
    "draw_tile",
    "group_inputs",
    "tile_candidates",
    "tile_workspace",
]


@numba.njit(nogil=True, cache=True, error_model="numpy")
def draw_tile(key, seq0, stride, n_lanes, z, words, states, aux, failed):
    """Normals of sequences ``seq0 + l * stride`` (lanes ``l < n_lanes``) into ``z (K, L)``.

    ``words (K, L)`` uint64, ``states (4, L)`` uint64 and ``failed (K,)`` bool are workspaces;
    ``aux (L, 4)`` uint64 receives each used lane's auxiliary stream state after the
    completions (the records sampler continues from it). Lane ``l`` draws its sequence's words
    in order (xoshiro256** in SIMD lanes); the few that fail the ziggurat's fast step are
    completed afterwards, in candidate order, from the auxiliary stream. Unused lanes hold
    finite junk.
    """
    k_max, n_l = z.shape
    seed_lanes(key, 2 * seq0, 2 * stride, states)
    for i in range(k_max):
        n_bad = 0
        for lane in range(n_l):
            r, s0, s1, s2, s3 = xoshiro_step(
                states[0, lane], states[1, lane], states[2, lane], states[3, lane]
            )
            states[0, lane], states[1, lane], states[2, lane], states[3, lane] = s0, s1, s2, s3
            x, ok = zig_fast(r)
            words[i, lane] = r
            z[i, lane] = x if ok else math.nan
            n_bad += not ok
        failed[i] = n_bad > 0
    seed_lanes(key, 2 * seq0 + 1, 2 * stride, states)  # the main streams are done
    for lane in range(n_lanes):
        for w in range(4):
            aux[lane, w] = states[w, lane]
    for i in range(k_max):  # per lane in candidate order (lanes have separate streams)
        if failed[i]:
            for lane in range(n_lanes):
                if math.isnan(z[i, lane]):
                    z[i, lane] = normal_finish(aux[lane], words[i, lane])


def block_normals(key: np.ndarray, rows: int, trials: int, k_max: int) -> np.ndarray:
    """Every normal of a block (reference helper), ``(rows, trials, k_max)``: sequence
    ``row * trials + trial`` along the last axis."""
    n_seq = rows * trials
    z = np.empty((k_max, n_seq))
    words = np.empty((k_max, n_seq), dtype=np.uint64)
    states = np.empty((4, n_seq), dtype=np.uint64)
    aux = np.empty((n_seq, 4), dtype=np.uint64)
    failed = np.empty(k_max, dtype=np.bool_)
    draw_tile(np.asarray(key, np.uint64), 0, 1, n_seq, z, words, states, aux, failed)
    return np.ascontiguousarray(z.T).reshape(rows, trials, k_max)


@numba.njit(nogil=True, cache=True, error_model="numpy")
def candidates_tile(z, e, lane_m, lane_s, lane_t):
    """In place: ``z (K, L)`` becomes the candidates ``y = m + s z``, ``e (K, L)`` their errors
    ``(y - mu_T)^2``; ``lane_m``, ``lane_s``, ``lane_t`` ``(L,)`` are the lanes' inputs."""
    for i in range(z.shape[0]):
        zi, ei = z[i], e[i]
        for lane in range(z.shape[1]):
            y = lane_m[lane] + lane_s[lane] * zi[lane]
            zi[lane] = y
            b = y - lane_t[lane]
            ei[lane] = b * b


@numba.njit(nogil=True, cache=True, error_model="numpy")
def tile_workspace(k_max, n_l, nc):
    """Arrays of one thread's tiles: ``z, e (K, L)`` candidates and errors, ``ws`` the drawing
    workspaces of :func:`tile_candidates`, ``lanes`` the rows' inputs and ``a (nc, L)`` their
    judge centres (:func:`group_inputs`)."""
    z = np.empty((k_max, n_l))
    e = np.empty((k_max, n_l))
    ws = (
        np.empty((k_max, n_l), dtype=np.uint64),
        np.empty((4, n_l), dtype=np.uint64),
        np.empty((n_l, 4), dtype=np.uint64),
        np.empty(k_max, dtype=np.bool_),
    )
    lanes = (np.empty(n_l), np.empty(n_l), np.empty(n_l))
    return z, e, ws, lanes, np.empty((nc, n_l))


@numba.njit(nogil=True, cache=True, error_model="numpy")
def group_inputs(m, s, mu_T, mu_R, row0, row_end, lanes, a):
    """Lane ``l`` of a row group takes row ``min(row0 + l, row_end - 1)``'s inputs into
    ``lanes = (m, s, mu_T)`` (each ``(L,)``) and its judge centres ``mu_R[:, row]`` into
    ``a (nc, L)``; returns the number of used lanes."""
    lane_m, lane_s, lane_t = lanes
    for lane in range(lane_m.size):
        r = min(row0 + lane, row_end - 1)
        lane_m[lane], lane_s[lane], lane_t[lane] = m[r], s[r], mu_T[r]
        for c in range(a.shape[0]):
            a[c, lane] = mu_R[c, r]
    return min(lane_m.size, row_end - row0)


@numba.njit(nogil=True, cache=True, error_model="numpy")
def tile_candidates(key, row0, n_lanes, trials, trial, z, e, ws, lanes):
    """Candidates ``z (K, L)`` and errors ``e (K, L)`` of trial ``trial`` of rows ``row0 +
    l`` (lanes ``l < n_lanes``): sequence ``(row0 + l) * trials + trial`` of the block.

    ws: workspaces ``(words (K, L) uint64, states (4, L) uint64, aux (L, 4) uint64, failed
    (K,) bool)`` (``aux`` keeps each lane's auxiliary stream state); lanes: ``(m, s, mu_T)``
    of the row group (:func:`group_inputs`).
    """
    draw_tile(key, row0 * trials + trial, trials, n_lanes, z, ws[0], ws[1], ws[2], ws[3])
    candidates_tile(z, e, lanes[0], lanes[1], lanes[2])


@numba.njit(nogil=True, cache=True, error_model="numpy")
def argmin_tile(y, e, a, slots, out, work):
    """Best-of-k (T = 0) prefix estimates: error of the running argmin of ``|y - a|``.

    y, e: ``(K, L)``; a: ``(L,)`` judge centres; slots: grid index of candidate count
    ``i + 1`` or -1 (at least ``K`` entries); out: ``(nk, L)`` gets the grid slots up to ``K``.
    On return ``work[0]`` holds the running minimum of ``|y - a|`` and ``work[1]`` its error.
    """
    k_max, n_l = y.shape
    for lane in range(n_l):
        work[0, lane] = math.inf
        work[1, lane] = 0.0
    best, err = work[0], work[1]
    for i in range(k_max):
        yi, ei = y[i], e[i]
        for lane in range(n_l):
            d = abs(yi[lane] - a[lane])
            e_new, e_old, b = ei[lane], err[lane], best[lane]  # loaded first: a select, no branch
            err[lane] = e_new if d < b else e_old
            best[lane] = min(d, b)
        j = slots[i]
        if j >= 0:
            for lane in range(n_l):
                out[j, lane] = work[1, lane]


@numba.njit(nogil=True, cache=True, error_model="numpy")
def add_lanes(out, acc, row0, n_lanes, n_slots):
    """``acc[j, row0 + l] += out[j, l]`` for ``j < n_slots`` and the used lanes ``l``.

    Lanes are rows, so a row's sum runs over its trials in trial order, whatever ``L``.
    """
    for j in range(n_slots):
        src, dst = out[j], acc[j]
        for lane in range(n_lanes):
            dst[row0 + lane] += src[lane]
