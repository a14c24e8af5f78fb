"""Pipeline configuration: validation, resolved stage parameters, content keys and the job plan.

The Snakemake workflow (``Snakefile``, ``workflow/rules/*.smk``) keeps no logic of its own; it
asks this module

* :func:`validate_config` to check the config against ``workflow/schemas/config.schema.yaml``
  (JSON Schema, draft 2020-12), fill in the schema defaults and stop with a message that names
  the offending key and its allowed range;
* :func:`build_plan` for the resolved parameter dict of every stage of every experiment. Each
  stage output lives at ``results/<stage>/<key>/...`` where ``key`` is a short sha256 of the
  canonical JSON of exactly the parameters that stage depends on (:data:`STAGE_PARAMS`), so
  several parameter sets coexist as a cache and reverting a change reruns nothing;
* :func:`module_files` for the library source files a stage imports (its rerun inputs).

Stage dependencies (what each key contains):

==============  ==========================================================================
data            seed, replicates, n, d, S, sigma, w_mean, w_std, n_test, block_size
posterior       data + gamma
finite_size     posterior + k, T, c grids
sampling        posterior + k, T, c grids + trials, shards
theory          n, d, S, sigma, gamma, w_mean, w_std + k, T, c grids + hte_order
                (never seed, replicates, n_test, block_size, trials, shards)
figure          experiment, figure kind/title, plot_style, T_unit and the upstream paths
==============  ==========================================================================

Everything here uses plain Python types (int, float, str, list, dict): Snakemake compares
``params`` by their repr, and the hashes must not depend on numpy's repr.
"""

from __future__ import annotations

import ast
import copy
import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from itscale.pipeline.datasets import canonical_json, params_key

__all__ = [
    "ConfigError",
    "canonical_json",
    "MODEL_KEYS",
    "STAGE_PARAMS",
    "PATHS",
    "LOGS",
    "validate_config",
    "load_config",
    "resolve_grid",
    "stage_params",
    "stage_key",
    "build_plan",
    "Plan",
    "module_files",
    "stage_resources",
    "shard_blocks",
]


class ConfigError(ValueError):
    """Invalid pipeline configuration; the message names the key path and the allowed values."""


# --------------------------------------------------------------------------------------------
# stage parameters and paths
# --------------------------------------------------------------------------------------------

MODEL_KEYS: tuple[str, ...] = ("n", "d", "S", "sigma", "gamma", "w_mean", "w_std")
_INT_MODEL_KEYS = frozenset({"n", "d"})
GRID_KEYS: tuple[str, ...] = ("k", "T", "c")

_DATA = ("seed", "replicates", "n", "d", "S", "sigma", "w_mean", "w_std", "n_test", "block_size")
_POSTERIOR = (*_DATA, "gamma")

#: The parameters each stage's output depends on (and is keyed by).
STAGE_PARAMS: dict[str, tuple[str, ...]] = {
    "data": _DATA,
    "posterior": _POSTERIOR,
    "finite_size": (*_POSTERIOR, *GRID_KEYS),
    "sampling": (*_POSTERIOR, *GRID_KEYS, "trials", "shards"),
    "theory": (*MODEL_KEYS, *GRID_KEYS, "hte_order"),
}

#: Output path patterns (relative to the working directory). Wildcards: key, shard, experiment, ext.
PATHS: dict[str, str] = {
    "data": "results/data/{key}/data.nc",
    "posterior": "results/posterior/{key}/posterior.nc",
    "finite_size": "results/finite_size/{key}/finite_size.nc",
    "shard": "results/sampling/{key}/shard-{shard}.nc",
    "sampling": "results/sampling/{key}/sampling.nc",
    "theory": "results/theory/{key}/theory.nc",
    "figure": "results/figures/{key}/{experiment}.{ext}",
    "publish": "figures/{experiment}.{ext}",
}

#: Log path patterns, one file per job.
LOGS: dict[str, str] = {
    "data": "logs/data/{key}.log",
    "posterior": "logs/posterior/{key}.log",
    "finite_size": "logs/finite_size/{key}.log",
    "shard": "logs/sampling/{key}/shard-{shard}.log",
    "sampling": "logs/sampling/{key}/gather.log",
    "theory": "logs/theory/{key}.log",
    "figure": "logs/figures/{key}/{experiment}.{ext}.log",
    "publish": "logs/publish/{experiment}.{ext}.log",
}

