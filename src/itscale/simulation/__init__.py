"""Simulation: seeded streams, synthetic data, the BLR posterior and the Monte Carlo engine.

- :mod:`~itscale.simulation.streams`: one seeded generator per (seed, replicate, purpose, block).
- :mod:`~itscale.simulation.data`: teacher, training set and test inputs.
- :mod:`~itscale.simulation.posterior`: the fitted BLR posterior and its predictive.
- :mod:`~itscale.simulation.montecarlo`: the sampled experiment with common random numbers and
  its Rao-Blackwellised counterpart (``run``, ``summarise``).
"""

from itscale._kernel_cache import refresh_once

refresh_once()  # stale compiled kernels (a dependency edited since they were cached) go first

__all__: list[str] = []
