"""SLURM submission path, proven on a real one-node SLURM cluster on localhost.

Start the cluster first (root, Debian): ``bash tests/cluster/slurm-up.sh``; stop it with
``bash tests/cluster/slurm-down.sh``. Without a usable cluster every test here is
SKIPPED with the reason printed (``pytest -ra`` lists it); set
``ITSCALE_REQUIRE_SLURM=1`` to turn that skip into a failure.

Run only these: ``pytest -m slurm tests/test_slurm.py``.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
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


# --------------------------------------------------------------------------------------------
# the itscale pipeline itself (tests/cluster/tiny-slurm.yaml) through the SLURM profile
# --------------------------------------------------------------------------------------------

#: one simulated experiment with 2 Monte Carlo shards + one theory-only experiment
TINY_SLURM = harness.CLUSTER_DIR / "tiny-slurm.yaml"
#: ~2-2.5 min on 2 loaded cores (10 SLURM jobs, ~7 s of snakemake start-up each, 2 at a time)
PIPELINE_TIMEOUT = int(os.environ.get("ITSCALE_SLURM_PIPELINE_TIMEOUT", "900"))
#: rules that run on the submit host (Snakefile `localrules` / `localrule: True`); their
#: scripts log SLURM_JOB_ID=none
PIPELINE_LOCAL_LOGS = {
    "numbers/*.log",
    "publish.log",
}
#: SLURM jobs of tiny-slurm.yaml: data, posterior, 2 shards, the gather (with the finite-size
#: average), 3 theory, 2 figures
PIPELINE_SLURM_JOBS = 10
INJECTED = "injected failure (tests/test_slurm.py)"


def _pipeline_workdir(path: Path, *, break_theory: bool = False) -> tuple[Path, dict[str, str]]:
    """Copy of the workflow with tiny-slurm.yaml as its config and its own copy of the library
    (first on PYTHONPATH, which sbatch --export=ALL passes to the jobs); returns (snakefile,
    env). ``break_theory`` makes the copied theory script raise at run time, after logging
    the job id: a job that fails on the cluster (not a config error, which stops snakemake
    before anything is submitted), with no test hook in the repository."""
    path.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copy2(harness.REPO_ROOT / "Snakefile", path / "Snakefile")
    shutil.copytree(harness.REPO_ROOT / "workflow", path / "workflow", ignore=ignore)
    shutil.copy2(TINY_SLURM, path / "config.yaml")
    src = path.parent / (path.name + "-src")
    shutil.copytree(harness.REPO_ROOT / "src", src, ignore=ignore)
    if break_theory:
        script = path / "workflow" / "scripts" / "theory.py"
        text = script.read_text()
        anchor = 'job = Job(snakemake, "theory")  # noqa: F821 - injected by Snakemake\n'
        assert anchor in text, "theory.py changed: update the failure injection"
        script.write_text(text.replace(anchor, anchor + f"raise RuntimeError({INJECTED!r})\n"))
    pythonpath = os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")]))
    # "" -> git_commit() looks at the copied sources: "unknown" in both runs
    return path / "Snakefile", {"PYTHONPATH": pythonpath, "ITSCALE_GIT_COMMIT": ""}


@pytest.fixture(scope="module")
def pipeline_runs(slurm_cluster, tmp_path_factory):
    """Three runs at once (the SLURM ones mostly wait on the scheduler): tiny-slurm.yaml
    through the SLURM profile, the same locally with --cores 2, and through the SLURM
    profile with a theory script that raises."""
    base = tmp_path_factory.mktemp("pipeline-slurm")
    runs = {
        "slurm": (base / "slurm", {}, {"profile": harness.SLURM_PROFILE}),
        "local": (base / "local", {}, {"extra_args": ["--cores", "2"]}),
        "failing": (base / "failing", {"break_theory": True}, {"profile": harness.SLURM_PROFILE}),
    }

    def run(name):
        workdir, copy_args, run_args = runs[name]
        snakefile, env = _pipeline_workdir(workdir, **copy_args)
        return harness.run_snakemake(
            workdir, snakefile, timeout=PIPELINE_TIMEOUT, env=env, **run_args
        )

    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        futures = {name: pool.submit(run, name) for name in runs}
        return {name: future.result() for name, future in futures.items()}


def _is_local_log(name: str) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in PIPELINE_LOCAL_LOGS)


@pytest.mark.slurm
def test_pipeline_jobs_run_under_slurm(pipeline_runs):
    """Every non-local job of the real pipeline ran as its own SLURM job (its log says
    SLURM_JOB_ID=<id>) and SLURM saw it complete; local rules ran outside SLURM."""
    res = pipeline_runs["slurm"]
    assert res.returncode == 0, res.diagnostics()
    ids_by_log = harness.slurm_job_ids_in_logs(res.workdir / "logs")
    remote = {log: ids for log, ids in ids_by_log.items() if not _is_local_log(log)}
    local = {log: ids for log, ids in ids_by_log.items() if _is_local_log(log)}
    assert len(remote) == PIPELINE_SLURM_JOBS, ids_by_log
    for log, ids in remote.items():
        assert len(ids) == 1 and ids[0].isdigit(), f"{log} did not run under SLURM: {ids}"
    for log, ids in local.items():
        assert ids in ([], ["none"]), (log, ids)
    all_ids = {ids[0] for ids in remote.values()}
    assert len(all_ids) == PIPELINE_SLURM_JOBS, remote  # one SLURM job per job
    assert res.output.count("submitted with SLURM jobid") == PIPELINE_SLURM_JOBS, res.diagnostics()
    states = harness.slurm_job_states(all_ids)
    assert states == {i: "COMPLETED" for i in all_ids}, states
    shard_logs = [log for log in remote if fnmatch.fnmatch(log, "sampling/*/shard-*.log")]
    assert len(shard_logs) == 2, remote  # the sharded Monte Carlo ran as 2 SLURM jobs


@pytest.mark.slurm
def test_pipeline_slurm_results_identical_to_local(pipeline_runs):
    """Every dataset (and figure) under results/ and figures/ is byte-identical to a local
    --cores 2 run of the same config: results do not depend on where a job runs."""
    slurm, local = pipeline_runs["slurm"], pipeline_runs["local"]
    assert slurm.returncode == 0, slurm.diagnostics()
    assert local.returncode == 0, local.diagnostics()
    for log, ids in harness.slurm_job_ids_in_logs(local.workdir / "logs").items():
        assert ids in ([], ["none"]), (log, ids)
    ncs = sorted(p.relative_to(slurm.workdir) for p in slurm.workdir.glob("results/**/*.nc"))
    # data, posterior, 2 shards, gather, 3 theory, the numbers table
    assert len(ncs) == 9, ncs
    for tree in ("results", "figures"):
        diffs = harness.compare_trees(slurm.workdir / tree, local.workdir / tree)
        assert diffs == [], diffs


@pytest.mark.slurm
def test_pipeline_failing_slurm_job_fails_the_run(pipeline_runs):
    """A pipeline job that raises on the cluster (the theory script, see _pipeline_workdir)
    makes snakemake exit non-zero; nothing downstream of it is produced."""
    res = pipeline_runs["failing"]
    assert not res.timed_out, res.diagnostics()
    assert res.returncode != 0, res.diagnostics()
    assert "submitted with SLURM jobid" in res.output, res.diagnostics()
    assert "Error in rule theory" in res.output, res.diagnostics()
    assert not (res.workdir / "figures" / "numbers.csv").exists()
    assert not list((res.workdir / "results").glob("theory/*/theory.nc"))
    ids_by_log = harness.slurm_job_ids_in_logs(res.workdir / "logs")
    theory_ids = [i for log, ids in ids_by_log.items() if log.startswith("theory/") for i in ids]
    assert theory_ids and all(i.isdigit() for i in theory_ids), ids_by_log
    states = harness.slurm_job_states(theory_ids)
    assert "FAILED" in states.values(), states
    slurm_logs = list((res.workdir / ".snakemake" / "slurm_logs" / "rule_theory").rglob("*.log"))
    assert any(INJECTED in p.read_text(errors="replace") for p in slurm_logs), res.diagnostics()


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
