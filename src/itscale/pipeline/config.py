"""Compatibility: the names of the former ``itscale.pipeline.config`` (``itscale.config``).

The pipeline configuration is split by job: :mod:`~itscale.pipeline.schema` (validation),
:mod:`~itscale.pipeline.params` (stage parameters and keys), :mod:`~itscale.pipeline.plan`
(the job plan and paths), :mod:`~itscale.pipeline.resources` (memory, runtime, shards) and
:mod:`~itscale.pipeline.modules` (module inputs). This module re-exports their public names.
"""

from __future__ import annotations

from itscale.pipeline.modules import module_files
from itscale.pipeline.params import (
    GRID_KEYS,
    MODEL_KEYS,
    STAGE_PARAMS,
    canonical_json,
    stage_key,
    stage_params,
)
from itscale.pipeline.plan import (
    LOGS,
    PATHS,
    WILDCARDS,
    ExperimentPlan,
    Plan,
    build_plan,
    figure_formats,
    resolve_grid,
)
from itscale.pipeline.resources import ENGINE_BUDGET_MB, shard_blocks, stage_resources
from itscale.pipeline.schema import ConfigError, load_config, validate_config

__all__ = [
    "ConfigError",
    "canonical_json",
    "MODEL_KEYS",
    "GRID_KEYS",
    "STAGE_PARAMS",
    "PATHS",
    "LOGS",
    "WILDCARDS",
    "validate_config",
    "load_config",
    "resolve_grid",
    "stage_params",
    "stage_key",
    "build_plan",
    "Plan",
    "ExperimentPlan",
    "figure_formats",
    "module_files",
    "stage_resources",
    "shard_blocks",
    "ENGINE_BUDGET_MB",
]
