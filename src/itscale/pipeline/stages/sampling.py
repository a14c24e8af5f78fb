"""Stage "sampling": Monte Carlo estimate of delta(k, T, c), in shards of test-input blocks.

:func:`shard` runs :func:`itscale.simulation.montecarlo.run` for every replicate and both
estimators (sampled candidates with common random numbers, and Rao-Blackwellised exact
per-input values) over a range of test-input blocks and keeps the per-block sufficient
statistics; :func:`gather` combines the shards exactly, in block order
(:func:`itscale.simulation.montecarlo.combine`), so the result does not depend on the shard
split, and adds the finite-size exact average of the same training sets.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from itscale.pipeline.datasets import annotate, provenance_attrs
from itscale.pipeline.resources import BASE_MB
from itscale.pipeline.stages import finite_size
from itscale.simulation import montecarlo

__all__ = ["ESTIMATORS", "shard", "gather", "sampling_job"]

_LOG = logging.getLogger("itscale.sampling")

#: (short name in the shard datasets, montecarlo estimator, variable in the sampling dataset)
ESTIMATORS: tuple[tuple[str, str, str], ...] = (
    ("sampled", "sampled", "delta_mc"),
    ("rb", "rao_blackwell", "delta_rb"),
)

#: Variables of the finite-size dataset about the fitted training sets, copied by gather.
_FITTED = ("s2_fitted", "V_fitted", "rho_fitted", "delta_de_fitted", "decay_exponent_fitted")


def _grids(p: Mapping[str, Any]) -> dict[str, np.ndarray]:
    return {
        "T": np.asarray(p["T"], dtype=np.float64),
        "c": np.asarray(p["c"], dtype=np.float64),
        "k": np.asarray(p["k"], dtype=np.int64),
    }


def shard(
    posterior: xr.Dataset,
    p: Mapping[str, Any],
    blocks: Sequence[int],
    *,
    index: int = 0,
    mem_mb: int = 1000,
    workers: int = 1,
    log: logging.Logger = _LOG,
) -> xr.Dataset:
    """Per-block statistics of shard ``index`` (test-input ``blocks``) of one sampling job.

    Variables <est>_mean and <est>_m2 (replicate, block, T, c, k) for est in sampled, rb, and
    count (block). The engine's memory budget is what ``mem_mb`` leaves after the libraries
    and the predictive arrays (it only sets the chunking; results never depend on it).
    """
    blocks = [int(b) for b in blocks]
    budget = max(64 * 2**20, (int(mem_mb) - BASE_MB) * 2**20 - 2 * posterior.nbytes)
    log.info(
        "shard %d/%d: blocks %d..%d of %d inputs, %d replicate(s), trials=%d, k_max=%d, "
        "%d T x %d c, memory budget %d MiB",
        *(index, p["shards"], blocks[0], blocks[-1], p["block_size"], p["replicates"]),
        *(p["trials"], max(p["k"]), len(p["T"]), len(p["c"]), budget // 2**20),
    )
    lo = blocks[0] * p["block_size"]
    hi = min((blocks[-1] + 1) * p["block_size"], p["n_test"])
    out: dict[str, list] = {}
    count = None
    for rep in range(p["replicates"]):
        sel = posterior.isel(replicate=rep, test_input=slice(lo, hi))
        for est, estimator, _ in ESTIMATORS:
            engine = {"memory_budget": budget, "workers": workers}
            stats = _run(sel, p, blocks, rep, (est, estimator), engine, log)
            count = stats.count
            out.setdefault(f"{est}_mean", []).append(stats.mean)
            out.setdefault(f"{est}_m2", []).append(stats.m2)
    dims = ("replicate", "block", "T", "c", "k")
    ds = xr.Dataset(
        {name: (dims, np.stack(values)) for name, values in out.items()},
        coords={
            "replicate": np.arange(p["replicates"]),
            "block": np.asarray(blocks, dtype=np.int64),
            **_grids(p),
        },
        attrs=provenance_attrs(
            "sampling", p, p["seed"], title=f"itscale Monte Carlo shard {index}"
        ),
    )
    ds["count"] = ("block", np.asarray(count, dtype=np.int64))
    ds.attrs["shard"] = index
    return annotate(ds)


def _run(
    sel: xr.Dataset,
    p: Mapping[str, Any],
    blocks: list[int],
    rep: int,
    estimator: tuple[str, str],
    engine: Mapping[str, Any],
    log: logging.Logger,
) -> montecarlo.Stats:
    """The engine on one replicate's predictive arrays ``sel`` (m, s, mu_T over this shard's
    test inputs) for one ``estimator`` (short name, montecarlo name), logging progress per
    block; ``engine``: memory_budget and workers. Checks it returned exactly ``blocks``."""
    est, name = estimator
    t0 = time.perf_counter()

    def progress(done, total):
        log.info(
            "replicate %d, %s estimator: block %d/%d (%.1f s)",
            *(rep, est, done, total, time.perf_counter() - t0),
        )

    stats = montecarlo.run(
        sel["m"].values,
        sel["s"].values,
        sel["mu_T"].values,
        k_grid=p["k"],
        T_grid=p["T"],
        c_grid=p["c"],
        trials=p["trials"],
        seed=p["seed"],
        replicate=rep,
        block_size=p["block_size"],
        first_block=blocks[0],
        rao_blackwell=name == "rao_blackwell",
        progress=progress,
        **engine,
    )
    if list(stats.blocks) != blocks:
        raise RuntimeError(f"engine returned blocks {stats.blocks.tolist()}, expected {blocks}")
    return stats


def _combined(
    shards: Sequence[xr.Dataset], p: Mapping[str, Any], rep: int, est: str, estimator: str
):
    """(mean, se) over (T, c, k) of one replicate and estimator, all shards combined."""
    g = _grids(p)
    parts = [
        montecarlo.Stats(
            k_grid=g["k"],
            T_grid=g["T"],
            c_grid=g["c"],
            trials=p["trials"],
            seed=p["seed"],
            replicate=rep,
            estimator=estimator,
            blocks=ds["block"].values,
            count=ds["count"].values,
            mean=ds[f"{est}_mean"].isel(replicate=rep).values,
            m2=ds[f"{est}_m2"].isel(replicate=rep).values,
        )
        for ds in shards
    ]
    stats = montecarlo.combine(parts)
    if stats.n_inputs != p["n_test"]:
        raise RuntimeError(f"shards cover {stats.n_inputs} inputs, expected {p['n_test']}")
    return montecarlo.summarise(stats)


def gather(
    shards: Sequence[xr.Dataset],
    finite_size: xr.Dataset,
    p: Mapping[str, Any],
    log: logging.Logger = _LOG,
) -> xr.Dataset:
    """Dataset of the sampling stage from its shards and the finite-size dataset.

    Variables (replicate, T, c, k), units of y^2: delta_mc, delta_mc_se (sampled estimator),
    delta_rb, delta_rb_se (Rao-Blackwellised), delta_fs (finite-size exact average); the
    fitted training sets' s2_fitted, V_fitted, rho_fitted, decay_exponent_fitted (replicate)
    and delta_de_fitted (replicate, T, c, k), copied from the finite-size dataset; scalars
    sigma2 and n_samples (test inputs x trials per replicate).
    """
    log.info("gathering %d shard(s) for %d replicate(s)", len(shards), p["replicates"])
    result: dict[str, list] = {}
    for rep in range(p["replicates"]):
        for est, estimator, name in ESTIMATORS:
            mean, se = _combined(shards, p, rep, est, estimator)
            result.setdefault(name, []).append(mean)
            result.setdefault(f"{name}_se", []).append(se)
    dims = ("replicate", "T", "c", "k")
    ds = xr.Dataset(
        {name: (dims, np.stack(values)) for name, values in result.items()},
        coords={"replicate": np.arange(p["replicates"]), **_grids(p)},
        attrs=provenance_attrs(
            "sampling", p, p["seed"], title="itscale Monte Carlo estimate of delta"
        ),
    )
    ds["delta_fs"] = finite_size["delta_fs"].transpose(*dims)
    for name in _FITTED:  # the fitted training sets' moments and the DE theory at their rho
        if name in finite_size:
            ds[name] = finite_size[name]
    ds["sigma2"] = ((), p["sigma"] ** 2)
    ds["n_samples"] = ((), p["n_test"] * p["trials"])
    ds["n_samples"].attrs.update(
        long_name="test inputs x trials per replicate (sampled estimator)", units="1"
    )
    return annotate(ds)


def sampling_job(
    posterior: xr.Dataset,
    shards: Sequence[xr.Dataset],
    p: Mapping[str, Any],
    log: logging.Logger = _LOG,
) -> xr.Dataset:
    """The sampling (gather) job: ``shards`` combined exactly (:func:`gather`), with the
    finite-size exact average of the same training sets computed from ``posterior``."""
    return gather(shards, finite_size.build(posterior, p, log), p, log)
