"""Stage "posterior": fitted posterior of every replicate and the predictive on the test inputs.

Thin Snakemake script: fitting and prediction are itscale.simulation.posterior; this file reads
the data dataset, evaluates the predictive block by block and writes one NetCDF dataset.
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
from itscale.simulation.posterior import fit_posterior, posterior_traces, predictive


def main(smk) -> None:
    use_threads(smk.threads)
    p = smk.params.p
    log = stage_logger("posterior", smk.log[0])
    log.info(
        "fitting %d replicate(s): n=%d d=%d sigma=%g gamma=%g; predictive on %d test inputs",
        p["replicates"],
        p["n"],
        p["d"],
        p["sigma"],
        p["gamma"],
        p["n_test"],
    )
    start = time.perf_counter()
    data = read_dataset(smk.input.data)
    out = {
        name: []
        for name in ("post_mean", "post_chol", "trace_Ainv", "trace_Ainv2", "m", "s", "mu_T")
    }
    block = p["block_size"]
    for rep in range(p["replicates"]):
        X = data["X_train"].isel(replicate=rep).values
        y = data["y_train"].isel(replicate=rep).values
        w_T = data["w_T"].isel(replicate=rep).values
        X_test = data["X_test"].isel(replicate=rep).values
        post = fit_posterior(X, y, sigma=p["sigma"], gamma=p["gamma"])
        m = np.empty(p["n_test"])
        s2 = np.empty(p["n_test"])
        for lo in range(0, p["n_test"], block):
            m[lo : lo + block], s2[lo : lo + block] = predictive(post, X_test[lo : lo + block])
        tr1, tr2 = posterior_traces(post)
        out["post_mean"].append(post.mean)
        out["post_chol"].append(post.chol)
        out["trace_Ainv"].append(tr1)
        out["trace_Ainv2"].append(tr2)
        out["m"].append(m)
        out["s"].append(np.sqrt(s2))
        out["mu_T"].append(X_test @ w_T)
        log.info(
            "replicate %d: tr A^-1 = %.6g, mean s^2 / sigma^2 = %.6g",
            rep,
            tr1,
            float(np.mean(s2)) / p["sigma"] ** 2,
        )
    dims = {
        "post_mean": ("replicate", "feature"),
        "post_chol": ("replicate", "feature", "feature_T"),
        "trace_Ainv": ("replicate",),
        "trace_Ainv2": ("replicate",),
        "m": ("replicate", "test_input"),
        "s": ("replicate", "test_input"),
        "mu_T": ("replicate", "test_input"),
    }
    ds = xr.Dataset(
        {
            name: (dims[name], np.stack([np.asarray(v) for v in values]))
            for name, values in out.items()
        },
        coords={
            "replicate": data["replicate"].values,
            "feature": data["feature"].values,
            "feature_T": data["feature"].values,
            "test_input": data["test_input"].values,
        },
        attrs=provenance_attrs("posterior", p, p["seed"], title="itscale posterior and predictive"),
    )
    ds["w_T"] = data["w_T"]
    ds["w_norm2"] = data["w_norm2"]
    write_dataset(annotate(ds), smk.output[0])
    log.info("wrote %s in %.2f s", smk.output[0], time.perf_counter() - start)


main(snakemake)  # noqa: F821 - injected by Snakemake
