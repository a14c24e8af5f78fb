"""Config validation: the JSON Schema check, defaults, and messages naming the key and its range.

:func:`validate_config` checks a config against ``workflow/schemas/config.schema.yaml`` (JSON
Schema, draft 2020-12), fills in the schema defaults and stops with a message that names the
offending key and its allowed range; then it checks what JSON Schema cannot express (finite
numbers, range endpoints, log grids starting at 0, shards <= blocks, names listed in ``run``).
Text where the schema wants a number, list or mapping (what ``--config key=value`` gives) is
read as YAML first. :func:`load_yaml` names the file, line and column of a YAML syntax error;
``python3 -m itscale.pipeline.schema FILE...`` checks config files (merged in order) the same
way the workflow does.
"""

from __future__ import annotations

import copy
import math
import sys
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from itscale.pipeline.params import GRID_KEYS
from itscale.pipeline.plan import WILDCARDS, resolve_grid

__all__ = [
    "ConfigError",
    "ConfigWarning",
    "validate_config",
    "load_config",
    "load_yaml",
    "main",
]

#: What a non-finite temperature would mean, said where a config asks for one.
_T_INF_HINT = (
    "; T = inf means no selection, whose error is the k = 1 value every figure already shows "
    "(put 1 in the k grid)"
)


class ConfigError(ValueError):
    """Invalid pipeline configuration; the message names the key path and the allowed values."""


class ConfigWarning(UserWarning):
    """A config that is valid but probably not what was meant (e.g. an experiment without grids)."""


def load_yaml(path: str | Path) -> Any:
    """The YAML document at ``path`` (safe loader); a syntax error names file, line and column."""
    import yaml

    with open(path, encoding="utf-8") as fh:
        try:
            return yaml.safe_load(fh)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else path
            problem = getattr(exc, "problem", None) or str(exc)
            raise ConfigError(f"YAML syntax error in {where}: {problem}") from None


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


def _branch_errors(err) -> list:
    """The errors of the ``oneOf``/``anyOf`` branch whose type matches the value (a list
    against the list branch, a mapping against the range branch), else of every branch."""
    branches: dict[Any, list] = {}
    for sub in err.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    same_type = [
        errs
        for errs in branches.values()
        if not any(e.validator == "type" and not e.relative_path for e in errs)
    ]
    if len(same_type) == 1:
        return same_type[0]
    return [e for e in err.context if e.validator != "type"] or list(err.context)


def _type_hint(err, where_parts: list[Any]) -> str:
    """A hint for a value of the wrong type: text that reads as a number, a fraction where
    whole numbers are needed, text where a mapping is needed (``--config key=value``)."""
    value = err.instance
    if err.validator != "type":
        return ""
    if err.validator_value == "object":
        return (
            " (on the command line, merge into a mapping with --config 'key={a: 1}', or change"
            " nested values with --configfile overlay.yaml)"
        )
    if isinstance(value, str):
        try:
            float(value)
            return " (YAML reads numbers such as 1e-4 as text: write 1.0e-4)"
        except ValueError:
            return ""
    if err.validator_value == "integer" and isinstance(value, float):
        names = [part for part in where_parts if isinstance(part, str)]
        return f" ({names[-1] if names else 'it'} must be whole numbers)"
    return ""


def _format_error(err) -> str:
    from jsonschema.exceptions import best_match

    if err.validator in ("oneOf", "anyOf") and err.context:
        sub = best_match(_branch_errors(err))
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
    hint = _type_hint(err, list(err.absolute_path))
    return f"{where} = {value!r} is not allowed: must be {_allowed(err.schema)}{hint}"


def _non_finite(node: Any, path: tuple[Any, ...] = ()) -> list[str]:
    """Messages for every inf or NaN in ``node`` (the workflow draws and tabulates finite
    values only; the library's T = inf is the k = 1 error)."""
    if isinstance(node, Mapping):
        return [m for key, sub in node.items() for m in _non_finite(sub, (*path, key))]
    if isinstance(node, list):
        return [m for i, sub in enumerate(node) for m in _non_finite(sub, (*path, i))]
    if isinstance(node, float) and not math.isfinite(node):
        hint = _T_INF_HINT if "T" in path else ""
        return [f"{_path_text(path)} = {node!r} is not allowed: must be a finite number{hint}"]
    return []


