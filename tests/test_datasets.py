"""Pipeline datasets: provenance attributes, CF attributes, atomic and byte-reproducible I/O."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import xarray as xr

import itscale
from itscale.pipeline import datasets


def _dataset(params=None) -> xr.Dataset:
    params = params or {"n": 10, "T": [0.0, float("inf")], "sigma": 1e-4}
    rng = np.random.default_rng(0)
    ds = xr.Dataset(
        {
            "delta_mc": (("replicate", "T", "k"), rng.random((2, 2, 3)).astype(np.float32)),
            "delta_mc_se": (("replicate", "T", "k"), rng.random((2, 2, 3))),
            "sigma2": ((), 1e-8),
        },
        coords={"replicate": [0, 1], "T": [0.0, np.inf], "k": np.array([1, 2, 4], dtype=np.int32)},
        attrs=datasets.provenance_attrs("sampling", params, seed=7),
    )
    return datasets.annotate(ds)


def test_canonical_json_and_key():
    a = {"b": [1, 2.5], "a": {"y": 1, "x": float("inf")}}
    b = {"a": {"x": float("inf"), "y": 1}, "b": [1, 2.5]}
    assert datasets.canonical_json(a) == datasets.canonical_json(b)
    assert datasets.canonical_json(a) == '{"a":{"x":Infinity,"y":1},"b":[1,2.5]}'
    key = datasets.params_key("data", a)
    assert key == datasets.params_key("data", b) and len(key) == 16
    assert int(key, 16) >= 0
    assert datasets.params_key("posterior", a) != key  # the stage is part of the key
    assert datasets.params_key("data", {**a, "b": [1, 2.5000001]}) != key


def test_provenance_attrs():
    attrs = datasets.provenance_attrs("theory", {"k": [1, 2]}, seed=None)
    assert attrs["stage"] == "theory" and attrs["seed"] == "none"
    assert json.loads(attrs["params"]) == {"k": [1, 2]}
    assert attrs["itscale_version"] == itscale.__version__
    assert attrs["git_commit"]
    assert "title" in attrs
    text = json.dumps(attrs)
    assert "date" not in text.lower() and os.uname().nodename not in text
    with pytest.raises(ValueError, match="stage"):
        datasets.provenance_attrs("", {}, seed=1)


def test_git_commit_env_override(monkeypatch):
    monkeypatch.setenv("ITSCALE_GIT_COMMIT", "abc123")
    assert datasets.git_commit() == "abc123"


def test_annotate_requires_known_attrs():
    ds = xr.Dataset({"mystery": (("k",), [1.0])}, coords={"k": [1]})
    with pytest.raises(ValueError, match="mystery"):
        datasets.annotate(ds)
    out = datasets.annotate(ds, extra={"mystery": ("a mystery", "1")})
    assert out["mystery"].attrs == {"long_name": "a mystery", "units": "1"}
    assert out["k"].attrs["units"] == "1"


def test_write_read_roundtrip(tmp_path):
    ds = _dataset()
    path = datasets.write_dataset(ds, tmp_path / "sub" / "out.nc")
    back = datasets.read_dataset(path)
    assert back["delta_mc"].dtype == np.float64  # float32 is promoted
    np.testing.assert_array_equal(back["delta_mc"].values, ds["delta_mc"].values.astype(np.float64))
    assert np.isinf(back["T"].values[1])
    for name in back.variables:
        assert {"long_name", "units"} <= set(back[name].attrs), name
    assert datasets.dataset_params(back) == {"n": 10, "T": [0.0, float("inf")], "sigma": 1e-4}
    for attr in ("title", "stage", "params", "itscale_version", "git_commit", "seed"):
        assert attr in back.attrs
    assert "history" not in back.attrs
    enc = back["delta_mc"].encoding
    assert enc.get("zlib") and enc.get("complevel", 0) > 0
    assert [p.name for p in path.parent.iterdir()] == ["out.nc"]  # no temp files left


def test_write_is_byte_reproducible(tmp_path):
    a = datasets.write_dataset(_dataset(), tmp_path / "a.nc")
    b = datasets.write_dataset(_dataset(), tmp_path / "other" / "b.nc")
    c = datasets.write_dataset(_dataset(), tmp_path / "a.nc")  # overwrite in place
    assert a.read_bytes() == b.read_bytes() == c.read_bytes()


def test_write_refuses_unannotated(tmp_path):
    ds = xr.Dataset({"x": (("k",), [1.0])}, attrs=datasets.provenance_attrs("data", {}, 1))
    with pytest.raises(ValueError, match="long_name"):
        datasets.write_dataset(ds, tmp_path / "x.nc")
    ds = datasets.annotate(xr.Dataset({"delta_de": (("k",), [1.0])}, coords={"k": [1]}))
    with pytest.raises(ValueError, match="global attribute"):
        datasets.write_dataset(ds, tmp_path / "x.nc")
    assert not list(tmp_path.iterdir())


def test_atomic_output_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "f.nc"
    datasets.write_dataset(_dataset(), path)
    before = path.read_bytes()
    with pytest.raises(RuntimeError), datasets.atomic_output(path) as tmp:
        tmp.write_bytes(b"half written")
        raise RuntimeError("killed")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["f.nc"]


def test_stage_logger_writes_file(tmp_path):
    log = datasets.stage_logger("unit", tmp_path / "logs" / "x.log")
    log.info("hello %d", 3)
    for handler in log.handlers:
        handler.flush()
    assert "hello 3" in (tmp_path / "logs" / "x.log").read_text()
