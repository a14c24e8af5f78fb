"""Stage "sampling", gather: combine the shards exactly and add the finite-size exact average.

Thin Snakemake script: per replicate and estimator, itscale.simulation.montecarlo.combine merges the
per-block statistics of all shards (in block order, so the result does not depend on the
shard split) and itscale.simulation.montecarlo.summarise gives mean and standard error over
test inputs.
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


def main(smk) -> None:
    use_threads(smk.threads)
    p = smk.params.p
    log = stage_logger("sampling", smk.log[0])
    log.info("gathering %d shard(s) for %d replicate(s)", len(smk.input.shards), p["replicates"])
    start = time.perf_counter()
    shards = [read_dataset(path) for path in smk.input.shards]
    k = np.asarray(p["k"], dtype=np.int64)
    T = np.asarray(p["T"], dtype=np.float64)
    c = np.asarray(p["c"], dtype=np.float64)
    result: dict[str, list] = {}
    for rep in range(p["replicates"]):
        for est, estimator, name in (
            ("sampled", "sampled", "delta_mc"),
            ("rb", "rao_blackwell", "delta_rb"),
        ):
            parts = [
                montecarlo.Stats(
                    k_grid=k,
                    T_grid=T,
                    c_grid=c,
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
            mean, se = montecarlo.summarise(stats)
            result.setdefault(name, []).append(mean)
            result.setdefault(f"{name}_se", []).append(se)
    fs = read_dataset(smk.input.finite_size)
    dims = ("replicate", "T", "c", "k")
    ds = xr.Dataset(
        {name: (dims, np.stack(values)) for name, values in result.items()},
        coords={"replicate": np.arange(p["replicates"]), "T": T, "c": c, "k": k},
        attrs=provenance_attrs(
            "sampling", p, p["seed"], title="itscale Monte Carlo estimate of delta"
        ),
    )
    ds["delta_fs"] = fs["delta_fs"].transpose(*dims)
    for name in ("s2_fitted", "V_fitted", "rho_fitted"):  # the fitted training sets' moments
        if name in fs:
            ds[name] = fs[name]
    ds["sigma2"] = ((), p["sigma"] ** 2)
    ds["n_samples"] = ((), p["n_test"] * p["trials"])
    ds["n_samples"].attrs.update(
        long_name="test inputs x trials per replicate (sampled estimator)", units="1"
    )
    write_dataset(annotate(ds), smk.output[0])
    log.info("wrote %s in %.2f s", smk.output[0], time.perf_counter() - start)


main(snakemake)  # noqa: F821 - injected by Snakemake
