"""Helpers for running Snakemake workflows on the local one-node SLURM test cluster.

Used by ``tests/test_slurm.py``; written so that a later test can point the same
functions at the real itscale pipeline (its Snakefile + a tiny config)::

    from harness import run_snakemake, SLURM_PROFILE
    res = run_snakemake(tmp_path, REPO / "workflow" / "Snakefile",
                        profile=SLURM_PROFILE,
                        extra_args=["--configfile", str(tiny_cfg)], timeout=900)
    assert res.returncode == 0, res.diagnostics()

The cluster itself is started by ``tests/cluster/slurm-up.sh`` (see README.md there).
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

CLUSTER_DIR = Path(__file__).resolve().parent
REPO_ROOT = CLUSTER_DIR.parent.parent
TOY_SNAKEFILE = CLUSTER_DIR / "toy" / "Snakefile"
SLURM_PROFILE = REPO_ROOT / "workflow" / "profiles" / "slurm"
LOCAL_PROFILE = REPO_ROOT / "workflow" / "profiles" / "local"
SLURM_UP = CLUSTER_DIR / "slurm-up.sh"

#: node states in which the cluster can run jobs
USABLE_NODE_STATES = {"idle", "mixed", "allocated", "completing"}

#: env vars that would make a test run depend on the caller's setup
_SCRUB_ENV = ("SNAKEMAKE_PROFILE", "SNAKEMAKE_SLURM_PARTITIONS")

#: ``SLURM_JOB_ID=<id>`` at the start of a line (toy rules) or after a log prefix
#: (itscale's stage loggers, itscale.pipeline.datasets.log_job_context); "" or "none" outside SLURM
_JOB_ID_RE = re.compile(r"(?:^|\s)SLURM_JOB_ID=(\S*)[ \t]*$", re.MULTILINE)


def slurm_unavailable_reason(timeout: float = 15.0) -> str | None:
    """Return why the SLURM tests cannot run here, or None if the cluster is usable.

    Checks that ``sinfo`` exists, answers, and reports at least one node in a usable
    state (idle/mixed/allocated), and that the snakemake SLURM executor plugin is
    importable.
    """
    sinfo = shutil.which("sinfo")
    if sinfo is None:
        return (
            "SLURM not available: `sinfo` not on PATH "
            f"(start a test cluster with: bash {SLURM_UP.relative_to(REPO_ROOT)})"
        )
    try:
        proc = subprocess.run(
            [sinfo, "-h", "-o", "%T"],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return f"SLURM not available: `sinfo` did not answer within {timeout:.0f}s"
    if proc.returncode != 0:
        err = (proc.stderr or proc.stdout).strip().splitlines()
        return (
            "SLURM not available: `sinfo -h -o %T` failed "
            f"({err[-1] if err else 'exit ' + str(proc.returncode)}); "
            f"start it with: bash {SLURM_UP.relative_to(REPO_ROOT)}"
        )
    states = {s.strip().rstrip("*~#!%$@^-").lower() for s in proc.stdout.split()}
    if not states & USABLE_NODE_STATES:
        return (
            "SLURM not available: no node is idle/mixed/allocated "
            f"(sinfo states: {sorted(states) or 'none'})"
        )
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        return "snakemake-executor-plugin-slurm is not installed (pip install -e '.[slurm]')"
    return None


@dataclass
class SnakemakeResult:
    """Outcome of one ``run_snakemake`` call."""

    args: list[str]
    returncode: int
    output: str  # stdout and stderr, interleaved
    workdir: Path

    def __repr__(self) -> str:  # keep pytest assertion messages short
        return f"SnakemakeResult(returncode={self.returncode}, workdir={str(self.workdir)!r})"

    @property
    def timed_out(self) -> bool:
        # GNU timeout exits 124 on timeout, 137 if it had to SIGKILL (-k)
        return self.returncode in (124, 137)

    def diagnostics(self, tail: int = 60) -> str:
        """Human-readable summary for assertion messages."""
        lines = self.output.splitlines()
        parts = [
            f"command: {' '.join(self.args)}",
            f"exit code: {self.returncode}" + (" (TIMED OUT)" if self.timed_out else ""),
            f"--- last {tail} lines of snakemake output ---",
            *lines[-tail:],
        ]
        slurm_logs = sorted((self.workdir / ".snakemake" / "slurm_logs").rglob("*.log"))
        for log in slurm_logs[-5:]:
            parts.append(f"--- SLURM log {log.relative_to(self.workdir)} ---")
            parts.append(_tail(log, 30))
        return "\n".join(parts)


def _tail(path: Path, n: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError as exc:  # pragma: no cover - diagnostics only
        return f"<unreadable: {exc}>"


def run_snakemake(
    workdir: Path | str,
    snakefile: Path | str,
    profile: Path | str | None = None,
    extra_args: tuple[str, ...] | list[str] = (),
    timeout: int = 600,
    targets: tuple[str, ...] | list[str] = (),
    env: dict[str, str] | None = None,
) -> SnakemakeResult:
    """Run snakemake in ``workdir`` under ``timeout -k 10 <timeout>``.

    ``profile`` is passed as ``--workflow-profile`` (a directory with config.yaml).
    Without a profile, add e.g. ``--cores 2`` via ``extra_args``. Snakemake ignores
    SIGTERM while it waits on cluster jobs, hence the ``-k 10`` SIGKILL fallback.
    ``env`` adds/overrides environment variables (sbatch passes them on, ``--export=ALL``).
    The combined output is also written to ``workdir/snakemake-run.<n>.log``.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    args: list[str] = []
    if shutil.which("timeout"):
        args += ["timeout", "-k", "10", str(int(timeout))]
    # targets first: options such as --config take any number of values and would
    # swallow targets that follow them
    args += [sys.executable, "-m", "snakemake", *targets, "--snakefile", str(snakefile)]
    args += ["--directory", str(workdir)]
    if profile is not None:
        args += ["--workflow-profile", str(profile)]
    args += list(extra_args)

    extra_env = dict(env or {})
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB_ENV}
    # never inherit a surrounding job's identity (e.g. pytest itself run via sbatch)
    env = {k: v for k, v in env.items() if not k.startswith("SLURM_")}
    env.update(extra_env)
    try:
        proc = subprocess.run(
            args,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout + 60,  # backstop if `timeout` itself is missing
        )
        rc, out = proc.returncode, proc.stdout
    except subprocess.TimeoutExpired as exc:
        rc = 124
        out = (
            exc.stdout.decode(errors="replace")
            if isinstance(exc.stdout, bytes)
            else (exc.stdout or "")
        )
    n = len(list(workdir.glob("snakemake-run.*.log")))
    (workdir / f"snakemake-run.{n}.log").write_text(out)
    return SnakemakeResult(args=args, returncode=rc, output=out, workdir=workdir)


