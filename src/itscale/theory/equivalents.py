"""Deterministic-equivalent error of selection, averaged over test inputs (high-dimensional limit).

For n samples in d dimensions with x ~ N(0, S^2/d I), noise sigma and prior scale gamma, the
fitted posterior concentrates on its deterministic equivalent: the predictive mean is ~ q mu_T
and the predictive variance is s2 at every input, so the bias b = -(1 - q) mu_T ~ N(0, V). The
closed forms (R, q, s2, V, rho) are the derived properties of :class:`itscale.model.Model`; the
functions below expose them one by one (as in earlier versions) and average the exact
per-input error over b (:func:`delta_de`) or over (b, b') for a general judge
(:func:`delta_de_judge`).

Every function takes a :class:`~itscale.model.Model` as ``model`` (the older form with the six
fields as keywords still works, see :func:`itscale.model.takes_model`), broadcasts numpy-style
and returns float64 (0-d inputs give numpy scalars). n and d may be non-integer (>= 1): the
equivalent-data multiplier needs delta(1; M n) at real M n.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from itscale._types import FloatArray, to_output
from itscale.model import Model, takes_model
from itscale.theory.bias_average import average_c_family, average_pair
from itscale.validation import as_finite, as_int_k, as_nonnegative, as_temperature

__all__ = [
    "bias_variance",
    "de_summary",
    "delta_de",
    "delta_de_judge",
    "difficulty",
    "predictive_variance_de",
    "renormalized_ridge",
    "shrinkage",
]

_NO_TEACHER = {"w_norm2": 0.0}  # the closed forms below that do not involve the teacher


@takes_model(defaults=_NO_TEACHER)
def renormalized_ridge(model: Model) -> FloatArray:
    """Renormalized ridge R > 0 (units of S^2), cancellation-free positive root of its quadratic."""
    return model.R


@takes_model(defaults=_NO_TEACHER)
def shrinkage(model: Model) -> FloatArray:
    """Shrinkage q = S^2 / (S^2 + R) in (0, 1): the predictive mean is ~ q mu_T."""
    return model.q


@takes_model(defaults=_NO_TEACHER)
def predictive_variance_de(model: Model) -> FloatArray:
    """Predictive variance s2 = sigma^2 + gamma^2 R S^2 / (S^2 + R) (units of y^2)."""
    return model.s2


@takes_model
def bias_variance(model: Model) -> FloatArray:
    """Variance over test inputs of the bias b = -(1 - q) mu_T: V = (1 - q)^2 S^2 w_norm2."""
    return model.V


@takes_model
def difficulty(model: Model) -> FloatArray:
    """Difficulty rho = 2 V / s2 (dimensionless); best-of-k decays as k^(-2 min(1, 1/rho))."""
    return model.rho


@takes_model
def de_summary(model: Model) -> dict[str, FloatArray]:
    """All DE quantities at once, broadcast over the model's fields (a dict of model.summary).

    Keys: "lam" (effective ridge), "R", "q", "one_minus_q" (computed without cancellation),
    "s2" (predictive variance), "V" (bias variance), "rho" (difficulty), "delta1" = V + s2
    (error without selection, k = 1).
    """
    return model.summary._asdict()


# --- DE error averaged over test inputs ---


def _grouped(
    k, model: tuple[FloatArray, ...], per_group, extra: tuple[FloatArray, ...]
) -> FloatArray:
    """Broadcast k, T, the model summaries and the judge arguments; evaluate per distinct model.

    per_group(k_grid, T_unique, model_row, extra_unique) returns an array of shape
    (len(T_unique), *extra grid, len(k_grid)).
    """
    T = model[0]
    shape = np.broadcast_shapes(*(np.shape(a) for a in (k, *model, *extra)))
    if all(np.all(a == a.flat[0]) for a in model[1:]):
        # one model (the usual case): unique values of the arguments as given, then index the
        # table with their broadcast inverses, never touching the full broadcast grid
        row = np.array([a.flat[0] for a in model[1:]])
        k_u, k_i = np.unique(k, return_inverse=True)
        T_u, T_i = np.unique(T, return_inverse=True)
        ex = [np.unique(e, return_inverse=True) for e in extra]
        table = per_group(k_u, T_u, row, [u for u, _ in ex])
        index = (T_i.reshape(np.shape(T)),)
        index += tuple(i.reshape(np.shape(e)) for (_, i), e in zip(ex, extra, strict=True))
        index += (k_i.reshape(np.shape(k)),)
        return to_output(np.broadcast_to(table[np.broadcast_arrays(*index)], shape).copy())
    arrays = np.broadcast_arrays(k, *model, *extra)
    k_b, T_b = arrays[0], arrays[1]
    n_model = len(model) - 1
    model_b = arrays[2 : 2 + n_model]
    extra_b = arrays[2 + n_model :]
    out = np.empty(k_b.shape)
    keys = np.stack([a.ravel() for a in model_b], axis=1)
    groups, group_of = np.unique(keys, axis=0, return_inverse=True)
    group_of = group_of.ravel()
    for g, row in enumerate(groups):
        sel = np.flatnonzero(group_of == g)
        k_u, k_i = np.unique(k_b.ravel()[sel], return_inverse=True)
        T_u, T_i = np.unique(T_b.ravel()[sel], return_inverse=True)
        ex = [np.unique(e.ravel()[sel], return_inverse=True) for e in extra_b]
        table = per_group(k_u, T_u, row, [u for u, _ in ex])
        index = (T_i.ravel(),) + tuple(i.ravel() for _, i in ex) + (k_i.ravel(),)
        out.ravel()[sel] = table[index]
    return to_output(out)


@takes_model
def delta_de(k: ArrayLike, T: ArrayLike, model: Model, *, c: ArrayLike = 0.0) -> FloatArray:
    """Deterministic-equivalent generalization error delta(k, T), averaged over test inputs.

    Judge family mu_R = mu_T - c (m - mu_T) with the DE mean m = q mu_T, so per input the bias
    b = -(1 - q) mu_T ~ N(0, V) and the judge offset m - mu_R = (1 + c) b; the average over b
    is the exact rule of itscale.theory.bias_average. Broadcasts numpy-style over every argument;
    units of y^2 (the figures divide by sigma^2).
    """
    summary = model.summary
    k_ = as_int_k(k, "k")
    T_ = as_temperature(T, "T")
    c_ = as_finite(c, "c")

    def per_group(k_u, T_u, row, extra):
        s2, V = row
        return average_c_family(k_u, T_u, float(np.sqrt(s2)), float(V), extra[0])

    return _grouped(k_, (T_, summary.s2, summary.V), per_group, (c_,))


@takes_model
def delta_de_judge(
    k: ArrayLike,
    T: ArrayLike,
    model: Model,
    *,
    judge_overlap: ArrayLike,
    judge_norm2: ArrayLike,
) -> FloatArray:
    """DE error for a general judge vector w_R, given its summary over inputs.

    judge_overlap = w_T . w_R / d and judge_norm2 = |w_R|^2 / d. Over test inputs (mu_T, mu_R)
    is jointly Gaussian with covariance S^2 [[w_norm2, overlap], [overlap, judge_norm2]] and the
    DE mean is m = q mu_T, so (b, m - mu_R) = ((q - 1) mu_T, q mu_T - mu_R) is a linear image of
    it; the 2-D average is the rule of itscale.theory.bias_average. Broadcasts over every argument.
    """
    summary = model.summary
    k_ = as_int_k(k, "k")
    T_ = as_temperature(T, "T")
    wt2 = model.w_norm2
    ov = as_finite(judge_overlap, "judge_overlap")
    wr2 = as_nonnegative(judge_norm2, "judge_norm2")
    if np.any(ov**2 > wt2 * wr2 * (1 + 1e-12)):
        raise ValueError("judge_overlap^2 must be <= w_norm2 * judge_norm2 (Cauchy-Schwarz)")
    S2 = model.S**2

    def per_group(k_u, T_u, row, extra):
        s2, q, ctt, ctr, crr = row
        lin = np.array([[q - 1.0, 0.0], [q, -1.0]])  # (b, b') from (mu_T, mu_R)
        cov = lin @ np.array([[ctt, ctr], [ctr, crr]]) @ lin.T
        return average_pair(k_u, T_u, float(np.sqrt(s2)), cov)

    grouped = (T_, summary.s2, summary.q, S2 * wt2, S2 * ov, S2 * wr2)
    return _grouped(k_, grouped, per_group, ())
