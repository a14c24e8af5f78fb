"""CF metadata of everything the pipeline writes (issue 12 item 6), checked offline.

cfchecker needs the CF standard-name table from the internet, so instead: every ``units``
attribute must parse as a UDUNITS-2 unit (``cf_units``, whose wheels bundle UDUNITS-2), every
variable carries a ``long_name``, there are no variable-length strings (text is stored as
fixed-width character arrays) and the global ``Conventions`` names a CF version. Checked on a
real run of each stage on a tiny point, on the numbers table built from them, and on the
committed ``figures/numbers.nc``.
"""

from __future__ import annotations

from pathlib import Path

import netCDF4
import pytest
from test_workflow import POINT as WORKFLOW_POINT

from itscale.pipeline.datasets import write_dataset
from itscale.pipeline.stages import data, finite_size, posterior, sampling, theory
from itscale.report import table
from itscale.report.kinds import get_kind

cf_units = pytest.importorskip("cf_units", reason="cf-units is a test extra")

ROOT = Path(__file__).resolve().parents[1]
POINT = {**WORKFLOW_POINT, "n_test": 8, "T": [0.0], "c": [0.0], "shards": 1}


def cf_problems(path: Path) -> list[str]:
    """Everything in the NetCDF file at ``path`` that breaks the checks above."""
    problems = []
    with netCDF4.Dataset(path) as nc:
        if not str(getattr(nc, "Conventions", "")).startswith("CF-1."):
            problems.append("no CF Conventions attribute")
        for name, var in nc.variables.items():
            attrs = set(var.ncattrs())
            if "long_name" not in attrs:
                problems.append(f"{name}: no long_name")
            if var.dtype is str:
                problems.append(f"{name}: variable-length string")
                continue
            if var.dtype.kind == "S":
                continue  # character arrays carry no units
            if "units" not in attrs:
                problems.append(f"{name}: no units")
                continue
            try:
                cf_units.Unit(var.getncattr("units"))
            except ValueError as exc:
                problems.append(f"{name}: invalid units {var.getncattr('units')!r} ({exc})")
    return problems


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, Path]:
    """Every stage's dataset for one tiny point, and the numbers table built from them."""
    out = tmp_path_factory.mktemp("cf")
    post = posterior.build(data.build(POINT), POINT)
    fs = finite_size.build(post, POINT)
    shard = sampling.shard(post, POINT, blocks=[0, 1])
    gathered = sampling.gather([shard], fs, POINT)
    curves = {
        kind: get_kind(kind).theory_request([POINT], 0) for kind in ("best_of_k", "best_judge")
    }
    datasets = {
        "data": data.build(POINT),
        "posterior": post,
        "finite_size": fs,
        "shard": shard,
        "sampling": gathered,
        **{f"theory_{kind}": theory.build({**POINT, "curves": c}) for kind, c in curves.items()},
    }
    paths = {name: write_dataset(ds, out / f"{name}.nc") for name, ds in datasets.items()}
    experiment = {"experiment": "tiny", "kind": "best_of_k", "T_unit": "absolute"}
    rows = table.numbers_table([(experiment, [gathered], [datasets["theory_best_of_k"]])])
    paths["numbers"] = out / "numbers.nc"
    table.write_table(rows, out / "numbers.csv", paths["numbers"], attrs={"stage": "numbers"})
    return paths


@pytest.mark.parametrize(
    "name",
    [
        "data",
        "posterior",
        "finite_size",
        "shard",
        "sampling",
        "theory_best_of_k",
        "theory_best_judge",
    ],
)
def test_stage_datasets_are_cf_clean(written, name):
    assert cf_problems(written[name]) == []


def test_numbers_table_is_cf_clean(written):
    assert cf_problems(written["numbers"]) == []
    with netCDF4.Dataset(written["numbers"]) as nc:
        assert nc["row"].units == "1"
        assert nc["note"].dimensions == ("row", "note_strlen")


def test_committed_numbers_table_is_cf_clean():
    assert cf_problems(ROOT / "figures" / "numbers.nc") == []


def test_checker_catches_what_it_should(tmp_path):
    """The checks can fail: bad units, no long_name, variable-length strings."""
    import numpy as np

    path = tmp_path / "bad.nc"
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("row", 2)
        value = nc.createVariable("value", "f8", ("row",))
        value.units = "see the units variable"
        value.long_name = "value"
        nc.createVariable("bare", "f8", ("row",))[:] = np.zeros(2)
        text = nc.createVariable("text", str, ("row",))
        text.long_name = "text"
        text[0] = "a"
    problems = cf_problems(path)
    assert any("value: invalid units" in p for p in problems)
    assert "bare: no long_name" in problems and "bare: no units" in problems
    assert "text: variable-length string" in problems
    assert "no CF Conventions attribute" in problems
