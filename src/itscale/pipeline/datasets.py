"""NetCDF datasets written by the pipeline: provenance, CF attributes, atomic and reproducible I/O.

Every pipeline stage writes exactly one NetCDF-4 file (engine netcdf4, float64 variables, zlib
compression) holding an :class:`xarray.Dataset` with named dimensions (``k``, ``T``, ``c``,
``n``, ``replicate``, ``test_input``, ...), CF-style ``long_name`` and ``units`` on every
variable and coordinate, and global attributes that say what produced it:

    title, stage, params (the resolved stage parameters as canonical JSON), key (their hash),
    itscale_version, git_commit, seed, Conventions.

Nothing time- or host-dependent is written, so recomputing a stage gives a byte-identical
file. Files are written to a temporary name in the destination directory and renamed into
place with :func:`os.replace`, so a partially written file never carries the final name.

This module imports only numpy/xarray and :mod:`itscale` metadata: every stage script imports
it, so it must not pull in any of the maths modules (that would make every stage depend on
every module for rerun purposes). xarray and numpy are imported inside the functions that need
them, so importing this module is cheap.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import itscale
from itscale.pipeline.params import canonical_json, params_key

if TYPE_CHECKING:  # xarray/numpy are imported lazily: the Snakefile imports this module's hashing
    import xarray as xr

__all__ = [
    "ATTRS",
    "git_commit",
    "provenance_attrs",
    "with_attrs",
    "annotate",
    "check_dataset",
    "atomic_output",
    "write_dataset",
    "read_dataset",
    "dataset_params",
    "stage_logger",
    "log_job_context",
    "use_threads",
]

#: CF attributes (long_name, units) of every variable and coordinate the pipeline writes.
#: The model is dimensionless (y, x and w carry no physical unit), hence units "1".
ATTRS: dict[str, tuple[str, str]] = {
    # coordinates
    "replicate": ("replicate index (independent teacher and training set)", "1"),
    "test_input": ("test input index", "1"),
    "train_input": ("training input index", "1"),
    "feature": ("input feature index", "1"),
    "feature_T": ("input feature index (second axis of a d x d matrix)", "1"),
    "k": ("number of candidates sampled at inference", "1"),
    "T": ("softmax temperature of the judge selection (0 = best-of-k)", "1"),
    "c": ("judge misspecification c, mu_R = mu_T - c (m - mu_T)", "1"),
    "n": ("number of training samples", "1"),
    "shard": ("Monte Carlo shard index", "1"),
    "block": ("test-input block index (random-stream key)", "1"),
    # data stage
    "w_T": ("teacher weights", "1"),
    "X_train": ("training inputs", "1"),
    "y_train": ("training labels", "1"),
    "X_test": ("test inputs", "1"),
    "w_norm2": ("teacher norm |w_T|^2 / d", "1"),
    # posterior stage
    "post_mean": ("posterior mean of the weights mu_w", "1"),
    "post_chol": ("lower Cholesky factor of the posterior precision A", "1"),
    "trace_Ainv": ("trace of the posterior covariance tr(A^-1)", "1"),
    "trace_Ainv2": ("trace of the squared posterior covariance tr(A^-2)", "1"),
    "m": ("posterior predictive mean at the test input", "1"),
    "s": ("posterior predictive standard deviation at the test input", "1"),
    "mu_T": ("teacher output x.w_T at the test input", "1"),
    # Monte Carlo / finite-size stage
    "delta_mc": ("generalization error, sampled estimator, mean over test inputs and trials", "1"),
    "delta_mc_se": ("standard error of delta_mc", "1"),
    "delta_rb": ("generalization error, Rao-Blackwellised estimator, mean over test inputs", "1"),
    "delta_rb_se": ("standard error of delta_rb", "1"),
    "delta_fs": (
        "generalization error, finite-size exact average for the fitted training set",
        "1",
    ),
    "s2_fitted": ("input mean of the fitted posterior's predictive variance s^2(x)", "1"),
    "V_fitted": ("variance over test inputs of the fitted posterior's bias m - mu_T", "1"),
    "rho_fitted": ("difficulty 2 V / s2 of the fitted training set", "1"),
    "n_samples": ("number of Monte Carlo samples averaged", "1"),
    "count": ("number of test inputs in the block", "1"),
    "sampled_mean": ("block mean of per-input trial means, sampled estimator", "1"),
    "sampled_m2": ("block sum of squared deviations of per-input means, sampled estimator", "1"),
    "rb_mean": ("block mean of per-input exact values, Rao-Blackwellised estimator", "1"),
    "rb_m2": ("block sum of squared deviations of per-input exact values", "1"),
    # theory stage
    "delta_de": ("generalization error, deterministic equivalent (exact in k and T)", "1"),
    "delta_hte": ("generalization error, high-temperature expansion", "1"),
    "delta_asymptote": ("generalization error, large-k asymptote", "1"),
    "delta_tilted": ("generalization error, k -> infinity limit at fixed T > 0", "1"),
    "multiplier": ("equivalent-data multiplier M(k, n): delta(1; M n) = delta(k; n)", "1"),
    "q": ("deterministic-equivalent shrinkage q", "1"),
    "R": ("renormalized ridge", "1"),
    "s2": ("deterministic-equivalent predictive variance", "1"),
    "V": ("deterministic-equivalent variance of the bias over test inputs", "1"),
    "rho": ("task difficulty rho = 2 V / s2", "1"),
    "delta1": ("generalization error without selection (k = 1)", "1"),
    "sigma2": ("label-noise variance sigma^2", "1"),
    "c_star_limit": ("k -> infinity optimal judge T / (2 s^2)", "1"),
    "decay_exponent": ("asymptotic best-of-k decay exponent 2 min(1, 1/rho)", "1"),
    # theory stage, curves and optima a figure kind asks for
    "k_fine": ("number of candidates (plotting grid)", "1"),
    "T_fine": ("softmax temperature (plotting grid)", "1"),
    "c_fine": ("judge misspecification c (plotting grid)", "1"),
    "delta_de_fine": ("generalization error, deterministic equivalent (plotting grid)", "1"),
    "delta_hte_fine": ("generalization error, high-temperature expansion (plotting grid)", "1"),
    "delta_asymptote_fine": ("generalization error, large-k asymptote (plotting grid)", "1"),
    "delta_tilted_fine": ("generalization error, k -> infinity limit (plotting grid)", "1"),
    "k_star": ("DE-optimal number of candidates in 1..max(k); -1: none in range", "1"),
    "delta_k_star": ("generalization error at k_star", "1"),
    "T_star": ("DE-optimal temperature T*(k) over [0, infinity]; nan at k = 1", "1"),
    "delta_T_star": ("generalization error at T_star", "1"),
    "c_star": ("DE-optimal judge c*(k, T) within the c range; nan at k = 1", "1"),
    "delta_c_star": ("generalization error at c_star", "1"),
    "n_map": ("number of training samples (multiplier map grid)", "1"),
    "k_map": ("number of candidates (multiplier map grid)", "1"),
    "multiplier_map": ("equivalent-data multiplier M(k, n) over the map grid", "1"),
    "delta_de_map": ("generalization error, deterministic equivalent, over the map grid", "1"),
}

_COMPRESSION = {"zlib": True, "complevel": 4, "shuffle": True}


def git_commit() -> str:
    """Commit of the source tree itscale is imported from, "+dirty" if src/ has local changes.

    ``ITSCALE_GIT_COMMIT`` in the environment takes precedence (for nodes without git);
    "unknown" outside a git checkout or without a commit.
    """
    env = os.environ.get("ITSCALE_GIT_COMMIT")
    if env:
        return env
    here = Path(itscale.__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(here), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not commit:
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def provenance_attrs(
    stage: str, params: Mapping[str, Any], seed: int | None, title: str | None = None
) -> dict[str, Any]:
    """Global attributes of a stage dataset (no timestamps, no host names)."""
    if not isinstance(stage, str) or not stage:
        raise ValueError(f"stage must be a non-empty string, got {stage!r}")
    return {
        "title": title or f"itscale {stage} stage",
        "stage": stage,
        "params": canonical_json(dict(params)),
        "key": params_key(stage, params),
        "itscale_version": itscale.__version__,
        "git_commit": git_commit(),
        "seed": "none" if seed is None else int(seed),
        "Conventions": "CF-1.10",
        "source": "itscale (Halder & Pehlevan, arXiv:2512.19905)",
    }


def with_attrs(da: xr.DataArray, long_name: str, units: str = "1", **extra: Any) -> xr.DataArray:
    """Copy of ``da`` with CF ``long_name`` and ``units`` (and any extra attributes) set."""
    return da.assign_attrs(long_name=long_name, units=units, **extra)


def annotate(ds: xr.Dataset, extra: Mapping[str, tuple[str, str]] | None = None) -> xr.Dataset:
    """Fill ``long_name``/``units`` of variables and coordinates from :data:`ATTRS` (or ``extra``).

    Attributes already present are kept. Raises ``ValueError`` naming any variable for which
    no attributes are known, so nothing is ever written without them.
    """
    table = {**ATTRS, **(extra or {})}
    ds = ds.copy()
    for name in list(ds.variables):
        attrs = ds[name].attrs
        if "long_name" in attrs and "units" in attrs:
            continue
        if name not in table:
            raise ValueError(f"variable {name!r} has no long_name/units and none are registered")
        long_name, units = table[name]
        ds[name].attrs.setdefault("long_name", long_name)
        ds[name].attrs.setdefault("units", units)
    return ds


def check_dataset(ds: xr.Dataset) -> None:
    """Raise ``ValueError`` unless every variable is float64/int64 and carries long_name/units."""
    import numpy as np

    for name in ds.variables:
        var = ds[name]
        if "long_name" not in var.attrs or "units" not in var.attrs:
            raise ValueError(f"variable {name!r} lacks long_name/units")
        if var.dtype.kind == "f" and var.dtype != np.float64:
            raise ValueError(f"variable {name!r} must be float64, got {var.dtype}")
    for attr in ("title", "stage", "params", "itscale_version", "git_commit", "seed"):
        if attr not in ds.attrs:
            raise ValueError(f"dataset lacks the global attribute {attr!r}")


def _prepare(ds: xr.Dataset) -> tuple[xr.Dataset, dict[str, dict[str, Any]]]:
    import numpy as np

    ds = ds.copy()
    encoding: dict[str, dict[str, Any]] = {}
    for name in list(ds.variables):
        var = ds[name]
        if var.dtype.kind == "f" and var.dtype != np.float64:
            ds[name] = var.astype(np.float64)
        elif var.dtype.kind in "iub":
            ds[name] = var.astype(np.int64)
        enc: dict[str, Any] = {}
        if name in ds.data_vars and ds[name].ndim > 0:
            enc.update(_COMPRESSION)
        if ds[name].dtype.kind == "f":
            # NaN marks "not applicable" (e.g. an asymptote outside its range); keep it a value.
            enc["_FillValue"] = None
        elif ds[name].dtype.kind in "OU":  # text (judge names, ids): UTF-8 character arrays
            enc.update(dtype="S1", char_dim_name=f"{name}_strlen")
        encoding[name] = enc
        ds[name].encoding = {}
    return ds, encoding


@contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it to ``path`` atomically.

    On any exception the temporary file is removed and ``path`` is left untouched, so a
    half-written output never carries the final name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_dataset(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` to ``path`` as NetCDF-4 (zlib, float64), atomically (temp file + rename).

    Floating variables are stored as float64, integer ones as int64, and text as fixed-width
    UTF-8 character arrays (a ``<name>_strlen`` dimension; no variable-length strings). The
    dataset must already carry the provenance attributes (:func:`provenance_attrs`) and CF
    attributes on every variable (:func:`annotate`); :func:`check_dataset` enforces it.
    """
    ds, encoding = _prepare(ds)
    check_dataset(ds)
    with atomic_output(path) as tmp:
        ds.to_netcdf(tmp, mode="w", format="NETCDF4", engine="netcdf4", encoding=encoding)
    return Path(path)


