"""Integration test of the Snakemake pipeline on config/tiny.yaml, in temporary directories.

The workflow (Snakefile, workflow/) and a copy of the library sources are copied to a temp dir;
the copy is put first on PYTHONPATH, so the rules' module inputs
(itscale.pipeline.config.module_files, resolved from ``itscale.__file__``) point at the copy
and the test can edit a library module without touching the repository. After one full
run, each change is checked with a dry run (default rerun triggers: mtime, params, input,
software-env, code) for exactly which jobs it reruns.

Every snakemake start costs seconds (on hosts with SLURM installed, the SLURM executor plugin
queries the controller at import), so independent invocations run concurrently: each config
change is dry-run in its own clone of the finished work dir (results, logs and .snakemake
metadata copied with their modification times).
"""

from __future__ import annotations

import collections
import copy
import os
import shutil
import subprocess

import pytest
from workdirs import ROOT, Workdir, rule_counts

pytestmark = pytest.mark.skipif(
    shutil.which("snakemake") is None, reason="snakemake is not installed"
)


# --------------------------------------------------------------------------------------------
# config edits checked by dry runs
# --------------------------------------------------------------------------------------------


def _set(*path, value):
    def edit(config):
        node = config
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


def _gamma(config):
    for name in ("tiny_best_of_k", "tiny_softmax"):
        config["experiments"][name]["model"]["gamma"] = 0.5


SCENARIOS = {
    "unchanged": lambda config: None,
    "T_grid": _set("experiments", "tiny_softmax", "grids", "T", value=[10.0, 100.0]),
    "gamma": _gamma,
    "plot_style": _set("plot_style", "dpi", value=61),
    "n_test": _set("experiments", "tiny_softmax", "sampling", "n_test", value=48),
}


@pytest.fixture(scope="module")
def scenarios(work, tmp_path_factory) -> dict:
    """Dry run of each config change in its own clone of the finished work dir, plus a fresh
    1-core run of one experiment, all at once."""
    base = tmp_path_factory.mktemp("scenarios")
    runs, clones = {}, {}
    for name, edit in SCENARIOS.items():
        clone = clones[name] = work.clone(base / name)
        config = clone.read_config()
        edit(config)
        clone.write_config(config)
        runs[name] = clone.dry_run()
    fresh = Workdir.create(base / "cores1", src=work.src)
    exp = fresh.plan().experiments["tiny_best_of_k"]
    runs["cores1"] = fresh.start("--cores", "1", *exp.sampling_paths, *exp.theory)
    results = {name: run.wait() for name, run in runs.items()}
    results["cores1_files"] = fresh.netcdf_files()
    results["clones"] = clones
    return results


# --------------------------------------------------------------------------------------------
# the full run
# --------------------------------------------------------------------------------------------


