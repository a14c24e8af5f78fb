"""Stage "finite_size": exact input average of delta(k, T, c) for each fitted training set.

Thin Snakemake script around itscale.theory.finite_size.delta_fitted (2-D Gauss-Hermite average over
(mu_T, m), no Monte Carlo); the result sits next to the Monte Carlo estimate of the same
training sets in the sampling dataset.
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
from itscale.simulation.posterior import Posterior
from itscale.theory.finite_size import delta_fitted, fitted_input_moments


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
    moments = []
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
        mom = fitted_input_moments(post, sel["w_T"].values, S=p["S"])
        moments.append((mom.s2_mean, mom.var_b, 2.0 * mom.var_b / mom.s2_mean))
        log.info("replicate %d done in %.2f s", rep, time.perf_counter() - t0)
    s2_fit, var_b_fit, rho_fit = (np.asarray(v) for v in zip(*moments, strict=True))
    ds = xr.Dataset(
        {
            "delta_fs": (("replicate", "T", "c", "k"), np.stack(values)),
            "s2_fitted": ("replicate", s2_fit),
            "V_fitted": ("replicate", var_b_fit),
            "rho_fitted": ("replicate", rho_fit),
        },
        coords={"replicate": post_ds["replicate"].values, "T": T, "c": c, "k": k},
        attrs=provenance_attrs(
            "finite_size", p, p["seed"], title="itscale finite-size exact average"
        ),
    )
    write_dataset(annotate(ds), smk.output[0])
    log.info("wrote %s in %.2f s", smk.output[0], time.perf_counter() - start)


main(snakemake)  # noqa: F821 - injected by Snakemake
