"""Median timings of the empirical (LLM-as-a-judge) path against the targets of issue 10.

Run from the repository root: ``python benchmarks/bench_empirical.py [--repeat N]``.
Targets: T = 0, 500 problems x K = 10,000, 40 k values up to K: < 2 s; T > 0, 500 problems x
K = 128, 12 k x 12 T: < 10 s on 2 cores; the RewardMATH analysis (4 judges, k = 1..10, 24 T,
1000 bootstrap resamples, reading included): < 30 s. Compiled kernels are warmed up first.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from itscale.empirical import delta_pool
from itscale.empirical.analysis import AnalysisConfig, analyse
from itscale.empirical.records import read_records
from itscale.theory.selection import num_threads

DATA = Path(__file__).resolve().parents[1] / "data" / "rewardmath" / "rewardmath_bon.jsonl.gz"
JUDGES = (
    "judge:gpt-4o",
    "judge:llama3-8b-instruct",
    "InternLM2-7B-Reward",
    "Skywork-Reward-Llama-3.1-8B",
)


def _log_grid(top: int, size: int) -> np.ndarray:
    """``size`` distinct integers from 1 to ``top``, roughly evenly spaced in log k."""
    n = size
    while True:
        grid = np.unique(np.geomspace(1, top, n).round().astype(int))
        if grid.size >= size:
            return grid
        n += 1


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    rng = np.random.default_rng(0)
    print(f"threads: {num_threads()}, repeats: {repeat} (median reported)")

    loss, score = rng.uniform(size=(500, 10_000)), rng.normal(size=(500, 10_000))
    k = _log_grid(10_000, 40)
    delta_pool(loss[:2], score[:2], k, [0.0])
    t = _median(lambda: delta_pool(loss, score, k, [0.0]), repeat)
    print(f"T = 0, 500 x K=10000, {k.size} k up to K:          {t:7.3f} s  (target < 2 s)")

    loss, score = rng.uniform(size=(500, 128)), rng.normal(size=(500, 128))
    k = _log_grid(128, 12)
    T = np.geomspace(0.01, 100.0, 12)  # in units of the score's standard deviation
    delta_pool(loss[:2], score[:2], k, T)
    t = _median(lambda: delta_pool(loss, score, k, T), repeat)
    print(
        f"T > 0, 500 x K=128, {k.size} k x {T.size} T (0.01..100 sd):  {t:7.3f} s  (target < 10 s)"
    )

    T = (0.0,) + tuple(float(v) for v in np.geomspace(0.03, 100.0, 23))
    config = AnalysisConfig(judges=JUDGES, k=tuple(range(1, 11)), T=T, bootstrap=1000)

    def rewardmath():
        analyse(read_records(DATA, judges=list(JUDGES)), config)

    rewardmath()
    t = _median(rewardmath, repeat)
    print(f"RewardMATH: 4 judges, k=1..10, 24 T, 1000 resamples: {t:7.3f} s  (target < 30 s)")


if __name__ == "__main__":
    main()
