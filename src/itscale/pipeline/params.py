"""Stage parameters: which parameters each stage is keyed by, and the content key of a job.

Each stage output lives at ``results/<stage>/<key>/...`` where ``key`` is a short sha256 of the
canonical JSON of exactly the parameters that stage depends on (:data:`STAGE_PARAMS`), so
several parameter sets coexist as a cache and reverting a change reruns nothing.

==============  ==========================================================================
data            seed, replicates, n, d, S, sigma, w_mean, w_std, n_test, block_size
posterior       data + gamma
finite_size     posterior + k, T, c grids
sampling        posterior + k, T, c grids + trials, shards
theory          n, d, S, sigma, gamma, w_mean, w_std + k, T, c grids + hte_order + curves
                (the extra curves and optima the experiment's figure kind asks for; never
                seed, replicates, n_test, block_size, trials, shards)
figure          experiment, figure kind/title, plot_style, T_unit and the upstream paths
records         source (records file path), layout, problem, candidate, quality,
                quality_kind, score_fields, score_dict (every judge of the file is read)
judges          records + judges, k, T, normalise, bootstrap, seed, level, k_ref,
                drop_small_pools
judge_figure    experiment, title, plot_style and the analysis path
==============  ==========================================================================

Leaf module (standard library only): the Snakefile, every stage and the report import it.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "MODEL_KEYS",
    "INT_MODEL_KEYS",
    "GRID_KEYS",
    "STAGE_PARAMS",
    "canonical_json",
    "params_key",
    "stage_params",
    "stage_key",
]

#: Model parameters of the config, in the order a sweep is reported.
MODEL_KEYS: tuple[str, ...] = ("n", "d", "S", "sigma", "gamma", "w_mean", "w_std")
#: Model parameters that are integers (the others are floats).
INT_MODEL_KEYS: frozenset[str] = frozenset({"n", "d"})
#: Evaluation grids shared by the Monte Carlo, finite-size and theory stages.
GRID_KEYS: tuple[str, ...] = ("k", "T", "c")

_DATA = ("seed", "replicates", "n", "d", "S", "sigma", "w_mean", "w_std", "n_test", "block_size")
_POSTERIOR = (*_DATA, "gamma")
_RECORDS = (
    "source",
    "layout",
    "problem",
    "candidate",
    "quality",
    "quality_kind",
    "score_fields",
    "score_dict",
)
_ANALYSIS = ("judges", "k", "T", "normalise", "bootstrap", "seed", "level", "k_ref")

#: The parameters each stage's output depends on (and is keyed by).
STAGE_PARAMS: dict[str, tuple[str, ...]] = {
    "data": _DATA,
    "posterior": _POSTERIOR,
    "finite_size": (*_POSTERIOR, *GRID_KEYS),
    "sampling": (*_POSTERIOR, *GRID_KEYS, "trials", "shards"),
    "theory": (*MODEL_KEYS, *GRID_KEYS, "hte_order", "curves"),
    "records": _RECORDS,
    "judges": (*_RECORDS, *_ANALYSIS, "drop_small_pools"),
}


def canonical_json(obj: Any) -> str:
    """Canonical JSON text: sorted keys, no whitespace, shortest float repr (inf as Infinity)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=True)


def params_key(stage: str, params: Mapping[str, Any], length: int = 16) -> str:
    """Short sha256 (hex) of the canonical JSON of ``{"stage": stage, "params": params}``."""
    text = canonical_json({"stage": stage, "params": dict(params)})
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:length]


def stage_params(stage: str, resolved: Mapping[str, Any]) -> dict[str, Any]:
    """Project a resolved point (model + grids + sampling + seed) onto one stage's parameters."""
    if stage not in STAGE_PARAMS:
        raise ValueError(f"stage must be one of {sorted(STAGE_PARAMS)}, got {stage!r}")
    missing = [name for name in STAGE_PARAMS[stage] if name not in resolved]
    if missing:
        raise ValueError(f"parameters {missing} are missing for stage {stage!r}")
    return {name: copy.deepcopy(resolved[name]) for name in STAGE_PARAMS[stage]}


def stage_key(stage: str, params: Mapping[str, Any]) -> str:
    """16-hex-digit content key of a stage's resolved parameters (see :func:`params_key`)."""
    return params_key(stage, params)
