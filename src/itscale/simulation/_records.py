"""Best-of-k (T = 0) by records: sample the running minimum of ``|y - mu_R|`` directly.

With common random numbers across k, the best-of-k estimate of one trial at every ``k`` is the
error of the current *record* (the candidate nearest the judge centre so far). Given a record at
candidate ``K`` with ``h = |z_K - c0|`` (standard units ``z = (y - m) / s``, judge centre
``c0 = (mu_R - m) / s``), later candidates are iid, so the next record comes after a geometric
waiting time with success probability ``p = P(|Z - c0| < h)`` and is ``Z`` conditioned on
``|Z - c0| < h``, independent of the wait. Sampling these (about ``ln k_max`` records per trial)
gives exactly the joint law, over all ``k``, of the plain sampler's running minimum.

* ``p`` is ``Phi(c0 + h) - Phi(c0 - h)`` from tail masses (``erfc``) on the side where they do
  not cancel, and from the series ``2 phi(c0) sum_j He_2j(c0) h^(2j+1) / (2j+1)!`` (probabilists'
  Hermite polynomials, per-input coefficients) when ``h max(1, |c0|) <= 1/2``; the waiting time
  is ``ceil(E / -log(1 - p))`` with ``E`` exponential, ``log(1 - p)`` taken from the tails
  when ``p > 1/2``.
* The new record is drawn exactly: by rejection from N(0, 1) when ``p >= 0.3``; otherwise from
  a uniform proposal on the interval (acceptance ``exp((a^2 - x^2) / 2)`` after reflecting it
  to ``x >= 0`` side, at least ``1/e``) or, on wide intervals away from 0, from an exponential
  proposal truncated to the interval with Robert's (1995) rate and acceptance
  ``exp(-(x - lambda)^2 / 2)``.

Streams: sequence ``q = row * trials + trial`` of the block draws its first ``SCAN`` candidates
exactly as the plain sampler does (:mod:`itscale.simulation._tiles`, in SIMD lanes; the first
records come often, so scanning them is cheaper than sampling them), so ``k <= SCAN`` is shared
with every temperature and judge; the later records come from the sequence's auxiliary stream,
judge after judge. Judges therefore no longer share candidates beyond the ``SCAN``-th at
``T = 0``; every ``k`` of one judge shares one record path.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from itscale.simulation._rng import normal, uniform, uniform_open
from itscale.simulation._tiles import (
    add_lanes,
    argmin_tile,
    group_inputs,
    tile_candidates,
    tile_workspace,
)

__all__ = [
    "SCAN",
    "hermite_coefficients",
    "interval_mass",
    "record_rows",
    "slots_ge",
    "truncated_normal",
]

SCAN = 16
"""Candidates drawn and scanned as the plain sampler does before records take over."""

_N_SERIES = 12  # series terms (even count); h max(1, |c0|) <= 1/2: remainder < 1e-22 relative
_SERIES_REACH = 0.5
_C0_SERIES_MAX = 30.0  # beyond, phi(c0) underflows; erfc tails are used instead
_P_NORMAL = 0.3  # rejection from N(0, 1) at or above this interval mass
_SQRT1_2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327


@numba.njit(nogil=True, cache=True, error_model="numpy")
def hermite_coefficients(c0, out):
    """``out[j] = 2 phi(c0) He_2j(c0) / (2j+1)!`` for ``j < out.size``; returns the reach ``h``
    up to which the series is used (0 if ``|c0|`` is too large)."""
    he_prev, he = 0.0, 1.0  # He_{-1}, He_0
    fact = 1.0  # (2j+1)!
    scale = 2.0 * _INV_SQRT_2PI * math.exp(-0.5 * c0 * c0)
    n = 0
    for j in range(out.size):
        out[j] = scale * he / fact
        for _ in range(2):  # He_{n+1} = c0 He_n - n He_{n-1}
            he_prev, he = he, c0 * he - n * he_prev
            n += 1
        fact *= (2 * j + 2) * (2 * j + 3)
    if abs(c0) > _C0_SERIES_MAX:
        return 0.0
    return _SERIES_REACH / max(1.0, abs(c0))


@numba.njit(nogil=True, inline="always", error_model="numpy")
def _ndtr(x):
    return 0.5 * math.erfc(-x * _SQRT1_2)


@numba.njit(nogil=True, cache=True, inline="always", error_model="numpy")
def interval_mass(c0, h, coef, reach):
    """``(p, -log(1 - p))`` with ``p = P(|Z - c0| < h)``, ``Z ~ N(0, 1)``, ``h >= 0``."""
    if h <= reach:  # Horner in h^4 on the even and odd terms (two short chains)
        h2 = h * h
        h4 = h2 * h2
        even = coef[coef.size - 2]
        odd = coef[coef.size - 1]
        for j in range(coef.size - 4, -1, -2):
            even = even * h4 + coef[j]
            odd = odd * h4 + coef[j + 1]
        p = h * (even + h2 * odd)
        return p, -math.log1p(-p)
    lo, hi = c0 - h, c0 + h
    if c0 > 0.0:  # reflect: the centre on the non-positive side
        lo, hi = -hi, -lo
    t_lo = _ndtr(lo)
    if hi <= 0.0:  # both ends below 0: a difference of lower tails, p <= 1/2
        p = _ndtr(hi) - t_lo
        return p, -math.log1p(-p)
    q = t_lo + _ndtr(-hi)  # the interval holds 0: its complement is two tails
    return 1.0 - q, -math.log(q)


@numba.njit(nogil=True, cache=True, inline="always", error_model="numpy")
def truncated_normal(st, lo, hi, p):
    """Exact draw of ``Z ~ N(0, 1)`` conditioned on ``lo < Z < hi`` (mass ``p``); stream ``st``."""
    if p >= _P_NORMAL:
        while True:
            z = normal(st)
            if lo < z < hi:
                return z
    sign = 1.0
    a, b = lo, hi
    if hi <= 0.0:
        sign, a, b = -1.0, -hi, -lo
    a0 = max(a, 0.0)  # the point of [a, b] nearest 0
    if a <= 0.0 or (b - a) * (b + a) <= 2.0:
        while True:  # uniform proposal; accept with exp(-(x^2 - a0^2) / 2)
            x = a + (b - a) * uniform(st)
            t = 0.5 * (x - a0) * (x + a0)
            v = uniform(st)
            if v <= 1.0 - t or v < math.exp(-t):
                return sign * x
    lam = 0.5 * (a + math.sqrt(a * a + 4.0))
    span = -math.expm1(-lam * (b - a))
    while True:  # exponential proposal on [a, b] (Robert 1995)
        x = a - math.log1p(-uniform(st) * span) / lam
        d = x - lam
        if uniform(st) < math.exp(-0.5 * d * d):
            return sign * x


@numba.njit(nogil=True, cache=True, inline="always", error_model="numpy")
def _continue(aux, k, h, e_prev, c0, coef, reach, k_max, m, s, mu_T, slot_ge, diff):
    """Records after candidate ``k`` (current minimum ``h`` of ``|z - c0|``, its error ``e_prev``)
    up to ``k_max``: each adds its error change to ``diff[first grid slot >= its index]``."""
    while k < k_max:
        p, rate = interval_mass(c0, h, coef, reach)
        if not p > 0.0:
            return
        g = -math.log(uniform_open(aux)) / rate
        if not g <= k_max - k:  # next record beyond k_max (also catches overflow)
            return
        k += int(math.ceil(g))
        z = truncated_normal(aux, c0 - h, c0 + h, p)
        e = (m + s * z - mu_T) ** 2
        diff[slot_ge[k]] += e - e_prev
        e_prev = e
        h = abs(z - c0)


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _judge_coefficients(m, s, mu_R, row0, row1, c0, coef, reach):
    """Per row and judge: ``c0 = (mu_R - m) / s`` and the interval-mass series coefficients."""
    for r in range(row1 - row0):
        for c in range(mu_R.shape[0]):
            c0[r, c] = (mu_R[c, row0 + r] - m[row0 + r]) / s[row0 + r]
            reach[r, c] = hermite_coefficients(c0[r, c], coef[r, c])


@numba.njit(nogil=True, cache=True, error_model="numpy")
def record_rows(key, m, s, mu_T, mu_R, slots, slot_ge, trials, t_index, row0, row1, n_l, acc):
    """Best-of-k trial sums for rows ``row0 .. row1 - 1`` into ``acc[t_index, :, :, row]``.

    The first ``min(k_max, SCAN)`` candidates of each sequence are drawn as the plain sampler
    draws them (tiles of one trial of ``n_l`` rows in SIMD lanes) and scanned for their running
    minimum; later records are sampled from the sequence's auxiliary stream, judge after judge.

    Args:
        key: ``(4,)`` uint64 block key. m, s, mu_T: ``(rows,)``. mu_R: ``(nc, rows)``.
        slots: ``(k_max,)`` grid index of candidate count ``i + 1`` or -1.
        slot_ge: ``(k_max + 1,)`` index of the first grid ``k >= K`` for ``K = 0..k_max``
            (``nk`` if none). trials: sequences per row. n_l: rows per tile (never changes
            results).
        acc: ``(nT, nc, nk, rows)``; ``acc[t_index, c, :, row]`` is overwritten.
    """
    nc, nk, k_max = mu_R.shape[0], acc.shape[2], slot_ge.size - 1
    k0 = min(k_max, SCAN)
    j0 = slot_ge[k0 + 1] if k0 < k_max else nk  # grid slots j < j0 have k <= k0
    n_rows = row1 - row0
    coef = np.empty((n_rows, nc, _N_SERIES))
    reach, c0 = np.empty((n_rows, nc)), np.empty((n_rows, nc))
    _judge_coefficients(m, s, mu_R, row0, row1, c0, coef, reach)
    part = np.zeros((nc, nk + 1, n_rows))  # j < j0: scan sums; j >= j0: differences
    z, e, ws, lanes, a = tile_workspace(k0, n_l, nc)
    aux = ws[2]  # each lane's auxiliary stream after the scan
    work, out = np.empty((2, n_l)), np.empty((nk, n_l))
    lane_m, lane_s, lane_t = lanes
    for g0 in range(row0, row1, n_l):
        n_lanes = group_inputs(m, s, mu_T, mu_R, g0, row1, lanes, a)
        for trial in range(trials):
            tile_candidates(key, g0, n_lanes, trials, trial, z, e, ws, lanes)
            for c in range(nc):
                argmin_tile(z, e, a[c], slots, out, work)
                dst = part[c]
                add_lanes(out, dst, g0 - row0, n_lanes, j0)
                if k0 == k_max:
                    continue
                for lane in range(n_lanes):
                    r = g0 - row0 + lane
                    dst[j0, r] += work[1, lane]
                    _continue(
                        aux[lane], k0, work[0, lane] / lane_s[lane], work[1, lane], c0[r, c],
                        coef[r, c], reach[r, c], k_max, lane_m[lane], lane_s[lane],
                        lane_t[lane], slot_ge, dst[:, r],
                    )  # fmt: skip
    for c in range(nc):
        for r in range(n_rows):
            total = 0.0
            for j in range(nk):
                total = part[c, j, r] if j <= j0 else total + part[c, j, r]
                acc[t_index, c, j, row0 + r] = total


def slots_ge(k_grid: np.ndarray) -> np.ndarray:
    """``(k_max + 1,)`` int64: index of the first grid ``k >= K`` for ``K = 0..k_max``."""
    k_grid = np.asarray(k_grid, dtype=np.int64)
    return np.searchsorted(k_grid, np.arange(int(k_grid[-1]) + 1), side="left").astype(np.int64)
