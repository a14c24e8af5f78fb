"""Simulation: seeded streams, synthetic data, the BLR posterior and the Monte Carlo engine.

Modules: :mod:`~itscale.simulation.streams`, :mod:`~itscale.simulation.data`,
:mod:`~itscale.simulation.posterior`, :mod:`~itscale.simulation.montecarlo`.
"""
