"""Stage "publish": the rendered figures and the numbers table copied into figures/ together.

The figure and numbers jobs render into ``results/``; one last job copies every file into
``figures/`` once all of them exist (a run that fails or is interrupted before then leaves
``figures/`` as it was). Each copy is written to a temporary name and renamed into place, so a
published file is always complete.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from itscale.pipeline.datasets import atomic_output

__all__ = ["publish"]

_LOG = logging.getLogger("itscale.publish")


def publish(
    sources: Sequence[str | os.PathLike],
    targets: Sequence[str | os.PathLike],
    log: logging.Logger = _LOG,
) -> list[Path]:
    """Copy ``sources[i]`` to ``targets[i]`` for every i, each atomically; every source is
    checked to exist before the first copy. Returns the targets."""
    if len(sources) != len(targets):
        raise ValueError(f"{len(sources)} sources but {len(targets)} targets")
    missing = [str(src) for src in sources if not Path(src).is_file()]
    if missing:
        raise FileNotFoundError(f"nothing published: missing {', '.join(missing)}")
    out = []
    for src, dst in zip(sources, targets, strict=True):
        with atomic_output(dst) as tmp:
            shutil.copyfile(src, tmp)
        log.info("published %s as %s", src, dst)
        out.append(Path(dst))
    return out
