"""Stage "sampling", one shard: Monte Carlo sufficient statistics over a range of test-input blocks.

Thin Snakemake script around itscale.simulation.montecarlo.run: for every replicate, both estimators
(sampled candidates with common random numbers, and Rao-Blackwellised exact per-input values)
over the shard's blocks. It stores the per-block statistics (count, mean, m2), which the gather
rule combines exactly with itscale.simulation.montecarlo.combine. The engine's memory budget
follows the job's mem_mb resource (it only sets the chunking; results never depend on it).
"""

import time

import numpy as np
import xarray as xr

from itscale.pipeline.datasets import (
    annotate,
    provenance_attrs,
    read_dataset,
    stage_logger,
    use_threads,
    write_dataset,
)
from itscale.simulation import montecarlo

BASE_MB = 400  # interpreter + libraries (itscale.pipeline.config.stage_resources assumes the same)


def main(smk) -> None:
    use_threads(smk.threads)
    p = smk.params.p
    blocks = list(smk.params.blocks)
    shard = int(smk.wildcards.shard)
    log = stage_logger("sampling", smk.log[0])
    post = read_dataset(smk.input.posterior)
    # engine budget: what mem_mb leaves after the libraries and the predictive arrays (x2)
    budget = max(64 * 2**20, (int(smk.resources.mem_mb) - BASE_MB) * 2**20 - 2 * post.nbytes)
    log.info(
        "shard %d/%d: blocks %d..%d of %d inputs, %d replicate(s), trials=%d, k_max=%d, "
        "%d T x %d c, memory budget %d MiB",
        shard,
        p["shards"],
        blocks[0],
        blocks[-1],
        p["block_size"],
        p["replicates"],
        p["trials"],
        max(p["k"]),
        len(p["T"]),
        len(p["c"]),
        budget // 2**20,
    )
    start = time.perf_counter()
    lo = blocks[0] * p["block_size"]
    hi = min((blocks[-1] + 1) * p["block_size"], p["n_test"])
    out: dict[str, list] = {}
    count = None
    for rep in range(p["replicates"]):
        sel = post.isel(replicate=rep, test_input=slice(lo, hi))
        for est, rao_blackwell in (("sampled", False), ("rb", True)):
            t0 = time.perf_counter()

            def progress(done, total, rep=rep, est=est, t0=t0):
                log.info(
                    "replicate %d, %s estimator: block %d/%d (%.1f s)",
                    rep,
                    est,
                    done,
                    total,
                    time.perf_counter() - t0,
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
                rao_blackwell=rao_blackwell,
                memory_budget=budget,
                workers=smk.threads,
                progress=progress,
            )
            if list(stats.blocks) != blocks:
                raise RuntimeError(
                    f"engine returned blocks {stats.blocks.tolist()}, expected {blocks}"
                )
            count = stats.count
            out.setdefault(f"{est}_mean", []).append(stats.mean)
            out.setdefault(f"{est}_m2", []).append(stats.m2)
    dims = ("replicate", "block", "T", "c", "k")
    ds = xr.Dataset(
        {name: (dims, np.stack(values)) for name, values in out.items()},
        coords={
            "replicate": np.arange(p["replicates"]),
            "block": np.asarray(blocks, dtype=np.int64),
            "T": np.asarray(p["T"], dtype=np.float64),
            "c": np.asarray(p["c"], dtype=np.float64),
            "k": np.asarray(p["k"], dtype=np.int64),
        },
        attrs=provenance_attrs(
            "sampling", p, p["seed"], title=f"itscale Monte Carlo shard {shard}"
        ),
    )
    ds["count"] = ("block", np.asarray(count, dtype=np.int64))
    ds.attrs["shard"] = shard
    write_dataset(annotate(ds), smk.output[0])
    log.info("wrote %s in %.2f s", smk.output[0], time.perf_counter() - start)


main(snakemake)  # noqa: F821 - injected by Snakemake
