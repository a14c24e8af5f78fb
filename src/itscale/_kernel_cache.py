"""Numba's on-disk cache kept honest across source edits of the compiled kernels.

Numba reuses a cached kernel while the kernel's own file is unchanged, but a kernel also holds
the code it inlines or links from other modules (the generator of ``simulation._rng`` inside the
samplers of ``simulation._tiles`` and ``_sampler``, for example). After an edit or a ``git pull``
that changes only such a dependency, numba would run the old compiled code. :func:`refresh`
closes that gap: it hashes the sources of the kernel families and, when the hash differs from
the one stamped at the last refresh, deletes their cached kernels so they compile again.

Concurrent processes are safe: numba treats a cache file that vanished as a cache miss.
Installs whose package directory is not writable keep numba's cache elsewhere; a reinstall
rewrites every file there, which numba's own check already catches.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["KERNEL_FAMILIES", "source_digest", "refresh", "refresh_once"]

#: Sub-packages whose modules define compiled kernels (numba, ``cache=True``).
KERNEL_FAMILIES: tuple[str, ...] = ("simulation", "theory")

_ROOT = Path(__file__).resolve().parent
_STAMP = "kernel-sources.sha256"


def source_digest(root: Path = _ROOT) -> str:
    """sha256 (hex) of the names and bytes of every ``.py`` file of the kernel families."""
    h = hashlib.sha256()
    for family in KERNEL_FAMILIES:
        for path in sorted((root / family).glob("*.py")):
            h.update(f"{family}/{path.name}\0".encode())
            h.update(path.read_bytes())
    return h.hexdigest()


_CHECKED: set[Path] = set()


def refresh_once() -> None:
    """:func:`refresh` of the installed package, once per process (the kernel families'
    ``__init__`` call it before any kernel module is imported)."""
    if _ROOT not in _CHECKED:
        _CHECKED.add(_ROOT)
        refresh(_ROOT)


def refresh(root: Path = _ROOT) -> bool:
    """Delete the cached kernels of ``root``'s kernel families if their sources changed since
    the last stamp (or were never stamped), then stamp; returns True if it deleted.

    Does nothing when ``NUMBA_CACHE_DIR`` sends numba's cache elsewhere. Never raises for a
    read-only tree: the cache is then left to numba.
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return False
    try:
        digest = source_digest(root)
        stamp = root / "__pycache__" / _STAMP
        if stamp.is_file() and stamp.read_text().strip() == digest:
            return False
        for family in KERNEL_FAMILIES:
            for cached in (root / family / "__pycache__").glob("*.nb[ic]"):
                cached.unlink(missing_ok=True)
        stamp.parent.mkdir(exist_ok=True)
        tmp = stamp.with_name(f"{_STAMP}.{os.getpid()}.tmp")
        tmp.write_text(digest + "\n")
        os.replace(tmp, stamp)
    except OSError:
        pass
    return True
