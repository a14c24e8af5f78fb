"""itscale: analytic theory and simulation of inference-time scaling with an LLM-as-a-judge.

Model (Halder & Pehlevan, arXiv:2512.19905): Bayesian linear regression sampled k times at
inference, one sample selected by a softmax at temperature T over a quadratic judge reward;
the quantity of interest is the generalization error delta(k, T). docs/api.md has a worked
example per task.

The package tree is the architecture; the main functions by task (all importable from
``itscale`` directly):

``itscale.model``
    The model as one value, :class:`Model` (n, d, S, sigma, gamma, w_norm2, with the
    deterministic-equivalent summary as properties), and the judge family
    (:func:`judge_centre`).
``itscale.theory``
    Exact error at one input for every k and T (:func:`delta_exact`,
    :func:`delta_exact_curves`); deterministic equivalents (:func:`delta_de`,
    :func:`de_summary`); the high-temperature expansion (:func:`delta_hte`), best-of-k
    asymptotics (:func:`best_of_k_asymptote`) and the k -> inf tilted limit
    (:func:`delta_tilted_limit`); optimal judge / temperature / k (:func:`optimal_judge`,
    :func:`optimal_temperature`, :func:`optimal_k`); the equivalent-data multiplier
    (:func:`equivalent_data_multiplier`); the exact average for one fitted posterior
    (:func:`delta_fitted`).
``itscale.simulation``
    The sampled experiment: seeded streams, teacher and data (:func:`draw_teacher`,
    :func:`draw_training_set`, :func:`draw_test_inputs`), the BLR posterior
    (:func:`fit_posterior`, :func:`predictive`) and the Monte Carlo engine
    (:func:`run_montecarlo`, :func:`summarise`).
``itscale.empirical``
    Real judge data: records of sampled answers and judge scores, the exact pool estimator,
    bootstrap intervals, the third-order expansion, and the ``itscale analyse`` command.
``itscale.pipeline``
    What the Snakemake workflow calls: config validation (``schema``), stage parameters and
    keys (``params``), the job plan (``plan``), resources, dataset I/O, and one function per
    stage (``itscale.pipeline.stages``) that builds the stage's dataset without Snakemake.
``itscale.report``
    Figures and the numbers table, drawn from the pipeline's datasets: one module per figure
    kind in ``itscale.report.kinds``.

The sub-packages are imported on first use, so ``import itscale`` is cheap. The module paths
of earlier versions (``itscale.selection``, ``itscale.equivalents``, ``itscale.expansions``,
``itscale.montecarlo``, ``itscale.config``, ...) still import: they are aliases of the
modules' new homes.
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
