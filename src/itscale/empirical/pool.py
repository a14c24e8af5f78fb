"""Exact pool (U-statistic) estimator of the selection error from K scored candidates per problem.

Per problem p the pool holds K_p candidates with loss l_i (lower is better) and judge score r_i
(higher is preferred). The estimator of the error of selecting among k fresh candidates with
softmax(r / T) is the mean, over all C(K_p, k) subsets S drawn without replacement, of
sum_{i in S} l_i p_i(S), p_i(S) = exp(r_i / T) / sum_{j in S} exp(r_j / T); at T = 0 the best
score of S wins and ties share the win equally. Subsets are never enumerated:

* T = 0: sort by score; position i (0-based, descending) is the best of S with probability
  C(K - i - 1, k - 1) / C(K, k), a product of ratios accumulated with no subtraction; a tie group
  contributes its mean loss. Cost O(K log K) per problem plus O(K) per k (early exit).
* T > 0: 1/W = int_0^inf exp(-t W) dt turns the subset average into a t-integral of an
  elementary-symmetric-polynomial recursion (normalised by binomials, every term >= 0 after the
  losses are shifted to be >= 0). Candidates whose log-weights are separated by more than
  ``_GAP`` e-folds are split into clusters, each integrated on its own scale. The t-integral
  uses the double-exponential map t = exp(v - exp(-v)) / W_hi and the trapezoid rule in v; the
  integrand is a positive combination of exp(-t W) with W in a known range, and the rule
  integrates every such exponential to ~1e-13 relative (see docs/empirical.md).

Shapes: ``loss``, ``score`` are (problems, pool) float arrays, NaN marks an absent candidate
(both arrays NaN at the same places). ``k``: 1-D ints >= 1; ``T``: 1-D floats >= 0 (inf
allowed) in score units. Losses keep their units.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

from itscale.theory.selection import num_threads

__all__ = [
    "baseline_pool",
    "baseline_pool_problems",
    "delta_pool",
    "delta_pool_problems",
    "oracle_pool",
    "oracle_pool_problems",
    "pooled_sd",
    "normalise_scores",
    "pool_sizes",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Trapezoid step in the double-exponential variable v (halving it: < 1e-12 relative change).
_STEP = 0.3
#: Left end of the v range: t W_hi = exp(v - e^-v) <= e^-40 there.
_V_LEFT = -3.7
#: Right end: the smallest weight of a cluster has t w >= _T_DEAD (exp(-40) ~ 4e-18 left).
_T_DEAD = 40.0
#: x = log(t w) above which z = exp(-t w) is taken as 0 (it is < exp(-735)).
_X_ZERO = 6.6
#: x below which z = 1 and the loss term t w z l is dropped (both within exp(-40) ~ 4e-18).
_X_ONE = -40.0
#: Log-weight gap (e-folds) above which two groups of candidates are integrated separately:
#: at the upper group's last node a lower candidate has t w <= 40 e^-45 ~ 1e-18 (z = 1).
_GAP = 45.0


# --------------------------------------------------------------------------------------------
# Input checks and sorting
# --------------------------------------------------------------------------------------------


def _as_pool(loss: ArrayLike, score: ArrayLike) -> tuple[FloatArray, FloatArray, IntArray]:
    """Validated (problems, pool) float arrays and the pool size of each problem."""
    loss = np.asarray(loss, dtype=np.float64)
    score = np.asarray(score, dtype=np.float64)
    if loss.ndim != 2 or score.shape != loss.shape:
        raise ValueError(
            f"loss and score must be 2-D arrays (problems, pool) of one shape, got "
            f"{loss.shape} and {score.shape}"
        )
    absent = np.isnan(loss)
    if not np.array_equal(absent, np.isnan(score)):
        p, c = np.argwhere(absent != np.isnan(score))[0]
        raise ValueError(
            f"loss and score must be NaN at the same places (absent candidates); they differ "
            f"at problem row {p}, candidate column {c}"
        )
    if np.isinf(loss).any() or np.isinf(score).any():
        raise ValueError("loss and score must be finite (NaN only marks an absent candidate)")
    sizes = (~absent).sum(axis=1).astype(np.int64)
    if loss.shape[0] == 0 or (sizes == 0).any():
        raise ValueError("every problem needs at least one candidate (and there must be one)")
    return loss, score, sizes


def _as_k(k: ArrayLike, sizes: IntArray) -> IntArray:
    arr = np.asarray(k)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"k must be a non-empty 1-D array of integers, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"k must hold integers, got {arr!r}")
    arr = arr.astype(np.int64)
    if (arr < 1).any():
        raise ValueError(f"k must be >= 1, got min {arr.min()}")
    small = np.flatnonzero(sizes < arr.max())
    if small.size:
        raise ValueError(
            f"k = {arr.max()} exceeds the pool of {small.size} problem(s) (rows "
            f"{', '.join(map(str, small[:5]))}{', ...' if small.size > 5 else ''}, smallest "
            f"pool {sizes.min()}); lower k or drop those problems"
        )
    return arr


def _as_T(T: ArrayLike) -> FloatArray:
    arr = np.asarray(T, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"T must be a non-empty 1-D array, got shape {arr.shape}")
    if np.isnan(arr).any() or (arr < 0).any():
        raise ValueError(f"T must be >= 0 (0 = best score wins, inf = no selection), got {arr!r}")
    return arr


def pool_sizes(loss: ArrayLike) -> IntArray:
    """Number of present (non-NaN) candidates of each problem; (problems,) ints."""
    return (~np.isnan(np.asarray(loss, dtype=np.float64))).sum(axis=1).astype(np.int64)


def _sorted_by_score(loss: FloatArray, score: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Rows sorted by descending score, absent candidates (NaN) last.

    The order within a tie group is irrelevant (T = 0 averages it; T > 0 is symmetric), so the
    faster unstable sort is used.
    """
    order = np.argsort(np.where(np.isnan(score), np.inf, -score), axis=1)
    return np.take_along_axis(loss, order, 1), np.take_along_axis(score, order, 1)


