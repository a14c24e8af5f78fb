"""Simulation: seeded streams, synthetic data, the BLR posterior and the Monte Carlo engine.

- :mod:`~itscale.simulation.streams`: one seeded generator per (seed, replicate, purpose, block).
- :mod:`~itscale.simulation.data`: teacher, training set and test inputs.
- :mod:`~itscale.simulation.posterior`: the fitted BLR posterior and its predictive.
- :mod:`~itscale.simulation.montecarlo`: the sampled experiment with common random numbers and
  its Rao-Blackwellised counterpart (``run``, ``summarise``).
"""

__all__: list[str] = []