#: Wildcard regular expressions shared by every rule.
WILDCARDS: dict[str, str] = {
    "key": "[0-9a-f]{16}",
    "shard": "[0-9]+",
    "experiment": "[A-Za-z][A-Za-z0-9_]*",
    "ext": "pdf|png|svg",
}


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


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------


def _load_yaml(path: str | Path) -> Any:
    import yaml

    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _default_validator(schema: dict[str, Any]):
    """Draft 2020-12 validator that also fills in ``default`` values (deep copies)."""
    from jsonschema import Draft202012Validator, validators

    validate_properties = Draft202012Validator.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    cls = validators.extend(Draft202012Validator, {"properties": set_defaults})
    return cls(schema)


def _path_text(path: Iterable[Any]) -> str:
    out = "config"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _allowed(schema: Mapping[str, Any]) -> str:
    """Human-readable allowed range of a (leaf) schema."""
    if "enum" in schema:
        return "one of " + ", ".join(repr(v) for v in schema["enum"])
    kind = schema.get("type")
    parts = []
    if "minimum" in schema:
        parts.append(f">= {schema['minimum']}")
    if "exclusiveMinimum" in schema:
        parts.append(f"> {schema['exclusiveMinimum']}")
    if "maximum" in schema:
        parts.append(f"<= {schema['maximum']}")
    if "exclusiveMaximum" in schema:
        parts.append(f"< {schema['exclusiveMaximum']}")
    if kind == "object" and "properties" in schema:
        return "a mapping with keys " + ", ".join(schema["properties"])
    if kind == "array":
        text = "a non-empty list" if schema.get("minItems") else "a list"
        if schema.get("uniqueItems"):
            text += " of distinct values"
        return text
    text = str(kind) if kind else "a value"
    return text + (" " + " and ".join(parts) if parts else "")


def _format_error(err) -> str:
    from jsonschema.exceptions import best_match

    if err.validator in ("oneOf", "anyOf") and err.context:
        # Report the branch that matches the value's type (list vs range mapping).
        relevant = [e for e in err.context if e.validator != "type"] or list(err.context)
        sub = best_match(relevant)
        if sub is not None:
            return _format_error(sub)
    where = _path_text(err.absolute_path)
    value = err.instance
    if err.validator == "additionalProperties":
        allowed = list(err.schema.get("properties", {}))
        extra = sorted(set(value) - set(allowed)) if isinstance(value, dict) else []
        return f"{where}: unknown key(s) {', '.join(map(repr, extra))}; allowed keys: " + ", ".join(
            allowed
        )
    if err.validator == "required":
        return f"{where}: {err.message}"
    if err.validator == "propertyNames":
        return (
            f"{where}: bad experiment name ({err.message}); names match {WILDCARDS['experiment']}"
        )
    hint = ""
    if isinstance(value, str) and err.validator == "type":
        try:
            float(value)
            hint = " (YAML reads numbers such as 1e-4 as text: write 1.0e-4)"
        except ValueError:
            pass
    return f"{where} = {value!r} is not allowed: must be {_allowed(err.schema)}{hint}"


def validate_config(config: dict[str, Any], schema_path: str | Path) -> dict[str, Any]:
    """Validate ``config`` in place against the JSON Schema at ``schema_path``; fill defaults.

    Raises :class:`ConfigError` whose message lists every violation as
    ``config.<path> = <value> is not allowed: must be <allowed range>`` (or the unknown keys and
    the allowed ones), then checks what JSON Schema cannot express (range endpoints, log grids
    starting at 0, shards <= blocks, names listed in ``run``). Returns ``config``.
    """
    if not isinstance(config, dict):
        raise ConfigError(f"config must be a mapping, got {type(config).__name__}")
    schema = _load_yaml(schema_path)
    validator = _default_validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = [_format_error(e) for e in errors]
        raise ConfigError("invalid config:\n  " + "\n  ".join(dict.fromkeys(lines)))
    problems = []
    for name, exp in config["experiments"].items():
        for grid in GRID_KEYS:
            try:
                resolve_grid(exp["grids"][grid], integer=(grid == "k"))
            except ValueError as exc:
                problems.append(f"config.experiments.{name}.grids.{grid}: {exc}")
        smp = exp["sampling"]
        blocks = -(-smp["n_test"] // smp["block_size"])
        if exp["simulate"] and smp["shards"] > blocks:
            problems.append(
                f"config.experiments.{name}.sampling.shards = {smp['shards']} is not allowed: "
                f"must be <= the number of test-input blocks ceil(n_test / block_size) = {blocks}"
            )
    for name in config.get("run", []):
        if name not in config["experiments"]:
            problems.append(
                f"config.run: unknown experiment {name!r}; defined: "
                + ", ".join(config["experiments"])
            )
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(problems))
    return config


