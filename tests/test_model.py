"""itscale.model: the Model value type, its DE summary, the judge family, the legacy form."""

from __future__ import annotations

from decimal import Decimal, localcontext

import numpy as np
import pytest

import itscale
from itscale.model import MODEL_FIELDS, Model, judge_centre, takes_model
from itscale.theory import equivalents

PAPER = dict(n=200, d=1000, S=1.0, sigma=1e-4, gamma=1.0, w_norm2=4.0)


def summary_by_decimal(n, d, S, sigma, gamma, w_norm2) -> dict[str, float]:
    """The DE closed forms in 60-digit decimal arithmetic, quadratic formula as written."""
    with localcontext() as ctx:
        ctx.prec = 60
        n, d, S, sigma, gamma, w2 = (
            Decimal(repr(float(v))) for v in (n, d, S, sigma, gamma, w_norm2)
        )
        lam = d * sigma**2 / (n * gamma**2)
        S2 = S**2
        lin = S2 * (1 - d / n) - lam
        R = (-lin + (lin**2 + 4 * lam * S2).sqrt()) / 2
        q = S2 / (S2 + R)
        s2 = sigma**2 + gamma**2 * R * S2 / (S2 + R)
        V = (1 - q) ** 2 * S2 * w2
        out = dict(lam=lam, R=R, q=q, one_minus_q=1 - q, s2=s2, V=V, rho=2 * V / s2, delta1=V + s2)
        return {key: float(val) for key, val in out.items()}


@pytest.mark.parametrize(
    "p",
    [
        PAPER,
        dict(n=1000, d=200, S=2.0, sigma=0.3, gamma=0.5, w_norm2=1.0),
        dict(n=50.5, d=50.5, S=1.0, sigma=1.0, gamma=1.0, w_norm2=0.0),
        dict(n=1.0, d=3.7, S=0.1, sigma=1e-6, gamma=10.0, w_norm2=2.5),
    ],
)
def test_summary_matches_high_precision_closed_forms(p):
    model = Model(**p)
    ref = summary_by_decimal(**p)
    for key, value in ref.items():
        got = getattr(model, key)
        assert getattr(model.summary, key) is got
        np.testing.assert_allclose(got, value, rtol=1e-12, atol=0.0, err_msg=key)


def test_ridge_is_the_positive_root():
    model = Model(**PAPER)
    R, lam, S2 = model.R, model.lam, PAPER["S"] ** 2
    assert R > 0
    residual = R**2 + R * (S2 * (1 - PAPER["d"] / PAPER["n"]) - lam) - lam * S2
    assert abs(residual) < 1e-12 * max(R**2, lam * S2)


def test_broadcast_fields_equal_pointwise_models():
    n = np.array([100.0, 400.0, 1600.0])[:, None]
    gamma = np.array([0.5, 1.0])
    model = Model(n=n, d=300, S=1.0, sigma=0.2, gamma=gamma, w_norm2=1.5)
    assert model.shape == (3, 2)
    for i in range(3):
        for j in range(2):
            one = Model(n=n[i, 0], d=300, S=1.0, sigma=0.2, gamma=gamma[j], w_norm2=1.5)
            for key in one.summary._fields:
                assert getattr(model, key)[i, j] == getattr(one, key), key


def test_from_params_uses_expected_teacher_norm():
    p = dict(n=200, d=1000, S=1.0, sigma=1e-4, gamma=1.0, w_mean=1.5, w_std=0.5, seed=3)
    model = Model.from_params(p)
    assert float(model.w_norm2) == 2.5
    assert model == Model(200, 1000, 1.0, 1e-4, 1.0, 2.5)
    assert hash(model) == hash(Model(200, 1000, 1.0, 1e-4, 1.0, 2.5))
    assert model != model.replace(gamma=2.0)


@pytest.mark.parametrize(
    "name, value",
    [("n", 0.5), ("d", 0), ("S", 0.0), ("sigma", -1.0), ("gamma", np.inf), ("w_norm2", -1e-3)],
)
def test_fields_validated_once_with_their_name(name, value):
    with pytest.raises(ValueError, match=rf"^{name} "):
        Model(**{**PAPER, name: value})


def test_old_keyword_form_equals_new_form():
    model = Model(**PAPER)
    k = np.array([1, 2, 7, 40])[:, None]
    T = np.array([0.0, 3e-8])[None, :]
    new = equivalents.delta_de(k, T, model, c=0.5)
    old = equivalents.delta_de(k, T, c=0.5, **PAPER)
    np.testing.assert_array_equal(new, old)
    judge = dict(judge_overlap=3.0, judge_norm2=4.0)
    np.testing.assert_array_equal(
        equivalents.delta_de_judge(3, 1e-8, model, **judge),
        equivalents.delta_de_judge(3, 1e-8, **judge, **PAPER),
    )
    assert equivalents.de_summary(**PAPER) == equivalents.de_summary(model)
    five = [PAPER[f] for f in MODEL_FIELDS[:5]]
    assert equivalents.renormalized_ridge(*five) == model.R
    assert equivalents.predictive_variance_de(*five) == model.s2
    assert equivalents.difficulty(*five, PAPER["w_norm2"]) == model.rho


def test_coercion_rejects_mixed_or_incomplete_forms():
    model = Model(**PAPER)
    with pytest.raises(TypeError, match="not both"):
        equivalents.delta_de(2, 0.0, model, n=100)
    with pytest.raises(TypeError, match="w_norm2"):
        equivalents.delta_de(2, 0.0, **{k: v for k, v in PAPER.items() if k != "w_norm2"})

    @takes_model
    def f(x, model):
        return x, model

    assert f(1, model=dict(PAPER)) == (1, model)


def test_judge_centre_defined_once():
    from itscale.simulation import montecarlo
    from itscale.theory import selection

    assert selection.judge_centre is judge_centre
    assert itscale.judge_centre is judge_centre
    assert montecarlo.judge_centre is judge_centre
    mu_T, m, c = 0.3, 1.1, np.array([0.0, 1.0, -2.0])
    # mu_R = mu_T - c (m - mu_T): the judge offset m - mu_R is (1 + c)(m - mu_T)
    np.testing.assert_allclose(m - judge_centre(mu_T, m, c), (1 + c) * (m - mu_T), rtol=1e-15)
    with pytest.raises(ValueError, match="^c "):
        judge_centre(0.0, 1.0, np.nan)
