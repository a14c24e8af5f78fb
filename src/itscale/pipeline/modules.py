"""Module inputs of the rules: the itscale source files a stage imports, found statically.

Snakemake tracks scripts by modification time only and cannot see into the library, so each
rule lists the library files its stage imports (:func:`module_files`) as inputs: editing a
module reruns exactly the stages that import it.
"""

from __future__ import annotations

import ast
from pathlib import Path

__all__ = ["module_files"]


def _module_path(package_dir: Path, name: str) -> Path | None:
    base = package_dir / name.replace(".", "/")
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imports(path: Path) -> set[str]:
    """itscale submodules imported by a source file (static; both absolute and relative)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("itscale."):
                    found.add(alias.name.removeprefix("itscale."))
        elif isinstance(node, ast.ImportFrom):
            if node.level == 1:
                base = node.module or ""
            elif node.level == 0 and node.module and (node.module + ".").startswith("itscale."):
                base = node.module.removeprefix("itscale").lstrip(".")
            else:
                continue
            if base:
                found.add(base)
            for alias in node.names:  # `from itscale import selection` names a submodule
                found.add(f"{base}.{alias.name}" if base else alias.name)
    return found


def module_files(*modules: str, package_dir: str | Path | None = None) -> list[str]:
    """Absolute paths of the itscale source files the given modules import, transitively.

    The pipeline lists them as inputs of the rules that use them: Snakemake tracks scripts by
    modification time only and cannot see into the library. The package directory defaults to
    the one ``itscale`` is imported from, so a copied source tree on ``PYTHONPATH`` is tracked.
    The top-level ``__init__.py`` is left out on purpose (it only imports lazily); a
    sub-package's ``__init__.py`` is followed like a module; modules that do not exist
    (yet) are skipped. Returns sorted absolute paths.
    """
    if package_dir is None:
        import itscale

        package_dir = Path(itscale.__file__).resolve().parent
    package_dir = Path(package_dir)
    seen: dict[str, Path] = {}
    todo = list(modules)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_path(package_dir, name)
        if path is None:
            continue
        seen[name] = path
        todo.extend(sorted(_imports(path) - set(seen)))
    return sorted(str(p) for p in seen.values())
