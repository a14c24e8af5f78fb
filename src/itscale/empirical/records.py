"""Reading records of scored candidates (JSONL or CSV, gzip or plain) into a labelled dataset.

Three layouts are understood, with every field name set by a :class:`RecordFormat`:

* ``candidates``: JSONL, one object per candidate: problem id, optional candidate id, the
  quality (``loss``, lower is better, or ``correct``, loss = 1 - correct) and the judge scores,
  as numeric fields (``score_fields``) or as one object of named judges (``score_dict``);
* ``problems``: JSONL, one object per problem holding parallel lists (quality, optional
  candidate ids, and the scores, as list fields or as an object of lists);
* ``csv``: one row per candidate with a header; the judge columns are ``score_fields``, or every
  column other than the problem, candidate and quality columns when ``score_fields`` is empty.

gzip is detected by its magic bytes. Pools may be ragged. Reading never writes anything; bad
input raises :class:`RecordError` naming the file, the 1-based line and the field.
:func:`write_netcdf` writes a dataset atomically (temporary file in the target directory, then
``os.replace``), and :func:`check_k_grid` says which problems are too small for a k grid.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import hashlib
import io
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

import itscale

__all__ = [
    "KGridError",
    "RecordError",
    "RecordFormat",
    "check_k_grid",
    "judge_arrays",
    "read_records",
    "write_netcdf",
]


class RecordError(ValueError):
    """Bad input record; ``file``, ``line`` (1-based, or None) and ``field`` say where."""

    def __init__(self, file: str, line: int | None, field: str | None, problem: str) -> None:
        self.file, self.line, self.field, self.problem = file, line, field, problem
        where = file if line is None else f"{file}, line {line}"
        what = "" if field is None else f", field '{field}'"
        super().__init__(f"{where}{what}: {problem}")


class KGridError(ValueError):
    """A k grid asks for more candidates than some problem's pool holds."""


@dataclass(frozen=True)
class RecordFormat:
    """Where the fields of a record are. Defaults read the shipped RewardMATH file.

    layout: ``auto`` (``csv`` for a .csv/.csv.gz name, else JSONL whose first record decides
    between ``problems`` (quality is a list) and ``candidates``), or one of ``candidates``,
    ``problems``, ``csv``. quality_kind: ``correct`` (loss = 1 - value, value in [0, 1]) or
    ``loss``. Judges come from ``score_fields`` (field name = judge name) if given, else from
    the object ``score_dict``.
    """

    layout: Literal["auto", "candidates", "problems", "csv"] = "auto"
    problem: str = "problem_id"
    candidate: str | None = None
    quality: str = "correct"
    quality_kind: Literal["correct", "loss"] = "correct"
    score_fields: tuple[str, ...] = ()
    score_dict: str | None = "judge_scores"

    def __post_init__(self) -> None:
        if self.layout not in ("auto", "candidates", "problems", "csv"):
            raise ValueError(f"layout must be auto, candidates, problems or csv: {self.layout!r}")
        if self.quality_kind not in ("correct", "loss"):
            raise ValueError(f"quality_kind must be 'correct' or 'loss': {self.quality_kind!r}")
        object.__setattr__(self, "score_fields", tuple(self.score_fields))


@dataclass
class _Candidate:
    problem: str
    candidate: str | None
    loss: float
    scores: dict[str, float]
    line: int


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


