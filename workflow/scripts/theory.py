"""Stage "theory": deterministic-equivalent predictions on the experiment's k, T, c grids.

Thin Snakemake script. Depends on the model parameters only (never on sampled data); the
teacher enters through its expected norm w_norm2 = w_mean^2 + w_std^2. Side by side:

    delta_de         itscale.theory.equivalents.delta_de (exact in k and T)
    delta_hte        itscale.theory.expansions.delta_hte (order hte_order in 1/T; NaN at T = 0)
    delta_asymptote  itscale.theory.expansions.best_of_k_asymptote (T = 0, teacher judge only)
    delta_tilted     k -> inf limit at fixed T (itscale.theory.expansions.delta_tilted_limit)
    multiplier       itscale.theory.expansions.equivalent_data_multiplier M(k, n)

Per-input expressions are averaged over DE test inputs with the same Gauss-Hermite rule in the
bias b ~ N(0, V) (the per-input error depends on the input only through b and b' = (1 + c) b).
"""

import time

import numpy as np
import xarray as xr

from itscale.pipeline.datasets import (
    annotate,
    provenance_attrs,
    stage_logger,
    use_threads,
    write_dataset,
)
from itscale.theory import equivalents, expansions


def main(smk) -> None:
    use_threads(smk.threads)
    p = smk.params.p
    log = stage_logger("theory", smk.log[0])
    start = time.perf_counter()
    k = np.asarray(p["k"], dtype=np.int64)
    T = np.asarray(p["T"], dtype=np.float64)
    c = np.asarray(p["c"], dtype=np.float64)
    w_norm2 = p["w_mean"] ** 2 + p["w_std"] ** 2
    model = {name: p[name] for name in ("n", "d", "S", "sigma", "gamma")}
    de = {key: float(val) for key, val in equivalents.de_summary(**model, w_norm2=w_norm2).items()}
    log.info(
        "theory: n=%d d=%d sigma=%g gamma=%g w_norm2=%g -> q=1-%.3g s2/sigma^2=%.6g rho=%.4g; "
        "%d k x %d T x %d c",
        p["n"],
        p["d"],
        p["sigma"],
        p["gamma"],
        w_norm2,
        de["one_minus_q"],
        de["s2"] / p["sigma"] ** 2,
        de["rho"],
        len(k),
        len(T),
        len(c),
    )
    TT, CC, KK = T[:, None, None], c[None, :, None], k[None, None, :]

    t0 = time.perf_counter()
    delta_de = np.asarray(equivalents.delta_de(KK, TT, c=CC, **model, w_norm2=w_norm2))
    delta_de = np.broadcast_to(delta_de, (T.size, c.size, k.size)).copy()
    log.info("delta_de in %.2f s", time.perf_counter() - t0)

    # High-temperature expansion and k -> inf limit, averaged over DE inputs (mu_T = 0, m = b).
    hte = np.full((T.size, c.size, k.size), np.nan)
    pos = T > 0
    if pos.any():
        hte[pos] = expansions.delta_hte_de(
            k, T[pos], c, s2=de["s2"], V=de["V"], order=p["hte_order"]
        )
    tilted = expansions.delta_tilted_limit_de(T, c, s2=de["s2"], V=de["V"])
    asym = np.full((T.size, c.size, k.size), np.nan)
    asym[(T == 0)[:, None] & (c == 0)[None, :]] = expansions.best_of_k_asymptote(
        k, de["s2"], de["rho"]
    )

    t0 = time.perf_counter()
    mult = np.empty((T.size, c.size, k.size))
    for i, t in enumerate(T):
        for j, cj in enumerate(c):
            mult[i, j] = expansions.equivalent_data_multiplier(
                k,
                p["n"],
                T=float(t),
                c=float(cj),
                d=p["d"],
                S=p["S"],
                sigma=p["sigma"],
                gamma=p["gamma"],
                w_norm2=w_norm2,
            )
    log.info("equivalent-data multiplier in %.2f s", time.perf_counter() - t0)

    dims = ("T", "c", "k")
    ds = xr.Dataset(
        {
            "delta_de": (dims, delta_de),
            "delta_hte": (dims, hte),
            "delta_asymptote": (dims, asym),
            "delta_tilted": (("T", "c"), tilted),
            "multiplier": (dims, mult),
            **{name: ((), de[name]) for name in ("q", "R", "s2", "V", "rho", "delta1")},
            "sigma2": ((), p["sigma"] ** 2),
            "w_norm2": ((), w_norm2),
        },
        coords={"T": T, "c": c, "k": k},
        attrs=provenance_attrs("theory", p, None, title="itscale deterministic-equivalent theory"),
    )
    ds["w_norm2"].attrs.update(long_name="expected teacher norm w_mean^2 + w_std^2", units="1")
    ds["delta_hte"].attrs["order"] = p["hte_order"]
    write_dataset(annotate(ds), smk.output[0])
    log.info("wrote %s in %.2f s", smk.output[0], time.perf_counter() - start)


main(snakemake)  # noqa: F821 - injected by Snakemake
