"""Argument checks of the Monte Carlo engine: inputs, grids, counts, sampler and budget.

Each check returns the validated value (float64 / int64 arrays, Python ints) or raises
``ValueError`` naming the argument.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from itscale.validation import (
    FloatArray,
    IntArray,
    as_finite,
    as_int_k,
    as_positive,
    as_temperature,
)

__all__ = [
    "as_count",
    "check_best_of_k",
    "check_grids",
    "check_inputs",
    "check_memory_budget",
]


def as_count(value: Any, name: str, minimum: int) -> int:
    """Python int >= minimum (bools and non-integral values rejected)."""
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    try:
        as_int = operator.index(value)
    except TypeError:
        if isinstance(value, float | np.floating) and float(value).is_integer():
            as_int = int(value)
        else:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}") from None
    if as_int < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(as_int)


def check_inputs(
    m: ArrayLike, s: ArrayLike, mu_T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """1-D float64 arrays of equal, non-zero length; s > 0."""
    m_arr = as_finite(m, "m")
    s_arr = as_positive(s, "s")
    t_arr = as_finite(mu_T, "mu_T")
    for name, arr in (("m", m_arr), ("s", s_arr), ("mu_T", t_arr)):
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    if not (m_arr.shape == s_arr.shape == t_arr.shape):
        raise ValueError(
            f"m, s and mu_T must have the same length, got {m_arr.size}, {s_arr.size}, {t_arr.size}"
        )
    return m_arr, s_arr, t_arr


def check_grids(
    k_grid: ArrayLike, T_grid: ArrayLike, c_grid: ArrayLike
) -> tuple[IntArray, FloatArray, FloatArray]:
    """k_grid strictly increasing ints >= 1; T_grid >= 0 (inf allowed); c_grid finite."""
    k_arr = as_int_k(k_grid, "k_grid")
    if k_arr.ndim != 1 or k_arr.size == 0:
        raise ValueError(f"k_grid must be a non-empty 1-D array, got shape {k_arr.shape}")
    if (np.diff(k_arr) <= 0).any():
        raise ValueError(f"k_grid must be strictly increasing, got {k_arr.tolist()}")
    T_arr = as_temperature(T_grid, "T_grid")
    if T_arr.ndim != 1 or T_arr.size == 0:
        raise ValueError(f"T_grid must be a non-empty 1-D array, got shape {T_arr.shape}")
    with np.errstate(over="ignore", divide="ignore"):
        tiny = (T_arr > 0) & np.isinf(1.0 / T_arr)
    if tiny.any():
        raise ValueError(f"T_grid entries must be 0 or have a finite 1/T, got {T_arr[tiny]}")
    c_arr = as_finite(c_grid, "c_grid")
    if c_arr.ndim != 1 or c_arr.size == 0:
        raise ValueError(f"c_grid must be a non-empty 1-D array, got shape {c_arr.shape}")
    return k_arr, T_arr, c_arr


def check_best_of_k(best_of_k: Any) -> bool:
    """True for the records sampler ("records"), False for the plain one ("plain")."""
    if best_of_k not in ("records", "plain"):
        raise ValueError(f"best_of_k must be 'records' or 'plain', got {best_of_k!r}")
    return best_of_k == "records"


def check_memory_budget(memory_budget: Any) -> int:
    """Memory budget in bytes: a positive finite number."""
    budget = as_positive(memory_budget, "memory_budget")
    if budget.ndim != 0:
        raise ValueError(f"memory_budget must be a scalar number of bytes, got {memory_budget!r}")
    return int(budget)