def _number(value: Any, file: str, line: int, field: str, allow_bool: bool = False) -> float:
    """A finite float from a JSON value or CSV cell, else a RecordError."""
    if isinstance(value, bool) and not allow_bool:
        raise RecordError(file, line, field, f"expected a number, got {value!r}")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise RecordError(file, line, field, f"not a number: {value!r}") from None
    if not isinstance(value, int | float):
        raise RecordError(file, line, field, f"expected a number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise RecordError(file, line, field, f"NaN or infinite value {value!r}")
    return x


def _loss(value: Any, fmt: RecordFormat, file: str, line: int, field: str) -> float:
    x = _number(value, file, line, field, allow_bool=fmt.quality_kind == "correct")
    if fmt.quality_kind == "loss":
        return x
    if not 0.0 <= x <= 1.0:
        raise RecordError(file, line, field, f"correct must be in [0, 1], got {value!r}")
    return 1.0 - x


def _identifier(value: Any, file: str, line: int, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise RecordError(
            file, line, field, f"expected a non-empty string or integer id: {value!r}"
        )
    return str(value)


def _get(row: dict, name: str, file: str, line: int) -> Any:
    if name not in row:
        raise RecordError(file, line, name, "missing field")
    return row[name]


# --------------------------------------------------------------------------------------------
# Layouts
# --------------------------------------------------------------------------------------------


def _judge_names(first: dict, fmt: RecordFormat, file: str, line: int) -> list[str]:
    """Judge names available in the first record (score_fields, or the score_dict's keys)."""
    if fmt.score_fields:
        return list(fmt.score_fields)
    if fmt.score_dict is None:
        raise RecordError(file, line, None, "no judges: set score_fields or score_dict")
    scores = _get(first, fmt.score_dict, file, line)
    if not isinstance(scores, dict) or not scores:
        raise RecordError(file, line, fmt.score_dict, "expected an object of judge scores")
    return list(scores)


def _scores_of(row: dict, judges: list[str], fmt: RecordFormat, file: str, line: int) -> dict:
    """{judge: raw value} of one record (values still unchecked)."""
    if fmt.score_fields:
        return {j: _get(row, j, file, line) for j in judges}
    scores = _get(row, fmt.score_dict, file, line)
    if not isinstance(scores, dict):
        raise RecordError(file, line, fmt.score_dict, "expected an object of judge scores")
    out = {}
    for j in judges:
        if j not in scores:
            raise RecordError(file, line, f"{fmt.score_dict}.{j}", "missing judge score")
        out[j] = scores[j]
    return out


def _score_field(fmt: RecordFormat, judge: str) -> str:
    return judge if fmt.score_fields else f"{fmt.score_dict}.{judge}"


def _candidate_rows(rows, fmt, judges, file) -> list[_Candidate]:
    out = []
    for line, row in rows:
        problem = _identifier(_get(row, fmt.problem, file, line), file, line, fmt.problem)
        cand = None
        if fmt.candidate is not None:
            cand = _identifier(_get(row, fmt.candidate, file, line), file, line, fmt.candidate)
        loss = _loss(_get(row, fmt.quality, file, line), fmt, file, line, fmt.quality)
        raw = _scores_of(row, judges, fmt, file, line)
        scores = {j: _number(v, file, line, _score_field(fmt, j)) for j, v in raw.items()}
        out.append(_Candidate(problem, cand, loss, scores, line))
    return out


def _as_list(value: Any, file: str, line: int, field: str, size: int | None) -> list:
    if not isinstance(value, list):
        raise RecordError(file, line, field, "expected a list (one entry per candidate)")
    if size is not None and len(value) != size:
        raise RecordError(file, line, field, f"list of length {len(value)}, expected {size}")
    return value


def _problem_rows(rows, fmt, judges, file) -> list[_Candidate]:
    out = []
    for line, row in rows:
        problem = _identifier(_get(row, fmt.problem, file, line), file, line, fmt.problem)
        quality = _as_list(_get(row, fmt.quality, file, line), file, line, fmt.quality, None)
        size = len(quality)
        ids: list = [None] * size
        if fmt.candidate is not None:
            ids = _as_list(_get(row, fmt.candidate, file, line), file, line, fmt.candidate, size)
        raw = _scores_of(row, judges, fmt, file, line)
        lists = {j: _as_list(v, file, line, _score_field(fmt, j), size) for j, v in raw.items()}
        for c in range(size):
            cand = None
            if fmt.candidate is not None:
                cand = _identifier(ids[c], file, line, f"{fmt.candidate}[{c}]")
            loss = _loss(quality[c], fmt, file, line, f"{fmt.quality}[{c}]")
            scores = {
                j: _number(v[c], file, line, f"{_score_field(fmt, j)}[{c}]")
                for j, v in lists.items()
            }
            out.append(_Candidate(problem, cand, loss, scores, line))
    return out


def _jsonl_rows(text: str, file: str) -> list[tuple[int, dict]]:
    rows = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise RecordError(file, line, None, f"not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise RecordError(file, line, None, "expected a JSON object")
        rows.append((line, row))
    return rows


def _csv_rows(text: str, file: str, fmt: RecordFormat) -> tuple[list, RecordFormat]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return [], fmt
    header = [h.strip() for h in header]
    rows = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise RecordError(
                file, reader.line_num, None, f"{len(cells)} cells, header has {len(header)}"
            )
        rows.append((reader.line_num, {h: c.strip() for h, c in zip(header, cells, strict=True)}))
    if not fmt.score_fields:
        used = {fmt.problem, fmt.candidate, fmt.quality}
        fmt = dataclasses.replace(fmt, score_fields=tuple(h for h in header if h not in used))
    return rows, fmt


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def _read_text(path: Path) -> tuple[str, str]:
    """(text, sha256 of the file's bytes); gzip detected by magic bytes."""
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordError(name, None, None, f"cannot read the file ({exc.strerror})") from None
    digest = hashlib.sha256(data).hexdigest()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise RecordError(name, None, None, f"broken gzip data ({exc})") from None
    try:
        return data.decode("utf-8-sig"), digest
    except UnicodeDecodeError as exc:
        raise RecordError(name, None, None, f"not UTF-8 text ({exc.reason})") from None


def _layout(path: Path, fmt: RecordFormat, rows: list) -> str:
    if fmt.layout != "auto":
        return fmt.layout
    first = rows[0][1]
    return "problems" if isinstance(first.get(fmt.quality), list) else "candidates"


def _select_judges(available: list[str], judges, file: str, line: int, field: str) -> list[str]:
    if judges is None:
        return available
    judges = [judges] if isinstance(judges, str) else list(judges)
    if not judges:
        raise RecordError(file, line, field, "the list of judges to read is empty")
    for j in judges:
        if j not in available:
            shown = ", ".join(available[:8]) + (", ..." if len(available) > 8 else "")
            raise RecordError(file, line, field, f"unknown judge name {j!r}; available: {shown}")
    return judges


def _parse(path: Path, fmt: RecordFormat, judges) -> tuple[list[_Candidate], list[str], str]:
    file = path.name
    text, digest = _read_text(path)
    is_csv = fmt.layout == "csv" or (
        fmt.layout == "auto" and path.name.lower().removesuffix(".gz").endswith(".csv")
    )
    if is_csv:
        rows, fmt = _csv_rows(text, file, fmt)
        layout = "candidates"
    else:
        rows = _jsonl_rows(text, file)
    if not rows:
        raise RecordError(file, 1, None, "empty file: no records")
    if not is_csv:
        layout = _layout(path, fmt, rows)
    first_line, first = rows[0]
    available = _judge_names(first, fmt, file, first_line)
    field = "score_fields" if fmt.score_fields else fmt.score_dict
    chosen = _select_judges(available, judges, file, first_line, field)
    parse = _problem_rows if layout == "problems" else _candidate_rows
    return parse(rows, fmt, chosen, file), chosen, digest


def _assemble(cands: list[_Candidate], judges: list[str], file: str) -> dict[str, Any]:
    """Dense (problem, candidate) arrays; duplicates of (problem, candidate id) rejected."""
    problems: dict[str, list[_Candidate]] = {}
    seen: dict[tuple[str, str], int] = {}
    for c in cands:
        if c.candidate is not None:
            key = (c.problem, c.candidate)
            if key in seen:
                raise RecordError(
                    file, c.line, None,
                    f"duplicate (problem, candidate) = {key}, first seen on line {seen[key]}",
                )  # fmt: skip
            seen[key] = c.line
        problems.setdefault(c.problem, []).append(c)
    width = max(len(v) for v in problems.values())
    loss = np.full((len(problems), width), np.nan)
    score = np.full((len(judges), len(problems), width), np.nan)
    ids = np.full((len(problems), width), "", dtype=object)
    for p, members in enumerate(problems.values()):
        for i, c in enumerate(members):
            loss[p, i] = c.loss
            score[:, p, i] = [c.scores[j] for j in judges]
            ids[p, i] = "" if c.candidate is None else c.candidate
    has_ids = cands[0].candidate is not None
    return {
        "problem": list(problems),
        "loss": loss,
        "score": score,
        "ids": ids if has_ids else None,
    }


def read_records(
    path: str | os.PathLike, fmt: RecordFormat | None = None, judges=None
) -> xr.Dataset:
    """Read scored candidates into a dataset with dims (judge, problem, candidate).

    Variables: ``loss`` (problem, candidate), ``score`` (judge, problem, candidate), and
    ``candidate_id`` (problem, candidate; "" if absent) when the format names a candidate field;
    NaN marks an absent candidate (ragged pools). ``judges``: names to keep (default: all of the
    first record's). Problems and candidates keep their order of first appearance; problem ids
    are strings. Attributes record the source file name and the sha256 of its bytes. Raises
    :class:`RecordError` (file, line, field) on bad input; writes nothing.
    """
    fmt = RecordFormat() if fmt is None else fmt
    path = Path(path)
    cands, chosen, digest = _parse(path, fmt, judges)
    arrays = _assemble(cands, chosen, path.name)
    what = "1 - correct" if fmt.quality_kind == "correct" else "in the input's units"
    data_vars = {  # dimensionless in CF terms (units "1"); the scale is in the long_name
        "loss": (
            ("problem", "candidate"),
            arrays["loss"],
            {
                "long_name": f"loss of the candidate, {what} (lower is better; NaN: absent)",
                "units": "1",
            },
        ),
        "score": (
            ("judge", "problem", "candidate"),
            arrays["score"],
            {
                "long_name": "judge score on the judge's own scale (higher is preferred; NaN: "
                "absent)",
                "units": "1",
            },
        ),
    }
    if arrays["ids"] is not None:
        data_vars["candidate_id"] = (
            ("problem", "candidate"),
            arrays["ids"].astype(str),
            {"long_name": "candidate id from the input (empty: absent)"},
        )
    width = arrays["loss"].shape[1]
    coords = {
        "problem": ("problem", np.array(arrays["problem"], dtype=str), {"long_name": "problem id"}),
        "candidate": (
            "candidate",
            np.arange(width),
            {"long_name": "position in the pool", "units": "1"},
        ),
        "judge": ("judge", np.array(chosen, dtype=str), {"long_name": "judge name"}),
    }
    attrs = {
        "title": "scored candidates (itscale.empirical.read_records)",
        "source_file": path.name,
        "source_sha256": digest,
        "record_format": json.dumps(dataclasses.asdict(fmt), sort_keys=True),
        "quality": f"{fmt.quality} ({fmt.quality_kind})",
        "itscale_version": itscale.__version__,
    }
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


# --------------------------------------------------------------------------------------------
# Pools, k grids and writing
# --------------------------------------------------------------------------------------------


def judge_arrays(ds: xr.Dataset, judge: str) -> tuple[np.ndarray, np.ndarray]:
    """(loss, score) float arrays (problems, pool) of one judge, NaN for absent candidates."""
    return ds["loss"].values, ds["score"].sel(judge=judge).values


def check_k_grid(ds: xr.Dataset, k: ArrayLike, drop_small: bool = False) -> xr.Dataset:
    """The dataset if every pool holds at least max(k) candidates.

    Otherwise raise :class:`KGridError` naming the problems (first few ids and the count) and
    what to do, or, with ``drop_small``, return the dataset without those problems.
    """
    k_max = int(np.max(np.asarray(k)))
    sizes = ds["loss"].notnull().sum("candidate").values
    small = np.flatnonzero(sizes < k_max)
    if small.size == 0:
        return ds
    ids = [str(v) for v in ds["problem"].values[small]]
    shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
    if not drop_small:
        raise KGridError(
            f"k = {k_max} is larger than the pool of {small.size} problem(s) (ids {shown}; "
            f"smallest pool {int(sizes.min())}): lower the largest k to {int(sizes.min())}, or "
            f"drop those problems (drop_small=True, --drop-small-pools)"
        )
    if small.size == sizes.size:
        raise KGridError(f"k = {k_max} is larger than every problem's pool; lower k")
    return ds.isel(problem=np.flatnonzero(sizes >= k_max))


def write_netcdf(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` to ``path`` atomically: a temporary file in the same directory, then rename.

    A failure leaves no file at ``path`` (and no temporary file). Returns the path.
    """
    from itscale.pipeline.datasets import atomic_output

    with atomic_output(path) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4")
    return Path(path)
