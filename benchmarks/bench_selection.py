"""Per-input cost of the exact selection quadrature (itscale.theory.selection), by route and regime.

Prints the median CPU time (time.process_time) per input (k = 1..100 curves) over --repeats
runs for each temperature T/s^2 in {0, 1e-4, 1e-2, 0.3, 2, 10}, with small judge offsets
b' ~ N(0, 0.5) s and large ones |b'| in [10, 30] s, and the route the inputs take (T = 0,
smooth Gauss-Hermite, robust). CPU time rather than wall clock because the machine is shared:
with one thread it is the process's own work, far less sensitive to other jobs. Run it
single-threaded:

    ITSCALE_NUM_THREADS=1 python benchmarks/bench_selection.py
    ITSCALE_NUM_THREADS=1 python benchmarks/bench_selection.py --module old_selection.py

--module loads another copy of selection.py (e.g. `git show HEAD:src/itscale/selection.py`)
in place of the installed one, so before/after numbers come from the same script.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time

import numpy as np

import itscale.theory._nodes
import itscale.theory.selection

REGIMES = [0.0, 1e-4, 1e-2, 0.3, 2.0, 10.0]


def load(path):
    if path is None:
        return itscale.theory.selection
    spec = importlib.util.spec_from_file_location("selection_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def inputs(n, judge, seed=0):
    """b = (m - mu_T)/s ~ N(0, 0.5); b' = (m - mu_R)/s ~ N(0, 0.5) or |b'| in 10..30."""
    rng = np.random.default_rng(seed)
    b = rng.normal(0.0, 0.5, n)
    if judge == "small":
        b_judge = rng.normal(0.0, 0.5, n)
    else:
        b_judge = rng.choice([-1.0, 1.0], n) * rng.uniform(10.0, 30.0, n)
    return b, b_judge


def route(sel, tau, b_judge):
    if tau == 0:
        return "T=0"
    # the route threshold lives in the node-rule module (in the selection module itself in
    # single-file versions loaded with --module)
    threshold = getattr(sel, "_SMOOTH_TAU", None) or itscale.theory._nodes._SMOOTH_TAU
    smooth = tau >= threshold * (np.abs(b_judge) + 2.0)
    if smooth.all():
        return "smooth"
    return "robust" if not smooth.any() else f"mixed ({smooth.mean():.0%} smooth)"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--module", default=None, help="path of a selection.py to time instead")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--inputs", type=int, default=48, help="inputs per timed call")
    args = parser.parse_args()
    sel = load(args.module)
    k = np.arange(1, 101)
    print(
        f"module {sel.__file__}, threads {sel.num_threads()}, {args.inputs} inputs x k = 1..100, "
        f"median of {args.repeats}"
    )
    for judge in ("small", "large"):
        b, b_judge = inputs(args.inputs, judge)
        for tau in REGIMES:

            def call(tau=tau, b=b, b_judge=b_judge):
                return sel.delta_exact_curves(k, tau, b, 1.0, 0.0, b - b_judge)

            call()  # warm-up (caches of quadrature rules)
            times = []
            for _ in range(args.repeats):
                t0 = time.process_time()
                call()
                times.append(time.process_time() - t0)
            per_input = statistics.median(times) / args.inputs
            print(
                f"T/s^2={tau:<7g} b' {judge:5s} route {route(sel, tau, b_judge):18s} "
                f"{per_input * 1e3:8.3f} ms/input"
            )


if __name__ == "__main__":
    main()
