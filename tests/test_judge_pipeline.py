"""Judge-data experiments in the pipeline: plan keys, config checks, stages and a full run.

The values are checked against brute-force enumeration of every k-subset of each pool and
against ``math.comb`` (pass@k), computed here; the run uses a small records file written by
the test (non-default field names, ties in one judge's scores). The Snakemake part reuses the
work-dir helpers of tests/test_pipeline.py: one full run of a config holding one theory-only
experiment and one judge-data experiment, then dry runs of a judge-list change and of a
synthetic change in clones, and two failing runs (a bad records file, a k grid larger than
the pools) in their own work dirs, all at once. Last, the README's ``itscale analyse`` example
prints exactly the output the README shows, and its numbers agree with brute force.
"""

from __future__ import annotations

import copy
import csv
import gzip
import hashlib
import itertools
import json
import math
import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from itscale.pipeline import config as cfg
from itscale.pipeline.datasets import read_dataset

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
NAME = "tiny_judges"
JUDGES = ["good", "coarse"]
K = [1, 2, 3, 4, 5]
T = [0.0, 0.3, 1.0, 3.0]
POOL = 5


def _records(path: Path, problems: int = 12, bad_line: int | None = None) -> Path:
    """A JSONL records file: one row per candidate, judge 'coarse' has tied integer scores."""
    rng = np.random.default_rng(7)
    lines = []
    for p, c in itertools.product(range(problems), range(POOL)):
        correct = int(rng.random() < 0.4)
        good = correct + rng.normal(0.0, 0.7)
        scores = {"good": good, "coarse": round(2 * good), "other": rng.normal()}
        ok: object = "yes" if len(lines) + 1 == bad_line else correct
        lines.append(json.dumps({"pid": f"p{p}", "cid": c, "ok": ok, "scores": scores}))
    path.write_text("\n".join(lines) + "\n")
    return path


def _config(source: str) -> dict:
    tiny = yaml.safe_load((ROOT / "config" / "tiny.yaml").read_text())
    return {
        "seed": 12345,
        "plot_style": tiny["plot_style"],
        "experiments": {"tiny_compute_vs_data": tiny["experiments"]["tiny_compute_vs_data"]},
        "judge_data": {
            NAME: {
                "source": source,
                "format": {
                    "problem": "pid",
                    "candidate": "cid",
                    "quality": "ok",
                    "score_dict": "scores",
                },  # fmt: skip
                "judges": list(JUDGES),
                "k": {"start": 1, "stop": POOL, "num": POOL, "spacing": "linear"},
                "T": list(T),
                "normalise": "raw",
                "bootstrap": 50,
                "level": 0.9,
                "title": "tiny judges",
            }
        },
    }


def _plan(config: dict) -> cfg.Plan:
    return cfg.build_plan(cfg.validate_config(copy.deepcopy(config), SCHEMA))


def _keys(config: dict) -> dict[str, set[str]]:
    return {stage: set(params) for stage, params in _plan(config).params.items()}


def _changed(before: dict, after: dict) -> set[str]:
    return {
        stage for stage in before.keys() | after.keys() if before.get(stage) != after.get(stage)
    }


def _brute(loss: np.ndarray, score: np.ndarray, k: int, temp: float) -> float:
    """Problem average of the mean selected loss over every k-subset (ties share the win)."""
    per_problem = []
    for lp, rp in zip(loss, score, strict=True):
        values = []
        for subset in itertools.combinations(range(len(lp)), k):
            sub_l, sub_r = lp[list(subset)], rp[list(subset)]
            if temp == 0:
                values.append(sub_l[sub_r == sub_r.max()].mean())
            else:
                w = np.exp((sub_r - sub_r.max()) / temp)
                values.append(float((sub_l * w).sum() / w.sum()))
        per_problem.append(np.mean(values))
    return float(np.mean(per_problem))


