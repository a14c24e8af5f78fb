"""Temporary copies of the workflow for the integration tests (tests/test_pipeline.py,
tests/test_recovery.py): a work dir with its own config and a copy of the library sources
first on PYTHONPATH, snakemake started in it in the background, and the jobs it lists."""

from __future__ import annotations

import collections
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
TINY = ROOT / "config" / "tiny.yaml"
TIMEOUT = 600

__all__ = [
    "ROOT",
    "SCHEMA",
    "TINY",
    "TIMEOUT",
    "Result",
    "Run",
    "Workdir",
    "parse_jobs",
    "rule_counts",
]


@dataclass
class Result:
    args: tuple[str, ...]
    returncode: int
    output: str  # stdout + stderr

    def check(self) -> Result:
        assert self.returncode == 0, f"snakemake {' '.join(self.args)} failed:\n{self.output}"
        return self

    @property
    def jobs(self) -> list[tuple[str, list[str]]]:
        return parse_jobs(self.output)


class Run:
    """A snakemake process started in the background; :meth:`wait` gives its Result."""

    def __init__(self, wd: Workdir, args: tuple[str, ...]):
        self.args = args
        self.log = wd.path.parent / f"{wd.path.name}-{abs(hash(args))}.out"
        with open(self.log, "w") as fh:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "snakemake", *args],
                cwd=wd.path,
                env=wd.env,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so a test can kill it whole
            )

    def wait(self) -> Result:
        code = self.proc.wait(timeout=TIMEOUT)
        return Result(self.args, code, self.log.read_text())


class Workdir:
    """A copy of the workflow with its own config, using a copy of the library sources."""

    def __init__(self, path: Path, src: Path):
        self.path = path
        self.src = src
        pythonpath = os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")]))
        self.env = dict(os.environ, PYTHONPATH=pythonpath)
        self.env.pop("ITSCALE_GIT_COMMIT", None)

    @classmethod
    def create(cls, path: Path, src: Path | None = None, config: Path = TINY) -> Workdir:
        path.mkdir(parents=True)
        shutil.copy2(ROOT / "Snakefile", path / "Snakefile")
        ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
        shutil.copytree(ROOT / "workflow", path / "workflow", ignore=ignore)
        shutil.copy2(config, path / "config.yaml")
        if src is None:
            src = path.parent / (path.name + "-src")
            shutil.copytree(ROOT / "src", src, ignore=ignore)
        return cls(path, src)

    def clone(self, path: Path) -> Workdir:
        """Copy of this work dir (results, logs, metadata; mtimes kept), same library copy."""
        shutil.copytree(self.path, path, symlinks=True)
        return Workdir(path, self.src)

    def start(self, *args: str) -> Run:
        return Run(self, args)

    def snakemake(self, *args: str) -> Result:
        return self.start(*args).wait()

    def dry_run(self) -> Run:
        return self.start("-n", "--cores", "2")

    @property
    def config_path(self) -> Path:
        return self.path / "config.yaml"

    def read_config(self) -> dict:
        return yaml.safe_load(self.config_path.read_text())

    def write_config(self, config: dict) -> None:
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False))

    def plan(self):
        from itscale.pipeline.config import build_plan, validate_config

        return build_plan(validate_config(self.read_config(), SCHEMA))

    def netcdf_files(self) -> dict[str, bytes]:
        return {
            str(p.relative_to(self.path)): p.read_bytes()
            for p in sorted((self.path / "results").rglob("*.nc"))
        }


def parse_jobs(text: str) -> list[tuple[str, list[str]]]:
    """(rule, outputs) of every job snakemake lists (the target rule ``all`` has no output)."""
    jobs, rule = [], None
    for line in text.splitlines():
        head = re.match(r"^(?:local)?rule (\w+):$", line.strip())
        if head:
            rule = head.group(1)
            continue
        out = re.match(r"^\s+output: (.*)$", line)
        if out and rule:
            jobs.append((rule, out.group(1).split(", ")))
            rule = None
    return jobs


def rule_counts(jobs) -> dict[str, int]:
    return dict(collections.Counter(rule for rule, _ in jobs))
