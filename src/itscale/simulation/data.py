"""Synthetic data: teacher weights, training sets and test inputs.

Inputs are isotropic Gaussians, x ~ N(0, (S^2/d) I_d), so |x|^2 is close to S^2. Labels come
from a linear teacher, y = x.w_T + sigma * eps. Every draw uses its own seeded stream from
:mod:`itscale.simulation.streams` (purposes "teacher", "train_inputs", "train_noise",
"test_inputs"), so results depend only on (seed, replicate) and never on call order.

Test inputs are generated block by block: block ``b`` holds rows ``b*block_size`` up to
``(b+1)*block_size`` (the last block is truncated to ``n_test``) and is drawn from the stream
keyed by ``b``. Any subset of blocks can therefore be regenerated on its own (one shard of a
parallel run) and the concatenation over all blocks is bit-for-bit the full array.
"""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike

from itscale._types import FloatArray
from itscale.simulation.streams import stream
from itscale.validation import as_finite, as_nonnegative, as_positive, as_scalar

__all__ = ["draw_teacher", "draw_test_inputs", "draw_training_set", "n_blocks"]


def _as_int(x: object, name: str, minimum: int) -> int:
    """Python int >= minimum; whole-valued floats are accepted, bools are not."""
    if isinstance(x, bool | np.bool_):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {x!r}")
    if isinstance(x, Integral):
        value = int(x)
    elif isinstance(x, float | np.floating) and np.isfinite(x) and float(x).is_integer():
        value = int(x)
    else:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {x!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {x!r}")
    return value


def draw_teacher(
    seed: int, replicate: int, d: int, w_mean: ArrayLike = 0.0, w_std: float = 1.0
) -> FloatArray:
    """Teacher weights w_T ~ N(w_mean, w_std^2 I_d), shape (d,).

    ``w_mean`` is a scalar or a (d,) vector; ``w_std`` >= 0 (0 gives w_T = w_mean exactly).
    """
    seed = _as_int(seed, "seed", 0)
    replicate = _as_int(replicate, "replicate", 0)
    d = _as_int(d, "d", 1)
    mean = as_finite(w_mean, "w_mean")
    if mean.ndim > 1 or (mean.ndim == 1 and mean.shape != (d,)):
        raise ValueError(f"w_mean must be a scalar or have shape ({d},), got shape {mean.shape}")
    std = as_scalar(w_std, "w_std", as_nonnegative)
    z = stream(seed, replicate, "teacher").standard_normal(d)
    return mean + std * z


def draw_training_set(
    seed: int, replicate: int, n: int, d: int, S: float, sigma: float, w_T: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Training set (X, y): X (n, d) with rows ~ N(0, S^2/d I), y (n,) = X w_T + sigma * eps.

    Inputs come from purpose "train_inputs", label noise from "train_noise". ``sigma`` >= 0 is
    the label-noise standard deviation (same units as y).
    """
    seed = _as_int(seed, "seed", 0)
    replicate = _as_int(replicate, "replicate", 0)
    n = _as_int(n, "n", 1)
    d = _as_int(d, "d", 1)
    S_ = as_scalar(S, "S", as_positive)
    sig = as_scalar(sigma, "sigma", as_nonnegative)
    w = as_finite(w_T, "w_T")
    if w.shape != (d,):
        raise ValueError(f"w_T must have shape ({d},), got shape {w.shape}")
    X = (S_ / np.sqrt(d)) * stream(seed, replicate, "train_inputs").standard_normal((n, d))
    eps = stream(seed, replicate, "train_noise").standard_normal(n)
    return X, X @ w + sig * eps


def n_blocks(n_test: int, block_size: int) -> int:
    """Number of blocks of ``block_size`` rows needed to hold ``n_test`` rows (ceil division)."""
    n_test = _as_int(n_test, "n_test", 1)
    block_size = _as_int(block_size, "block_size", 1)
    return -(-n_test // block_size)


def _block_indices(blocks: int | Iterable[int] | None, total: int) -> list[int]:
    if blocks is None:
        return list(range(total))
    items = [blocks] if isinstance(blocks, Integral | np.integer) else list(np.ravel(blocks))
    out = []
    for b in items:
        idx = _as_int(b, "blocks", 0)
        if idx >= total:
            raise ValueError(f"blocks must hold indices in [0, {total}), got {b!r}")
        out.append(idx)
    return out


def draw_test_inputs(
    seed: int,
    replicate: int,
    n_test: int,
    d: int,
    S: float,
    block_size: int,
    blocks: int | Iterable[int] | None = None,
) -> FloatArray:
    """Test inputs x ~ N(0, S^2/d I), shape (n_rows, d), drawn block by block.

    Block ``b`` has ``block_size`` rows (the last one truncated so that all blocks hold
    ``n_test`` rows) and uses stream (seed, replicate, "test_inputs", b). ``blocks`` (an int, a
    range or any iterable of block indices, default all of them) selects which blocks to
    generate; the result is their rows concatenated in the order given. Because rows within a
    block are drawn sequentially, a shorter ``n_test`` gives a prefix of a longer one.
    """
    seed = _as_int(seed, "seed", 0)
    replicate = _as_int(replicate, "replicate", 0)
    n_test = _as_int(n_test, "n_test", 1)
    d = _as_int(d, "d", 1)
    S_ = as_scalar(S, "S", as_positive)
    block_size = _as_int(block_size, "block_size", 1)
    total = n_blocks(n_test, block_size)
    scale = S_ / np.sqrt(d)
    parts = []
    for b in _block_indices(blocks, total):
        rows = min(block_size, n_test - b * block_size)
        parts.append(scale * stream(seed, replicate, "test_inputs", b).standard_normal((rows, d)))
    if not parts:
        return np.empty((0, d))
    return np.concatenate(parts, axis=0)
