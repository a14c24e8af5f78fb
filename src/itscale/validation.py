"""Argument checks shared by every public function: convert, check the range, name the argument.

Each check converts its input to a float64 (or int64) ndarray and raises ``ValueError`` whose
message names the offending argument and the allowed range, so a bad value in a config or a
notebook is reported where it was written, not as a NaN three stages later.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from itscale._types import FloatArray, IntArray

__all__ = [
    "FloatArray",
    "IntArray",
    "as_at_least_one",
    "as_finite",
    "as_int_k",
    "as_nonnegative",
    "as_positive",
    "as_scalar",
    "as_temperature",
]


def _as_float(x: ArrayLike, name: str) -> FloatArray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be a real number or array of real numbers, got {x!r}"
        ) from exc
    if np.isnan(arr).any():
        raise ValueError(f"{name} must not contain NaN")
    return arr


def as_finite(x: ArrayLike, name: str) -> FloatArray:
    """Float array with every entry finite (no NaN, no +-inf)."""
    arr = _as_float(x, name)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite, got non-finite value(s)")
    return arr


def as_positive(x: ArrayLike, name: str) -> FloatArray:
    """Float array with every entry finite and > 0."""
    arr = as_finite(x, name)
    if (arr <= 0).any():
        raise ValueError(f"{name} must be > 0, got min {arr.min()!r}")
    return arr


def as_nonnegative(x: ArrayLike, name: str) -> FloatArray:
    """Float array with every entry finite and >= 0."""
    arr = as_finite(x, name)
    if (arr < 0).any():
        raise ValueError(f"{name} must be >= 0, got min {arr.min()!r}")
    return arr


def as_at_least_one(x: ArrayLike, name: str) -> FloatArray:
    """Float array with every entry finite and >= 1 (sample counts and dimensions, real-valued)."""
    arr = as_finite(x, name)
    if (arr < 1).any():
        raise ValueError(f"{name} must be >= 1, got min {arr.min()!r}")
    return arr


def as_scalar(x: ArrayLike, name: str, check: Callable[[ArrayLike, str], FloatArray]) -> float:
    """check(x, name) as a Python float; ValueError naming the argument if it is not 0-d."""
    arr = check(x, name)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar, got shape {arr.shape}")
    return float(arr)


def as_temperature(T: ArrayLike, name: str = "T") -> FloatArray:
    """Temperatures: 0 <= T <= inf (0 is best-of-k, inf is no selection)."""
    arr = _as_float(T, name)
    if (arr < 0).any():
        raise ValueError(
            f"{name} must be >= 0 (0 = best-of-k, inf = no selection), got min {arr.min()!r}"
        )
    return arr


def as_int_k(k: ArrayLike, name: str = "k") -> IntArray:
    """Candidate counts: integers >= 1."""
    raw = np.asarray(k)
    if raw.dtype == bool or not (
        np.issubdtype(raw.dtype, np.integer) or np.issubdtype(raw.dtype, np.floating)
    ):
        raise ValueError(f"{name} must be an integer or integer array >= 1, got {k!r}")
    if np.issubdtype(raw.dtype, np.floating):
        if not np.isfinite(raw).all() or (raw != np.round(raw)).any():
            raise ValueError(f"{name} must hold whole numbers >= 1, got {k!r}")
    arr = raw.astype(np.int64)
    if (arr < 1).any():
        raise ValueError(f"{name} must be >= 1, got min {arr.min()!r}")
    return arr
