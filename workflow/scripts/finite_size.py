"""Stage "finite_size": exact input average of delta(k, T, c) for each fitted training set.

Thin Snakemake script around itscale.finite_size.delta_fitted (2-D Gauss-Hermite average over
(mu_T, m), no Monte Carlo); the result sits next to the Monte Carlo estimate of the same
training sets in the sampling dataset.
"""

import time

import numpy as np
import xarray as xr

from itscale.datasets import (
    annotate,
    provenance_attrs,
    read_dataset,
    stage_logger,
    use_threads,
    write_dataset,
)
from itscale.finite_size import delta_fitted
from itscale.posterior import Posterior


def main(smk) -> None:
    use_threads(smk.threads)
    p = smk.params.p
    log = stage_logger("finite_size", smk.log[0])
    log.info(
        "finite-size exact average: %d replicate(s), %d k x %d T x %d c",
        p["replicates"],
        len(p["k"]),
        len(p["T"]),
        len(p["c"]),
    )
    start = time.perf_counter()
    post_ds = read_dataset(smk.input.posterior)
    k = np.asarray(p["k"], dtype=np.int64)
    T = np.asarray(p["T"], dtype=np.float64)
    c = np.asarray(p["c"], dtype=np.float64)
    values = []
    for rep in range(p["replicates"]):
        sel = post_ds.isel(replicate=rep)
        post = Posterior(
            mean=sel["post_mean"].values,
            chol=sel["post_chol"].values,
            sigma=p["sigma"],
            gamma=p["gamma"],
        )
        t0 = time.perf_counter()
        values.append(delta_fitted(k, T, post, sel["w_T"].values, S=p["S"], c=c))  # (T, c, k)
        log.info("replicate %d done in %.2f s", rep, time.perf_counter() - t0)
    ds = xr.Dataset(
        {"delta_fs": (("replicate", "T", "c", "k"), np.stack(values))},
        coords={"replicate": post_ds["replicate"].values, "T": T, "c": c, "k": k},
        attrs=provenance_attrs(
            "finite_size", p, p["seed"], title="itscale finite-size exact average"
        ),
    )
    write_dataset(annotate(ds), smk.output[0])
    log.info("wrote %s in %.2f s", smk.output[0], time.perf_counter() - start)


main(snakemake)  # noqa: F821 - injected by Snakemake
