"""Array type aliases and the output convention shared by every public function.

``FloatArray`` / ``IntArray`` are the float64 / int64 ndarrays the functions return, and
:func:`to_output` applies the one convention for results: a 0-d array becomes a numpy scalar,
anything else is returned unchanged.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["FloatArray", "IntArray", "to_output"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def to_output(x: ArrayLike) -> NDArray:
    """0-d arrays become numpy scalars (same dtype); other arrays are returned unchanged."""
    x = np.asarray(x)
    return x[()] if x.ndim == 0 else x
