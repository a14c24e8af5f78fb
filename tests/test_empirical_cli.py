"""The ``itscale analyse`` command and :func:`analyse` on the shipped RewardMATH data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from itscale.empirical import delta_pool
from itscale.empirical.analysis import AnalysisConfig, analyse
from itscale.empirical.cli import main
from itscale.empirical.records import judge_arrays, read_records

DATA = Path(__file__).resolve().parents[1] / "data" / "rewardmath" / "rewardmath_bon.jsonl.gz"
JUDGES = ("judge:gpt-4o", "InternLM2-7B-Reward")


@pytest.fixture(scope="module")
def records():
    return read_records(DATA, judges=list(JUDGES))


def test_cli_writes_dataset_and_figure(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["analyse", str(DATA), "--k", "1:10", "--T", "0,0.3,3,30", "--bootstrap", "50",
            "--out", str(out)] + [a for j in JUDGES for a in ("--judge", j)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "judge:gpt-4o" in printed and "T* =" in printed
    res = xr.load_dataset(out / "analysis.nc")
    assert (out / "analysis.png").stat().st_size > 10_000
    assert res["delta"].dims == ("judge", "k", "T")
    assert round(1 - float(res["delta"].sel(judge="judge:gpt-4o", k=10, T=0.0)), 3) == 0.356
    assert sorted(p.name for p in out.iterdir()) == ["analysis.nc", "analysis.png"]
    # written like the pipeline's datasets: CF-clean, no vlen strings, with provenance
    from test_cf import cf_problems

    assert cf_problems(out / "analysis.nc") == []
    assert res.attrs["stage"] == "judges" and res.attrs["source_file"] == DATA.name
    assert len(res.attrs["source_sha256"]) == 64 and "itscale_version" in res.attrs


@pytest.mark.parametrize(
    ("argv_tail", "message"),
    [
        (["--judge", "nobody"], "unknown judge name 'nobody'"),
        (["--k", "1:11"], "larger than the pool of 483 problem(s)"),
        (["--quality-field", "score"], "line 1, field 'score': missing field"),
    ],
)
def test_cli_bad_input_exit_2_writes_nothing(tmp_path, capsys, argv_tail, message):
    out = tmp_path / "out"
    assert main(["analyse", str(DATA), "--out", str(out), "--bootstrap", "5"] + argv_tail) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_cli_missing_file(tmp_path, capsys):
    assert main(["analyse", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "o")]) == 2
    assert "none.jsonl: cannot read the file" in capsys.readouterr().err


def test_analyse_consistent_and_deterministic(records):
    config = AnalysisConfig(k=(1, 5, 10), T=(0.0, 0.5, 4.0), bootstrap=100, seed=3)
    res = analyse(records, config)
    loss, score = judge_arrays(records, "judge:gpt-4o")
    scale = float(res["score_scale"].sel(judge="judge:gpt-4o"))
    direct = delta_pool(loss, score, [1, 5, 10], np.array([0.0, 0.5, 4.0]) * scale)
    np.testing.assert_allclose(res["delta"].sel(judge="judge:gpt-4o").values, direct, rtol=1e-12)
    assert (res["delta_lower"] <= res["delta"] + 1e-12).all()
    assert (res["delta"] <= res["delta_upper"] + 1e-12).all()
    np.testing.assert_allclose(res["oracle"].values, [0.9, 0.5, 0.0], atol=1e-12)
    xr.testing.assert_identical(analyse(records, config), res)
    other = analyse(records, AnalysisConfig(k=(1, 5, 10), T=(0.0, 0.5, 4.0), bootstrap=100))
    assert not np.array_equal(other["delta_lower"].values, res["delta_lower"].values)
    diff = res["difference"].sel(judge=JUDGES[0], judge_b=JUDGES[1], T=0.0)
    expect = res["delta"].sel(judge=JUDGES[0], k=10, T=0.0) - res["delta"].sel(
        judge=JUDGES[1], k=10, T=0.0
    )
    assert float(diff) == pytest.approx(float(expect), abs=1e-14)
