"""Threads of the exact selection quadrature: the thread count and the task runner."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = ["_run_tasks", "num_threads", "set_num_threads"]

_NUM_THREADS: list[int | None] = [None]


def set_num_threads(n: int | None) -> None:
    """Threads used by delta_exact / delta_exact_curves (None: ITSCALE_NUM_THREADS or all cores)."""
    if n is not None and (int(n) != n or n < 1):
        raise ValueError(f"n must be a positive integer or None, got {n!r}")
    _NUM_THREADS[0] = None if n is None else int(n)


def num_threads() -> int:
    """Current thread count for the exact quadrature."""
    if _NUM_THREADS[0] is not None:
        return _NUM_THREADS[0]
    env = os.environ.get("ITSCALE_NUM_THREADS")
    if env:
        return max(1, int(env))
    return os.cpu_count() or 1


_WORKER = threading.local()


def _run_tasks(tasks, work) -> None:
    """work(task) for every task, on num_threads() threads (serially inside a worker).

    Tasks are independent and the quadrature releases the GIL (numpy loops, nogil kernels),
    so threads give a near-linear speed-up; results do not depend on the thread count.
    """
    threads = min(num_threads(), len(tasks))
    if threads > 1 and not getattr(_WORKER, "busy", False):

        def run(task):
            _WORKER.busy = True
            try:
                work(task)
            finally:
                _WORKER.busy = False

        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(run, tasks))
    else:
        for task in tasks:
            work(task)
