"""The job plan: a validated config resolved into the jobs of every stage, their paths and keys.

:func:`build_plan` turns a validated config into a :class:`Plan`: for every experiment one
resolved parameter dict per sweep point (:func:`resolve_grid` for the grids, temperatures in
absolute units), and for every stage the parameters of each job, indexed by its content key
(:mod:`itscale.pipeline.params`). :data:`PATHS` and :data:`LOGS` are the output and log path
patterns of every rule; the rules in ``workflow/rules/*.smk`` spell the same patterns out
(``tests/test_workflow.py`` checks that they agree).

Everything here uses plain Python types (int, float, str, list, dict): Snakemake compares
``params`` by their repr, and the keys must not depend on numpy's repr.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from itscale.pipeline.params import (
    INT_MODEL_KEYS,
    MODEL_KEYS,
    stage_key,
    stage_params,
)
from itscale.pipeline.resources import shard_blocks, stage_resources

__all__ = [
    "PATHS",
    "LOGS",
    "WILDCARDS",
    "resolve_grid",
    "PublishedFigure",
    "ExperimentPlan",
    "Plan",
    "build_plan",
    "figure_formats",
]

#: Output path pattern of every rule (relative to the working directory), by rule name.
PATHS: dict[str, str] = {
    "data": "results/data/{key}/data.nc",
    "posterior": "results/posterior/{key}/posterior.nc",
    "sampling_shard": "results/sampling/{key}/shard-{shard}.nc",
    "sampling": "results/sampling/{key}/sampling.nc",
    "theory": "results/theory/{key}/theory.nc",
    "figure": "results/figures/{key}/{experiment}.{ext}",
    # figures of theory-only experiments: a rule of their own, so the rule graph shows each
    # rule once (Snakemake draws a rule once per depth in the job graph)
    "theory_figure": "results/theory_figures/{key}/{experiment}.{ext}",
    "numbers": "results/numbers/{key}/numbers.csv",
    "numbers_nc": "results/numbers/{key}/numbers.nc",
    # published copies, written together by the one job of rule "publish" (Plan.publish_files)
    "publish_figure": "figures/{experiment}.{ext}",
    "publish_numbers": "figures/numbers.csv",
    "publish_numbers_nc": "figures/numbers.nc",
    # judge-data experiments (itscale.pipeline.judge_data)
    "records": "results/records/{key}/records.nc",
    "judges": "results/judges/{key}/analysis.nc",
    "judge_figure": "results/judge_figures/{key}/{experiment}.{ext}",
}

#: Log path pattern of every rule, one file per job.
LOGS: dict[str, str] = {
    "data": "logs/data/{key}.log",
    "posterior": "logs/posterior/{key}.log",
    "sampling_shard": "logs/sampling/{key}/shard-{shard}.log",
    "sampling": "logs/sampling/{key}/gather.log",
    "theory": "logs/theory/{key}.log",
    "figure": "logs/figures/{key}/{experiment}.log",
    "theory_figure": "logs/theory_figures/{key}/{experiment}.log",
    "numbers": "logs/numbers/{key}.log",
    "publish": "logs/publish.log",
    "records": "logs/records/{key}.log",
    "judges": "logs/judges/{key}.log",
    "judge_figure": "logs/judge_figures/{key}/{experiment}.log",
}

#: Wildcard regular expressions shared by every rule.
WILDCARDS: dict[str, str] = {
    "key": "[0-9a-f]{16}",
    "shard": "[0-9]+",
    "experiment": "[A-Za-z][A-Za-z0-9_]*",
    "ext": "pdf|png|svg",
}


# --------------------------------------------------------------------------------------------
# resolution
# --------------------------------------------------------------------------------------------


def resolve_grid(spec: Any, *, integer: bool = False) -> list:
    """A grid spec (list, or mapping start/stop/num/spacing[/include_zero]) as a sorted list.

    Integer grids are rounded and de-duplicated; float grids are float, ``inf`` allowed in
    lists. Raises ``ValueError`` for a range with stop < start or a log range starting at 0.
    """
    if isinstance(spec, Mapping):
        start, stop, num = spec["start"], spec["stop"], int(spec["num"])
        spacing = spec.get("spacing", "log" if integer else "linear")
        if not (math.isfinite(start) and math.isfinite(stop)):
            raise ValueError("range start and stop must be finite")
        if stop < start:
            raise ValueError(f"range stop ({stop}) must be >= start ({start})")
        if num == 1:
            values = [float(start)]
        elif spacing == "log":
            if start <= 0:
                raise ValueError("a log-spaced range needs start > 0 (use include_zero for T = 0)")
            lo, hi = math.log(start), math.log(stop)
            values = [math.exp(lo + (hi - lo) * i / (num - 1)) for i in range(num)]
            values[0], values[-1] = float(start), float(stop)
        else:
            values = [start + (stop - start) * i / (num - 1) for i in range(num)]
            values[-1] = float(stop)
        if spec.get("include_zero"):
            values = [0.0, *values]
    else:
        values = list(spec)
    if integer:
        out = sorted({int(round(v)) for v in values})
        if out and out[0] < 1:
            raise ValueError("values must be >= 1")
        return out
    return sorted({_round_sig(v) for v in values})


def _round_sig(x: float, digits: int = 12) -> float:
    """``x`` rounded to 12 significant digits: computed grid values (log ranges, T in units of
    2 sigma^2) then hash the same on every platform, whatever the last bits of libm."""
    x = float(x)
    return float(f"{x:.{digits}g}") if math.isfinite(x) else x


def _resolve_point(
    config: Mapping[str, Any], exp: Mapping[str, Any], model: Mapping[str, Any]
) -> dict:
    """All parameters of one sweep point, normalised to plain int/float/list types.

    Temperatures are absolute: ``T_unit: two_sigma2`` values are multiplied by 2 sigma^2 here,
    once; figures divide by it again only to label their axes.
    """
    point: dict[str, Any] = {}
    for name in MODEL_KEYS:
        value = model[name]
        point[name] = int(value) if name in INT_MODEL_KEYS else float(value)
    grids = exp["grids"]
    point["k"] = resolve_grid(grids["k"], integer=True)
    T = resolve_grid(grids["T"])
    if grids["T_unit"] == "two_sigma2":
        T = [_round_sig(t * 2.0 * point["sigma"] ** 2) for t in T]
    point["T"] = T
    point["c"] = resolve_grid(grids["c"])
    smp = exp["sampling"]
    point["seed"] = int(config["seed"])
    point["replicates"] = int(smp["replicates"])
    for name in ("n_test", "block_size", "trials", "shards"):
        point[name] = int(smp[name])
    point["hte_order"] = int(exp["theory"]["hte_order"])
    return point


def _sweep_models(exp: Mapping[str, Any]) -> list[dict[str, Any]]:
    base = dict(exp["model"])
    names = [name for name in MODEL_KEYS if name in exp["sweep"]]
    models = []
    for values in itertools.product(*(exp["sweep"][name] for name in names)):
        model = dict(base)
        model.update(zip(names, values, strict=True))
        models.append(model)
    return models


# --------------------------------------------------------------------------------------------
# plan
# --------------------------------------------------------------------------------------------


class PublishedFigure:
    """What every plan entry with a figure shares: its published copies in ``figures/``.

    Subclasses (dataclasses) have ``name`` and ``exts`` (figure formats) and say where the
    figure is rendered (``figure_path_for``).
    """

    name: str
    exts: list[str]

    def publish_path_for(self, ext: str) -> str:
        """Published figure ``figures/<name>.<ext>``."""
        return PATHS["publish_figure"].format(experiment=self.name, ext=ext)

    @property
    def publish_paths(self) -> list[str]:
        """Published figures, one per format."""
        return [self.publish_path_for(ext) for ext in self.exts]


@dataclass
class ExperimentPlan(PublishedFigure):
    """Jobs of one experiment: one entry per sweep point, plus the figure."""

    name: str
    kind: str  # figure kind (itscale.report.kinds.<kind>)
    simulate: bool
    points: list[dict[str, Any]]  # resolved parameters of each point
    sampling: list[str | None]  # sampling dataset path of each point (None: theory only)
    theory: list[str]  # theory dataset path of each point
    figure_key: str
    figure_params: dict[str, Any]
    exts: list[str]  # figure formats, e.g. ["pdf", "png"], all saved by the one figure job

    @property
    def sampling_paths(self) -> list[str]:
        """Sampling dataset paths of the simulated points (empty for theory-only experiments)."""
        return [p for p in self.sampling if p is not None]

    def figure_path_for(self, ext: str) -> str:
        """Cached rendering of the figure in format ``ext`` (rule ``figure``, or
        ``theory_figure`` for a theory-only experiment)."""
        rule = "figure" if self.simulate else "theory_figure"
        return PATHS[rule].format(key=self.figure_key, experiment=self.name, ext=ext)

    @property
    def publish_path(self) -> str:
        """Published figure in the first format."""
        return self.publish_path_for(self.exts[0])


@dataclass
class Plan:
    """Every job the config asks for, indexed by stage and key."""

    seed: int
    experiments: dict[str, ExperimentPlan] = field(default_factory=dict)
    params: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    judges: dict[str, Any] = field(default_factory=dict)  # name -> judge_data.JudgePlan

    def stage(self, stage: str, key: str) -> dict[str, Any]:
        """Resolved parameters of the ``stage`` job with content key ``key`` (a fresh copy)."""
        try:
            return copy.deepcopy(self.params[stage][key])
        except KeyError:
            raise KeyError(
                f"no {stage} job with key {key} in the current config (stale target?)"
            ) from None

    def upstream(self, stage: str, key: str, parent: str) -> str:
        """Path of the ``parent`` stage output that the ``stage`` job ``key`` reads."""
        params = stage_params(parent, self.stage(stage, key))
        return PATHS[parent].format(key=stage_key(parent, params))

    def shard_paths(self, key: str) -> list[str]:
        """Outputs of the Monte Carlo shards of the sampling job ``key``, in shard order."""
        shards = self.stage("sampling", key)["shards"]
        return [PATHS["sampling_shard"].format(key=key, shard=i) for i in range(shards)]

    def shard_blocks(self, key: str, shard: int) -> list[int]:
        """Test-input blocks of shard ``shard`` of the sampling job ``key``."""
        p = self.stage("sampling", key)
        return shard_blocks(p["n_test"], p["block_size"], p["shards"], int(shard))

    def figure(self, key: str) -> ExperimentPlan:
        """The experiment whose figure job has content key ``key``."""
        for exp in self.experiments.values():
            if exp.figure_key == key:
                return exp
        raise KeyError(f"no figure with key {key} in the current config (stale target?)")

    def numbers_params(self) -> dict[str, dict[str, Any]]:
        """Per experiment: name, figure kind, T unit and dataset paths (numbers table input)."""
        keys = ("experiment", "kind", "T_unit", "sampling", "theory")
        return {
            name: {key: copy.deepcopy(exp.figure_params[key]) for key in keys}
            for name, exp in self.experiments.items()
        }

    def targets(self) -> list[str]:
        """The published figures, ``figures/<experiment>.<ext>`` for every format, of every
        experiment and judge-data experiment run."""
        published = [*self.experiments.values(), *self.judges.values()]
        return [path for exp in published for path in exp.publish_paths]

    def judge_numbers_params(self) -> dict[str, dict[str, str]]:
        """Per judge-data experiment: name and analysis path (numbers table input)."""
        return {name: jp.numbers_params() for name, jp in self.judges.items()}

    def numbers_paths(self) -> tuple[str, str]:
        """The numbers table rendered under ``results/numbers/<key>/`` (CSV, NetCDF), keyed by
        everything the numbers job reads (its experiments' dataset paths)."""
        params = {"experiments": self.numbers_params(), "judge_data": self.judge_numbers_params()}
        key = stage_key("numbers", params)
        return PATHS["numbers"].format(key=key), PATHS["numbers_nc"].format(key=key)

    def publish_files(self) -> list[tuple[str, str]]:
        """(rendered, published) pairs the publish job copies together: every figure in every
        format, then the numbers table (CSV, NetCDF)."""
        owners = [*self.experiments.values(), *self.judges.values()]
        pairs = [(o.figure_path_for(e), o.publish_path_for(e)) for o in owners for e in o.exts]
        csv, nc = self.numbers_paths()
        return [*pairs, (csv, PATHS["publish_numbers"]), (nc, PATHS["publish_numbers_nc"])]

    def resources(self, stage: str, key: str) -> dict[str, int]:
        """``mem_mb`` and ``runtime`` (minutes) of one job (see :func:`stage_resources`)."""
        if stage == "figure":
            return stage_resources("figure", {})
        params = self.stage("sampling" if stage == "sampling_shard" else stage, key)
        return stage_resources("shard" if stage == "sampling_shard" else stage, params)


def _add(plan: Plan, stage: str, point: Mapping[str, Any]) -> str:
    params = stage_params(stage, point)
    key = stage_key(stage, params)
    plan.params.setdefault(stage, {})[key] = params
    return key


def figure_formats(style: Mapping[str, Any]) -> list[str]:
    """The figure formats of a plot style: ``format`` is one format or a list of them."""
    fmt = style.get("format", ["pdf", "png"])
    return [fmt] if isinstance(fmt, str) else list(fmt)


def build_plan(config: Mapping[str, Any]) -> Plan:
    """Resolve a validated config into the jobs of every stage (keys, params, paths).

    The theory job of each point also computes the curves and optima its figure kind asks
    for (``itscale.report.kinds.<kind>.theory_request``), so they enter its key.
    """
    from itscale.pipeline.judge_data import add_judge_data
    from itscale.report.kinds import get_kind

    plan = Plan(seed=int(config["seed"]))
    run = config.get("run")
    names = [n for n in run if n in config["experiments"]] if run else list(config["experiments"])
    style = dict(config["plot_style"])
    for name in names:
        exp = config["experiments"][name]
        kind = exp["figure"]["kind"]
        points = [_resolve_point(config, exp, model) for model in _sweep_models(exp)]
        requests = [get_kind(kind).theory_request(points, i) for i in range(len(points))]
        sampling, theory = [], []
        for point, request in zip(points, requests, strict=True):
            point["curves"] = request
            theory.append(PATHS["theory"].format(key=_add(plan, "theory", point)))
            if exp["simulate"]:
                for stage in ("data", "posterior"):
                    _add(plan, stage, point)
                sampling.append(PATHS["sampling"].format(key=_add(plan, "sampling", point)))
            else:
                sampling.append(None)
        fig_params = {
            "experiment": name,
            "kind": kind,
            "title": exp["figure"]["title"],
            "T_unit": exp["grids"]["T_unit"],
            "plot_style": style,
            "sampling": list(sampling),
            "theory": list(theory),
        }
        fig_key = stage_key("figure", fig_params)
        plan.params.setdefault("figure", {})[fig_key] = fig_params
        plan.experiments[name] = ExperimentPlan(
            name=name,
            kind=kind,
            simulate=bool(exp["simulate"]),
            points=points,
            sampling=sampling,
            theory=theory,
            figure_key=fig_key,
            figure_params=fig_params,
            exts=figure_formats(style),
        )
    judge_data = config.get("judge_data") or {}
    add_judge_data(plan, config, [n for n in run if n in judge_data] if run else list(judge_data))
    return plan