def load_config(path: str | Path, schema_path: str | Path) -> dict[str, Any]:
    """Read a YAML config and :func:`validate_config` it."""
    return validate_config(_load_yaml(path), schema_path)


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
    """All parameters of one sweep point, normalised to plain int/float/list types."""
    point: dict[str, Any] = {}
    for name in MODEL_KEYS:
        value = model[name]
        point[name] = int(value) if name in _INT_MODEL_KEYS else float(value)
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


@dataclass
class ExperimentPlan:
    """Jobs of one experiment: one entry per sweep point, plus the figure."""

    name: str
    simulate: bool
    points: list[dict[str, Any]]  # resolved parameters of each point
    sampling: list[str | None]  # sampling dataset path of each point (None: theory only)
    theory: list[str]  # theory dataset path of each point
    figure_key: str
    figure_params: dict[str, Any]
    exts: list[str]  # figure formats, e.g. ["pdf", "png"]; each is rendered by its own job

    @property
    def sampling_paths(self) -> list[str]:
        """Sampling dataset paths of the simulated points (empty for theory-only experiments)."""
        return [p for p in self.sampling if p is not None]

    def figure_path_for(self, ext: str) -> str:
        """Cached rendering of the figure in format ``ext``."""
        return PATHS["figure"].format(key=self.figure_key, experiment=self.name, ext=ext)

    def publish_path_for(self, ext: str) -> str:
        """Published figure ``figures/<experiment>.<ext>``."""
        return PATHS["publish"].format(experiment=self.name, ext=ext)

    @property
    def figure_path(self) -> str:
        """Cached rendering in the first format."""
        return self.figure_path_for(self.exts[0])

    @property
    def publish_path(self) -> str:
        """Published figure in the first format."""
        return self.publish_path_for(self.exts[0])

    @property
    def publish_paths(self) -> list[str]:
        """Published figures, one per format."""
        return [self.publish_path_for(ext) for ext in self.exts]


