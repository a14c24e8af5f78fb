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
        rho = float(theory[-1]["rho"])
        sampling[-1]["rho_fitted"] = ("replicate", rho * np.array([0.7, 1.4]))
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
    """Figures and the numbers table read the theory stage's curves and optima; every theory
    function refuses to run while they draw. The one exception is task_difficulty, whose DE
    exponent at the simulated training sets' difficulties exists only after sampling."""
    import inspect

    from itscale.theory import equivalents, expansions, selection

    def refuse(*args, **kwargs):
        raise AssertionError("theory evaluated outside the theory stage")

    for module in (equivalents, expansions, selection):
        for name, _ in inspect.getmembers(module, inspect.isfunction):
            monkeypatch.setattr(module, name, refuse)
    for kind, (experiment, sampling, theory) in datasets.items():
        if kind == "task_difficulty":
            continue
        plotting.render(kind, sampling, theory, tmp_path / kind, experiment=experiment, style=STYLE)
        assert numbers.experiment_rows(experiment, sampling, theory)
