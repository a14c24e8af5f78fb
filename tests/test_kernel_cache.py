"""Stale compiled kernels are deleted when any source of a kernel family changes."""

from __future__ import annotations

from pathlib import Path

from itscale import _kernel_cache


def _tree(root: Path) -> dict[str, Path]:
    """A package-like tree: two kernel families with sources and cached files, and another
    sub-package whose edits must not matter."""
    files = {}
    for family, source in (("simulation", "a.py"), ("theory", "b.py"), ("report", "c.py")):
        (root / family / "__pycache__").mkdir(parents=True)
        files[family] = root / family / source
        files[family].write_text(f"X = 1  # {family}\n")
    return files


def _cached(root: Path, family: str) -> list[Path]:
    pyc = root / family / "__pycache__" / "m.cpython-311.pyc"
    nbi = root / family / "__pycache__" / "m.f-10.py311.nbi"
    nbc = root / family / "__pycache__" / "m.f-10.py311.1.nbc"
    for path in (pyc, nbi, nbc):
        path.write_bytes(b"x")
    return [pyc, nbi, nbc]


def test_refresh_deletes_kernels_only_after_a_kernel_source_changes(tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    files = _tree(tmp_path)
    pyc, nbi, nbc = _cached(tmp_path, "simulation")
    assert _kernel_cache.refresh(tmp_path)  # never stamped: stale
    assert pyc.exists() and not nbi.exists() and not nbc.exists()
    pyc, nbi, nbc = _cached(tmp_path, "simulation")
    assert not _kernel_cache.refresh(tmp_path)  # same sources: kept
    assert nbi.exists() and nbc.exists()
    files["report"].write_text("X = 2\n")  # not a kernel family
    assert not _kernel_cache.refresh(tmp_path)
    files["theory"].write_text("X = 2  # a dependency of a cached kernel\n")
    assert _kernel_cache.refresh(tmp_path)
    assert pyc.exists() and not nbi.exists() and not nbc.exists()
    assert not _kernel_cache.refresh(tmp_path)


def test_refresh_leaves_a_relocated_cache_alone(tmp_path, monkeypatch):
    _tree(tmp_path)
    _, nbi, _ = _cached(tmp_path, "theory")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert not _kernel_cache.refresh(tmp_path)
    assert nbi.exists()


def test_the_installed_package_is_stamped_with_its_kernel_sources():
    import itscale.simulation  # noqa: F401 - runs refresh_once

    root = Path(_kernel_cache.__file__).parent
    stamp = root / "__pycache__" / "kernel-sources.sha256"
    assert stamp.read_text().strip() == _kernel_cache.source_digest(root)
