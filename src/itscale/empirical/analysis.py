"""The analysis of scored candidates: curves, intervals, optima, expansion and judge comparisons.

:func:`analyse` takes a dataset from :func:`itscale.empirical.read_records` and a frozen
:class:`AnalysisConfig` (plain values), and returns one labelled dataset; the command line and
any pipeline stage call it, so the logic exists once. All intervals are percentile bootstrap
intervals over problems with one set of resampling counts shared by every quantity (paired).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

import numpy as np
import xarray as xr

import itscale
from itscale.empirical.bootstrap import (
    bootstrap_argmin,
    bootstrap_counts,
    bootstrap_means,
    percentile_interval,
)
from itscale.empirical.expansion import delta_pool_hte_problems, validity_threshold
from itscale.empirical.pool import (
    baseline_pool_problems,
    delta_pool_problems,
    normalise_scores,
    oracle_pool_problems,
)
from itscale.empirical.records import check_k_grid

__all__ = ["AnalysisConfig", "analyse"]


@dataclass(frozen=True)
class AnalysisConfig:
    """Settings of :func:`analyse` (plain values, hashable: usable as a pipeline key).

    judges: names to analyse (None: every judge of the dataset). k: subset sizes (ints >= 1).
    T: temperatures >= 0 on the normalised score axis (0: best score wins). bootstrap: number of
    resamples (>= 1); seed: their seed. level: interval coverage. normalise: ``raw`` or
    ``pooled_sd``. k_ref: the k of the error-vs-T curve and of the judge comparisons (None:
    largest k). drop_small_pools: drop problems whose pool is smaller than max(k).
    """

    judges: tuple[str, ...] | None = None
    k: tuple[int, ...] = tuple(range(1, 11))
    T: tuple[float, ...] = (0.0,)
    bootstrap: int = 1000
    seed: int = 0
    level: float = 0.95
    normalise: str = "pooled_sd"
    k_ref: int | None = None
    drop_small_pools: bool = False

    def __post_init__(self) -> None:
        k = tuple(int(v) for v in self.k)
        T = tuple(float(v) for v in self.T)
        if not k or min(k) < 1 or len(set(k)) != len(k):
            raise ValueError(f"k must be distinct integers >= 1, got {self.k!r}")
        if not T or any(not t >= 0 for t in T) or len(set(T)) != len(T):
            raise ValueError(f"T must be distinct temperatures >= 0, got {self.T!r}")
        if self.bootstrap < 1:
            raise ValueError(f"bootstrap must be >= 1, got {self.bootstrap!r}")
        if self.normalise not in ("raw", "pooled_sd"):
            raise ValueError(f"normalise must be 'raw' or 'pooled_sd', got {self.normalise!r}")
        if self.k_ref is not None and self.k_ref not in k:
            raise ValueError(f"k_ref = {self.k_ref} must be one of k = {k}")
        object.__setattr__(self, "k", tuple(sorted(k)))
        object.__setattr__(self, "T", tuple(sorted(T)))
        if self.judges is not None:
            object.__setattr__(self, "judges", tuple(self.judges))

    @property
    def k_reference(self) -> int:
        return self.k[-1] if self.k_ref is None else self.k_ref


def _judges(ds: xr.Dataset, config: AnalysisConfig) -> list[str]:
    available = [str(j) for j in ds["judge"].values]
    judges = available if config.judges is None else list(config.judges)
    unknown = [j for j in judges if j not in available]
    if unknown or not judges:
        raise ValueError(f"unknown judge(s) {unknown}; the dataset has: {', '.join(available)}")
    return judges


def _per_problem(ds: xr.Dataset, judges: list[str], config: AnalysisConfig) -> dict:
    """Per-problem exact curves and expansions, (judge, problem, k, T), and the score scales."""
    loss = ds["loss"].values
    k, T = np.array(config.k), np.array(config.T)
    positive = T > 0
    curves, expansion, scales = [], [], []
    for judge in judges:
        score, scale = normalise_scores(ds["score"].sel(judge=judge).values, config.normalise)
        curves.append(delta_pool_problems(loss, score, k, T))
        hte = np.full(curves[-1].shape, np.nan)
        if positive.any():
            hte[:, :, positive] = delta_pool_hte_problems(loss, score, k, T[positive])
        expansion.append(hte)
        scales.append(scale)
    return {
        "delta": np.stack(curves),
        "hte": np.stack(expansion),
        "scale": np.array(scales),
        "oracle": oracle_pool_problems(loss, k),
        "baseline": baseline_pool_problems(loss),
    }


def _interval_vars(name: str, dims: tuple, point, lower, upper, long_name: str, units: str):
    return {
        name: (dims, point, {"long_name": long_name, "units": units}),
        f"{name}_lower": (
            dims,
            lower,
            {"long_name": f"{long_name}, interval lower", "units": units},
        ),
        f"{name}_upper": (
            dims,
            upper,
            {"long_name": f"{long_name}, interval upper", "units": units},
        ),
    }


def _curve_vars(pp: dict, counts, level: float, units: str) -> dict:
    """Curves and their intervals: delta (judge, k, T), oracle (k), baseline ()."""
    out = {}
    for name, values, dims, long_name in (
        (
            "delta",
            np.moveaxis(pp["delta"], 1, 0),
            ("judge", "k", "T"),
            "pool estimate of the error",
        ),
        ("oracle", pp["oracle"], ("k",), "expected lowest loss among k (oracle judge)"),
        ("baseline", pp["baseline"], (), "mean loss (k = 1, random pick)"),
    ):
        lower, upper = percentile_interval(bootstrap_means(values, counts), level)
        out |= _interval_vars(name, dims, values.mean(0), lower, upper, long_name, units)
    return out


def _optimum_vars(pp: dict, config: AnalysisConfig, counts) -> dict:
    """k*(judge, T) and T*(judge, k): grid argmins with bootstrap intervals."""
    by_problem = np.moveaxis(pp["delta"], 1, 0)  # (problem, judge, k, T)
    k_star = bootstrap_argmin(np.swapaxes(by_problem, 2, 3), config.k, counts, config.level)
    T_star = bootstrap_argmin(by_problem, config.T, counts, config.level)
    t_name = f"empirical optimal T (argmin over the T grid), {_t_scale(config)}"
    return _interval_vars(
        "k_star", ("judge", "T"), *k_star, "empirical optimal k (argmin over the k grid)", "1"
    ) | _interval_vars("T_star", ("judge", "k"), *T_star, t_name, "1")


def _comparison_vars(pp: dict, config: AnalysisConfig, counts, units: str) -> dict:
    """Paired judge differences at k_ref, (judge, judge_b, T), and the fraction a < b."""
    j_ref = config.k.index(config.k_reference)
    at_ref = np.moveaxis(pp["delta"][:, :, j_ref, :], 1, 0)  # (problem, judge, T)
    diff = at_ref[:, :, None, :] - at_ref[:, None, :, :]
    means = bootstrap_means(diff, counts)
    lower, upper = percentile_interval(means, config.level)
    dims = ("judge", "judge_b", "T")
    long_name = "error(judge) - error(judge_b) at k_ref"
    return _interval_vars("difference", dims, diff.mean(0), lower, upper, long_name, units) | {
        "fraction_better": (
            dims,
            (means < 0).mean(0),
            {"long_name": "fraction of resamples with error(judge) < error(judge_b)", "units": "1"},
        )
    }


def _t_scale(config: AnalysisConfig) -> str:
    """What a temperature is measured in (temperatures are stored with units "1")."""
    if config.normalise == "pooled_sd":
        return "in units of the judge's pooled within-problem score SD"
    return "on the judge's own score scale"


def _expansion_vars(pp: dict, curves: dict, config: AnalysisConfig, units: str) -> dict:
    hte = pp["hte"].mean(axis=1)  # (judge, k, T)
    T = np.array(config.T)
    lower, upper = curves["delta_lower"][1], curves["delta_upper"][1]
    threshold = validity_threshold(T, hte, lower, upper)
    long_name = "smallest T from which the expansion stays in the interval, " + _t_scale(config)
    return {
        "expansion": (
            ("judge", "k", "T"),
            hte,
            {"long_name": "third-order high-temperature expansion (NaN at T = 0)", "units": units},
        ),
        "T_valid": (("judge", "k"), threshold, {"long_name": long_name, "units": "1"}),
    }


def analyse(ds: xr.Dataset, config: AnalysisConfig | None = None) -> xr.Dataset:
    """Error against k and T for each judge, with intervals, optima, expansion, comparisons.

    ds: scored candidates (dims judge, problem, candidate; ``loss``, ``score``). Returns a
    dataset with coords judge, k, T (and judge_b): ``delta`` (judge, k, T), ``oracle`` (k),
    ``baseline`` (); ``k_star`` (judge, T), ``T_star`` (judge, k); ``expansion`` (judge, k, T)
    and ``T_valid`` (judge, k); ``difference`` and ``fraction_better`` (judge, judge_b, T) at
    k_ref; each estimate with ``_lower`` / ``_upper`` percentile bootstrap bounds; and
    ``score_scale`` (judge): the T axis is in score / score_scale units.
    """
    config = AnalysisConfig() if config is None else config
    judges = _judges(ds, config)
    ds = check_k_grid(ds, config.k, config.drop_small_pools)
    pp = _per_problem(ds, judges, config)
    counts = bootstrap_counts(ds.sizes["problem"], config.bootstrap, config.seed)
    units = ds["loss"].attrs.get("units", "1")
    curves = _curve_vars(pp, counts, config.level, units)
    data_vars = curves | _optimum_vars(pp, config, counts)
    data_vars |= _comparison_vars(pp, config, counts, units)
    data_vars |= _expansion_vars(pp, curves, config, units)
    data_vars["score_scale"] = (
        ("judge",),
        pp["scale"],
        {"long_name": "divisor of the judge's scores, on its own scale (1: raw)", "units": "1"},
    )
    t_name = f"softmax temperature over the judge's scores, {_t_scale(config)} (0: best wins)"
    coords = {
        "judge": ("judge", np.array(judges, dtype=str), {"long_name": "judge name"}),
        "judge_b": ("judge_b", np.array(judges, dtype=str), {"long_name": "judge name (b)"}),
        "k": ("k", np.array(config.k), {"long_name": "candidates per selection", "units": "1"}),
        "T": ("T", np.array(config.T), {"long_name": t_name, "units": "1"}),
    }
    attrs = {
        "title": "LLM-as-a-judge analysis (itscale.empirical.analyse)",
        "interval": f"percentile bootstrap over problems, {config.level:.0%}, paired",
        "config": json.dumps(dataclasses.asdict(config), sort_keys=True),
        "k_ref": config.k_reference,
        "n_problems": ds.sizes["problem"],
        "source_file": ds.attrs.get("source_file", ""),
        "source_sha256": ds.attrs.get("source_sha256", ""),
        "itscale_version": itscale.__version__,
    }
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)
