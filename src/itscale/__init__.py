"""itscale: analytic theory and simulation of inference-time scaling with an LLM-as-a-judge.

Model (Halder & Pehlevan, arXiv:2512.19905): Bayesian linear regression sampled k times at
inference, one sample selected by a softmax at temperature T over a quadratic judge reward.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("itscale")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
