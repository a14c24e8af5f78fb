"""Paper-scale cost of the Monte Carlo shards, measured on a scaled-down run and extrapolated.

The paper configuration (``config.yaml`` overlaid with ``config/paper.yaml``) is resolved with
``n_test`` cut to ``--n-test`` (default 1000, one block) and one shard; for every simulated
sweep point the data and posterior stages run in-process, then the engine
(:func:`itscale.simulation.montecarlo.run`) runs each replicate with the sampled and the
Rao-Blackwellised estimator, timed in CPU seconds (``time.process_time``, one thread). Both
grow linearly in the number of test inputs (per input x trial), so the paper's cost is the
measured one times ``n_test(paper) / n_test(run)``. The first replicate of the first point
also loads the compiled code; it is reported apart and left out of the per-input rate.

Usage: python benchmarks/bench_paper_scale.py [--n-test 1000] [--points N]
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

from itscale.pipeline.plan import build_plan
from itscale.pipeline.schema import load_yaml, validate_config
from itscale.pipeline.stages import data, posterior
from itscale.simulation import montecarlo

ROOT = Path(__file__).resolve().parents[1]


def merged_config(n_test: int) -> tuple[dict, int]:
    """The paper configuration with n_test cut to ``n_test`` and one shard; the paper's n_test."""
    config = load_yaml(ROOT / "config.yaml")
    paper = load_yaml(ROOT / "config" / "paper.yaml")
    paper_n = None
    for name, exp in paper["experiments"].items():
        smp = copy.deepcopy(exp["sampling"])
        paper_n = smp["n_test"]
        smp.update(n_test=n_test, shards=1, block_size=min(smp["block_size"], n_test))
        config["experiments"][name]["sampling"] = smp
    config.pop("judge_data", None)
    schema = ROOT / "workflow" / "schemas" / "config.schema.yaml"
    return validate_config(config, schema), int(paper_n)


def time_point(p: dict) -> tuple[float, float, float]:
    """CPU seconds of (data + posterior, sampled, Rao-Blackwellised) for one sweep point."""
    t0 = time.process_time()
    post = posterior.build(data.build(p), p)
    prep = time.process_time() - t0
    cpu = {"sampled": 0.0, "rao_blackwell": 0.0}
    for rep in range(p["replicates"]):
        sel = post.isel(replicate=rep)
        for est in cpu:
            t0 = time.process_time()
            montecarlo.run(
                sel["m"].values, sel["s"].values, sel["mu_T"].values,
                k_grid=p["k"], T_grid=p["T"], c_grid=p["c"], trials=p["trials"],
                seed=p["seed"], replicate=rep, block_size=p["block_size"],
                rao_blackwell=est == "rao_blackwell",
            )  # fmt: skip
            cpu[est] += time.process_time() - t0
    return prep, cpu["sampled"], cpu["rao_blackwell"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--points", type=int, default=0, help="first N points only (0: all)")
    args = parser.parse_args()
    config, paper_n = merged_config(args.n_test)
    plan = build_plan(config)
    keys = [
        (name, path.split("/")[2])
        for name, exp in plan.experiments.items()
        for path in exp.sampling_paths
    ]
    if args.points:
        keys = keys[: args.points]
    scale = paper_n / args.n_test
    # warm-up: the compiled code's load, timed apart
    p0 = plan.stage("sampling", keys[0][1])
    t0 = time.process_time()
    warm = dict(p0, replicates=1, n_test=min(16, p0["n_test"]), block_size=min(16, p0["n_test"]))
    time_point(warm)
    print(f"compiled-code load and warm-up: {time.process_time() - t0:.2f} s CPU")
    print(f"n_test {args.n_test} -> paper {paper_n} (x{scale:g}); CPU seconds at the run's scale")
    total = [0.0, 0.0, 0.0]
    for name, key in keys:
        p = plan.stage("sampling", key)
        prep, smp, rb = time_point(p)
        total = [a + b for a, b in zip(total, (prep, smp, rb), strict=True)]
        print(
            f"{name:28s} {len(p['T'])} T x {len(p['c'])} c, k_max {max(p['k'])}: "
            f"data+posterior {prep:6.2f}  sampled {smp:6.2f}  rao-blackwell {rb:6.2f}"
        )
    prep, smp, rb = total
    print(
        f"{len(keys)} points: data+posterior {prep:.2f}  sampled {smp:.2f}  rao-blackwell {rb:.2f}"
    )
    print(
        f"extrapolated to the paper (core-hours): sampled {smp * scale / 3600:.2f}, "
        f"rao-blackwell {rb * scale / 3600:.2f}, total shards {(smp + rb) * scale / 3600:.2f}"
    )


if __name__ == "__main__":
    main()
