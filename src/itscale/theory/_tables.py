"""Tabulated route of the exact selection quadrature: Chebyshev tables in (T / s^2, |b'| / s).

delta / s^2 = M_2 - 2 theta M_1 + theta^2 M_0 with M_j(k; tau, u) smooth (analytic) in ln tau
and u, so a batch with many inputs needs the quadrature only on a tensor Chebyshev grid:
piecewise in u (panels split until the coefficient tail is below _TABLE_TOL), one piece in
ln tau per group of nearby temperatures. What is interpolated is (M_1 / sqrt(M_2), ln M_2)
(M_0 = 1): bounded or slowly varying even where M_2 spans many decades. A sample of inputs
is then checked against the direct quadrature; any failure falls back to it.
"""

from __future__ import annotations

import logging

import numpy as np

from itscale._types import FloatArray, IntArray
from itscale.theory._nodes import _direct

__all__ = ["_barycentric", "_tabulated", "_temperature_pieces"]

_U_DEGREE = 12  # Chebyshev degree per u panel
_TAU_DEGREE = 4  # Chebyshev degree in ln tau per temperature piece
_TAU_PIECE = 0.25  # widest ln tau range of one piece
_U_MIN_WIDTH = 1.0 / 64.0  # no panel narrower than this (units of s); below it: direct
_CHECK_INPUTS = 6
_TABLE_RATIO = 2.5  # tabulate only if inputs >= _TABLE_RATIO * quadrature calls of the table
_TABLE_MIN_INPUTS = 512

_log = logging.getLogger("itscale.theory.selection")
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
