"""Reading records: three layouts and gzip give identical datasets; every bad input names the
file, line and field and writes nothing; k-grid checks; atomic NetCDF writing."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from itscale.empirical.records import (
    KGridError,
    RecordError,
    RecordFormat,
    check_k_grid,
    read_records,
    write_netcdf,
)

ROWS = [  # problem, candidate, correct, two judges; problem "b" has a ragged pool of 2
    ("a", "c0", 1, {"j1": 0.5, "j2": 3.0}),
    ("a", "c1", 0, {"j1": -1.25, "j2": 2.0}),
    ("a", "c2", 0, {"j1": 2.0, "j2": 2.0}),
    ("b", "c0", 0, {"j1": 1.0, "j2": -7.5}),
    ("b", "c1", 1, {"j1": 0.0, "j2": 1.0}),
]
FMT = RecordFormat(problem="pid", candidate="cid", quality="ok", score_dict="scores")


def _write_candidates(path: Path) -> None:
    lines = [json.dumps({"pid": p, "cid": c, "ok": q, "scores": s}) for p, c, q, s in ROWS]
    path.write_text("\n".join(lines) + "\n")


def _write_problems(path: Path) -> None:
    out = []
    for pid in ("a", "b"):
        rows = [r for r in ROWS if r[0] == pid]
        scores = {j: [r[3][j] for r in rows] for j in ("j1", "j2")}
        out.append({"pid": pid, "cid": [r[1] for r in rows], "ok": [r[2] for r in rows],
                    "scores": scores})  # fmt: skip
    path.write_text("\n".join(json.dumps(o) for o in out) + "\n")


def _write_csv(path: Path) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["pid", "cid", "ok", "j1", "j2"])
        for p, c, q, s in ROWS:
            w.writerow([p, c, q, s["j1"], s["j2"]])


def _body(ds: xr.Dataset) -> xr.Dataset:
    return ds.drop_attrs()


def test_three_layouts_and_gzip_identical(tmp_path):
    paths = {"cand": tmp_path / "c.jsonl", "prob": tmp_path / "p.jsonl", "csv": tmp_path / "r.csv"}
    _write_candidates(paths["cand"])
    _write_problems(paths["prob"])
    _write_csv(paths["csv"])
    gz = tmp_path / "c.jsonl.gz"
    gz.write_bytes(gzip.compress(paths["cand"].read_bytes()))
    ref = read_records(paths["cand"], FMT)
    assert ref["loss"].dims == ("problem", "candidate")
    assert ref["score"].dims == ("judge", "problem", "candidate")
    np.testing.assert_array_equal(ref["loss"].values, [[0, 1, 1], [1, 0, np.nan]])
    assert ref["score"].sel(judge="j2", problem="b").values[1] == 1.0
    for other in (paths["prob"], paths["csv"], gz):
        xr.testing.assert_identical(_body(read_records(other, FMT)), _body(ref))
    assert ref.attrs["source_file"] == "c.jsonl"
    assert read_records(gz, FMT).attrs["source_sha256"] != ref.attrs["source_sha256"]
    fields = RecordFormat(problem="pid", candidate="cid", quality="ok", score_fields=("j2",))
    assert list(read_records(paths["csv"], fields)["judge"].values) == ["j2"]


def test_loss_quality_and_judge_selection(tmp_path):
    path = tmp_path / "l.jsonl"
    path.write_text('{"p": 1, "loss": 2.5, "s": 1}\n{"p": 1, "loss": -1, "s": 0}\n')
    fmt = RecordFormat(problem="p", quality="loss", quality_kind="loss", score_fields=("s",))
    ds = read_records(path, fmt)
    np.testing.assert_array_equal(ds["loss"].values, [[2.5, -1.0]])
    assert list(ds["problem"].values) == ["1"]


BAD = [  # (file text, line, field, words in the message)
    ('{"pid": "a", "cid": "c0", "scores": {"j1": 1, "j2": 1}}\n', 1, "ok", "missing field"),
    ('\n{"pid": "a", "cid": "c0", "ok": 1, "scores": {"j1": "x", "j2": 1}}\n', 2, "scores.j1",
     "not a number"),
    ('{"pid": "a", "cid": "c0", "ok": 1, "scores": {"j1": 1, "j2": NaN}}\n', 1, "scores.j2",
     "NaN or infinite"),
    ('{"pid": "a", "cid": "c0", "ok": Infinity, "scores": {"j1": 1, "j2": 1}}\n', 1, "ok",
     "NaN or infinite"),
    ('{"pid": "a", "cid": "c0", "ok": 1, "scores": {"j1": 1, "j2": 1}}\n'
     '{"pid": "a", "cid": "c0", "ok": 0, "scores": {"j1": 2, "j2": 1}}\n', 2, None, "duplicate"),
    ("", 1, None, "empty file"),
    ('{"pid": "a", "cid": "c0", "ok": 1, "scores": {"j1": 1, "j2": 1}}\n'
     '{"pid": "a", "cid": "c1", "ok": 1, "scores": {"j1": 1}}\n', 2, "scores.j2", "missing"),
    ('{"pid": "a", "cid": "c0", "ok": 1, "scores": {"j1": 1, "j2": 1}}\n{oops\n', 2, None,
     "not valid JSON"),
    ('{"pid": "a", "cid": ["x"], "ok": [1, 0], "scores": {"j1": [1, 2], "j2": [1, 2]}}\n', 1,
     "cid", "length 1"),
    ('{"pid": "a", "cid": "c0", "ok": 3, "scores": {"j1": 1, "j2": 1}}\n', 1, "ok", "[0, 1]"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "field", "words"), BAD)
def test_bad_input_names_file_line_field_and_writes_nothing(tmp_path, text, line, field, words):
    path = tmp_path / "bad.jsonl"
    path.write_text(text)
    before = sorted(tmp_path.iterdir())
    with pytest.raises(RecordError) as info:
        read_records(path, FMT)
    err = info.value
    assert (err.file, err.line, err.field) == ("bad.jsonl", line, field)
    assert words in str(err) and f"bad.jsonl, line {line}" in str(err)
    if field is not None:
        assert f"field '{field}'" in str(err)
    assert sorted(tmp_path.iterdir()) == before


def test_bad_csv_cell_and_unknown_judge(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("pid,cid,ok,j1\na,c0,1,0.5\na,c1,0,abc\n")
    with pytest.raises(RecordError, match=r"r.csv, line 3, field 'j1': not a number"):
        read_records(path, FMT)
    good = tmp_path / "g.jsonl"
    _write_candidates(good)
    with pytest.raises(RecordError, match=r"line 1, field 'scores': unknown judge name 'j9'"):
        read_records(good, FMT, judges=["j1", "j9"])


def test_k_grid_check_names_problems_and_can_drop(tmp_path):
    path = tmp_path / "c.jsonl"
    _write_candidates(path)
    ds = read_records(path, FMT)
    assert check_k_grid(ds, [1, 2]) is ds
    with pytest.raises(KGridError, match=r"1 problem\(s\) \(ids b; smallest pool 2\).*lower"):
        check_k_grid(ds, [1, 3])
    assert list(check_k_grid(ds, [3], drop_small=True)["problem"].values) == ["a"]
    with pytest.raises(KGridError, match="every problem"):
        check_k_grid(ds, [4], drop_small=True)


def test_write_netcdf_atomic(tmp_path, monkeypatch):
    src = tmp_path / "c.jsonl"
    _write_candidates(src)
    ds = read_records(src, FMT)
    out = write_netcdf(ds, tmp_path / "d.nc")
    xr.testing.assert_identical(xr.load_dataset(out), ds)

    def fail(self, *args, **kwargs):
        Path(args[0]).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", fail)
    with pytest.raises(OSError, match="disk full"):
        write_netcdf(ds, tmp_path / "e.nc")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jsonl", "d.nc"]
