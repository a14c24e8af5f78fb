"""Theory: exact per-input selection error, deterministic equivalents, expansions, optima.

Modules: :mod:`~itscale.theory.selection` (exact error for every k and T),
:mod:`~itscale.theory.bias_average` (averages over a Gaussian bias),
:mod:`~itscale.theory.equivalents` (high-dimensional limit),
:mod:`~itscale.theory.expansions` (high-temperature series, asymptotes, optima, multiplier),
:mod:`~itscale.theory.finite_size` (exact average for one fitted posterior).
"""
