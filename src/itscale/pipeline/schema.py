"""Config validation: the JSON Schema check, defaults, and messages naming the key and its range.

:func:`validate_config` checks a config against ``workflow/schemas/config.schema.yaml`` (JSON
Schema, draft 2020-12), fills in the schema defaults and stops with a message that names the
offending key and its allowed range; then it checks what JSON Schema cannot express (range
endpoints, log grids starting at 0, shards <= blocks, names listed in ``run``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from itscale.pipeline.params import GRID_KEYS
from itscale.pipeline.plan import WILDCARDS, resolve_grid

__all__ = ["ConfigError", "validate_config", "load_config", "load_yaml"]


class ConfigError(ValueError):
    """Invalid pipeline configuration; the message names the key path and the allowed values."""


def load_yaml(path: str | Path) -> Any:
    """The YAML document at ``path`` (safe loader)."""
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
    schema = load_yaml(schema_path)
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
    return validate_config(load_yaml(path), schema_path)
