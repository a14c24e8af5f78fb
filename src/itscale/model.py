"""The model as one value: its parameters, their deterministic-equivalent summary, the judge family.

Parameters (Halder & Pehlevan): n training samples in d dimensions, inputs x ~ N(0, S^2/d I),
label noise sigma, prior scale gamma, and the teacher's norm w_norm2 = |w_T|^2 / d. Each field
is a float or an array; fields broadcast together, and n, d may be real-valued (>= 1).

Deterministic-equivalent (DE) summary, the high-dimensional limit of the fitted posterior:
effective ridge lam = d sigma^2 / (n gamma^2); renormalized ridge R > 0, the positive root of
R^2 + R (S^2 (1 - d/n) - lam) - lam S^2 = 0; shrinkage q = S^2 / (S^2 + R); predictive variance
s2 = sigma^2 + gamma^2 R S^2 / (S^2 + R); bias variance V = (1 - q)^2 S^2 w_norm2; difficulty
rho = 2 V / s2; error without selection delta1 = V + s2.

Judge family: mu_R = mu_T - c (m - mu_T) (:func:`judge_centre`); c = 0 is the teacher.

Functions written in terms of a :class:`Model` take it as an argument named ``model``; the
decorator :func:`takes_model` lets them also be called the older way, with the six fields as
keywords (or positionally in the model's place), so code written for earlier versions runs.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

import numpy as np
from numpy.typing import ArrayLike

from itscale._types import FloatArray, to_output
from itscale.validation import as_at_least_one, as_finite, as_nonnegative, as_positive

__all__ = ["MODEL_FIELDS", "Model", "Summary", "as_model", "judge_centre", "takes_model"]

#: Field names of :class:`Model`, in order (also the order of the legacy positional form).
MODEL_FIELDS: tuple[str, ...] = ("n", "d", "S", "sigma", "gamma", "w_norm2")

_CHECKS = {
    "n": as_at_least_one,
    "d": as_at_least_one,
    "S": as_positive,
    "sigma": as_positive,
    "gamma": as_positive,
    "w_norm2": as_nonnegative,
}


class Summary(NamedTuple):
    """DE summary; each entry float64 of the fields' broadcast shape (0-d: numpy scalar).

    lam (units of S^2), R (units of S^2), q and one_minus_q (dimensionless; one_minus_q is
    computed without cancellation), s2 and V and delta1 (units of y^2), rho (dimensionless).
    """

    lam: FloatArray
    R: FloatArray
    q: FloatArray
    one_minus_q: FloatArray
    s2: FloatArray
    V: FloatArray
    rho: FloatArray
    delta1: FloatArray


def _ridge(n, d, S, sigma, gamma) -> FloatArray:
    """Renormalized ridge R > 0 from validated arrays, cancellation-free."""
    lam = d * sigma**2 / (n * gamma**2)
    S2 = S**2
    B = S2 * ((d - n) / n) + lam  # minus the linear coefficient
    root = np.hypot(B, 2.0 * S * np.sqrt(lam))  # sqrt(B^2 + 4 lam S^2) without overflow
    # B >= 0: (B + root)/2 adds two positives. B < 0: that sum cancels, so use the product of
    # the roots (R R_- = -lam S^2) and write R = 2 lam S^2 / (root - B), again a sum of positives.
    with np.errstate(divide="ignore", invalid="ignore"):
        small = 2.0 * lam * S2 / (root - B)
    return np.where(B >= 0, 0.5 * (B + root), small)


@dataclass(frozen=True, eq=False)
class Model:
    """Model parameters (see the module docstring); validated once, at construction.

    n, d >= 1 (real allowed), S, sigma, gamma > 0, w_norm2 >= 0; floats or broadcastable
    arrays, stored as float64 arrays. The DE summary is computed on first use and cached.
    """

    n: ArrayLike
    d: ArrayLike
    S: ArrayLike
    sigma: ArrayLike
    gamma: ArrayLike
    w_norm2: ArrayLike

    def __post_init__(self) -> None:
        for name in MODEL_FIELDS:
            object.__setattr__(self, name, _CHECKS[name](getattr(self, name), name))
        np.broadcast_shapes(*(np.shape(getattr(self, name)) for name in MODEL_FIELDS))

    @classmethod
    def from_params(cls, p: Mapping[str, Any]) -> Model:
        """Model of a config point with keys n, d, S, sigma, gamma, w_mean, w_std.

        The teacher enters through its expected norm w_norm2 = w_mean^2 + w_std^2.
        """
        w_norm2 = p["w_mean"] ** 2 + p["w_std"] ** 2
        return cls(p["n"], p["d"], p["S"], p["sigma"], p["gamma"], w_norm2)

    def replace(self, **fields: ArrayLike) -> Model:
        """A copy with some fields changed (validated again)."""
        return Model(**{**self.as_kwargs(), **fields})

    def as_kwargs(self) -> dict[str, FloatArray]:
        """The six fields as keyword arguments (the form of earlier versions)."""
        return {name: getattr(self, name) for name in MODEL_FIELDS}

    @property
    def shape(self) -> tuple[int, ...]:
        """Broadcast shape of the fields (() for a single model)."""
        return np.broadcast_shapes(*(np.shape(getattr(self, name)) for name in MODEL_FIELDS))

    @functools.cached_property
    def summary(self) -> Summary:
        """The DE summary, broadcast over the fields."""
        n, d, S, sigma, gamma, w2 = np.broadcast_arrays(*self.as_kwargs().values())
        lam = d * sigma**2 / (n * gamma**2)
        R = _ridge(n, d, S, sigma, gamma)
        S2 = S**2
        s2 = sigma**2 + gamma**2 * R * S2 / (S2 + R)
        one_minus_q = R / (S2 + R)  # not 1 - q: q is within 1e-5 of 1 in the paper's regime
        V = one_minus_q**2 * S**2 * w2
        values = (lam, R, S2 / (S2 + R), one_minus_q, s2, V, 2.0 * V / s2, V + s2)
        return Summary(*(to_output(np.asarray(v, dtype=np.float64)) for v in values))

    lam = property(lambda self: self.summary.lam, doc="Effective ridge d sigma^2 / (n gamma^2).")
    R = property(lambda self: self.summary.R, doc="Renormalized ridge R > 0.")
    q = property(lambda self: self.summary.q, doc="Shrinkage S^2 / (S^2 + R).")
    one_minus_q = property(lambda self: self.summary.one_minus_q, doc="R / (S^2 + R).")
    s2 = property(lambda self: self.summary.s2, doc="DE predictive variance (units of y^2).")
    V = property(lambda self: self.summary.V, doc="Variance of the bias over inputs (y^2).")
    rho = property(lambda self: self.summary.rho, doc="Difficulty 2 V / s2.")
    delta1 = property(lambda self: self.summary.delta1, doc="Error without selection V + s2.")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model):
            return NotImplemented
        return all(np.array_equal(getattr(self, f), getattr(other, f)) for f in MODEL_FIELDS)

    def __hash__(self) -> int:
        return hash(tuple((a.shape, a.tobytes()) for a in self.as_kwargs().values()))

    def __repr__(self) -> str:
        body = ", ".join(f"{f}={to_output(getattr(self, f))!r}" for f in MODEL_FIELDS)
        return f"Model({body})"


def as_model(model: Model | Mapping[str, ArrayLike]) -> Model:
    """A Model from a Model (returned as is) or a mapping with the six field names."""
    if isinstance(model, Model):
        return model
    if isinstance(model, Mapping):
        return Model(**model)
    raise TypeError(f"model must be an itscale.model.Model, got {type(model).__name__}")


F = TypeVar("F", bound=Callable[..., Any])


def takes_model(fn: F | None = None, *, defaults: Mapping[str, float] | None = None):
    """Decorator: let fn(..., model, ...) also take the model's fields the older way.

    fn(k, T, n=..., d=..., S=..., sigma=..., gamma=..., w_norm2=...) or, where the model stands
    first among the positional arguments, fn(n, d, S, sigma, gamma[, w_norm2]) become
    fn(k, T, model=Model(...)). ``defaults`` fills fields the function does not use (e.g.
    w_norm2 for the predictive variance). A Model (or a mapping of its fields) passes through.
    """
    if fn is None:
        return functools.partial(takes_model, defaults=defaults)
    pos = list(inspect.signature(fn).parameters).index("model")
    fill = dict(defaults or {})

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        fields = {name: kwargs.pop(name) for name in MODEL_FIELDS if name in kwargs}
        if len(args) > pos and not isinstance(args[pos], Model | Mapping):
            extra, args = args[pos:], args[:pos]
            if len(extra) > len(MODEL_FIELDS) or fields.keys() & set(MODEL_FIELDS[: len(extra)]):
                raise TypeError(f"{fn.__name__}: model fields given twice or too many arguments")
            fields.update(zip(MODEL_FIELDS, extra, strict=False))
        if fields:
            if "model" in kwargs or len(args) > pos:
                raise TypeError(f"{fn.__name__}: pass either model or its fields, not both")
            missing = [f for f in MODEL_FIELDS if f not in fields and f not in fill]
            if missing:
                raise TypeError(f"{fn.__name__}: missing model field(s) {', '.join(missing)}")
            kwargs["model"] = Model(**{**fill, **fields})
        elif "model" in kwargs:
            kwargs["model"] = as_model(kwargs["model"])
        elif len(args) > pos:
            args = (*args[:pos], as_model(args[pos]), *args[pos + 1 :])
        return fn(*args, **kwargs)

    return wrapper


def judge_centre(mu_T: ArrayLike, m: ArrayLike, c: ArrayLike) -> FloatArray:
    """Judge centre of the misspecified-judge family: mu_R = mu_T - c (m - mu_T).

    Broadcasts; units of y. c = 0 is the teacher; per input the judge offset is
    m - mu_R = (1 + c) (m - mu_T).
    """
    mu_T = as_finite(mu_T, "mu_T")
    m = as_finite(m, "m")
    c = as_finite(c, "c")
    return mu_T - c * (m - mu_T)