def test_full_run_outputs(work):
    from itscale.pipeline.datasets import dataset_params, read_dataset

    config = work.read_config()
    fmt = config["plot_style"]["format"]
    for name in config["experiments"]:
        for ext in [fmt] if isinstance(fmt, str) else fmt:
            assert (work.path / "figures" / f"{name}.{ext}").stat().st_size > 0
    assert (work.path / "figures" / "numbers.csv").stat().st_size > 0
    files = sorted((work.path / "results").rglob("*.nc"))
    files = [p for p in files if p.parent.parent.name != "numbers"]  # the table: tests/test_cf.py
    stages = collections.Counter(p.relative_to(work.path / "results").parts[0] for p in files)
    # sampling: 3 shards + 2 gathers (the finite-size average is computed by the gathers)
    expected = {"data": 1, "posterior": 1, "sampling": 5, "theory": 4}
    assert stages == expected, stages
    for path in files:
        ds = read_dataset(path)
        for attr in ("title", "stage", "params", "itscale_version", "git_commit", "seed"):
            assert attr in ds.attrs, (path, attr)
        assert ds.attrs["git_commit"] == "unknown"  # the copied sources are not a git checkout
        assert path.parent.name == ds.attrs["key"]
        for name in ds.variables:
            assert {"long_name", "units"} <= set(ds[name].attrs), (path, name)
            assert ds[name].dtype.kind != "f" or ds[name].dtype.itemsize == 8
        assert not any(p.name.endswith(".tmp") for p in path.parent.iterdir())
    for path in (p for p in files if p.name == "sampling.nc"):
        ds = read_dataset(path)
        for var in ("delta_mc", "delta_mc_se", "delta_rb", "delta_rb_se", "delta_fs"):
            assert ds[var].dims == ("replicate", "T", "c", "k"), var
        assert ds.sizes["replicate"] == dataset_params(ds)["replicates"]
        # the Monte Carlo estimates agree with the exact average for the same training sets
        assert float((abs(ds["delta_rb"] - ds["delta_fs"]) / ds["delta_rb_se"]).max()) < 5
        assert float((abs(ds["delta_mc"] - ds["delta_rb"]) / ds["delta_mc_se"]).max()) < 5
    for path in (p for p in files if p.name == "theory.nc"):
        ds = read_dataset(path)
        for var in ("delta_de", "delta_hte", "delta_asymptote", "multiplier"):
            assert ds[var].dims == ("T", "c", "k"), var
        assert ds.attrs["seed"] == "none" and "seed" not in dataset_params(ds)
    for stage in ("data", "posterior", "sampling", "theory", "figures"):
        logs = list((work.path / "logs" / stage).rglob("*.log"))
        assert logs and all("wrote" in p.read_text() for p in logs), stage


def test_bad_config_stops_before_any_job(work):
    """Negative sigma, k < 1, T < 0, an unknown key and n_test = 0: the run stops before any
    job, every problem reported with its key path and allowed range, nothing written."""
    res = work.side["bad"]
    assert res.returncode != 0
    where = "config.experiments.tiny_softmax."
    for fragment in [
        "model.sigma = -0.1 is not allowed: must be number > 0",
        "grids.k[0] = 0 is not allowed: must be integer >= 1",
        "grids.T[0] = -1.0 is not allowed: must be number >= 0",
        "sampling: unknown key(s) 'n_tset'; allowed keys: replicates, n_test",
        "sampling.n_test = 0 is not allowed: must be integer >= 1",
    ]:
        assert where + fragment in res.output, res.output
    assert not (work.bad_dir / "results").exists()
    assert not (work.bad_dir / "figures").exists()


def test_lint_clean(work):
    res = work.side["lint"]
    assert res.returncode == 0 and "Congratulations" in res.output, res.output


