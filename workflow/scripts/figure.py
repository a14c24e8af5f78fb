"""Stage "figures": render one experiment's figure with itscale.report.plotting.

Thin Snakemake script: loads the experiment's datasets and calls
``itscale.report.plotting.render(kind, sampling, theory, prefix, experiment=..., style=...)``, which
draws with ``itscale.report.plotting.plot_<kind>`` and saves byte-deterministically and atomically.

Contract with ``itscale.report.plotting`` (see its module docstring)::

    plot_<kind>(sampling, theory, *, experiment, style) -> matplotlib.figure.Figure

    kind        best_of_k, softmax_judge, optimal_temperature, best_judge, compute_vs_data,
                task_difficulty (config: experiments.<name>.figure.kind)
    sampling    list[xarray.Dataset], one per simulated sweep point, in sweep order (empty for
                theory-only experiments): delta_mc, delta_mc_se, delta_rb, delta_rb_se,
                delta_fs over (replicate, T, c, k); scalars sigma2, n_samples;
                attrs["params"] = JSON of the point's resolved parameters
    theory      list[xarray.Dataset], same order: delta_de, delta_hte, delta_asymptote,
                multiplier over (T, c, k); delta_tilted over (T, c); scalars q, R, s2, V, rho,
                delta1, sigma2, w_norm2; attrs["params"]
    experiment  the figure job's parameters: experiment, kind, title, T_unit, plot_style and
                the dataset paths
    style       the config's plot_style
"""

import time
from pathlib import Path

from itscale.pipeline.datasets import read_dataset, stage_logger, use_threads
from itscale.report import plotting


def main(smk) -> None:
    use_threads(smk.threads)
    p = smk.params.p
    log = stage_logger("figures", smk.log[0])
    start = time.perf_counter()
    sampling = [read_dataset(path) for path in smk.input.sampling]
    theory = [read_dataset(path) for path in smk.input.theory]
    log.info(
        "rendering %s with itscale.report.plotting.plot_%s from %d sampling and %d theory "
        "dataset(s)",
        p["experiment"],
        p["kind"],
        len(sampling),
        len(theory),
    )
    out = Path(smk.output[0])
    fmt = smk.wildcards.ext
    plotting.render(
        p["kind"],
        sampling,
        theory,
        out.with_suffix(""),
        experiment=p,
        style=p["plot_style"],
        formats=[fmt],
    )
    log.info("wrote %s in %.2f s", out, time.perf_counter() - start)


main(snakemake)  # noqa: F821 - injected by Snakemake
