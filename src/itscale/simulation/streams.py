"""Seeded random streams.

Every random draw in the project comes from ``numpy.random.SeedSequence(entropy=seed,
spawn_key=(replicate, purpose, block))``. Separate purposes give independent streams, so the
test inputs never reuse training inputs, and keying by block makes results independent of how
blocks are grouped into workers, shards or chunks.
"""

from __future__ import annotations

import numpy as np

PURPOSES: dict[str, int] = {
    "teacher": 0,
    "train_inputs": 1,
    "train_noise": 2,
    "test_inputs": 3,
    "candidates": 4,
}


__all__ = ["stream"]


def stream(seed: int, replicate: int, purpose: str, block: int = 0) -> np.random.Generator:
    """Generator for one (seed, replicate, purpose, block) key; PCG64 bit generator."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {sorted(PURPOSES)}, got {purpose!r}")
    for name, value in (("seed", seed), ("replicate", replicate), ("block", block)):
        if int(value) != value or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    seq = np.random.SeedSequence(
        entropy=int(seed), spawn_key=(int(replicate), PURPOSES[purpose], int(block))
    )
    return np.random.Generator(np.random.PCG64(seq))
