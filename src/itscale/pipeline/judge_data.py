"""Judge-data experiments of the config resolved into keyed jobs: ingest, analysis, figure.

Each entry of ``judge_data:`` (real scored candidates, :mod:`itscale.empirical`) becomes
three kinds of job (:data:`itscale.pipeline.params.STAGE_PARAMS` lists their keys):

* ``records``: read and validate the records file into ``results/records/<key>/records.nc``,
  keyed by the file path and the record format only (every judge of the file is read, so a
  change to the judge list never re-reads the file);
* ``judges``: the analysis (:func:`itscale.empirical.analyse`) into
  ``results/judges/<key>/analysis.nc``, keyed by the records parameters and every analysis
  setting;
* ``judge_figure``: the two-panel figure in each format, keyed by the title, the plot style and
  the analysis path, published as ``figures/<name>.<ext>`` like the other figures.

:func:`add_judge_data` adds them to a :class:`~itscale.pipeline.plan.Plan` and checks what
the schema cannot express: the grids, ``k_ref`` in ``k``, names distinct from the experiments.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from itscale.pipeline.params import stage_key
from itscale.pipeline.plan import (
    PATHS,
    Plan,
    PublishedFigure,
    _add,
    figure_formats,
    resolve_grid,
)

__all__ = ["KIND", "JudgePlan", "resolve_point", "add_judge_data"]

#: The ``kind`` of a judge-data experiment (numbers table, caption fallback).
KIND = "judge_data"

_FORMAT_KEYS = ("layout", "problem", "candidate", "quality", "quality_kind", "score_dict")


@dataclass
class JudgePlan(PublishedFigure):
    """Jobs of one judge-data experiment: records, analysis, and its figure in each format."""

    name: str
    point: dict[str, Any]  # resolved parameters (records + analysis)
    records: str  # path of the records dataset
    analysis: str  # path of the analysis dataset
    figure_key: str
    figure_params: dict[str, Any]  # experiment, title, plot_style, analysis
    exts: list[str]  # figure formats
    kind: str = KIND

    def figure_path_for(self, ext: str) -> str:
        """Cached rendering of the figure in format ``ext``."""
        return PATHS["judge_figure"].format(key=self.figure_key, experiment=self.name, ext=ext)

    def numbers_params(self) -> dict[str, str]:
        """What the numbers stage needs: the experiment name and its analysis path."""
        return {"experiment": self.name, "analysis": self.analysis}


def resolve_point(config: Mapping[str, Any], name: str, problems: list[str]) -> dict[str, Any]:
    """Resolved parameters of judge-data experiment ``name`` (plain Python types).

    Grids are resolved like the experiments' (:func:`~itscale.pipeline.plan.resolve_grid`);
    ``k_ref`` defaults to the largest k and ``seed`` to the top-level seed. What is wrong is
    appended to ``problems`` as ``config.judge_data.<name>.<key>: <message>``.
    """
    exp, where = config["judge_data"][name], f"config.judge_data.{name}"
    fmt = exp["format"]
    point: dict[str, Any] = {"source": str(exp["source"])}
    point.update({key: copy.deepcopy(fmt[key]) for key in _FORMAT_KEYS})
    point["score_fields"] = [str(field) for field in fmt["score_fields"]]
    point["judges"] = [str(judge) for judge in exp["judges"]]
    for grid in ("k", "T"):
        try:
            point[grid] = resolve_grid(exp[grid], integer=grid == "k")
        except ValueError as exc:
            problems.append(f"{where}.{grid}: {exc}")
            point[grid] = [1]
    k_ref = exp.get("k_ref")
    point["k_ref"] = int(max(point["k"]) if k_ref is None else k_ref)
    if point["k_ref"] not in point["k"]:
        problems.append(f"{where}.k_ref = {k_ref} is not allowed: must be one of k {point['k']}")
    point["normalise"] = str(exp["normalise"])
    point["bootstrap"] = int(exp["bootstrap"])
    point["seed"] = int(exp.get("seed", config["seed"]))
    point["level"] = float(exp["level"])
    point["drop_small_pools"] = bool(exp["drop_small_pools"])
    if name in config["experiments"]:
        problems.append(f"{where}: the name is also an experiment's (both publish figures/{name})")
    return point


def add_judge_data(plan: Plan, config: Mapping[str, Any], names: list[str]) -> None:
    """Add the jobs of the judge-data experiments ``names`` to ``plan`` (``plan.judges``).

    Raises :class:`~itscale.pipeline.schema.ConfigError` listing every problem found.
    """
    from itscale.pipeline.schema import ConfigError

    problems: list[str] = []
    points = {name: resolve_point(config, name, problems) for name in names}
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(problems))
    style = dict(config["plot_style"])
    for name, point in points.items():
        records = PATHS["records"].format(key=_add(plan, "records", point))
        analysis = PATHS["judges"].format(key=_add(plan, "judges", point))
        title = config["judge_data"][name]["title"]
        fig_params = {"experiment": name, "title": title, "plot_style": style, "analysis": analysis}
        fig_key = stage_key("judge_figure", fig_params)
        plan.params.setdefault("judge_figure", {})[fig_key] = fig_params
        plan.judges[name] = JudgePlan(
            name=name,
            point=point,
            records=records,
            analysis=analysis,
            figure_key=fig_key,
            figure_params=fig_params,
            exts=figure_formats(style),
        )
