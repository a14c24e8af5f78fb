"""Rendering of every paper figure and the numbers table from tiny synthetic datasets.

The theory datasets are built by the theory stage function, with the curves each figure kind
asks for; the sampling datasets carry the pipeline's variable names (delta_mc, delta_mc_se,
delta_rb, delta_rb_se, delta_fs over (replicate, T, c, k)) around that theory, for a tiny model
(n = 200, d = 5, sigma = 0.1, gamma = 1), with temperatures T / s^2 >= 10 so that the theory
evaluations stay fast. Checks: every kind renders to a valid PDF and PNG of the expected size,
twice byte-identically; the numbers table has every column, in CSV and NetCDF; figures and
table evaluate no theory.
"""

from __future__ import annotations

import csv
import re
import struct
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from itscale.model import Model
from itscale.pipeline.stages import finite_size as finite_size_stage
from itscale.pipeline.stages import theory as theory_stage
from itscale.report import plotting, summaries
from itscale.report import table as numbers
from itscale.report.kinds import get_kind

MODEL = {"n": 200, "d": 5, "S": 1.0, "sigma": 0.1, "gamma": 1.0, "w_mean": 0.0, "w_std": 1.0}
SIGMA2 = MODEL["sigma"] ** 2
STYLE = {"dpi": 50, "width": 3.0, "height": 2.0, "font_size": 7}

# kind -> (sweep {name: values} or None, k, T, c, simulated)
SETUPS = {
    "best_of_k": ({"n": [200, 400]}, [1, 2, 4, 8, 16], [0.0], [0.0], True),
    "softmax_judge": (None, [1, 2, 4, 8], [10 * 2 * SIGMA2], [0.0, 5.0], True),
    "optimal_temperature": (None, [2, 8], [0.0, 0.2, 0.6, 2.0], [5.0], True),
    "best_judge": (None, [2, 8], [10 * 2 * SIGMA2], [0.0, 2.0, 4.0, 6.0], True),
    "compute_vs_data": ({"n": [100, 400]}, [1, 4, 16], [0.0], [0.0], False),
    "task_difficulty": ({"w_std": [1.0, 3.0]}, [1, 2, 4, 8, 16], [0.0], [0.0], True),
}


def point_params(model: dict, k, T, c) -> dict:
    """Resolved parameters of one theory point (as the job plan makes them)."""
    return {**model, "k": list(k), "T": list(T), "c": list(c), "hte_order": 3}


def theory_datasets(kind: str, points: list[dict]) -> list[xr.Dataset]:
    """The theory stage's datasets of an experiment's points, with the curves the kind asks for."""
    module = get_kind(kind)
    requests = [module.theory_request(points, i) for i in range(len(points))]
    return [theory_stage.build({**p, "curves": r}) for p, r in zip(points, requests, strict=True)]


def sampling_dataset(theory: xr.Dataset, seed: int) -> xr.Dataset:
    """Fake Monte Carlo around the theory: 1 % noise, 1 % standard errors, two replicates."""
    rng = np.random.default_rng(seed)
    de = theory["delta_de"].values
    reps = 2
    noise = 1.0 + 0.01 * rng.standard_normal((reps, *de.shape))
    dims = ("replicate", "T", "c", "k")
    ds = xr.Dataset(
        {
            "delta_mc": (dims, de * noise),
            "delta_mc_se": (dims, 0.01 * np.broadcast_to(de, noise.shape)),
            "delta_rb": (dims, de * (1.0 + 0.1 * (noise - 1.0))),
            "delta_rb_se": (dims, 0.001 * np.broadcast_to(de, noise.shape)),
            "delta_fs": (dims, np.broadcast_to(de, noise.shape).copy()),
            "sigma2": ((), float(theory["sigma2"])),
            "n_samples": ((), 128),
        },
        coords={"replicate": np.arange(reps), "T": theory["T"], "c": theory["c"], "k": theory["k"]},
        attrs={"params": theory.attrs["params"]},
    )
    return ds


def build(kind: str):
    sweep, k, T, c, simulated = SETUPS[kind]
    points = [dict(MODEL)]
    if sweep:
        ((name, values),) = sweep.items()
        points = [{**MODEL, name: v} for v in values]
    theory = theory_datasets(kind, [point_params(p, k, T, c) for p in points])
    sampling = [sampling_dataset(th, i) for i, th in enumerate(theory)] if simulated else []
    if kind == "task_difficulty":  # the last point carries the fitted training sets' rho
        rho_fitted = float(theory[-1]["rho"]) * np.array([0.7, 1.4])
        sampling[-1]["rho_fitted"] = ("replicate", rho_fitted)
        axes = (np.asarray(T, dtype=float), np.asarray(c, dtype=float), np.asarray(k))
        model = Model.from_params(points[-1])
        sampling[-1].update(finite_size_stage.fitted_theory(model, rho_fitted, *axes))
    experiment = {"experiment": f"test_{kind}", "kind": kind, "title": kind, "T_unit": "two_sigma2"}
    return experiment, sampling, theory