@dataclass
class Plan:
    """Every job the config asks for, indexed by stage and key."""

    seed: int
    experiments: dict[str, ExperimentPlan] = field(default_factory=dict)
    params: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def stage(self, stage: str, key: str) -> dict[str, Any]:
        """Resolved parameters of the ``stage`` job with content key ``key`` (a fresh copy)."""
        try:
            return copy.deepcopy(self.params[stage][key])
        except KeyError:
            raise KeyError(
                f"no {stage} job with key {key} in the current config (stale target?)"
            ) from None

    def path(self, stage: str, key: str, **wildcards: Any) -> str:
        return PATHS[stage].format(key=key, **wildcards)

    def upstream(self, stage: str, key: str, parent: str) -> str:
        """Path of the ``parent`` stage output that the ``stage`` job ``key`` reads."""
        params = stage_params(parent, self.stage(stage, key))
        return self.path(parent, stage_key(parent, params))

    def shard_paths(self, key: str) -> list[str]:
        shards = self.stage("sampling", key)["shards"]
        return [self.path("shard", key, shard=i) for i in range(shards)]

    def shard_blocks(self, key: str, shard: int) -> list[int]:
        """Test-input blocks of shard ``shard`` of the sampling job ``key``."""
        p = self.stage("sampling", key)
        return shard_blocks(p["n_test"], p["block_size"], p["shards"], int(shard))

    def figure(self, key: str) -> ExperimentPlan:
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

    def caption_of(self, report_dir: str | Path):
        """``params:`` function of a publish job: the text of its report caption,
        ``<report_dir>/<experiment>.rst``, or a generic line naming the figure kind."""

        def caption(wildcards) -> str:
            path = Path(report_dir) / f"{wildcards.experiment}.rst"
            if path.is_file():
                return path.read_text(encoding="utf-8")
            params = self.experiments[wildcards.experiment].figure_params
            title = params["title"] or wildcards.experiment
            return f"{title} (figure kind ``{params['kind']}``)."

        return caption

    def targets(self) -> list[str]:
        """The published figures, ``figures/<experiment>.<ext>`` for every format, of every
        experiment run."""
        return [path for exp in self.experiments.values() for path in exp.publish_paths]

    def resources(self, stage: str, key: str) -> dict[str, int]:
        if stage == "figure":
            return stage_resources("figure", {})
        return stage_resources(stage, self.stage("sampling" if stage == "shard" else stage, key))

    # -- callables for Snakemake rule directives (wildcards -> value) ------------------------

    def blocks_of(self):
        """``params:`` function of a Monte Carlo shard job: its test-input blocks."""
        return lambda wildcards: self.shard_blocks(wildcards.key, int(wildcards.shard))

    def params_of(self, stage: str):
        """``params:`` function: the resolved parameters of the job with wildcard ``key``."""
        return lambda wildcards: self.stage(stage, wildcards.key)

    def input_of(self, stage: str, parent: str):
        """``input:`` function: the ``parent`` stage output read by the ``stage`` job ``key``."""
        return lambda wildcards: self.upstream(stage, wildcards.key, parent)

    def mem_mb(self, stage: str):
        """``resources: mem_mb`` function (see :func:`stage_resources`)."""
        return lambda wildcards: self.resources(stage, wildcards.key)["mem_mb"]

    def runtime(self, stage: str):
        """``resources: runtime`` function, minutes (see :func:`stage_resources`)."""
        return lambda wildcards: self.resources(stage, wildcards.key)["runtime"]


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
    """Resolve a validated config into the jobs of every stage (keys, params, paths)."""
    plan = Plan(seed=int(config["seed"]))
    names = config.get("run") or list(config["experiments"])
    style = dict(config["plot_style"])
    for name in names:
        exp = config["experiments"][name]
        points, sampling, theory = [], [], []
        for model in _sweep_models(exp):
            point = _resolve_point(config, exp, model)
            points.append(point)
            theory.append(PATHS["theory"].format(key=_add(plan, "theory", point)))
            if exp["simulate"]:
                for stage in ("data", "posterior", "finite_size"):
                    _add(plan, stage, point)
                sampling.append(PATHS["sampling"].format(key=_add(plan, "sampling", point)))
            else:
                sampling.append(None)
        fig_params = {
            "experiment": name,
            "kind": exp["figure"]["kind"],
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
            simulate=bool(exp["simulate"]),
            points=points,
            sampling=sampling,
            theory=theory,
            figure_key=fig_key,
            figure_params=fig_params,
            exts=figure_formats(style),
        )
    return plan


# --------------------------------------------------------------------------------------------
# shards, resources, module inputs
# --------------------------------------------------------------------------------------------


