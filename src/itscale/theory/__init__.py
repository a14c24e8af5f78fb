"""Theory: exact per-input selection error, deterministic equivalents, expansions, optima.

Public modules:

- :mod:`~itscale.theory.selection`: exact error for every k and T at one input
  (``delta_exact``, ``delta_exact_curves``, ``delta_exact_points``, ``k_points``,
  ``interpolate_k``, ``set_num_threads``; ``judge_centre`` re-exported from
  :mod:`itscale.model`). Private implementation: ``_nodes`` (node rules, power sums, the direct
  route), ``_kernel`` (compiled inner loop), ``_tables`` (Chebyshev tables), ``_threads``.
- :mod:`~itscale.theory.bias_average`: the quadrature rule for averages over a Gaussian bias.
- :mod:`~itscale.theory.equivalents`: high-dimensional limit, ``delta_de(k, T, model, *, c)``
  and the closed forms of :class:`itscale.model.Model` one by one.
- :mod:`~itscale.theory.expansions`: high-temperature series, best-of-k asymptotes, the
  k -> inf tilted limit, decay exponent, local slope.
- :mod:`~itscale.theory.optima`: optimal judge, temperature and number of candidates.
- :mod:`~itscale.theory.multiplier`: the equivalent-data multiplier M(k, n).
- :mod:`~itscale.theory.finite_size`: exact input average for one fitted posterior.
"""

from itscale._kernel_cache import refresh_once

refresh_once()  # stale compiled kernels (a dependency edited since they were cached) go first

__all__: list[str] = []