def read_dataset(path: str | os.PathLike) -> xr.Dataset:
    """Load a pipeline dataset fully into memory (the file is closed on return)."""
    import xarray as xr

    with xr.open_dataset(path, engine="netcdf4") as ds:
        return ds.load()


def dataset_params(ds: xr.Dataset) -> dict[str, Any]:
    """The resolved stage parameters stored in the ``params`` global attribute."""
    return json.loads(ds.attrs["params"])


def use_threads(n: int) -> None:
    """Limit itscale's own thread pools to a job's thread count (``ITSCALE_NUM_THREADS``).

    Snakemake already sets OMP_NUM_THREADS and friends for the numerical libraries; this does
    the same for the exact quadrature of :mod:`itscale.theory.selection`. Results never depend
    on it.
    """
    os.environ["ITSCALE_NUM_THREADS"] = str(max(1, int(n)))


def stage_logger(stage: str, log_path: str | os.PathLike | None) -> logging.Logger:
    """Logger ``itscale.<stage>`` writing timestamped lines to ``log_path`` (or stderr).

    The first line records the SLURM job id (:func:`log_job_context`).
    """
    logger = logging.getLogger(f"itscale.{stage}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    fmt = logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s")
    handlers: list[logging.Handler] = [] if log_path else [logging.StreamHandler()]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
    for handler in handlers:
        handler.setFormatter(fmt)
        logger.addHandler(handler)
    log_job_context(logger)
    return logger


def log_job_context(logger: logging.Logger) -> None:
    """Log ``SLURM_JOB_ID=<id>`` (``none`` outside SLURM) as a job's first line.

    Goes to the job's log only, never into a dataset (datasets stay host-independent);
    tests/test_slurm.py reads it to prove that each job ran under SLURM.
    """
    logger.info("SLURM_JOB_ID=%s", os.environ.get("SLURM_JOB_ID") or "none")
