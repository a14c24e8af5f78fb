"""Monte Carlo engine for inference-time selection with common random numbers.

For every test input we know the student's posterior predictive ``N(m, s^2)`` (``s`` is a
standard deviation) and the noise-free teacher output ``mu_T``. One *trial* draws ``k_max``
candidates ``y_i = m + s z_i`` with ``z_i ~ N(0, 1)``; the judge with misspecification ``c`` has
centre ``mu_R = mu_T - c (m - mu_T)`` and reward ``r_i = -(y_i - mu_R)^2``; a softmax at
temperature ``T`` selects candidate ``i`` with probability ``p_i ∝ exp(r_i / T)``. The k-sample
estimate of the per-input error is ``sum_{i<=k} p_i e_i`` with ``e_i = (y_i - mu_T)^2`` and the
softmax taken over the first ``k`` candidates only. ``T = 0`` is best-of-k (the candidate nearest
to ``mu_R``, first one on ties) and ``T = inf`` is no selection (the plain mean of ``e``).

Common random numbers
    Every (input, trial) sequence of a block draws its ``k_max`` standard normals from its own
    stream, keyed by (seed, replicate, "candidates", block, sequence) (see
    :mod:`itscale.simulation._rng`), and the compiled sampler (:mod:`itscale.simulation._sampler`)
    reduces them at once for every ``k``, ``T`` and ``c``: one draw serves them all. At
    ``T = 0`` the default ``best_of_k="records"`` samples the running minimum of
    ``|y - mu_R|`` directly (:mod:`itscale.simulation._records`): the first 16 candidates are
    the same draws as at every other temperature, every ``k`` of one judge shares one record
    path, but judges no longer share the later candidates. ``best_of_k="plain"`` draws all
    candidates as at ``T > 0``. :func:`candidate_normals` returns the plain sampler's normals.

Determinism
    ``block`` is the absolute index of a block of ``block_size`` consecutive test inputs, so a
    shard of inputs starting at input ``first_block * block_size`` reproduces the same numbers.
    Each sequence's value depends only on its key, and per-input sums run in trial order, so
    neither the number of threads over the inputs of a block, nor the tile size the memory
    budget sets, changes a bit. Statistics are kept *per block* and reduced in block order by
    :func:`summarise`, so the result is bit-identical for any worker count, shard split or
    processing order.

Standard errors
    Per input, the estimate is first averaged over its trials; the per-input means are iid over
    inputs, so the standard error is ``sqrt(var / n)`` of those means. Each block stores its count,
    mean and centred sum of squares (``m2``) of the per-input means (exact two-pass within the
    block); blocks are merged with the pairwise (Chan et al.) update in block order, which avoids
    the cancellation of raw sums of squares.

Numerics for 0 < T < inf
    Weights are ``w_i = exp((d_1^2 - d_i^2) / T)`` with ``d_i = y_i - mu_R``: the first candidate
    has weight exactly 1, so every prefix sum is >= 1 and never underflows. The rare sequences
    where a later weight could overflow (exponent above 600, only at small ``T / s^2``) are
    recomputed with a running-maximum (online log-sum-exp) update, stable for any ``T > 0``.
    The numpy prefix kernels of :mod:`itscale.simulation._reference` (:func:`prefix_estimates`)
    are the reference the compiled sampler is tested against.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from itscale.model import judge_centre
from itscale.simulation import _sampler, _tiles
from itscale.simulation._checks import (
    as_count,
    check_best_of_k,
    check_grids,
    check_inputs,
    check_memory_budget,
)
from itscale.simulation._reference import prefix_estimates
from itscale.simulation._rng import block_key
from itscale.validation import FloatArray, IntArray

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "ExactFn",
    "Stats",
    "candidate_normals",
    "combine",
    "prefix_estimates",
    "run",
    "simulate_block",
    "summarise",
]

DEFAULT_MEMORY_BUDGET = 512 * 2**20
"""Default memory budget of one block computation, in bytes (512 MiB)."""

ExactFn = Callable[..., np.ndarray]
"""``exact_fn(k_grid, T, m, s, mu_T, mu_R) -> (n, len(k_grid))`` exact per-input error."""

# --------------------------------------------------------------------------------------------
# Results container
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Stats:
    """Per-block sufficient statistics of the per-input means, grid dims ``(T, c, k)``.

    Attributes:
        k_grid: ``(nk,)`` candidate counts, strictly increasing.
        T_grid: ``(nT,)`` temperatures (0 = best-of-k, inf = no selection).
        c_grid: ``(nc,)`` judge misspecification parameters.
        trials: independent ``k_max``-candidate sets per input (ignored by the
            Rao-Blackwellised estimator, kept as metadata).
        seed, replicate: stream keys the candidates were drawn from.
        estimator: ``"sampled"`` or ``"rao_blackwell"``.
        blocks: ``(nb,)`` absolute block indices, strictly increasing.
        count: ``(nb,)`` number of test inputs in each block.
        mean: ``(nb, nT, nc, nk)`` mean over the block's inputs of the per-input trial means
            (units of ``y^2``).
        m2: ``(nb, nT, nc, nk)`` sum over the block's inputs of squared deviations of the
            per-input means from ``mean`` (units of ``y^4``).
        best_of_k: the ``T = 0`` sampler, ``"records"`` or ``"plain"`` (same law, different
            draws: :func:`combine` never mixes them; kept as given for the Rao-Blackwellised
            estimator too).
    """

    k_grid: IntArray
    T_grid: FloatArray
    c_grid: FloatArray
    trials: int
    seed: int
    replicate: int
    estimator: str
    blocks: IntArray
    count: IntArray
    mean: FloatArray
    m2: FloatArray
    best_of_k: str = "records"

    @property
    def n_inputs(self) -> int:
        """Total number of test inputs over all blocks."""
        return int(self.count.sum())


# --------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Draws and prefix estimators (pure, elementwise in the sequence axis)
# --------------------------------------------------------------------------------------------


def candidate_normals(
    seed: int, replicate: int, block: int, rows: int, trials: int, k_max: int
) -> FloatArray:
    """The standard normals of one block, shape ``(rows, trials, k_max)`` (reference helper).

    Sequence ``row * trials + trial`` of the block's key; the engine draws the same numbers
    (all of them for ``T > 0`` and for ``best_of_k="plain"``; the first ones at ``T = 0``).
    """
    key = block_key(seed, replicate, "candidates", block)
    return _tiles.block_normals(key, int(rows), int(trials), int(k_max))


def _lanes(rows: int, k_max: int, nk: int, nc: int, n_grid: int, threads: int, budget: int) -> int:
    """Rows per tile under ``budget`` bytes (block means counted as fixed); >= 1."""
    fixed = 8 * 2 * rows * n_grid
    lanes = _sampler.LANES
    while lanes > 1 and fixed + threads * _sampler.tile_bytes(lanes, k_max, nk, nc) > budget:
        lanes //= 2
    need = fixed + threads * _sampler.tile_bytes(lanes, k_max, nk, nc)
    if need > budget:
        raise ValueError(
            f"memory_budget={budget} bytes is too small: one block of {rows} inputs needs "
            f"{need} bytes at least (reduce block_size or the grids)"
        )
    return lanes


def _block_means_sampled(
    m: FloatArray,
    s: FloatArray,
    mu_T: FloatArray,
    k_grid: IntArray,
    T_grid: FloatArray,
    c_grid: FloatArray,
    trials: int,
    key: np.ndarray,
    budget: int,
    records: bool,
    threads: int,
) -> FloatArray:
    """Per-input trial means of the sampled estimator, shape ``(nT, nc, nk, rows)``."""
    k_max, nk = int(k_grid[-1]), k_grid.size
    n_thr = max(1, min(threads, m.size))
    lanes = _lanes(m.size, k_max, nk, c_grid.size, T_grid.size * c_grid.size * nk, n_thr, budget)
    mu_R = np.stack([judge_centre(mu_T, m, float(c)) for c in c_grid])
    return _sampler.block_means(
        key, m, s, mu_T, mu_R, k_grid, T_grid, trials, records=records, lanes=lanes,
        threads=n_thr,
    )  # fmt: skip


def _default_exact_fn() -> ExactFn:
    """``itscale.theory.selection.delta_exact_curves`` if available."""
    try:
        from itscale.theory.selection import delta_exact_curves
    except ImportError as exc:
        raise ValueError(
            "exact_fn: none given and itscale.theory.selection.delta_exact_curves is not available"
        ) from exc
    return delta_exact_curves


def _block_means_exact(
    m: FloatArray,
    s: FloatArray,
    mu_T: FloatArray,
    k_grid: IntArray,
    T_grid: FloatArray,
    c_grid: FloatArray,
    exact_fn: ExactFn,
) -> FloatArray:
    """Per-input exact values ``exact_fn`` (Rao-Blackwellised), shape ``(nT, nc, nk, rows)``.

    One call per temperature with the inputs repeated for every judge c: the exact route's
    tables in the judge offset then serve all c at once.
    """
    rows, nc = m.size, c_grid.size
    means = np.empty((T_grid.size, nc, k_grid.size, rows))
    mu_R = np.concatenate([judge_centre(mu_T, m, c) for c in c_grid.tolist()])
    m_c, s_c, t_c = (np.tile(a, nc) for a in (m, s, mu_T))
    for t, T in enumerate(T_grid.tolist()):
        vals = np.asarray(exact_fn(k_grid, T, m_c, s_c, t_c, mu_R), dtype=np.float64)
        if vals.shape != (rows * nc, k_grid.size):
            raise ValueError(
                f"exact_fn must return shape (n, len(k_grid)) = {(rows * nc, k_grid.size)}, "
                f"got {vals.shape}"
            )
        means[t] = vals.reshape(nc, rows, k_grid.size).transpose(0, 2, 1)
    return means


def simulate_block(
    m: ArrayLike,
    s: ArrayLike,
    mu_T: ArrayLike,
    *,
    k_grid: ArrayLike,
    T_grid: ArrayLike,
    c_grid: ArrayLike,
    trials: int,
    seed: int,
    replicate: int,
    block: int,
    rao_blackwell: bool = False,
    exact_fn: ExactFn | None = None,
    memory_budget: float = DEFAULT_MEMORY_BUDGET,
    best_of_k: str = "records",
    threads: int = 1,
) -> Stats:
    """Statistics of one block of test inputs.

    Args:
        m, s, mu_T: ``(rows,)`` predictive mean, predictive standard deviation (not variance)
            and teacher output of the block's inputs.
        k_grid: strictly increasing candidate counts; ``k_max = k_grid[-1]`` draws per trial.
        T_grid: temperatures, 0 (best-of-k) and inf (no selection) allowed.
        c_grid: judge misspecification values.
        trials: independent ``k_max``-candidate sets per input.
        seed, replicate, block: keys of ``stream(seed, replicate, "candidates", block)``.
        rao_blackwell: if True, use ``exact_fn`` per input instead of sampled candidates.
        exact_fn: ``exact_fn(k_grid, T, m, s, mu_T, mu_R) -> (rows, nk)``; defaults to
            ``itscale.theory.selection.delta_exact_curves``.
        memory_budget: bytes for the working arrays; sets the tile size only.
        best_of_k: ``"records"`` (sample the running minimum at ``T = 0`` directly) or
            ``"plain"`` (draw every candidate); the same law, different draws.
        threads: threads over the block's inputs (never changes a bit).

    Returns:
        :class:`Stats` with a single block.
    """
    m_arr, s_arr, t_arr = check_inputs(m, s, mu_T)
    k_arr, T_arr, c_arr = check_grids(k_grid, T_grid, c_grid)
    check_best_of_k(best_of_k)
    setup = dict(
        k_grid=k_arr, T_grid=T_arr, c_grid=c_arr, trials=as_count(trials, "trials", 1),
        seed=as_count(seed, "seed", 0), replicate=as_count(replicate, "replicate", 0),
        estimator="rao_blackwell" if rao_blackwell else "sampled",
        best_of_k=best_of_k,
    )  # fmt: skip
    block_i = as_count(block, "block", 0)
    budget = check_memory_budget(memory_budget)
    if rao_blackwell:
        fn = exact_fn if exact_fn is not None else _default_exact_fn()
        means = _block_means_exact(m_arr, s_arr, t_arr, k_arr, T_arr, c_arr, fn)
    else:
        key = block_key(setup["seed"], setup["replicate"], "candidates", block_i)
        means = _block_means_sampled(
            m_arr, s_arr, t_arr, k_arr, T_arr, c_arr, setup["trials"], key, budget,
            check_best_of_k(best_of_k), as_count(threads, "threads", 1),
        )  # fmt: skip
    return _one_block(means, block_i, setup)


def _one_block(means: FloatArray, block: int, setup: dict[str, Any]) -> Stats:
    """:class:`Stats` of one block from its per-input means ``(nT, nc, nk, rows)``."""
    rows = means.shape[-1]
    mean = means.sum(axis=-1) / rows
    dev = means - mean[..., None]
    return Stats(
        blocks=np.array([block], dtype=np.int64),
        count=np.array([rows], dtype=np.int64),
        mean=mean[None],
        m2=(dev * dev).sum(axis=-1)[None],
        **setup,
    )


# --------------------------------------------------------------------------------------------
# Combining and summarising
# --------------------------------------------------------------------------------------------


def _same_setup(a: Stats, b: Stats) -> bool:
    return (
        np.array_equal(a.k_grid, b.k_grid)
        and np.array_equal(a.T_grid, b.T_grid)
        and np.array_equal(a.c_grid, b.c_grid)
        and a.trials == b.trials
        and a.seed == b.seed
        and a.replicate == b.replicate
        and a.estimator == b.estimator
        and a.best_of_k == b.best_of_k
    )


def combine(partials: Sequence[Stats]) -> Stats:
    """Union of per-block statistics, sorted by block index (order of ``partials`` irrelevant).

    Raises:
        ValueError: if ``partials`` is empty, mixes grids/trials/seed/replicate/estimator/
            best_of_k, or holds a block twice.
    """
    parts = list(partials)
    if not parts:
        raise ValueError("partials must hold at least one Stats")
    for p in parts:
        if not isinstance(p, Stats):
            raise ValueError(f"partials must hold Stats objects, got {type(p).__name__}")
        if not _same_setup(parts[0], p):
            raise ValueError(
                "partials must share k_grid, T_grid, c_grid, trials, seed, replicate, "
                "estimator and best_of_k"
            )
    blocks = np.concatenate([p.blocks for p in parts])
    order = np.argsort(blocks, kind="stable")
    blocks = blocks[order]
    if (np.diff(blocks) == 0).any():
        dup = np.unique(blocks[1:][np.diff(blocks) == 0])
        raise ValueError(f"partials hold block(s) {dup.tolist()} more than once")
    first = parts[0]
    return Stats(
        k_grid=first.k_grid,
        T_grid=first.T_grid,
        c_grid=first.c_grid,
        trials=first.trials,
        seed=first.seed,
        replicate=first.replicate,
        estimator=first.estimator,
        blocks=blocks,
        count=np.concatenate([p.count for p in parts])[order],
        mean=np.concatenate([p.mean for p in parts])[order],
        m2=np.concatenate([p.m2 for p in parts])[order],
        best_of_k=first.best_of_k,
    )


def summarise(stats: Stats) -> tuple[FloatArray, FloatArray]:
    """Mean and standard error over all inputs, each ``(nT, nc, nk)`` (units of ``y^2``).

    Blocks are merged in increasing block index with the pairwise mean/variance update; the SE
    is ``sqrt(var / n)`` with ``var`` the unbiased variance of the per-input means (NaN if
    ``n == 1``).
    """
    if not isinstance(stats, Stats):
        raise ValueError(f"stats must be a Stats object, got {type(stats).__name__}")
    order = np.argsort(stats.blocks, kind="stable")
    n = 0
    mean = np.zeros(stats.mean.shape[1:])
    m2 = np.zeros(stats.mean.shape[1:])
    for b in order.tolist():
        nb = int(stats.count[b])
        n_new = n + nb
        delta = stats.mean[b] - mean
        mean = mean + delta * (nb / n_new)
        m2 = m2 + stats.m2[b] + delta * delta * (n * nb / n_new)
        n = n_new
    if n > 1:
        se = np.sqrt(m2 / (n - 1) / n)
    else:
        se = np.full_like(mean, np.nan)
    return mean, se


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------


def _pool_context() -> multiprocessing.context.BaseContext:
    """'fork' where available (no re-import of the caller's main module), else the default."""
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def run(
    m: ArrayLike,
    s: ArrayLike,
    mu_T: ArrayLike,
    *,
    k_grid: ArrayLike,
    T_grid: ArrayLike,
    c_grid: ArrayLike,
    trials: int,
    seed: int,
    replicate: int,
    block_size: int,
    first_block: int = 0,
    rao_blackwell: bool = False,
    exact_fn: ExactFn | None = None,
    memory_budget: float = DEFAULT_MEMORY_BUDGET,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    best_of_k: str = "records",
    threads: int = 1,
) -> Stats:
    """Statistics over all given test inputs, split into blocks of ``block_size`` inputs.

    Input ``i`` belongs to block ``first_block + i // block_size``; pass a slice of the test set
    starting at input ``first_block * block_size`` to compute a shard, and :func:`combine`
    shards. ``block_size`` defines the random streams, so it must be the same for all shards.

    Args:
        m, s, mu_T: ``(n,)`` predictive mean, predictive standard deviation, teacher output.
        k_grid, T_grid, c_grid, trials, seed, replicate, rao_blackwell, exact_fn, best_of_k,
            threads: as in :func:`simulate_block` (``threads`` per worker).
        block_size: inputs per block (the last block may be shorter).
        first_block: absolute index of the first block.
        memory_budget: bytes per block computation (per worker); never changes results.
        workers: processes; blocks are farmed out with ``ProcessPoolExecutor`` if > 1 (then
            ``exact_fn`` must be picklable, e.g. a module-level function).
        progress: called as ``progress(blocks_done, blocks_total)`` after each block.

    Returns:
        :class:`Stats` over the blocks, bit-identical for any ``workers``/``memory_budget``.
    """
    m_arr, s_arr, t_arr = check_inputs(m, s, mu_T)
    k_arr, T_arr, c_arr = check_grids(k_grid, T_grid, c_grid)
    bs = as_count(block_size, "block_size", 1)
    fb = as_count(first_block, "first_block", 0)
    n_workers = as_count(workers, "workers", 1)
    if progress is not None and not callable(progress):
        raise ValueError(f"progress must be callable or None, got {progress!r}")
    check_best_of_k(best_of_k)
    kwargs = dict(
        k_grid=k_arr, T_grid=T_arr, c_grid=c_arr, trials=as_count(trials, "trials", 1),
        seed=as_count(seed, "seed", 0), replicate=as_count(replicate, "replicate", 0),
        rao_blackwell=bool(rao_blackwell), exact_fn=exact_fn, best_of_k=best_of_k,
        memory_budget=check_memory_budget(memory_budget), threads=as_count(threads, "threads", 1),
    )  # fmt: skip
    starts = range(0, m_arr.size, bs)
    jobs = [(fb + j, slice(a, a + bs)) for j, a in enumerate(starts)]
    return combine(_run_blocks((m_arr, s_arr, t_arr), jobs, kwargs, n_workers, progress))


def _run_blocks(
    arrays: tuple[FloatArray, FloatArray, FloatArray],
    jobs: list[tuple[int, slice]],
    kwargs: dict[str, Any],
    n_workers: int,
    progress: Callable[[int, int], None] | None,
) -> list[Stats]:
    """:func:`simulate_block` of every ``(block, input slice)`` job, in-process or in a pool."""
    results: list[Stats] = []
    if n_workers == 1 or len(jobs) == 1:
        for done, (block, sl) in enumerate(jobs, start=1):
            results.append(simulate_block(*(a[sl] for a in arrays), block=block, **kwargs))
            if progress is not None:
                progress(done, len(jobs))
        return results
    with ProcessPoolExecutor(
        max_workers=min(n_workers, len(jobs)), mp_context=_pool_context()
    ) as pool:
        futures = [
            pool.submit(simulate_block, *(a[sl] for a in arrays), block=block, **kwargs)
            for block, sl in jobs
        ]
        for done, fut in enumerate(as_completed(futures), start=1):
            results.append(fut.result())
            if progress is not None:
                progress(done, len(jobs))
    return results