def slurm_job_ids_in_logs(log_dir: Path | str) -> dict[str, list[str]]:
    """Map each ``*.log`` under ``log_dir`` to the SLURM_JOB_ID values it recorded.

    Rules write ``SLURM_JOB_ID=$SLURM_JOB_ID`` lines (the itscale scripts log
    ``... SLURM_JOB_ID=<id>``); an empty value or ``none`` means the job did not run
    under SLURM.
    """
    log_dir = Path(log_dir)
    return {
        str(p.relative_to(log_dir)): _JOB_ID_RE.findall(p.read_text())
        for p in sorted(log_dir.rglob("*.log"))
    }


def slurm_job_states(job_ids: list[str] | set[str]) -> dict[str, str]:
    """States of the given jobs as squeue reports them (finished jobs stay visible
    for MinJobAge seconds; the test cluster uses 600)."""
    if not job_ids:
        return {}
    proc = subprocess.run(
        ["squeue", "-h", "--states=all", "-o", "%i|%T", "-j", ",".join(sorted(job_ids))],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    states = {}
    for line in proc.stdout.splitlines():
        if "|" in line:
            jid, state = line.split("|", 1)
            states[jid.strip()] = state.strip()
    return states


def compare_trees(a: Path | str, b: Path | str) -> list[str]:
    """Return relative paths that differ between directory trees ``a`` and ``b``
    (missing on either side, or different bytes). Empty list = identical."""
    a, b = Path(a), Path(b)
    fa = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    fb = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    diffs = [f"only in {a}: {p}" for p in sorted(fa - fb)]
    diffs += [f"only in {b}: {p}" for p in sorted(fb - fa)]
    diffs += [
        f"differs: {p}" for p in sorted(fa & fb) if not filecmp.cmp(a / p, b / p, shallow=False)
    ]
    return diffs
