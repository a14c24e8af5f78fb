"""Inference-time compute versus data: the equivalent-data multiplier M(k, n).

M(k, n) is defined by delta_de(1; M n) = delta_de(k; n): the factor by which the training set
would have to grow, without selection, to reach the error that selection among k candidates
gives at n samples. Without selection delta(1; n) = V + s2 = (1 - q)^2 S^2 w_norm2 + s2 (the
model's ``delta1``) decreases in n towards sigma^2, so M is found by bisection in log n.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from itscale._types import FloatArray, to_output
from itscale.model import Model, takes_model
from itscale.theory import equivalents
from itscale.validation import as_finite, as_int_k, as_scalar, as_temperature

__all__ = ["equivalent_data_multiplier"]

_BISECTIONS = 64  # halvings of the bracket in log n: ~1e-13 relative in M


def _targets(k: FloatArray, n: FloatArray, model: Model, T: float, c: float) -> FloatArray:
    """delta_de(k; n) for broadcast (k, n), one delta_de call per distinct n."""
    target = np.empty(k.shape)
    n_flat, k_flat = n.ravel(), k.ravel()
    t_flat = target.reshape(-1)
    for n_val in np.unique(n_flat):
        sel = np.flatnonzero(n_flat == n_val)
        ks, inv = np.unique(k_flat[sel], return_inverse=True)
        at_n = equivalents.delta_de(ks, T, model.replace(n=n_val), c=c)
        t_flat[sel] = np.asarray(at_n)[inv.ravel()]
    return t_flat.reshape(k.shape)


def _solve_log_n(
    g: Callable[[FloatArray], FloatArray], log_n0: FloatArray, tgt: FloatArray, max_decades: float
) -> FloatArray:
    """M = exp(log n - log_n0) with g(log n) = tgt for decreasing g, g(0) >= tgt; inf if capped.

    Brackets [lo, hi] with g(lo) >= tgt >= g(hi) by steps of one decade up from log_n0 (at
    most max_decades), then bisects.
    """
    hi = log_n0.copy()
    step = np.log(10.0)
    hi_cap = log_n0 + max_decades * step
    while True:
        grow = (g(hi) > tgt) & (hi < hi_cap)
        if not grow.any():
            break
        hi = np.where(grow, np.minimum(hi + step, hi_cap), hi)
    capped = g(hi) > tgt
    grew = hi > log_n0
    lo = np.where(grew, hi - step, 0.0)  # g(lo) >= tgt: last step that was still above
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        above = g(mid) > tgt
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    m = np.exp(0.5 * (lo + hi) - log_n0)
    m[capped] = np.inf
    return m


@takes_model
def equivalent_data_multiplier(
    k: ArrayLike,
    model: Model,
    *,
    T: float,
    c: float = 0.0,
    max_decades: float = 200.0,
) -> FloatArray:
    """Equivalent-data multiplier M(k, n): delta_de(1; M n) = delta_de(k; n).

    k (integers >= 1) and the model's n (>= 1) broadcast together: give the model
    n = n_grid[:, None] and pass k[None, :] for a map. T, c and the model's other fields are
    scalars. (Earlier form: ``equivalent_data_multiplier(k, n, T=, c=, d=, S=, sigma=, gamma=,
    w_norm2=)``.) Without selection delta(1; n) decreases in n towards sigma^2, so:

    - M = inf where delta(k; n) <= sigma^2: no amount of data reaches the error of selection
      (also where M n would exceed n 10^max_decades, i.e. delta(k; n) is within rounding of
      sigma^2);
    - M = nan where delta(k; n) > delta(1; 1): M n would be below one sample, outside the closed
      forms (a harmful judge);
    - otherwise M solves the equation by vectorised bisection in log n (to ~1e-13 relative).
    M(1, n) = 1 up to quadrature rounding. Dimensionless, broadcast shape.
    """
    k = as_int_k(k, "k")
    n = as_finite(model.n, "n")
    T = as_scalar(T, "T", as_temperature)
    c = as_scalar(c, "c", as_finite)
    k, n = np.broadcast_arrays(k, n)
    target = _targets(k, n, model, T, c)

    def g(log_n: FloatArray) -> FloatArray:
        return model.replace(n=np.exp(log_n)).delta1

    sigma2 = float(model.sigma) ** 2
    M = np.full(k.shape, np.nan)
    unreachable = target <= sigma2
    too_bad = target > g(np.zeros(1))[0]
    M[unreachable] = np.inf
    todo = ~unreachable & ~too_bad
    if todo.any():
        M[todo] = _solve_log_n(g, np.log(n[todo]), target[todo], max_decades)
    return to_output(M)
