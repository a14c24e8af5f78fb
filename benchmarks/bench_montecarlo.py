"""Benchmark of the Monte Carlo engine (itscale.simulation.montecarlo).

Cases (trials = 100 each):
  (a) one finite T, three judges c, every k in 1..99;
  (b) best-of-k (T = 0), one judge, every k in 1..199.
Prints the median wall and CPU time over the repeats, the throughput in candidate draws per
second (inputs x trials x k_max / wall time), the time of the standard-normal draws alone (a
floor for any implementation that draws the same numbers) and a linear extrapolation to
n_test = 1e6 (the engine is linear in n_test: blocks are independent).

Usage: python benchmarks/bench_montecarlo.py [--n-test 100000] [--repeats 3] [--workers 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from itscale.simulation import montecarlo as mc

CASES = {
    "a": dict(k_grid=np.arange(1, 100), T_grid=[1.0], c_grid=[0.0, 0.5, 1.0]),
    "b": dict(k_grid=np.arange(1, 200), T_grid=[0.0], c_grid=[0.0]),
}
TRIALS = 100
BLOCK_SIZE = 10_000


def make_inputs(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Synthetic (m, s, mu_T) of the paper's scale: s ~ 1, bias ~ 0.5 s."""
    rng = np.random.default_rng(0)
    mu_T = rng.normal(0.0, 1.0, n)
    m = 0.8 * mu_T
    s = np.sqrt(1.0 + 0.1 * rng.random(n))
    return m, s, mu_T


def time_call(fn, repeats: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``fn()`` over ``repeats`` calls."""
    walls, cpus = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def rng_floor(n: int, k_max: int, repeats: int) -> float:
    """Median wall seconds to draw n x TRIALS x k_max standard normals in 1e4-row chunks."""
    buf = np.empty((min(n, 160), TRIALS, k_max))

    def draw() -> None:
        gen = np.random.default_rng(1)
        for _ in range(0, n, buf.shape[0]):
            gen.standard_normal(out=buf)

    return time_call(draw, repeats)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-test", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--cases", default="ab")
    args = parser.parse_args()
    m, s, mu_T = make_inputs(args.n_test)
    print(f"n_test={args.n_test} trials={TRIALS} workers={args.workers} repeats={args.repeats}")
    for name in args.cases:
        case = CASES[name]
        k_max = int(case["k_grid"][-1])
        draws = args.n_test * TRIALS * k_max

        def call(case=case) -> None:
            mc.run(
                m, s, mu_T, **case, trials=TRIALS, seed=0, replicate=0,
                block_size=BLOCK_SIZE, workers=args.workers,
            )  # fmt: skip

        wall, cpu = time_call(call, args.repeats)
        floor = rng_floor(args.n_test, k_max, args.repeats)
        scale = 1e6 / args.n_test
        print(
            f"({name}) T={case['T_grid']} c={case['c_grid']} k=1..{k_max}: "
            f"wall {wall:.2f} s, cpu {cpu:.2f} s (this process), "
            f"{draws / wall:.3g} draws/s, {wall / draws * 1e9:.1f} ns/draw; "
            f"normals alone {floor:.2f} s ({floor / wall:.0%}); "
            f"n_test=1e6 extrapolated: {wall * scale:.0f} s"
        )


if __name__ == "__main__":
    main()