@pytest.fixture(scope="module")
def datasets():
    return {kind: build(kind) for kind in plotting.KINDS}


@pytest.fixture(scope="module")
def rendered(datasets, tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    paths = {}
    for kind, (experiment, sampling, theory) in datasets.items():
        paths[kind] = plotting.render(
            kind, sampling, theory, out / kind, experiment=experiment, style=STYLE
        )
    return paths


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def pdf_media_box(data: bytes) -> tuple[float, float]:
    assert data.startswith(b"%PDF-1."), "not a PDF file"
    assert data.rstrip().endswith(b"%%EOF"), "truncated PDF"
    match = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([0-9.]+)\s+([0-9.]+)\s*\]", data)
    assert match, "PDF without a MediaBox"
    return float(match.group(1)), float(match.group(2))


def test_every_kind_has_a_plot_function():
    for kind in plotting.KINDS:
        assert callable(getattr(plotting, f"plot_{kind}"))
    with pytest.raises(ValueError, match="unknown figure kind"):
        plotting.figure_size("nope")


@pytest.mark.parametrize("kind", plotting.KINDS)
def test_renders_valid_pdf_and_png_of_expected_size(rendered, kind):
    paths = rendered[kind]
    assert [p.suffix for p in paths] == [".pdf", ".png"]
    width, height = plotting.figure_size(kind, STYLE)
    pdf = paths[0].read_bytes()
    assert pdf_media_box(pdf) == pytest.approx((72 * width, 72 * height), abs=0.01)
    assert b"CreationDate" not in pdf and b"ModDate" not in pdf
    png = paths[1].read_bytes()
    assert png_size(png) == (round(width * STYLE["dpi"]), round(height * STYLE["dpi"]))
    assert b"Software" not in png and b"matplotlib" not in png.lower()


def test_rendering_is_byte_deterministic(datasets, rendered, tmp_path):
    for kind, (experiment, sampling, theory) in datasets.items():
        again = plotting.render(
            kind, sampling, theory, tmp_path / kind, experiment=experiment, style=STYLE
        )
        for first, second in zip(rendered[kind], again, strict=True):
            assert first.read_bytes() == second.read_bytes(), f"{second.name} differs"


