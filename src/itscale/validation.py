"""Argument checks shared by every public function.

Each check converts its input to a float64 (or int64) ndarray and raises ``ValueError`` whose
message names the offending argument and the allowed range, so a bad value in a config or a
notebook is reported where it was written, not as a NaN three stages later.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


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
