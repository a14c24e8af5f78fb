"""itscale: analytic theory and simulation of inference-time scaling with an LLM-as-a-judge.

Model (Halder & Pehlevan, arXiv:2512.19905): Bayesian linear regression sampled k times at
inference, one sample selected by a softmax at temperature T over a quadratic judge reward;
the quantity of interest is the generalization error delta(k, T).

The package tree is the architecture:

``itscale.theory``
    Exact and asymptotic theory. Per-input error for every k and T
    (:func:`delta_exact`, :func:`delta_exact_curves`, :func:`judge_centre`), deterministic
    equivalents (:func:`delta_de`, :func:`de_summary`), the high-temperature expansion
    (:func:`delta_hte`), best-of-k asymptotics (:func:`best_of_k_asymptote`), the k -> inf
    tilted limit (:func:`delta_tilted_limit`), optimal judge / temperature / k
    (:func:`optimal_judge`, :func:`optimal_temperature`, :func:`optimal_k`), the
    equivalent-data multiplier (:func:`equivalent_data_multiplier`) and the exact average for
    one fitted posterior (:func:`delta_fitted`).
``itscale.simulation``
    The sampled experiment: seeded streams, teacher and data (:func:`draw_teacher`,
    :func:`draw_training_set`, :func:`draw_test_inputs`), the BLR posterior
    (:func:`fit_posterior`, :func:`predictive`) and the Monte Carlo engine
    (:func:`run_montecarlo`, :func:`summarise`).
``itscale.pipeline``
    What the Snakemake workflow calls: config validation, the job plan, dataset I/O.
``itscale.report``
    Figures and the numbers table, built from the pipeline's datasets.

Every name listed in ``__all__`` can be imported from ``itscale`` directly; the sub-packages
are imported on first use, so ``import itscale`` is cheap. The module paths of earlier versions
(``itscale.selection``, ``itscale.equivalents``, ``itscale.expansions``, ``itscale.montecarlo``,
...) still import: they are aliases of the modules' new homes.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("itscale")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

#: public name -> "module:attribute" it is imported from on first use
_EXPORTS = {
    "Model": "itscale.model:Model",
    "delta_exact": "itscale.theory.selection:delta_exact",
    "delta_exact_curves": "itscale.theory.selection:delta_exact_curves",
    "judge_centre": "itscale.model:judge_centre",
    "delta_de": "itscale.theory.equivalents:delta_de",
    "de_summary": "itscale.theory.equivalents:de_summary",
    "delta_hte": "itscale.theory.expansions:delta_hte",
    "best_of_k_asymptote": "itscale.theory.expansions:best_of_k_asymptote",
    "delta_tilted_limit": "itscale.theory.expansions:delta_tilted_limit",
    "optimal_judge": "itscale.theory.optima:optimal_judge",
    "optimal_temperature": "itscale.theory.optima:optimal_temperature",
    "optimal_k": "itscale.theory.optima:optimal_k",
    "equivalent_data_multiplier": "itscale.theory.multiplier:equivalent_data_multiplier",
    "delta_fitted": "itscale.theory.finite_size:delta_fitted",
    "draw_teacher": "itscale.simulation.data:draw_teacher",
    "draw_training_set": "itscale.simulation.data:draw_training_set",
    "draw_test_inputs": "itscale.simulation.data:draw_test_inputs",
    "fit_posterior": "itscale.simulation.posterior:fit_posterior",
    "predictive": "itscale.simulation.posterior:predictive",
    "run_montecarlo": "itscale.simulation.montecarlo:run",
    "summarise": "itscale.simulation.montecarlo:summarise",
}

#: module paths of earlier versions -> their new homes (same module object)
_MOVED = {
    "itscale.selection": "itscale.theory.selection",
    "itscale.bias_average": "itscale.theory.bias_average",
    "itscale.equivalents": "itscale.theory.equivalents",
    "itscale.expansions": "itscale.theory.expansions",
    "itscale.finite_size": "itscale.theory.finite_size",
    "itscale.streams": "itscale.simulation.streams",
    "itscale.data": "itscale.simulation.data",
    "itscale.posterior": "itscale.simulation.posterior",
    "itscale.montecarlo": "itscale.simulation.montecarlo",
    "itscale.config": "itscale.pipeline.config",
    "itscale.datasets": "itscale.pipeline.datasets",
    "itscale.plotting": "itscale.report.plotting",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    """Import a public name (or an aliased old module) on first access."""
    if name in _EXPORTS:
        module, attr = _EXPORTS[name].split(":")
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    if f"{__name__}.{name}" in _MOVED:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolve an old module path (``itscale.selection``) to the module at its new home."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in _MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module(_MOVED[spec.name])

    def exec_module(self, module) -> None:  # the new home is already executed
        pass


if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModuleFinder())