def _arrays(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(loss, {judge: score}) of the test's records file, read here with json."""
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    loss = np.array([1.0 - r["ok"] for r in rows]).reshape(-1, POOL)
    scores = {j: np.array([r["scores"][j] for r in rows], float).reshape(-1, POOL) for j in JUDGES}
    return loss, scores


# --------------------------------------------------------------------------------------------
# plan and config (no Snakemake)
# --------------------------------------------------------------------------------------------


def test_judge_list_change_touches_only_analysis_and_figure(tmp_path):
    base = _config("records.jsonl")
    config = copy.deepcopy(base)
    config["judge_data"][NAME]["judges"] = ["good"]
    assert _changed(_keys(base), _keys(config)) == {"judges", "judge_figure"}
    config = copy.deepcopy(base)
    config["judge_data"][NAME]["format"]["quality"] = "correct"
    assert _changed(_keys(base), _keys(config)) == {"records", "judges", "judge_figure"}


def test_synthetic_change_touches_no_judge_stage():
    base = _config("records.jsonl")
    config = copy.deepcopy(base)
    config["experiments"]["tiny_compute_vs_data"]["grids"]["k"] = [1, 8]
    config["seed"] = 99  # the judge experiment has its own seed here
    config["judge_data"][NAME]["seed"] = 12345
    changed = _changed(_keys(base), _keys(config))
    assert "theory" in changed and not changed & {"records", "judges", "judge_figure"}


def test_plan_of_the_judge_experiment():
    plan = _plan(_config("records.jsonl"))
    jp = plan.judges[NAME]
    key = jp.analysis.split("/")[2]
    assert plan.upstream("judges", key, "records") == jp.records
    assert plan.stage("judges", key)["k_ref"] == POOL  # default: the largest k
    assert plan.stage("judges", key)["seed"] == 12345  # default: the top-level seed
    assert jp.publish_paths == [f"figures/{NAME}.png"]
    assert (jp.figure_path_for("png"), f"figures/{NAME}.png") in plan.publish_files()
    for stage in ("records", "judges", "judge_figure"):
        for key in plan.params[stage]:
            res = plan.resources(stage, key)
            assert all(isinstance(v, int) and v > 0 for v in res.values())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"k_ref": 7}, f"config.judge_data.{NAME}.k_ref = 7 is not allowed: must be one of k"),
        (
            {"T": {"start": 0.0, "stop": 1.0, "num": 3, "spacing": "log"}},
            f"config.judge_data.{NAME}.T: a log-spaced range needs start > 0",
        ),
        ({"bootstrap": 0}, f"config.judge_data.{NAME}.bootstrap = 0 is not allowed"),
        ({"judges": []}, f"config.judge_data.{NAME}.judges"),
    ],
)
def test_bad_judge_config_names_key(edit, message):
    config = _config("records.jsonl")
    config["judge_data"][NAME].update(edit)
    with pytest.raises(cfg.ConfigError) as err:
        _plan(config)
    assert message in str(err.value)


def test_judge_name_must_differ_from_experiments():
    config = _config("records.jsonl")
    config["judge_data"]["tiny_compute_vs_data"] = config["judge_data"][NAME]
    with pytest.raises(cfg.ConfigError, match="also an experiment's"):
        _plan(config)


def test_shipped_rewardmath_experiment():
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    plan = _plan(config)
    ((name, jp),) = plan.judges.items()
    p = jp.point
    assert (ROOT / p["source"]).is_file() and p["k"] == list(range(1, 11))
    assert p["T"][0] == 0.0 and len(p["T"]) > 10 and p["bootstrap"] == 1000
    assert {"judge:gpt-4o", "judge:llama3-8b-instruct"} <= set(p["judges"])
    assert {"InternLM2-7B-Reward", "Skywork-Reward-Llama-3.1-8B"} <= set(p["judges"])
    assert (ROOT / "workflow" / "report" / f"{name}.rst").is_file()


# --------------------------------------------------------------------------------------------
# stage functions (no Snakemake)
# --------------------------------------------------------------------------------------------


def test_stages_against_brute_force(tmp_path):
    from itscale.pipeline.stages import judges, records
    from itscale.report.judges import judge_rows

    path = _records(tmp_path / "records.jsonl", problems=6)
    plan = _plan(_config(str(path)))
    jp = plan.judges[NAME]
    ds = records.build(plan.stage("records", jp.records.split("/")[2]))
    assert ds.attrs["source_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert set(ds["judge"].values) == {"good", "coarse", "other"}  # every judge of the file
    res = judges.build(ds, plan.stage("judges", jp.analysis.split("/")[2]))
    loss, scores = _arrays(path)
    for judge, k, temp in itertools.product(JUDGES, (1, 3, 5), (0.0, 1.0)):
        expected = _brute(loss, scores[judge], k, temp)
        got = float(res["delta"].sel(judge=judge, k=k, T=temp))
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-12), (judge, k, temp)
    rows = {(r["quantity"], r["selector"]): r for r in judge_rows(NAME, res)}
    best = rows[("best_of_k_error", "judge=good; k=5; T=0")]
    assert best["value"] == pytest.approx(_brute(loss, scores["good"], 5, 0.0), rel=1e-12)
    lo, hi = (float(res[f"delta_{b}"].sel(judge="good", k=5, T=0.0)) for b in ("lower", "upper"))
    assert best["se"] == pytest.approx((hi - lo) / 2) and "90% percentile bootstrap" in best["note"]
    solved = [math.comb(POOL - int(c), 5) / math.comb(POOL, 5) for c in (1 - loss).sum(axis=1)]
    assert rows[("oracle_error", "k=5")]["value"] == pytest.approx(np.mean(solved), rel=1e-12)
    for judge in JUDGES:
        assert ("T_star", f"judge={judge}; k=5") in rows
        assert ("expansion_validity_T", f"judge={judge}; k=5") in rows