def test_snakefmt_clean():
    if shutil.which("snakefmt") is None:
        pytest.skip("snakefmt is not installed")
    files = ["Snakefile", *map(str, sorted((ROOT / "workflow" / "rules").glob("*.smk")))]
    proc = subprocess.run(["snakefmt", "--check", *files], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --------------------------------------------------------------------------------------------
# reruns
# --------------------------------------------------------------------------------------------


def test_nothing_to_do_after_full_run(scenarios):
    res = scenarios["unchanged"].check()
    assert res.jobs == [] and "Nothing to be done" in res.output


def test_change_T_grid_reruns_that_experiment_only(scenarios):
    jobs = scenarios["T_grid"].check().jobs
    assert rule_counts(jobs) == {
        "sampling_shard": 1,
        "sampling": 1,
        "theory": 1,
        "figure": 1,
        "publish": 1,
        "numbers": 1,
    }
    figures = [out for rule, outs in jobs if rule == "figure" for out in outs]
    assert len(figures) == 1 and figures[0].endswith("/tiny_softmax.png"), figures


def test_change_gamma_reruns_posterior_onward(scenarios):
    assert rule_counts(scenarios["gamma"].check().jobs) == {
        "posterior": 1,
        "sampling_shard": 3,
        "sampling": 2,
        "theory": 2,
        "figure": 2,
        "publish": 1,
        "numbers": 1,
    }


def test_change_plot_style_reruns_figures_only(scenarios):
    # every figure: two simulated experiments (rule figure), one theory-only (theory_figure)
    counts = rule_counts(scenarios["plot_style"].check().jobs)
    assert counts == {"figure": 2, "theory_figure": 1, "publish": 1}


def test_change_n_test_reruns_that_experiment_from_data(scenarios):
    assert rule_counts(scenarios["n_test"].check().jobs) == {
        "data": 1,
        "posterior": 1,
        "sampling_shard": 1,
        "sampling": 1,
        "figure": 1,
        "publish": 1,
        "numbers": 1,
    }


@pytest.fixture(scope="module")
def reruns(work, scenarios, tmp_path_factory) -> dict:
    """Two real runs at once: the changed T grid (in its scenario clone), and a one-shard copy
    of tiny_best_of_k (in a new clone); then the T grid is reverted and dry-run."""
    t_clone = scenarios["clones"]["T_grid"]
    shard_clone = work.clone(tmp_path_factory.mktemp("shards") / "wd")
    config = shard_clone.read_config()
    exp = copy.deepcopy(config["experiments"]["tiny_best_of_k"])
    exp["sampling"]["shards"] = 1
    config["experiments"]["tiny_one_shard"] = exp
    shard_clone.write_config(config)
    plan = shard_clone.plan()
    (two,) = plan.experiments["tiny_best_of_k"].sampling_paths
    (one,) = plan.experiments["tiny_one_shard"].sampling_paths
    runs = {
        "T_grid": t_clone.start("--cores", "1"),
        "shards": shard_clone.start("--cores", "1", one),
    }
    out = {name: run.wait().check() for name, run in runs.items()}
    t_clone.config_path.write_text(work.config_path.read_text())  # revert
    out["reverted"] = t_clone.dry_run().wait()
    out["shard_paths"] = (shard_clone.path / one, shard_clone.path / two)
    return out


def test_revert_reruns_nothing_but_published_copies(reruns):
    """After running the changed T grid and reverting it, every stage result (the numbers
    table too, keyed by what it reads) is still cached; only the copies in figures/ are
    refreshed, by the one publish job."""
    assert rule_counts(reruns["reverted"].check().jobs) == {"publish": 1}


# --------------------------------------------------------------------------------------------
# reproducibility and sharding
# --------------------------------------------------------------------------------------------


def test_cores_1_and_2_give_identical_netcdf(work, scenarios):
    """A fresh 1-core run (one experiment's datasets) is byte-identical to the 2-core run."""
    scenarios["cores1"].check()
    ours, theirs = work.netcdf_files(), scenarios["cores1_files"]
    assert len(theirs) == 6  # data, posterior, 2 shards, sampling (with finite size), theory
    assert set(theirs) <= set(ours)
    different = [name for name in theirs if theirs[name] != ours[name]]
    assert not different, different


def test_shards_combine_to_unsharded(reruns):
    """tiny_best_of_k runs with 2 shards; 1 shard gives identical numbers (issue 5).

    The one-shard copy shares data and posterior with the original (shards only enter the
    sampling key), so only its shard and gather jobs run.
    """
    from itscale.pipeline.datasets import read_dataset

    assert rule_counts(reruns["shards"].jobs) == {"sampling_shard": 1, "sampling": 1}
    one, two = (read_dataset(path) for path in reruns["shard_paths"])
    for var in ("delta_mc", "delta_mc_se", "delta_rb", "delta_rb_se", "delta_fs"):
        assert one[var].equals(two[var]), var


def test_editing_montecarlo_reruns_sampling_not_theory(work):
    """Last on the shared library copy: edit a function in montecarlo.py, restore it after."""
    module = work.src / "itscale" / "simulation" / "montecarlo.py"
    text, stat = module.read_text(), module.stat()
    edited = text.replace('"""Mean and standard error', '"""Mean and standard error (edited)', 1)
    assert edited != text
    try:
        module.write_text(edited)
        counts = rule_counts(work.dry_run().wait().check().jobs)
    finally:
        module.write_text(text)
        os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert counts == {
        "sampling_shard": 3,
        "sampling": 2,
        "figure": 2,
        "publish": 1,
        "numbers": 1,
    }
