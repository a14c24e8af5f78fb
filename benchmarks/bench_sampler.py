"""Benchmark of the fused sampler against the engine at 122917b (issue 11 targets).

Cases (one worker, one thread, trials = 100):
  (a) T > 0: one temperature, three judges, every k in 1..99; unit = (candidate draw x judge);
  (b) T = 0: best-of-k, one judge, every k in 1..199; unit = (input x trial).
Every repeat also times one float64 ``np.exp`` (per element, 2^20 values in [-5, 0]); the
script prints medians of the time per unit and of the per-repeat ratio to that ``exp``. The
old engine is ``src/itscale/simulation/montecarlo.py`` of commit 122917b, read with git.

Usage: python benchmarks/bench_sampler.py [--n-test 20000] [--repeats 3] [--no-old]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from itscale.simulation import montecarlo as mc

OLD_COMMIT = "122917b"
TRIALS = 100
CASES = {
    "a": dict(k_grid=np.arange(1, 100), T_grid=[1.0], c_grid=[0.0, 0.5, 1.0]),
    "b": dict(k_grid=np.arange(1, 200), T_grid=[0.0], c_grid=[0.0]),
}


def old_engine():
    """The Monte Carlo module of commit 122917b, imported from a temporary file."""
    root = Path(__file__).resolve().parents[1]
    src = subprocess.run(
        ["git", "-C", str(root), "show", f"{OLD_COMMIT}:src/itscale/simulation/montecarlo.py"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    path = Path(tempfile.mkdtemp()) / "montecarlo_old.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("montecarlo_old", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["montecarlo_old"] = module
    spec.loader.exec_module(module)
    return module


def exp_seconds(x: np.ndarray, out: np.ndarray) -> float:
    """Seconds per element of one float64 np.exp (median of 11 calls)."""
    times = []
    for _ in range(11):
        t0 = time.perf_counter()
        np.exp(x, out=out)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) / x.size


def make_inputs(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Synthetic (m, s, mu_T) of the paper's scale: s ~ 1, bias ~ 0.2 s."""
    rng = np.random.default_rng(0)
    mu_T = rng.normal(0.0, 1.0, n)
    return 0.8 * mu_T, np.sqrt(1.0 + 0.1 * rng.random(n)), mu_T


def measure(engine, case: dict, inputs, units: float, repeats: int) -> tuple[float, float]:
    """Median ns per unit and median ratio to one np.exp."""
    x = np.random.default_rng(1).uniform(-5.0, 0.0, 2**20)
    out = np.empty_like(x)
    per_unit, ratios = [], []
    for _ in range(repeats):
        t_exp = exp_seconds(x, out)
        t0 = time.perf_counter()
        engine.run(*inputs, **case, trials=TRIALS, seed=0, replicate=0, block_size=1000, workers=1)
        t = (time.perf_counter() - t0) / units
        per_unit.append(t * 1e9)
        ratios.append(t / t_exp)
    return statistics.median(per_unit), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-test", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-old", action="store_true")
    args = parser.parse_args()
    inputs = make_inputs(args.n_test)
    engines = {"new": mc} if args.no_old else {"old": old_engine(), "new": mc}
    mc.run(*make_inputs(10), **CASES["a"], trials=2, seed=0, replicate=0, block_size=10)
    mc.run(*make_inputs(10), **CASES["b"], trials=2, seed=0, replicate=0, block_size=10)
    print(f"n_test={args.n_test} trials={TRIALS} repeats={args.repeats} (medians)")
    for name, case in CASES.items():
        k_max, n_c = int(case["k_grid"][-1]), len(case["c_grid"])
        if name == "a":
            units, label = args.n_test * TRIALS * k_max * n_c, "(draw x judge)"
        else:
            units, label = args.n_test * TRIALS, "(input x trial)"
        for engine_name, engine in engines.items():
            ns, ratio = measure(engine, case, inputs, units, args.repeats)
            print(
                f"({name}) T={case['T_grid']} c={case['c_grid']} k=1..{k_max} {engine_name}: "
                f"{ns:.2f} ns per {label} = {ratio:.2f} np.exp"
            )


if __name__ == "__main__":
    main()
