"""Deterministic equivalents of the fitted BLR posterior (high-dimensional limit).

For n samples in d dimensions with x ~ N(0, S^2/d I), noise sigma and prior scale gamma, the
effective ridge is lam = d sigma^2 / (n gamma^2) and the renormalized ridge R > 0 is the positive
root of

    R^2 + R (S^2 (1 - d/n) - lam) - lam S^2 = 0.

From R follow the shrinkage q = S^2 / (S^2 + R) (predictive mean ~ q mu_T), the predictive
variance s2 = sigma^2 + gamma^2 R S^2 / (S^2 + R), the input-averaged squared bias
V = (1 - q)^2 S^2 w_norm2 (w_norm2 = |w_T|^2 / d) and the difficulty rho = 2 V / s2.

All functions broadcast numpy-style over their arguments and return float64 arrays (0-d inputs
give numpy scalars). n and d may be non-integer (>= 1): the equivalent-data multiplier needs
delta(1; M n) at real M n.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from itscale.theory.bias_average import average_c_family, average_pair
from itscale.validation import as_finite, as_int_k, as_nonnegative, as_positive, as_temperature

FloatArray = NDArray[np.float64]


def _at_least_one(x: ArrayLike, name: str) -> FloatArray:
    arr = as_finite(x, name)
    if (arr < 1).any():
        raise ValueError(f"{name} must be >= 1, got min {arr.min()!r}")
    return arr


def _params(n, d, S, sigma, gamma) -> tuple[FloatArray, ...]:
    return (
        _at_least_one(n, "n"),
        _at_least_one(d, "d"),
        as_positive(S, "S"),
        as_positive(sigma, "sigma"),
        as_positive(gamma, "gamma"),
    )


def _ridge(n, d, S, sigma, gamma) -> FloatArray:
    """R from validated arrays; see renormalized_ridge."""
    lam = d * sigma**2 / (n * gamma**2)
    S2 = S**2
    B = S2 * ((d - n) / n) + lam  # minus the linear coefficient
    root = np.hypot(B, 2.0 * S * np.sqrt(lam))  # sqrt(B^2 + 4 lam S^2) without overflow
    # B >= 0: (B + root)/2 adds two positives. B < 0: that sum cancels, so use the product of
    # the roots (R R_- = -lam S^2) and write R = 2 lam S^2 / (root - B), again a sum of positives.
    with np.errstate(divide="ignore", invalid="ignore"):
        small = 2.0 * lam * S2 / (root - B)
    return np.where(B >= 0, 0.5 * (B + root), small)


def _out(x: FloatArray) -> FloatArray:
    return x[()] if x.ndim == 0 else x


def renormalized_ridge(
    n: ArrayLike, d: ArrayLike, S: ArrayLike, sigma: ArrayLike, gamma: ArrayLike
) -> FloatArray:
    """Renormalized ridge R > 0 (units of S^2), cancellation-free positive root of its quadratic."""
    return _out(_ridge(*_params(n, d, S, sigma, gamma)))


def shrinkage(
    n: ArrayLike, d: ArrayLike, S: ArrayLike, sigma: ArrayLike, gamma: ArrayLike
) -> FloatArray:
    """Shrinkage q = S^2 / (S^2 + R) in (0, 1): the predictive mean is ~ q mu_T."""
    n_, d_, S_, sig, gam = _params(n, d, S, sigma, gamma)
    R = _ridge(n_, d_, S_, sig, gam)
    return _out(S_**2 / (S_**2 + R))


def predictive_variance_de(
    n: ArrayLike, d: ArrayLike, S: ArrayLike, sigma: ArrayLike, gamma: ArrayLike
) -> FloatArray:
    """Predictive variance s2 = sigma^2 + gamma^2 R S^2 / (S^2 + R) (units of y^2)."""
    n_, d_, S_, sig, gam = _params(n, d, S, sigma, gamma)
    R = _ridge(n_, d_, S_, sig, gam)
    return _out(sig**2 + gam**2 * R * S_**2 / (S_**2 + R))


def _bias_variance(S, R, w_norm2) -> FloatArray:
    one_minus_q = R / (S**2 + R)  # not 1 - q: q is within 1e-5 of 1 in the paper's regime
    return one_minus_q**2 * S**2 * w_norm2


def bias_variance(
    n: ArrayLike,
    d: ArrayLike,
    S: ArrayLike,
    sigma: ArrayLike,
    gamma: ArrayLike,
    w_norm2: ArrayLike,
) -> FloatArray:
    """Variance over test inputs of the bias b = -(1 - q) mu_T: V = (1 - q)^2 S^2 w_norm2."""
    n_, d_, S_, sig, gam = _params(n, d, S, sigma, gamma)
    w2 = as_nonnegative(w_norm2, "w_norm2")
    return _out(_bias_variance(S_, _ridge(n_, d_, S_, sig, gam), w2))


def difficulty(
    n: ArrayLike,
    d: ArrayLike,
    S: ArrayLike,
    sigma: ArrayLike,
    gamma: ArrayLike,
    w_norm2: ArrayLike,
) -> FloatArray:
    """Difficulty rho = 2 V / s2 (dimensionless); best-of-k decays as k^(-2 min(1, 1/rho))."""
    summary = de_summary(n, d, S, sigma, gamma, w_norm2)
    return summary["rho"]


def de_summary(
    n: ArrayLike,
    d: ArrayLike,
    S: ArrayLike,
    sigma: ArrayLike,
    gamma: ArrayLike,
    w_norm2: ArrayLike,
) -> dict[str, FloatArray]:
    """All DE quantities at once, broadcast over the arguments.

    Keys: "lam" (effective ridge), "R", "q", "one_minus_q" (computed without cancellation),
    "s2" (predictive variance), "V" (bias variance), "rho" (difficulty), "delta1" = V + s2
    (error without selection, k = 1).
    """
    n_, d_, S_, sig, gam = _params(n, d, S, sigma, gamma)
    w2 = as_nonnegative(w_norm2, "w_norm2")
    n_, d_, S_, sig, gam, w2 = np.broadcast_arrays(n_, d_, S_, sig, gam, w2)
    lam = d_ * sig**2 / (n_ * gam**2)
    R = _ridge(n_, d_, S_, sig, gam)
    S2 = S_**2
    s2 = sig**2 + gam**2 * R * S2 / (S2 + R)
    V = _bias_variance(S_, R, w2)
    out = {
        "lam": lam,
        "R": R,
        "q": S2 / (S2 + R),
        "one_minus_q": R / (S2 + R),
        "s2": s2,
        "V": V,
        "rho": 2.0 * V / s2,
        "delta1": V + s2,
    }
    return {key: _out(np.asarray(val, dtype=np.float64)) for key, val in out.items()}


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
        return _out(np.broadcast_to(table[np.broadcast_arrays(*index)], shape).copy())
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
    return _out(out)


def delta_de(
    k: ArrayLike,
    T: ArrayLike,
    *,
    n: ArrayLike,
    d: ArrayLike,
    S: ArrayLike,
    sigma: ArrayLike,
    gamma: ArrayLike,
    w_norm2: ArrayLike,
    c: ArrayLike,
) -> FloatArray:
    """Deterministic-equivalent generalization error delta(k, T), averaged over test inputs.

    Judge family mu_R = mu_T - c (m - mu_T) with the DE mean m = q mu_T, so per input the bias
    b = -(1 - q) mu_T ~ N(0, V) and the judge offset m - mu_R = (1 + c) b; the average over b
    is the exact rule of itscale.theory.bias_average. Broadcasts numpy-style over every argument;
    units of y^2 (the figures divide by sigma^2).
    """
    summary = de_summary(n, d, S, sigma, gamma, w_norm2)
    k_ = as_int_k(k, "k")
    T_ = as_temperature(T, "T")
    c_ = as_finite(c, "c")

    def per_group(k_u, T_u, row, extra):
        s2, V = row
        return average_c_family(k_u, T_u, float(np.sqrt(s2)), float(V), extra[0])

    return _grouped(k_, (T_, summary["s2"], summary["V"]), per_group, (c_,))


def delta_de_judge(
    k: ArrayLike,
    T: ArrayLike,
    *,
    n: ArrayLike,
    d: ArrayLike,
    S: ArrayLike,
    sigma: ArrayLike,
    gamma: ArrayLike,
    w_norm2: ArrayLike,
    judge_overlap: ArrayLike,
    judge_norm2: ArrayLike,
) -> FloatArray:
    """DE error for a general judge vector w_R, given its summary over inputs.

    judge_overlap = w_T . w_R / d and judge_norm2 = |w_R|^2 / d. Over test inputs (mu_T, mu_R)
    is jointly Gaussian with covariance S^2 [[w_norm2, overlap], [overlap, judge_norm2]] and the
    DE mean is m = q mu_T, so (b, m - mu_R) = ((q - 1) mu_T, q mu_T - mu_R) is a linear image of
    it; the 2-D average is the rule of itscale.theory.bias_average. Broadcasts over every argument.
    """
    summary = de_summary(n, d, S, sigma, gamma, w_norm2)
    k_ = as_int_k(k, "k")
    T_ = as_temperature(T, "T")
    wt2 = as_nonnegative(w_norm2, "w_norm2")
    ov = as_finite(judge_overlap, "judge_overlap")
    wr2 = as_nonnegative(judge_norm2, "judge_norm2")
    if np.any(ov**2 > wt2 * wr2 * (1 + 1e-12)):
        raise ValueError("judge_overlap^2 must be <= w_norm2 * judge_norm2 (Cauchy-Schwarz)")
    S2 = as_positive(S, "S") ** 2

    def per_group(k_u, T_u, row, extra):
        s2, q, ctt, ctr, crr = row
        lin = np.array([[q - 1.0, 0.0], [q, -1.0]])  # (b, b') from (mu_T, mu_R)
        cov = lin @ np.array([[ctt, ctr], [ctr, crr]]) @ lin.T
        return average_pair(k_u, T_u, float(np.sqrt(s2)), cov)

    model = (T_, summary["s2"], summary["q"], S2 * wt2, S2 * ov, S2 * wr2)
    return _grouped(k_, model, per_group, ())
