"""Workflow-script plumbing: one Snakemake job's parameters, inputs, log, timing and outputs.

Every script in ``workflow/scripts/`` is three steps: ``job = Job(snakemake, stage)``, call
the stage function of :mod:`itscale.pipeline.stages` with the job's parameters and inputs,
``job.write(dataset)``. :class:`Job` limits the library's threads to the job's ``threads``,
opens the job's log (first line: the SLURM job id) and logs what was written and how long it
took.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from itscale.pipeline.datasets import read_dataset, stage_logger, use_threads, write_dataset

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["Job"]


class Job:
    """One Snakemake job as a workflow script sees it (``smk`` is the injected ``snakemake``)."""

    def __init__(self, smk: Any, stage: str):
        use_threads(smk.threads)
        self.smk = smk
        self.log: logging.Logger = stage_logger(stage, smk.log[0] if smk.log else None)
        self.params: dict[str, Any] = dict(getattr(smk.params, "p", {}))
        self._start = time.perf_counter()

    def read(self, name: str) -> xr.Dataset:
        """The dataset of the named input."""
        return read_dataset(getattr(self.smk.input, name))

    def read_all(self, name: str) -> list[xr.Dataset]:
        """The datasets of the named input list, in order."""
        return [read_dataset(path) for path in getattr(self.smk.input, name)]

    def write(self, ds: xr.Dataset) -> None:
        """Write the job's dataset to its (first) output, atomically, and log it."""
        write_dataset(ds, self.smk.output[0])
        self.done(self.smk.output[0])

    def done(self, *paths: str) -> None:
        """Log the outputs written and the job's wall time (the log only, never a dataset)."""
        self.log.info("wrote %s in %.2f s", ", ".join(paths), time.perf_counter() - self._start)
