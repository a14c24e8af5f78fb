"""The README's two set-up-and-go commands, and CI running the second one verbatim."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S)]


def test_readme_has_exactly_two_commands():
    commands = readme_commands()
    assert len(commands) == 2
    assert "snakemake --cores" in commands[0] and "pip install" in commands[0]
    assert "pytest" in commands[1] and "pip install" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert readme_commands()[1] in ci_lines


def test_api_examples_run():
    """Every Python example of docs/api.md runs as written, and the printed numbers are the
    library's (the example's own asserts check the model's two spellings agree)."""
    text = (ROOT / "docs" / "api.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 6
    for i, block in enumerate(blocks):
        exec(compile(block, f"docs/api.md block {i}", "exec"), {})  # noqa: S102


def _section(title: str) -> str:
    return (ROOT / "README.md").read_text().split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_readme_library_example_prints_what_it_says(capsys):
    """The README's "Use the library" example runs and prints exactly its output block."""
    section = _section("Use the library")
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    (printed,) = re.findall(r"```text\n(.*?)```", section, flags=re.S)
    exec(compile(code, "README.md Use the library", "exec"), {})  # noqa: S102
    assert capsys.readouterr().out == printed
    assert "(docs/api.md)" in section and "w_norm2 = w_mean^2 + w_std^2" in section


def test_readme_library_example_numbers_are_right():
    """The printed numbers against independent routes: the best of 4 at one input by direct
    quadrature of P(min_i (y_i - mu_T)^2 > t) = P((y - mu_T)^2 > t)^4; k = 1 is no selection,
    s^2 + V; k = 100 is within 3 % of (and below) the extreme-value asymptote
    pi s^2 / (k^2 sqrt(1 - rho)); k* is the argmin of the error over every k in 1..100."""
    from scipy import integrate, stats

    from itscale import Model, delta_de

    section = _section("Use the library")
    (printed,) = re.findall(r"```text\n(.*?)```", section, flags=re.S)
    lines = printed.splitlines()
    m, s = 0.5, 1.0
    tail = lambda t: stats.norm.sf(np.sqrt(t), m, s) + stats.norm.cdf(-np.sqrt(t), m, s)  # noqa: E731
    exact, _ = integrate.quad(lambda t: tail(t) ** 4, 0, np.inf, epsabs=1e-12)
    assert lines[1] == f"delta_exact = {exact:.6f} s^2"
    model = Model(n=10_000, d=10, S=1.0, sigma=1e-4, gamma=1e-3, w_norm2=4.0)
    sigma2 = model.sigma**2
    values = [float(v) for v in lines[2].split("=")[1].split(",")]
    assert values[0] == pytest.approx((model.s2 + model.V) / sigma2, rel=1e-4)
    asymptote = np.pi * model.s2 / (100**2 * np.sqrt(1 - model.rho)) / sigma2
    assert 0.97 * asymptote < values[2] < asymptote
    ks = np.arange(1, 101)
    curve = delta_de(ks, 20 * sigma2, model, c=15.0)
    assert lines[3] == f"optimal k = {ks[np.argmin(curve)]}"