def test_plot_functions_do_not_save(datasets, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    experiment, sampling, theory = datasets["softmax_judge"]
    fig = plotting.plot_softmax_judge(sampling, theory, experiment=experiment, style=STYLE)
    assert fig.get_size_inches() == pytest.approx(plotting.figure_size("softmax_judge", STYLE))
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def table(datasets, tmp_path_factory):
    out = tmp_path_factory.mktemp("numbers")
    rows = numbers.numbers_table(datasets[kind] for kind in plotting.KINDS)
    numbers.write_table(rows, out / "numbers.csv", out / "numbers.nc", attrs={"stage": "test"})
    return rows, out


def test_numbers_table_has_every_column(table):
    rows, out = table
    with open(out / "numbers.csv", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        body = list(reader)
    assert tuple(header) == numbers.COLUMNS
    assert body and all(len(line) == len(header) for line in body)
    assert len(body) == len(rows)
    nc = xr.open_dataset(out / "numbers.nc").load()
    assert set(numbers.COLUMNS) <= set(nc.data_vars)
    assert nc.sizes["row"] == len(rows)


def test_numbers_table_covers_every_figure_and_quantity(table):
    rows, _ = table
    quantities = {(r["kind"], r["quantity"]) for r in rows}
    expected = {
        ("best_of_k", "coef_k2_delta_over_sigma2"),
        ("best_of_k", "decay_exponent"),
        ("softmax_judge", "k_star"),
        ("optimal_temperature", "T_star"),
        ("best_judge", "c_star"),
        ("best_judge", "c_star_limit"),
        ("compute_vs_data", "k_beyond_data"),
        ("task_difficulty", "decay_exponent"),
        ("task_difficulty", "decay_exponent_vs_finite_size"),
        ("task_difficulty", "decay_exponent_replicate"),
    }
    assert expected <= quantities
    for kind in plotting.KINDS:
        if SETUPS[kind][4]:
            assert (kind, "max_abs_z_mc_vs_finite_size") in quantities
            assert (kind, "max_abs_z_mc_vs_de") in quantities
    # the fake Monte Carlo is 1 % noise with 1 % standard errors around the theory
    z_fs = [r["value"] for r in rows if r["quantity"] == "max_abs_z_mc_vs_finite_size"]
    assert all(0 < z < 6 for z in z_fs)


def test_numbers_table_is_byte_deterministic(datasets, table, tmp_path):
    rows, out = table
    numbers.write_table(
        rows, tmp_path / "numbers.csv", tmp_path / "numbers.nc", attrs={"stage": "test"}
    )
    assert (tmp_path / "numbers.csv").read_bytes() == (out / "numbers.csv").read_bytes()
    assert (tmp_path / "numbers.nc").read_bytes() == (out / "numbers.nc").read_bytes()


def test_fit_power_law_recovers_exponent():
    k = np.array([10, 20, 40, 80, 160])
    p, se, a = summaries.fit_power_law(k, 3.0 * k**-1.5, 0.01 * 3.0 * k**-1.5)
    assert p == pytest.approx(-1.5) and a == pytest.approx(3.0)
    assert 0 < se < 0.1


def test_save_figure_rejects_unknown_format(tmp_path):
    fig = plotting.Figure()
    with pytest.raises(ValueError, match="format"):
        plotting.save_figure(fig, tmp_path / "x", formats=["jpg"])
    assert not list(Path(tmp_path).iterdir())


def test_figures_and_table_evaluate_no_theory(datasets, tmp_path, monkeypatch):
    """Figures and the numbers table read the theory and finite-size stages' curves and
    optima; every theory function (and the model's closed forms) refuses to run while they
    draw and tabulate, for every kind."""
    import inspect

    from itscale import model
    from itscale.theory import (
        bias_average,
        equivalents,
        expansions,
        finite_size,
        multiplier,
        optima,
        selection,
    )

    def refuse(*args, **kwargs):
        raise AssertionError("theory evaluated outside the theory stage")

    modules = (bias_average, equivalents, expansions, finite_size, multiplier, optima, selection)
    for module in (*modules, model):
        for name, _ in inspect.getmembers(module, inspect.isfunction):
            monkeypatch.setattr(module, name, refuse)
    monkeypatch.setattr(model.Model, "summary", property(refuse))
    for kind, (experiment, sampling, theory) in datasets.items():
        plotting.render(kind, sampling, theory, tmp_path / kind, experiment=experiment, style=STYLE)
        assert numbers.experiment_rows(experiment, sampling, theory)
    quantities = {r["quantity"] for r in numbers.experiment_rows(*datasets["task_difficulty"])}
    assert "decay_exponent_replicate" in quantities


def test_fitted_theory_at_the_de_difficulty_is_the_de_theory():
    """At its own DE difficulty the rescaled teacher is the model's: delta_de_fitted equals the
    DE error of the point; the asymptotic exponent is 2 min(1, 1/rho) (2 below rho = 1)."""
    model = Model.from_params(MODEL)
    T, c, k = np.array([0.0, 0.5]), np.array([0.0, 2.0]), np.array([1, 2, 8, 32])
    rho = float(model.rho)
    out = finite_size_stage.fitted_theory(model, [rho, 4.0, 0.5], T, c, k)
    dims, de = out["delta_de_fitted"]
    assert dims == ("replicate", "T", "c", "k") and de.shape == (3, 2, 2, 4)
    assert np.allclose(de[0], theory_stage.delta_grid((T, c, k), model), rtol=1e-9, atol=0)
    assert not np.allclose(de[1], de[0])  # a harder task: another curve
    assert out["decay_exponent_fitted"][1].tolist() == [min(2.0, 2.0 / rho), 0.5, 2.0]


def test_difficulty_curve_passes_through_the_point():
    """The theory stage's difficulty curve at the point's own teacher norm is the point's DE
    error and difficulty; rho grows in proportion to the teacher norm."""
    p = point_params(MODEL, [1, 4, 16], [0.0], [0.0])
    w = MODEL["w_mean"] ** 2 + MODEL["w_std"] ** 2
    spec = {"w_norm2": {"start": w / 2, "stop": 2 * w, "num": 3}, "k": [4, 16], "T": 0, "c": 0}
    th = theory_stage.build({**p, "curves": {"difficulty": spec}})
    assert th["w_norm2_difficulty"].values == pytest.approx([w / 2, w, 2 * w], rel=1e-12)
    rho = th["rho_difficulty"].values
    assert rho == pytest.approx(float(th["rho"]) * np.array([0.5, 1.0, 2.0]), rel=1e-9)
    de = th["delta_de_difficulty"].values[1]
    assert de == pytest.approx(th["delta_de"].sel(T=0.0, c=0.0, k=[4, 16]).values, rel=1e-9)
    assert th["decay_exponent_difficulty"].values.tolist() == [min(2.0, 2.0 / r) for r in rho]


def test_plan_and_figure_kind_declarations_do_not_import_matplotlib():
    """The Snakefile's imports, the job plan of the default config and every kind's
    declarations (SIZE, theory_request, rows) load neither matplotlib nor the theory."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    code = """
import sys, yaml
from itscale.pipeline.modules import module_files
from itscale.pipeline.plan import WILDCARDS, build_plan
from itscale.pipeline.schema import validate_config
from itscale.report.kinds import KINDS, get_kind
config = yaml.safe_load(open("config.yaml"))
validate_config(config, "workflow/schemas/config.schema.yaml")
assert build_plan(config).experiments
assert all(get_kind(kind).rows for kind in KINDS)
print(sorted(m for m in sys.modules if m.startswith(("matplotlib", "itscale.theory", "numba"))))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