def test_stage_datasets_are_cf_clean_and_round_trip(tmp_path):
    """Units parse as UDUNITS-2, long_name everywhere, text as character arrays (the checks of
    tests/test_cf.py), and the judge names and problem ids read back as written."""
    pytest.importorskip("cf_units", reason="cf-units is a test extra")
    from test_cf import cf_problems

    from itscale.pipeline.datasets import write_dataset
    from itscale.pipeline.stages import judges, records

    path = _records(tmp_path / "records.jsonl", problems=6)
    plan = _plan(_config(str(path)))
    jp = plan.judges[NAME]
    ds = records.build(plan.stage("records", jp.records.split("/")[2]))
    res = judges.build(ds, plan.stage("judges", jp.analysis.split("/")[2]))
    for name, dataset in (("records", ds), ("analysis", res)):
        written = write_dataset(dataset, tmp_path / f"{name}.nc")
        assert cf_problems(written) == [], name
        back = read_dataset(written)
        for coord in ("judge", "problem", "judge_b"):
            if coord in dataset.coords:
                assert list(back[coord].values) == list(dataset[coord].values)


# --------------------------------------------------------------------------------------------
# Snakemake runs
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    if shutil.which("snakemake") is None:
        pytest.skip("snakemake is not installed")
    from workdirs import Workdir

    base = tmp_path_factory.mktemp("judges")
    config_path = base / "config.yaml"
    config_path.write_text(yaml.safe_dump(_config("records.jsonl"), sort_keys=False))
    wd = Workdir.create(base / "wd", config=config_path)
    _records(wd.path / "records.jsonl")
    bad = Workdir.create(base / "bad", src=wd.src, config=config_path)
    _records(bad.path / "records.jsonl", bad_line=3)
    big = Workdir.create(base / "big", src=wd.src, config=config_path)
    _records(big.path / "records.jsonl")
    config = big.read_config()
    config["judge_data"][NAME]["k"] = [1, POOL + 1]
    big.write_config(config)
    side = {"bad": bad.start("--cores", "1"), "big": big.start("--cores", "1")}
    out = {"wd": wd, "full": wd.snakemake("--cores", "2").check(), "bad_dir": bad.path}
    out["big_dir"] = big.path
    clones = {}
    for name, edit in {"judges": ("judge_data", NAME, "judges"), "synthetic": None}.items():
        clone = clones[name] = wd.clone(base / name)
        config = clone.read_config()
        if edit:
            config[edit[0]][edit[1]][edit[2]] = ["good"]
        else:
            config["experiments"]["tiny_compute_vs_data"]["grids"]["k"] = [1, 8]
        clone.write_config(config)
        side[name] = clone.dry_run()
    out |= {name: run.wait() for name, run in side.items()}
    return out


