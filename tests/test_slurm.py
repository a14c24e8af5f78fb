"""SLURM submission path, proven on a real one-node SLURM cluster on localhost.

Start the cluster first (root, Debian): ``bash tests/cluster/slurm-up.sh``; stop it with
``bash tests/cluster/slurm-down.sh``. Without a usable cluster every test here is
SKIPPED with the reason printed (``pytest -ra`` lists it); set
``ITSCALE_REQUIRE_SLURM=1`` to turn that skip into a failure.

Run only these: ``pytest -m slurm tests/test_slurm.py``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "itscale_cluster_harness", Path(__file__).parent / "cluster" / "harness.py"
)
harness = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = harness
_spec.loader.exec_module(harness)

#: generous per-run limit: the toy needs ~45 s on 2 cores (each job starts snakemake twice)
RUN_TIMEOUT = int(os.environ.get("ITSCALE_SLURM_TEST_TIMEOUT", "300"))
TOY_RULE_LOGS = {
    "make_numbers_1.log",
    "make_numbers_2.log",
    "make_numbers_3.log",
    "sum_numbers.log",
    "maybe_fail.log",
}


@pytest.fixture(scope="session")
def slurm_cluster():
    """Skip (loudly) unless a SLURM cluster with a usable node answers ``sinfo``."""
    reason = harness.slurm_unavailable_reason()
    if reason is not None:
        msg = f"SLURM tests skipped: {reason}"
        print(msg, file=sys.stderr)
        if os.environ.get("ITSCALE_REQUIRE_SLURM") == "1":
            pytest.fail(msg + " (ITSCALE_REQUIRE_SLURM=1)")
        pytest.skip(msg)
    return True


@pytest.fixture(scope="module")
def toy_slurm_run(slurm_cluster, tmp_path_factory):
    """One successful run of the toy workflow through the SLURM profile, shared by
    the tests that only inspect its results."""
    workdir = tmp_path_factory.mktemp("toy-slurm")
    res = harness.run_snakemake(
        workdir, harness.TOY_SNAKEFILE, profile=harness.SLURM_PROFILE, timeout=RUN_TIMEOUT
    )
    return res


@pytest.mark.slurm
def test_toy_workflow_completes_on_slurm(toy_slurm_run):
    res = toy_slurm_run
    assert res.returncode == 0, res.diagnostics()
    assert "submitted with SLURM jobid" in res.output, res.diagnostics()

    ids_by_log = harness.slurm_job_ids_in_logs(res.workdir / "logs")
    assert set(ids_by_log) == TOY_RULE_LOGS, ids_by_log
    for log, ids in ids_by_log.items():
        assert ids and all(ids), f"{log} has no SLURM_JOB_ID (ran outside SLURM?): {ids}"

    # `threads: 2` reached sbatch as --cpus-per-task=2
    assert "SLURM_CPUS_PER_TASK=2" in (res.workdir / "logs" / "sum_numbers.log").read_text()

    # one SLURM job per rule instance, and SLURM itself saw each of them complete
    all_ids = {i for ids in ids_by_log.values() for i in ids}
    assert len(all_ids) == len(TOY_RULE_LOGS), ids_by_log
    states = harness.slurm_job_states(all_ids)
    assert states == {i: "COMPLETED" for i in all_ids}, states


@pytest.mark.slurm
def test_failing_job_fails_the_run(slurm_cluster, tmp_path):
    res = harness.run_snakemake(
        tmp_path,
        harness.TOY_SNAKEFILE,
        profile=harness.SLURM_PROFILE,
        extra_args=["--config", "fail=true"],
        targets=["results/status.txt"],
        timeout=RUN_TIMEOUT,
    )
    assert not res.timed_out, res.diagnostics()
    assert res.returncode != 0, res.diagnostics()
    assert "submitted with SLURM jobid" in res.output, res.diagnostics()
    assert "maybe_fail" in res.output, res.diagnostics()
    assert not (tmp_path / "results" / "status.txt").exists()
    # the job did run under SLURM before failing
    ids = harness.slurm_job_ids_in_logs(tmp_path / "logs")["maybe_fail.log"]
    assert ids and all(ids), ids
    assert set(harness.slurm_job_states(ids).values()) == {"FAILED"}


@pytest.mark.slurm
def test_slurm_outputs_match_local_run(toy_slurm_run, tmp_path):
    assert toy_slurm_run.returncode == 0, toy_slurm_run.diagnostics()
    local = tmp_path / "local"
    res = harness.run_snakemake(
        local, harness.TOY_SNAKEFILE, extra_args=["--cores", "2"], timeout=RUN_TIMEOUT
    )
    assert res.returncode == 0, res.diagnostics()
    # local jobs record an empty SLURM_JOB_ID
    for log, ids in harness.slurm_job_ids_in_logs(local / "logs").items():
        assert ids == [""], (log, ids)
    diffs = harness.compare_trees(toy_slurm_run.workdir / "results", local / "results")
    assert diffs == [], diffs
    assert (local / "results" / "sum.txt").read_text().strip() == "730"


def test_harness_reports_reason_without_sinfo(monkeypatch):
    """The skip reason is explicit when SLURM is absent (runs everywhere)."""
    monkeypatch.setattr(harness.shutil, "which", lambda name: None)
    reason = harness.slurm_unavailable_reason()
    assert reason is not None and "sinfo" in reason and "slurm-up.sh" in reason


def test_profiles_are_commented_and_not_named_default():
    import yaml

    profiles = harness.REPO_ROOT / "workflow" / "profiles"
    assert not (profiles / "default").exists()
    for name in ("slurm", "local"):
        path = profiles / name / "config.yaml"
        cfg = yaml.safe_load(path.read_text())
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if line and not line.startswith((" ", "#")):  # a top-level key
                key = line.split(":", 1)[0]
                assert key in cfg
                assert i > 0 and lines[i - 1].lstrip().startswith("#"), (
                    f"{path}: key {key!r} has no comment above it"
                )
    slurm = yaml.safe_load((profiles / "slurm" / "config.yaml").read_text())
    assert slurm["executor"] == "slurm"
    assert slurm["slurm-status-command"] == "squeue"
    assert {"slurm_partition", "mem_mb", "runtime"} <= set(slurm["default-resources"])


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_cluster_scripts_parse():
    import subprocess

    for script in ("slurm-up.sh", "slurm-down.sh"):
        subprocess.run(["bash", "-n", str(harness.CLUSTER_DIR / script)], check=True)