def shard_blocks(n_test: int, block_size: int, shards: int, shard: int) -> list[int]:
    """Test-input blocks of one shard: contiguous, as even as possible, covering all blocks."""
    total = -(-int(n_test) // int(block_size))
    if not 1 <= shards <= total:
        raise ValueError(f"shards must be in [1, {total}] (number of blocks), got {shards}")
    if not 0 <= shard < shards:
        raise ValueError(f"shard must be in [0, {shards}), got {shard}")
    lo = shard * total // shards
    hi = (shard + 1) * total // shards
    return list(range(lo, hi))


_BASE_MB = 400  # python + numpy + scipy + xarray + netCDF4
ENGINE_BUDGET_MB = 512  #: cap of the Monte Carlo engine's working memory per shard job


def stage_resources(stage: str, params: Mapping[str, Any]) -> dict[str, int]:
    """``mem_mb`` and ``runtime`` (minutes) for one job, from its sizes (generous estimates).

    Memory: bytes of the arrays the job holds at once (training set, test inputs, predictive
    arrays; for a Monte Carlo shard one block of trials x k_max candidates for every T and c
    at a time) times a safety factor of 3. Runtime: a floor of 10 minutes plus a work estimate
    at a pessimistic 2e7 elementary operations per second, times 5.
    """
    mb = 1024.0 * 1024.0
    if stage == "figure":
        return {"mem_mb": 1000, "runtime": 10}
    n, d, reps = params["n"], params["d"], params.get("replicates", 1)
    n_test = params.get("n_test", 0)
    k_max = max(params["k"]) if "k" in params else 1
    n_grid = len(params.get("T", [0])) * len(params.get("c", [0])) * len(params.get("k", [1]))
    if stage == "data":
        nbytes = 8 * reps * (n * d + n + n_test * d + d)
        ops = reps * (n * d + n_test * d) * 10
    elif stage == "posterior":
        nbytes = 8 * reps * (n * d + n + n_test * (d + 3) + d * d) * 2
        ops = reps * (n * d * d + n_test * d * d)
    elif stage == "finite_size":
        nbytes = 8 * reps * n_test * 3 + 8 * 4096 * n_grid
        ops = reps * n_grid * 1e5
    elif stage in ("sampling", "shard"):
        shards, trials = params["shards"], params["trials"]
        block = min(params["block_size"], n_test)
        n_tc = len(params["T"]) * len(params["c"])
        nk = len(params["k"])
        # itscale.simulation.montecarlo working set of one block: per (input, trial) sequence about
        # 8 (6 k_max + 2 nk + 32) bytes, capped at the engine's default budget (it chunks).
        engine = min(
            block * trials * 8 * (6 * k_max + 2 * nk + 32) + 16 * block * n_grid,
            ENGINE_BUDGET_MB * mb,
        )
        nbytes = 8 * reps * n_test * 3 + engine / 3  # posterior arrays + engine (no safety factor)
        # Measured costs (2-core laptop, loaded): ~1e-7 s per input x trial x k_max x (T, c)
        # for the sampled estimator; the exact per-input curves of the Rao-Blackwellised one
        # take 0.1-10 ms per input and (T, c) (slowest for T < 2 s^2): 5 ms assumed.
        per_shard = reps * n_test / shards
        seconds = per_shard * (trials * k_max * n_tc * 1e-7 + n_tc * 5e-3)
        ops = seconds * 2e7 * 2 / 5  # runtime below = 10 min + 2 x this estimate
        if stage == "sampling":  # the gather job only combines sufficient statistics
            nbytes, ops = 8 * reps * n_test / block * n_grid * 8, reps * shards * n_grid
    elif stage == "theory":
        nbytes = 8 * n_grid * 4096
        ops = n_grid * 1e5
    else:
        raise ValueError(f"unknown stage {stage!r}")
    mem_mb = int(math.ceil(_BASE_MB + 3 * nbytes / mb))
    runtime = int(10 + math.ceil(5 * ops / 2e7 / 60))
    return {"mem_mb": mem_mb, "runtime": runtime}


def _module_path(package_dir: Path, name: str) -> Path | None:
    base = package_dir / name.replace(".", "/")
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imports(path: Path) -> set[str]:
    """itscale submodules imported by a source file (static; both absolute and relative)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("itscale."):
                    found.add(alias.name.removeprefix("itscale."))
        elif isinstance(node, ast.ImportFrom):
            if node.level == 1:
                base = node.module or ""
            elif node.level == 0 and node.module and (node.module + ".").startswith("itscale."):
                base = node.module.removeprefix("itscale").lstrip(".")
            else:
                continue
            if base:
                found.add(base)
            for alias in node.names:  # `from itscale import selection` names a submodule
                found.add(f"{base}.{alias.name}" if base else alias.name)
    return found


def module_files(*modules: str, package_dir: str | Path | None = None) -> list[str]:
    """Absolute paths of the itscale source files the given modules import, transitively.

    The pipeline lists them as inputs of the rules that use them: Snakemake tracks scripts by
    modification time only and cannot see into the library. The package directory defaults to
    the one ``itscale`` is imported from, so a copied source tree on ``PYTHONPATH`` is tracked.
    The top-level ``__init__.py`` is left out on purpose (it only imports lazily); a
    sub-package's ``__init__.py`` is followed like a module; modules that do not exist
    (yet) are skipped. Returns sorted absolute paths.
    """
    if package_dir is None:
        import itscale

        package_dir = Path(itscale.__file__).resolve().parent
    package_dir = Path(package_dir)
    seen: dict[str, Path] = {}
    todo = list(modules)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_path(package_dir, name)
        if path is None:
            continue
        seen[name] = path
        todo.extend(sorted(_imports(path) - set(seen)))
    return sorted(str(p) for p in seen.values())


def describe(plan: Plan) -> str:
    """One line per experiment: points and keys (for ``snakemake --config ...`` debugging)."""
    lines = []
    for exp in plan.experiments.values():
        lines.append(f"{exp.name}: {len(exp.points)} point(s), figure {exp.figure_key}")
    return "\n".join(lines)