def _threaded(n_rows: int, work) -> None:
    """work(lo, hi) over chunks of rows on num_threads() threads (kernels release the GIL)."""
    threads = max(1, min(num_threads(), n_rows))
    edges = np.linspace(0, n_rows, min(n_rows, 8 * threads) + 1).astype(int)
    chunks = [(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]
    if threads == 1:
        for a, b in chunks:
            work(a, b)
        return
    with ThreadPoolExecutor(max_workers=threads) as ex:
        list(ex.map(lambda ab: work(*ab), chunks))


# --------------------------------------------------------------------------------------------
# T = 0: best score wins, ties share
# --------------------------------------------------------------------------------------------


@numba.njit(nogil=True, cache=True)
def _best_kernel(lbar, sizes, k_grid, out, lo, hi):
    """out[p, j] = sum_i P(position i is the best of a k-subset) lbar[p, i], p in [lo, hi)."""
    for p in range(lo, hi):
        n = sizes[p]
        for j in range(k_grid.size):
            k = k_grid[j]
            q = 1.0  # C(n - i, k) / C(n, k): no member of S among the first i positions
            acc = 0.0
            for i in range(n - k + 1):
                rest = n - i
                acc += q * (k / rest) * lbar[p, i]
                q *= (rest - k) / rest
                if q < 1e-300:
                    break
            out[p, j] = acc


def _tie_means(loss_sorted: FloatArray, score_sorted: FloatArray) -> FloatArray:
    """Each position's loss replaced by the mean loss of its tie group (equal scores)."""
    n_p, width = loss_sorted.shape
    new_group = np.ones((n_p, width), dtype=bool)
    new_group[:, 1:] = score_sorted[:, 1:] != score_sorted[:, :-1]
    gid = np.cumsum(new_group.ravel()) - 1  # global group ids, row-major
    filled = np.where(np.isnan(loss_sorted), 0.0, loss_sorted).ravel()
    present = (~np.isnan(loss_sorted)).ravel().astype(np.float64)
    sums = np.bincount(gid, weights=filled)
    counts = np.bincount(gid, weights=present)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    return means[gid].reshape(n_p, width)


def _best_of_k_problems(loss: FloatArray, score: FloatArray, sizes: IntArray, k: IntArray):
    loss_s, score_s = _sorted_by_score(loss, score)
    lbar = np.ascontiguousarray(_tie_means(loss_s, score_s))
    out = np.empty((loss.shape[0], k.size))
    _threaded(loss.shape[0], lambda a, b: _best_kernel(lbar, sizes, k, out, a, b))
    return out


# --------------------------------------------------------------------------------------------
# T > 0: t-integral of the elementary-symmetric-polynomial recursion
# --------------------------------------------------------------------------------------------


@numba.njit(nogil=True, cache=True)
def _log_binom(n, m):
    if m < 0 or m > n:
        return -np.inf
    return math.lgamma(n + 1.0) - math.lgamma(m + 1.0) - math.lgamma(n - m + 1.0)


@numba.njit(nogil=True, cache=True)
def _mixed(fa, n_act, n_one, n_all, r, lfact):
    """f_r of (active + ones) / C(n_all, r) from fa[m] = f_m(active) / C(n_act, m).

    The n_one "ones" (t w ~ 0: z = 1, no loss term) multiply by C(n_one, j); the weights
    C(n_one, j) C(n_act, r - j) / C(n_all, r) are run outwards from the mode (no underflow).
    """
    j_lo, j_hi = max(0, r - n_act), min(n_one, r)
    if j_lo > j_hi:
        return 0.0
    mode = min(max((r + 1) * (n_one + 1) // (n_one + n_act + 2), j_lo), j_hi)
    log_w = (
        lfact[n_one] - lfact[mode] - lfact[n_one - mode]
        + lfact[n_act] - lfact[r - mode] - lfact[n_act - r + mode]
        - lfact[n_all] + lfact[r] + lfact[n_all - r]
    )  # fmt: skip
    w0 = math.exp(log_w)
    total = w0 * fa[r - mode]
    w = w0
    for j in range(mode, j_hi):  # w_{j+1} / w_j
        w *= (n_one - j) / (j + 1.0) * (r - j) / (n_act - r + j + 1.0)
        total += w * fa[r - j - 1]
    w = w0
    for j in range(mode, j_lo, -1):  # w_{j-1} / w_j
        w *= j / (n_one - j + 1.0) * (n_act - r + j) / (r - j + 1.0)
        total += w * fa[r - j + 1]
    return total


@numba.njit(nogil=True, cache=True)
def _cluster_integrals(lam, loss, a, b, kc, need, step, e, f, integ, lfact):
    """integ[r] = int_0^inf f_r(t) dt / C(b - a, r) for r = 1..kc with need[r].

    f_r(t) = sum over r-subsets R of the cluster of sum_{i in R} l_i w_i exp(-t sum_R w).
    lam (sorted, descending) are log-weights; w_i = exp(lam_i - lam_a). Trapezoid rule in v,
    t = exp(v - exp(-v)) / W_hi; e, f are work buffers of length >= kc + 1. At each node the
    recursion runs over the active candidates only: a prefix with t w > e^6.6 has z = 0 (it
    drops out of every surviving subset) and a suffix with t w < e^-40 has z = 1 to 4e-18 and
    no loss term (it only counts, see _mixed).
    """
    nc = b - a
    w_hi = 0.0
    for i in range(a, a + kc):
        w_hi += math.exp(lam[i] - lam[a])
    log_w_hi = math.log(w_hi)
    rhs = math.log(_T_DEAD) + log_w_hi - (lam[b - 1] - lam[a])
    n_nodes = int(math.ceil((rhs + 0.1 - _V_LEFT) / step)) + 1
    for r in range(kc + 1):
        integ[r] = 0.0
    for node in range(n_nodes):
        v = _V_LEFT + node * step
        ev = math.exp(-v)
        log_t = v - ev - log_w_hi
        lo, hi = a, b
        while lo < hi and log_t + lam[lo] - lam[a] > _X_ZERO:
            lo += 1
        while hi > lo and log_t + lam[hi - 1] - lam[a] < _X_ONE:
            hi -= 1
        n_act = hi - lo
        kk = min(kc, n_act)
        e[0] = 1.0
        f[0] = 0.0
        for r in range(1, kk + 1):
            e[r] = 0.0
            f[r] = 0.0
        for i in range(lo, hi):
            cnt = i - lo + 1
            x = log_t + lam[i] - lam[a]
            ex = math.exp(x)
            z = math.exp(-ex)
            lt = loss[i] * math.exp(x - ex)  # l_i t w_i z_i
            inv = 1.0 / cnt
            for m in range(min(cnt, kk), 0, -1):
                beta = m * inv
                alpha = 1.0 - beta
                f[m] = alpha * f[m] + beta * (z * f[m - 1] + lt * e[m - 1])
                e[m] = alpha * e[m] + beta * z * e[m - 1]
        weight = step * (1.0 + ev)
        n_one = b - hi
        for r in range(1, kc + 1):
            if not need[r]:
                continue
            if n_one == 0 and n_act == nc:
                integ[r] += weight * f[r]
            else:
                integ[r] += weight * _mixed(f, n_act, n_one, nc, r, lfact)


@numba.njit(nogil=True, cache=True)
def _softmax_one(lam, loss, n, k_grid, step, out_row, e, f, integ, need, lfact):
    """out_row[j] = pool estimate at k_grid[j] for one problem (loss >= 0, lam sorted desc)."""
    k_max = 0
    for j in range(k_grid.size):
        out_row[j] = 0.0
        k_max = max(k_max, k_grid[j])
    a = 0
    while a < n:
        b = a + 1
        while b < n and lam[b - 1] - lam[b] <= _GAP:
            b += 1
        nc = b - a
        n_later = n - b
        kc = min(k_max, nc)
        for r in range(kc + 1):
            need[r] = nc < n  # several clusters: every r combines with the later ones
        for j in range(k_grid.size):
            if k_grid[j] <= kc:
                need[k_grid[j]] = True
        _cluster_integrals(lam, loss, a, b, kc, need, step, e, f, integ, lfact)
        for j in range(k_grid.size):
            k = k_grid[j]
            if nc == n:  # one cluster: the hypergeometric weight is 1 at r = k
                out_row[j] += integ[k]
                continue
            log_total = _log_binom(n, k)
            for r in range(1, min(k, nc) + 1):
                if k - r <= n_later:
                    log_h = _log_binom(nc, r) + _log_binom(n_later, k - r) - log_total
                    out_row[j] += math.exp(log_h) * integ[r]
        a = b


@numba.njit(nogil=True, cache=True)
def _softmax_kernel(score_s, loss_s, sizes, k_grid, T, step, out, lo, hi):
    """out[p, j] for problems p in [lo, hi) at temperature T > 0 (finite)."""
    k_max = 0
    for j in range(k_grid.size):
        k_max = max(k_max, k_grid[j])
    width = score_s.shape[1]
    lam = np.empty(width)
    lsh = np.empty(width)
    e = np.empty(k_max + 1)
    f = np.empty(k_max + 1)
    integ = np.empty(k_max + 1)
    need = np.zeros(k_max + 1, dtype=np.bool_)
    lfact = np.empty(width + 2)
    for i in range(width + 2):
        lfact[i] = math.lgamma(i + 1.0)
    for p in range(lo, hi):
        n = sizes[p]
        l_min = np.inf
        for i in range(n):
            l_min = min(l_min, loss_s[p, i])
        for i in range(n):
            lam[i] = max((score_s[p, i] - score_s[p, 0]) / T, -1e200)
            lsh[i] = loss_s[p, i] - l_min
        _softmax_one(lam, lsh, n, k_grid, step, out[p], e, f, integ, need, lfact)
        for j in range(k_grid.size):
            out[p, j] += l_min


def _softmax_problems(loss, score, sizes, k, T_value, step=_STEP):
    loss_s, score_s = _sorted_by_score(loss, score)
    out = np.empty((loss.shape[0], k.size))
    _threaded(
        loss.shape[0],
        lambda a, b: _softmax_kernel(score_s, loss_s, sizes, k, T_value, step, out, a, b),
    )
    return out


def _mean_loss(loss: FloatArray) -> FloatArray:
    return np.nanmean(loss, axis=1)


def delta_pool_problems(
    loss: ArrayLike, score: ArrayLike, k: ArrayLike, T: ArrayLike, *, step: float = _STEP
) -> FloatArray:
    """Per-problem pool estimates, shape (problems, len(k), len(T)), units of the loss.

    Entry [p, a, b] is the exact mean over the k[a]-subsets of problem p's pool of the
    softmax(score / T[b])-weighted loss (T = 0: best score wins, ties share; T = inf: mean
    loss). ``step`` is the quadrature step (for convergence checks only).
    """
    loss, score, sizes = _as_pool(loss, score)
    k = _as_k(k, sizes)
    T = _as_T(T)
    out = np.empty((loss.shape[0], k.size, T.size))
    for b, t in enumerate(T):
        if t == 0:
            out[:, :, b] = _best_of_k_problems(loss, score, sizes, k)
        elif np.isinf(t):
            out[:, :, b] = _mean_loss(loss)[:, None]
        else:
            out[:, :, b] = _softmax_problems(loss, score, sizes, k, float(t), step)
    return out


def delta_pool(loss: ArrayLike, score: ArrayLike, k: ArrayLike, T: ArrayLike) -> FloatArray:
    """Pool (U-statistic) estimate of the selection error, shape (len(k), len(T)).

    loss, score: (problems, pool) floats, NaN marks an absent candidate; k: 1-D ints >= 1 (at
    most the smallest pool); T: 1-D floats >= 0 in score units (0: best score wins, ties share
    equally; inf: no selection). Value: the problem average of the exact mean over all
    k-subsets (without replacement) of sum_i loss_i softmax(score / T)_i. Units of the loss.
    """
    return delta_pool_problems(loss, score, k, T).mean(axis=0)


def oracle_pool_problems(loss: ArrayLike, k: ArrayLike) -> FloatArray:
    """Per-problem expected lowest loss among k candidates, shape (problems, len(k)).

    For 0/1 losses (1 - correct) this is 1 - pass@k = C(K - c, k) / C(K, k) with c the number
    of correct candidates; in general the exact subset mean of the minimum loss.
    """
    loss = np.asarray(loss, dtype=np.float64)
    loss, neg, sizes = _as_pool(loss, -loss)
    return _best_of_k_problems(loss, neg, sizes, _as_k(k, sizes))


def oracle_pool(loss: ArrayLike, k: ArrayLike) -> FloatArray:
    """Problem average of :func:`oracle_pool_problems`, shape (len(k),)."""
    return oracle_pool_problems(loss, k).mean(axis=0)


def baseline_pool_problems(loss: ArrayLike) -> FloatArray:
    """Per-problem mean loss (k = 1, or a random pick, or T = inf), shape (problems,)."""
    loss, _, _ = _as_pool(loss, np.asarray(loss, dtype=np.float64))
    return _mean_loss(loss)


def baseline_pool(loss: ArrayLike) -> float:
    """Problem average of the mean loss (the k = 1 / random-pick baseline)."""
    return float(baseline_pool_problems(loss).mean())


# --------------------------------------------------------------------------------------------
# Score normalisation
# --------------------------------------------------------------------------------------------


def pooled_sd(score: ArrayLike) -> float:
    """Pooled within-problem standard deviation of a judge's scores, in score units.

    sqrt(sum_p sum_i (r_pi - mean_p r)^2 / sum_p (K_p - 1)) over present candidates; score is
    (problems, pool) with NaN for absent candidates.
    """
    score = np.asarray(score, dtype=np.float64)
    dev = score - np.nanmean(score, axis=1, keepdims=True)
    dof = (np.sum(~np.isnan(score), axis=1) - 1).sum()
    if dof <= 0:
        raise ValueError("pooled_sd needs at least one problem with two candidates")
    sd = float(np.sqrt(np.nansum(dev * dev) / dof))
    if not sd > 0:
        raise ValueError("the judge gives every candidate of every problem the same score")
    return sd


def normalise_scores(score: ArrayLike, how: str = "raw") -> tuple[FloatArray, float]:
    """Scores on the T axis: ``raw`` (unchanged) or ``pooled_sd`` (divided by :func:`pooled_sd`).

    Returns (scores, scale) with scores = original / scale (scale 1 for raw), so a temperature
    T on the normalised axis is T * scale in the judge's own units.
    """
    score = np.asarray(score, dtype=np.float64)
    if how == "raw":
        return score, 1.0
    if how == "pooled_sd":
        scale = pooled_sd(score)
        return score / scale, scale
    raise ValueError(f"normalise must be 'raw' or 'pooled_sd', got {how!r}")
