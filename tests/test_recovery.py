"""What a run leaves behind when it does not finish, and the report (issue 12 items 1-3).

On copies of the tiny workflow (tests/workdirs.py), next to the one uninterrupted run of the
session (the ``work`` fixture of tests/conftest.py):

* a run in which one figure job fails (injected into the copied figure script) while every
  other job, the numbers table included, completes (``--keep-going``) leaves ``figures/``
  unchanged byte for byte: publishing happens in one last job, after everything exists;
* a run killed with SIGKILL mid-way is recovered by the README's one-liner, and then every
  result and published file equals the uninterrupted run's byte for byte;
* ``snakemake --report`` builds, with each rule once on the landing page's graph and no
  caption text among any job's params; the runtime dependencies cover what it needs.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from importlib import metadata
from pathlib import Path

import pytest
from workdirs import ROOT, Workdir

INJECTED = "injected failure (tests/test_recovery.py)"


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by relative path, except the temporary files of atomic writes
    (``.<name>.<random>.tmp``) that a killed job may leave next to an output it never named."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not (p.name.startswith(".") and p.name.endswith(".tmp"))
    }


def _inject(wd: Workdir, script: str, anchor: str, line: str) -> None:
    path = wd.path / "workflow" / "scripts" / script
    text = path.read_text()
    assert anchor in text, f"{script} changed: update the injection"
    path.write_text(text.replace(anchor, anchor + line, 1))


@pytest.fixture(scope="module")
def runs(work, tmp_path_factory) -> dict:
    """At once: a failing run in a clone of the finished work dir, and a fresh run killed
    mid-way then recovered; then the report of the finished work dir."""
    base = tmp_path_factory.mktemp("recovery")
    failing = work.clone(base / "failing")
    config = failing.read_config()
    config["plot_style"]["dpi"] = 61  # every figure reruns
    config["experiments"]["tiny_softmax"]["grids"]["c"] = [0.0, 4.0]  # so does the table
    failing.write_config(config)
    anchor = 'job = Job(snakemake, "figures")  # noqa: F821 - injected by Snakemake\n'
    raise_line = (
        f'if "compute_vs_data" in job.smk.output[0]:\n    raise RuntimeError("{INJECTED}")\n'
    )
    _inject(failing, "figure.py", anchor, raise_line)
    before = tree_bytes(failing.path / "figures")
    fail_run = failing.start("--cores", "2", "--keep-going")

    killed = Workdir.create(base / "killed", src=work.src)
    # Each Monte Carlo shard sleeps after writing its output, so the kill surely lands while a
    # job whose output exists is still running: Snakemake must then call that output incomplete.
    _inject(killed, "sampling_shard.py", "job.write(ds)\n", "__import__('time').sleep(8)\n")
    run = killed.start("--cores", "2")
    deadline = time.monotonic() + 300
    while not list(killed.path.glob("results/sampling/*/shard-*.nc")):
        assert run.proc.poll() is None, run.wait().output
        assert time.monotonic() < deadline, "no Monte Carlo shard started"
        time.sleep(0.2)
    os.killpg(run.proc.pid, signal.SIGKILL)
    run.proc.wait()
    out = {"failing": failing, "before": before, "killed": killed, "killed_figures": None}
    out["killed_figures"] = (
        tree_bytes(killed.path / "figures") if (killed.path / "figures").exists() else {}
    )
    out["plain_rerun"] = killed.snakemake("--cores", "2", "-n")
    recovery = re.search(
        r"^(python3 -m snakemake --unlock && .*)$", (ROOT / "README.md").read_text(), re.M
    )
    assert recovery, "README has no recovery one-liner"
    out["recovery_command"] = recovery.group(1)
    first, second = (part.split()[1:] for part in recovery.group(1).split(" && "))
    assert first[:2] == second[:2] == ["-m", "snakemake"]
    out["unlock"] = killed.snakemake(*first[2:])
    out["recovered"] = killed.snakemake(*second[2:])
    out["failed"] = fail_run.wait()
    out["report"] = work.snakemake("--report", "report.html")
    return out


def test_failed_run_leaves_figures_unchanged(runs, work):
    res = runs["failed"]
    assert res.returncode != 0 and INJECTED in res.output, res.output
    wd = runs["failing"]
    assert tree_bytes(wd.path / "figures") == runs["before"]
    assert runs["before"] == tree_bytes(work.path / "figures")
    # everything else ran: the other figures at the new dpi and the new numbers table
    new_plan = wd.plan()
    for name in ("tiny_best_of_k", "tiny_softmax"):
        assert (wd.path / new_plan.experiments[name].figure_path_for("png")).is_file()
    assert all((wd.path / path).is_file() for path in new_plan.numbers_paths())
    assert not re.search(r"^(local)?rule publish:", res.output, flags=re.M)


def test_killed_run_recovers_with_the_readme_one_liner(runs, work):
    assert runs["killed_figures"] == {}  # nothing published by a run that did not finish
    plain = runs["plain_rerun"]
    assert plain.returncode != 0 and "IncompleteFilesException" in plain.output, plain.output
    assert runs["unlock"].returncode == 0, runs["unlock"].output
    runs["recovered"].check()
    killed = runs["killed"]
    for tree in ("results", "figures"):
        ours, theirs = tree_bytes(killed.path / tree), tree_bytes(work.path / tree)
        assert sorted(ours) == sorted(theirs), tree
        assert [name for name in ours if ours[name] != theirs[name]] == [], tree


def _rulegraph_rules(html: str) -> list[str]:
    spec = re.search(r"var rulegraph_spec = (\{.*?\});\s*</script>", html, flags=re.S)
    assert spec, "no rule graph in the report"
    data = {d["name"]: d["values"] for d in json.loads(spec.group(1))["data"]}
    return [node["rule"] for node in data["node-data"]]


def test_report_builds(runs, work):
    runs["report"].check()
    html = (work.path / "report.html").read_text()
    assert len(html) > 100_000
    for name in ("tiny_best_of_k", "tiny_softmax", "tiny_compute_vs_data", "numbers.csv"):
        assert name in html, name
    rules = _rulegraph_rules(html)
    for rule in ("publish", "numbers", "sampling", "theory", "figure", "theory_figure"):
        assert rules.count(rule) == 1, rules
    params = re.findall(
        r'"job_properties": \{"rule": "(\w+)", "wildcards": "[^"]*", "params": "([^"]*)"', html
    )
    assert params and all(p == "" for _, p in params), params
    assert "has no caption of its own" in html  # the tiny experiments' generic caption


def test_runtime_dependencies_cover_the_report():
    """`snakemake --report` needs pygments and jinja2: each is a runtime dependency of
    itscale or of snakemake itself (not only of the test extras)."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    deps = re.search(r"^dependencies = \[(.*?)^\]", pyproject, flags=re.S | re.M).group(1)
    ours = {
        re.split(r"[<>=;\[ ]", d.strip().strip('",'))[0].lower()
        for d in re.findall(r'"[^"]+"', deps)
    }
    snakemake_core = {
        re.split(r"[<>=;\[ ]", r)[0].lower()
        for r in metadata.requires("snakemake")
        if "extra ==" not in r
    }
    for package in ("pygments", "jinja2"):
        assert package in ours | snakemake_core, package
    assert "pygments" in ours  # snakemake lists it only under its "reports" extra
