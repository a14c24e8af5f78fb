"""Shared fixture: the tiny pipeline run once for every integration test module."""

from __future__ import annotations

import pytest
from workdirs import ROOT, Workdir


def _bad_values(config):
    exp = config["experiments"]["tiny_softmax"]
    exp["model"]["sigma"] = -0.1
    exp["grids"]["k"] = [0, 1]
    exp["grids"]["T"] = [-1.0]
    exp["sampling"]["n_tset"] = 5
    exp["sampling"]["n_test"] = 0


@pytest.fixture(scope="session")
def work(tmp_path_factory) -> Workdir:
    """The tiny pipeline run once from clean with 2 cores. Meanwhile, in their own dirs, a run
    with bad config values and `snakemake --lint` on the default config (work.side)."""
    base = tmp_path_factory.mktemp("pipeline")
    wd = Workdir.create(base / "wd")
    bad = Workdir.create(base / "bad", src=wd.src)
    config = bad.read_config()
    _bad_values(config)
    bad.write_config(config)
    lint = Workdir.create(base / "lint", src=wd.src, config=ROOT / "config.yaml")
    side = {"bad": bad.start("--cores", "1"), "lint": lint.start("--lint")}
    wd.full_run = wd.snakemake("--cores", "2").check()
    wd.side = {name: run.wait() for name, run in side.items()}
    wd.bad_dir = bad.path
    return wd
