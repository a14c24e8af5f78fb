"""Timings of the core library against the targets of the core-library issue.

Prints medians over --repeats runs (wall clock; the machine is shared, so medians, not minima
or means). Nothing here is a test: run it by hand,

    python benchmarks/bench_core.py            # everything except the long Monte Carlo case
    python benchmarks/bench_core.py --only mc_best_of_k --workers 2

Cases
  de_grid        delta_de over k = 1..1e4 x 32 temperatures x 8 judges (paper regime)
  exact_1e5      delta_exact_curves for 1e5 inputs x 100 k in four temperature regimes, with
                 the tabulated route's largest gap to the direct quadrature at 200 inputs
  exact_broadcast  delta_exact(k[None, :], T, m[:, None], ...) for 1e5 inputs x 100 k against
                 delta_exact_curves on the same inputs: both medians and their ratio (target
                 <= 1.5), and the largest relative gap between the two
  finite_t       finite-T curves (3 judges, k = 1..99) at the paper's figure-2 setting: the
                 finite-size exact average (no Monte Carlo noise) and the sampled engine's
                 throughput in candidate draws per second
  mc_best_of_k   best-of-k curves at the paper's T = 0 setting (n_test 1e5, 100 trials,
                 k = 50..199, 5 values of n), sampled, with peak memory
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np

from itscale.simulation.data import draw_teacher, draw_test_inputs, draw_training_set
from itscale.simulation.montecarlo import run, summarise
from itscale.simulation.posterior import fit_posterior, predictive
from itscale.theory import _tables
from itscale.theory.equivalents import de_summary, delta_de
from itscale.theory.finite_size import delta_fitted
from itscale.theory.selection import delta_exact, delta_exact_curves

PAPER = dict(d=10, S=1.0, sigma=1e-4, gamma=1e-3)


def timed(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def de_grid(repeats):
    k = np.arange(1, 10_001)[:, None, None]
    s2 = float(de_summary(n=1e4, **PAPER, w_norm2=4.0)["s2"])
    T = (np.geomspace(0.1, 1000.0, 32) * 2 * PAPER["sigma"] ** 2)[None, :, None]
    c = np.linspace(0.0, 15.0, 8)[None, None, :]
    t0 = time.perf_counter()
    delta_de(np.array([1, 2]), T[:, :1], n=1e4, **PAPER, w_norm2=4.0, c=c[..., :1])
    first = time.perf_counter() - t0
    t, out = timed(lambda: delta_de(k, T, n=1e4, **PAPER, w_norm2=4.0, c=c), repeats)
    print(
        f"de_grid: k=1..1e4 x 32 T x 8 c -> shape {out.shape}: median {t:.2f} s "
        f"(T/s^2 from {T.min() / s2:.2g} to {T.max() / s2:.2g}); first call in the process "
        f"(loads or compiles the quadrature kernel) {first:.2f} s on a 2-k grid"
    )


def exact_inputs(n=100_000):
    """n inputs in units of s ~ 1: bias b ~ N(0, 0.09), s in [0.99, 1.01]; k = 1..100."""
    rng = np.random.default_rng(0)
    return n, rng.normal(0.0, 0.3, n), rng.uniform(0.99, 1.01, n), np.arange(1, 101)


def exact_1e5(repeats):
    n, b, s, k = exact_inputs()
    probe = np.linspace(0, n - 1, 200).astype(int)
    for label, T, c in (
        ("T=0 (best-of-k)", 0.0, 0.0),
        ("T/s^2=20, c=5 (figure 2)", 20.0, 5.0),
        ("T/s^2=0.1, c=5 (spiky judge)", 0.1, 5.0),
        ("T/s^2=1e-3, c=2 (spikier)", 1e-3, 2.0),
    ):
        mu_R = -c * b
        args = (k, T, b, s, 0.0, mu_R)
        t, got = timed(lambda args=args: delta_exact_curves(*args), repeats)
        # accuracy of the tabulated route: the direct quadrature at 200 of the inputs
        saved = _tables._TABLE_MIN_INPUTS
        _tables._TABLE_MIN_INPUTS = 10**12
        try:
            ref = delta_exact_curves(k, T, b[probe], s[probe], 0.0, mu_R[probe])
        finally:
            _tables._TABLE_MIN_INPUTS = saved
        err = np.max(np.abs(got[probe] / ref - 1))
        print(
            f"exact_1e5: {label}: median {t:.2f} s for 1e5 inputs x 100 k; max relative gap "
            f"to the direct quadrature at 200 inputs {err:.1e}"
        )


def exact_broadcast(repeats):
    _, b, s, k = exact_inputs()
    T, mu_R = 20.0, -5.0 * b  # the figure-2 regime of exact_1e5
    t_curves, curves = timed(lambda: delta_exact_curves(k, T, b, s, 0.0, mu_R), repeats)
    t_bcast, bcast = timed(
        lambda: delta_exact(k[None, :], T, b[:, None], s[:, None], 0.0, mu_R[:, None]), repeats
    )
    gap = np.max(np.abs(bcast / curves - 1))
    print(
        f"exact_broadcast: 1e5 inputs x 100 k: delta_exact median {t_bcast:.2f} s, "
        f"delta_exact_curves median {t_curves:.2f} s, ratio {t_bcast / t_curves:.2f} "
        f"(target <= 1.5); largest relative gap between them {gap:.1e}"
    )


def fitted_setting(n, replicate=0, seed=1):
    w_T = draw_teacher(seed, replicate, PAPER["d"], 0.0, 2.0)
    X, y = draw_training_set(seed, replicate, n, PAPER["d"], PAPER["S"], PAPER["sigma"], w_T)
    post = fit_posterior(X, y, sigma=PAPER["sigma"], gamma=PAPER["gamma"])
    return w_T, post


def finite_t(repeats, workers):
    w_T, post = fitted_setting(10_000)
    T = 20.0 * PAPER["sigma"] ** 2
    c = np.array([0.0, 5.0, 10.0])
    k = np.arange(1, 100)
    t, out = timed(lambda: delta_fitted(k, T, post, w_T, S=PAPER["S"], c=c), repeats)
    print(
        f"finite_t: finite-size exact average, 3 c x k=1..99: median {t:.2f} s "
        f"(standard error 0: no sampling)"
    )
    n_test, trials = 20_000, 100
    X = draw_test_inputs(1, 0, n_test, PAPER["d"], PAPER["S"], block_size=1000)
    m, s2 = predictive(post, X)
    mu_T = X @ w_T
    draws = n_test * trials * k.max()

    def sampled():
        stats = run(
            m,
            np.sqrt(s2),
            mu_T,
            k_grid=k,
            T_grid=[T],
            c_grid=c,
            trials=trials,
            seed=1,
            replicate=0,
            block_size=1000,
            workers=workers,
        )
        return summarise(stats)

    t, (mean, se) = timed(sampled, repeats)
    sig2 = PAPER["sigma"] ** 2
    print(
        f"finite_t: sampled engine, n_test={n_test}, {trials} trials, k<=99, 3 c, {workers} "
        f"worker(s): median {t:.2f} s, {draws / t:.3g} candidate draws/s; "
        f"SE/sigma^2 at k=1: {se[0, 0, 0] / sig2:.2e}, k=99: {se[0, 0, -1] / sig2:.2e}; "
        f"x{1e6 / n_test:.0f} for n_test=1e6: {t * 1e6 / n_test:.0f} s"
    )


def mc_best_of_k(repeats, workers, n_test):
    k = np.arange(50, 200)
    trials = 100

    def all_n():
        out = []
        for n in (10_000, 15_000, 20_000, 25_000, 30_000):
            w_T, post = fitted_setting(n)
            X = draw_test_inputs(1, 0, n_test, PAPER["d"], PAPER["S"], block_size=5000)
            m, s2 = predictive(post, X)
            stats = run(
                m,
                np.sqrt(s2),
                X @ w_T,
                k_grid=k,
                T_grid=[0.0],
                c_grid=[0.0],
                trials=trials,
                seed=1,
                replicate=0,
                block_size=5000,
                workers=workers,
            )
            out.append(summarise(stats))
        return out

    t, _ = timed(all_n, repeats)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    draws = 5 * n_test * trials * k.max()
    print(
        f"mc_best_of_k: 5 n x n_test={n_test} x {trials} trials x k=50..199, {workers} "
        f"worker(s): median {t:.1f} s, {draws / t:.3g} draws/s, peak RSS {peak:.0f} MB "
        f"(largest worker {peak_children:.0f} MB)"
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--n-test", type=int, default=100_000, help="test inputs for mc_best_of_k")
    parser.add_argument(
        "--only",
        nargs="*",
        default=None,
        choices=["de_grid", "exact_1e5", "exact_broadcast", "finite_t", "mc_best_of_k"],
    )
    args = parser.parse_args()
    chosen = args.only or ["de_grid", "exact_1e5", "exact_broadcast", "finite_t"]
    if "de_grid" in chosen:
        de_grid(args.repeats)
    if "exact_1e5" in chosen:
        exact_1e5(args.repeats)
    if "exact_broadcast" in chosen:
        exact_broadcast(args.repeats)
    if "finite_t" in chosen:
        finite_t(args.repeats, args.workers)
    if "mc_best_of_k" in chosen:
        mc_best_of_k(1, args.workers, args.n_test)


if __name__ == "__main__":
    main()