def _set_path(config: dict[str, Any], path: Iterable[Any], value: Any) -> None:
    *parents, last = list(path)
    node: Any = config
    for part in parents:
        node = node[part]
    node[last] = value


def _read_text_values(config: dict[str, Any], validator) -> None:
    """Read as YAML every text value that has the wrong type (``--config`` gives text):
    ``'150'`` where an integer is wanted becomes 150, ``'[1, 2]'`` a list. Text that still
    reads as text (``'1e-4'`` in YAML 1.1) is left for the error message."""
    import yaml

    for _ in range(2):  # a second pass for text inside a mapping read in the first
        changed = False
        for err in validator.iter_errors(config):
            if not isinstance(err.instance, str) or err.validator not in ("type", "oneOf"):
                continue
            try:
                value = yaml.safe_load(err.instance)
            except yaml.YAMLError:
                continue
            if value is not None and not isinstance(value, str) and err.absolute_path:
                _set_path(config, err.absolute_path, value)
                changed = True
        if not changed:
            return


def _warn_missing_grids(config: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    """Warn for each experiment without ``grids``: it gets the schema's default grids, which
    are not those of any paper figure."""
    experiments = config.get("experiments")
    if not isinstance(experiments, Mapping):
        return
    props = schema["$defs"]["grids"]["properties"]
    defaults = ", ".join(f"{g} = {props[g]['default']}" for g in GRID_KEYS)
    for name, exp in experiments.items():
        if isinstance(exp, Mapping) and "grids" not in exp:
            warnings.warn(
                f"config.experiments.{name}: no grids given, so it uses the schema defaults "
                f"{defaults}; give grids (k, T, c) to reproduce a paper figure (see config.yaml)",
                ConfigWarning,
                stacklevel=3,
            )


def _semantic_problems(config: Mapping[str, Any]) -> list[str]:
    """What JSON Schema cannot express: range endpoints, shards <= blocks, names in ``run``."""
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
    defined = [*config["experiments"], *config.get("judge_data", {})]
    for name in config.get("run", []):
        if name not in defined:
            known = ", ".join(defined)
            problems.append(f"config.run: unknown experiment {name!r}; defined: {known}")
    return problems


def validate_config(config: dict[str, Any], schema_path: str | Path) -> dict[str, Any]:
    """Validate ``config`` in place against the JSON Schema at ``schema_path``; fill defaults.

    Raises :class:`ConfigError` whose message lists every violation as
    ``config.<path> = <value> is not allowed: must be <allowed range>`` (or the unknown keys and
    the allowed ones), then checks what JSON Schema cannot express (see
    :func:`_semantic_problems`). Every number must be finite. Text where a number, list or
    mapping is expected is read as YAML first; an experiment without ``grids`` gives a
    :class:`ConfigWarning`. Returns ``config``.
    """
    if not isinstance(config, dict):
        raise ConfigError(f"config must be a mapping, got {type(config).__name__}")
    schema = load_yaml(schema_path)
    validator = _default_validator(schema)
    _warn_missing_grids(config, schema)
    _read_text_values(config, validator)
    lines = _non_finite(config)
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    lines += [_format_error(e) for e in errors]
    if lines:
        raise ConfigError("invalid config:\n  " + "\n  ".join(dict.fromkeys(lines)))
    problems = _semantic_problems(config)
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(problems))
    return config


def load_config(path: str | Path, schema_path: str | Path) -> dict[str, Any]:
    """Read a YAML config and :func:`validate_config` it."""
    return validate_config(load_yaml(path), schema_path)


def main(argv: list[str] | None = None) -> int:
    """Check config files as the workflow would: each file's YAML syntax (file, line, column),
    then the files merged in order (later ones override, as ``--configfile`` does) against
    the schema. Prints the problems and returns 1, or prints "ok" and returns 0."""
    from snakemake.utils import update_config

    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        print("usage: python3 -m itscale.pipeline.schema CONFIG.yaml [OVERLAY.yaml ...]")
        return 2
    schema_path = Path(__file__).resolve().parents[3] / "workflow" / "schemas"
    config: dict[str, Any] = {}
    try:
        for path in paths:
            update_config(config, load_yaml(path) or {})
        validate_config(config, schema_path / "config.schema.yaml")
    except ConfigError as exc:
        print(exc)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