def test_full_run_of_the_judge_path(runs):
    from workdirs import rule_counts

    wd = runs["wd"]
    counts = rule_counts(runs["full"].jobs)
    assert {r: counts[r] for r in ("records", "judges", "judge_figure")} == {
        "records": 1,
        "judges": 1,
        "judge_figure": 1,
    }
    assert (wd.path / "figures" / f"{NAME}.png").stat().st_size > 10_000
    (rec,) = (wd.path / "results" / "records").rglob("records.nc")
    (ana,) = (wd.path / "results" / "judges").rglob("analysis.nc")
    source = wd.path / "records.jsonl"
    assert (
        read_dataset(rec).attrs["source_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    )
    res = read_dataset(ana)
    assert res.attrs["stage"] == "judges" and ana.parent.name == res.attrs["key"]
    loss, scores = _arrays(source)
    with open(wd.path / "figures" / "numbers.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["experiment"] == NAME]
    by = {(r["quantity"], r["selector"]): r for r in rows}
    for judge in JUDGES:
        expected = _brute(loss, scores[judge], POOL, 0.0)
        row = by[("best_of_k_error", f"judge={judge}; k={POOL}; T=0")]
        assert float(row["value"]) == pytest.approx(expected, rel=1e-5)
        assert float(res["delta"].sel(judge=judge, k=3, T=0.3)) == pytest.approx(
            _brute(loss, scores[judge], 3, 0.3), rel=1e-9
        )
        assert ("T_star", f"judge={judge}; k={POOL}") in by
        assert ("expansion_validity_T", f"judge={judge}; k={POOL}") in by
    for stage in ("records", "judges", "judge_figures"):
        logs = list((wd.path / "logs" / stage).rglob("*.log"))
        assert logs and all("wrote" in p.read_text() for p in logs), stage


def test_judge_list_change_reruns_only_its_analysis_figure_and_numbers(runs):
    from workdirs import rule_counts

    jobs = runs["judges"].check().jobs
    assert rule_counts(jobs) == {"judges": 1, "judge_figure": 1, "numbers": 1, "publish": 1}


def test_synthetic_change_reruns_no_judge_stage(runs):
    from workdirs import rule_counts

    counts = rule_counts(runs["synthetic"].check().jobs)
    assert counts == {"theory": 2, "theory_figure": 1, "numbers": 1, "publish": 1}  # 2 points


def test_bad_records_file_stops_the_run_and_writes_nothing(runs):
    res = runs["bad"]
    assert res.returncode != 0
    assert "records.jsonl, line 3, field 'ok': not a number: 'yes'" in res.output, res.output
    results = runs["bad_dir"] / "results"
    assert not results.exists() or not list(results.rglob("records.nc"))
    assert not list(runs["bad_dir"].rglob("*.tmp"))
    assert not (runs["bad_dir"] / "figures" / f"{NAME}.png").exists()


def test_k_larger_than_the_pools_stops_the_analysis(runs):
    res = runs["big"]
    assert res.returncode != 0
    assert f"records.jsonl: k = {POOL + 1} is larger than the pool of 12 problem(s)" in res.output
    assert "drop_small_pools: true" in res.output
    assert not list((runs["big_dir"] / "results").rglob("analysis.nc"))
    assert not list(runs["big_dir"].rglob("*.tmp"))


# --------------------------------------------------------------------------------------------
# the README's command-line example
# --------------------------------------------------------------------------------------------


def _readme_example() -> tuple[list[str], str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Analysing your own samples and judge scores\n", 1)[1]
    section = section.split("\n## Where results live", 1)[0]  # its output has "## " lines
    (command,) = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    (printed,) = re.findall(r"```text\n(# .*?)```", section, flags=re.S)
    return shlex.split(command.replace("\\\n", " ")), printed


def test_readme_cli_example_prints_what_it_says(tmp_path, monkeypatch, capsys):
    from itscale.empirical.cli import main

    argv, printed = _readme_example()
    assert argv[:2] == ["itscale", "analyse"]
    (tmp_path / "data").symlink_to(ROOT / "data")
    monkeypatch.chdir(tmp_path)
    assert main(argv[1:]) == 0
    assert capsys.readouterr().out == printed
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["analysis.nc", "analysis.png"]


def test_readme_cli_example_numbers_against_brute_force():
    """k = 2 (45 pairs per pool) and k = 10 (the whole pool) at T = 0, from the raw file."""
    _, printed = _readme_example()
    with gzip.open(ROOT / "data" / "rewardmath" / "rewardmath_bon.jsonl.gz", "rt") as fh:
        rows = [json.loads(line) for line in fh]
    loss = np.array([1.0 - r["correct"] for r in rows]).reshape(-1, 10)
    for judge in ("judge:gpt-4o", "InternLM2-7B-Reward"):
        score = np.array([r["judge_scores"][judge] for r in rows], float).reshape(-1, 10)
        block = printed.split(f"## {judge}\n", 1)[1]
        for k in (2, 10):
            shown = float(re.search(rf"k={k}\s+([0-9.]+)", block).group(1))
            assert shown == pytest.approx(_brute(loss, score, k, 0.0), abs=5e-5), (judge, k)
