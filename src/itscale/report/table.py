"""The numbers table: key numbers of every figure with their theory values, as CSV and NetCDF.

Each figure kind (:mod:`itscale.report.kinds`) gives the rows of its experiment from the
pipeline's datasets (``rows``); this module adds the agreement rows every simulated
experiment gets (largest |MC - exact| / SE and relative deviations), builds the table in
config order (:func:`numbers_table`) and writes ``figures/numbers.csv`` with its NetCDF mirror
(:func:`write_table`). Nothing is computed here but reductions of the datasets; the theory
values come from the theory stage.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from itscale.report.summaries import mc_summary, point_params

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "COLUMNS",
    "SRC_EXPONENT",
    "NOTE_FS_EXPONENT",
    "row",
    "fmt",
    "t_text",
    "selector",
    "agreement_rows",
    "experiment_rows",
    "numbers_table",
    "to_dataset",
    "write_table",
]

#: Columns of the numbers table, in order.
COLUMNS: tuple[str, ...] = (
    "experiment",
    "kind",
    "quantity",
    "selector",
    "value",
    "se",
    "theory",
    "theory_grid",
    "z",
    "units",
    "source",
    "note",
)


_COLUMN_DOC: dict[str, str] = {
    "experiment": "experiment (figure) name in config.yaml",
    "kind": "figure kind (its module: itscale.report.kinds.<kind>)",
    "quantity": "what the row measures",
    "selector": "the sweep point / curve the row belongs to",
    "value": "measured value (Monte Carlo unless the note says otherwise)",
    "se": "standard error of value (nan if not available)",
    "theory": "theory value (deterministic equivalent, exact optimum or asymptote)",
    "theory_grid": "the same estimator applied to the reference curve on the Monte Carlo grid: "
    "the DE theory, or the finite-size exact average in *_vs_finite_size rows",
    "z": "(value - reference) / se; reference = theory_grid if finite, else theory",
    "units": "scale of value, se, theory and theory_grid (1: a pure number)",
    "source": "itscale function(s) that gave the theory value",
    "note": "how the row is computed",
}


def row(
    experiment,
    kind,
    quantity,
    selector,
    value=math.nan,
    se=math.nan,
    theory=math.nan,
    theory_grid=math.nan,
    units="1",
    source="",
    note="",
) -> dict[str, Any]:
    ref = theory_grid if math.isfinite(theory_grid) else theory
    z = (
        (value - ref) / se
        if (math.isfinite(se) and se > 0 and math.isfinite(ref) and math.isfinite(value))
        else math.nan
    )
    return {
        "experiment": experiment,
        "kind": kind,
        "quantity": quantity,
        "selector": selector,
        "value": float(value),
        "se": float(se),
        "theory": float(theory),
        "theory_grid": float(theory_grid),
        "z": float(z),
        "units": units,
        "source": source,
        "note": note,
    }


SRC_EXPONENT = "itscale.expansions.decay_exponent; theory_grid: fit to equivalents.delta_de"

NOTE_FS_EXPONENT = (
    "as decay_exponent; theory_grid: the same fit to the exact average for the same training "
    "sets (expected within noise)"
)


def fmt(x: float) -> str:
    return f"{x:.6g}"


def t_text(T: float, scale: float) -> str:
    return f"T/(2 sigma^2)={fmt(T / scale)}" if scale != 1.0 else f"T={fmt(T)}"


def selector(theory: xr.Dataset, sweep: str | None) -> str:
    if sweep is None:
        return "-"
    p = point_params(theory)
    text = f"{sweep}={fmt(float(p[sweep]))}"
    if sweep in ("w_std", "w_mean", "n", "d"):
        text += f" (rho={fmt(float(theory['rho']))})"
    return text


#: The agreement rows every simulated experiment gets: (quantity, source, note), in order.
_AGREEMENT: tuple[tuple[str, str, str], ...] = (
    (
        "max_abs_z_mc_vs_finite_size",
        "itscale.finite_size.delta_fitted",
        "max over replicates and grid of |delta_mc - delta_fs| / delta_mc_se (same "
        "training sets; within noise means <~ 4)",
    ),
    (
        "max_abs_z_rb_vs_finite_size",
        "itscale.finite_size.delta_fitted",
        "as above for the Rao-Blackwellised estimator; its SE is tiny, so the s^2(x) "
        "concentration approximation of delta_fs can show",
    ),
    (
        "max_abs_z_mc_vs_de",
        "itscale.equivalents.delta_de",
        "max over grid of |replicate mean of delta_mc - delta_de| / Monte Carlo SE; "
        "includes the spread between training sets, so not expected within noise",
    ),
    (
        "max_rel_dev_mc_vs_de",
        "itscale.equivalents.delta_de",
        "max over grid of |replicate mean of delta_mc - delta_de| / delta_de",
    ),
    (
        "max_rel_dev_finite_size_vs_de",
        "itscale.finite_size.delta_fitted, itscale.equivalents.delta_de",
        "max over grid of |replicate mean of delta_fs - delta_de| / delta_de "
        "(finite-size and training-set effects, no Monte Carlo)",
    ),
)


def _agreement_values(smp: xr.Dataset, th: xr.Dataset) -> tuple[float, ...]:
    """One sweep point's deviations, in the order of ``_AGREEMENT``."""
    z_fs = [
        float((np.abs(smp[f"delta_{est}"] - smp["delta_fs"]) / smp[f"delta_{est}_se"]).max())
        for est in ("mc", "rb")
    ]
    mean, se = mc_summary(smp, "mc")
    de = th["delta_de"].sel(T=mean["T"], c=mean["c"], k=mean["k"])
    fs = smp["delta_fs"].mean("replicate")
    return (
        *z_fs,
        float((np.abs(mean - de) / se).max()),
        float((np.abs(mean - de) / de).max()),
        float((np.abs(fs - de) / de).max()),
    )


def agreement_rows(name, kind, sampling, theory):
    """Largest |MC - finite size| / SE and |MC - DE| / SE over the whole figure."""
    if not sampling:
        return []
    values = [_agreement_values(smp, th) for smp, th in zip(sampling, theory, strict=True)]
    return [
        row(name, kind, quantity, "all", value=max(v[i] for v in values), source=src, note=note)
        for i, (quantity, src, note) in enumerate(_AGREEMENT)
    ]


def experiment_rows(
    experiment: Mapping[str, Any],
    sampling: Sequence[xr.Dataset],
    theory: Sequence[xr.Dataset],
) -> list[dict[str, Any]]:
    """Rows of the numbers table for one experiment.

    experiment: at least ``experiment`` (name) and ``kind``; ``T_unit`` as in the figure
    parameters. sampling / theory: the datasets of its sweep points, in order (sampling empty
    for theory-only experiments).
    """
    from itscale.report.kinds import get_kind

    name, kind = experiment["experiment"], experiment["kind"]
    rows_of = get_kind(kind).rows
    if sampling and len(sampling) != len(theory):
        raise ValueError("sampling and theory must have one dataset per sweep point each")
    rows = rows_of(experiment, list(sampling), list(theory))
    return rows + agreement_rows(name, kind, list(sampling), list(theory))


def numbers_table(
    experiments: Iterable[tuple[Mapping[str, Any], Sequence[xr.Dataset], Sequence[xr.Dataset]]],
) -> list[dict[str, Any]]:
    """Rows of every experiment, in the order given."""
    rows: list[dict[str, Any]] = []
    for experiment, sampling, theory in experiments:
        rows.extend(experiment_rows(experiment, sampling, theory))
    return rows


def _csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([fmt(row[c]) if isinstance(row[c], float) else row[c] for c in COLUMNS])
    return buf.getvalue()


_FLOAT_COLUMNS = ("value", "se", "theory", "theory_grid", "z")

#: What the float columns' CF units "1" mean: every quantity of the model is a pure number,
#: and a row's ``units`` text names the scale its number is a multiple of (``2 sigma^2``).
_SCALE_NOTE = "; a dimensionless number, in multiples of the row's units variable"


def to_dataset(
    rows: Sequence[Mapping[str, Any]], attrs: Mapping[str, Any] | None = None
) -> xr.Dataset:
    """The table as an xarray Dataset over a ``row`` dimension (text and float64).

    CF-clean: every variable has a ``long_name``; the float columns and ``row`` have units
    "1" (dimensionless; the per-row scale is the ``units`` text column); text columns are
    written as fixed-width character arrays (:func:`write_table`).
    """
    import xarray as xr

    data = {}
    for col in COLUMNS:
        values = [row[col] for row in rows]
        attrs_col = {"long_name": _COLUMN_DOC[col]}
        if col in _FLOAT_COLUMNS:
            arr = np.asarray(values, dtype=np.float64)
            attrs_col = {"long_name": _COLUMN_DOC[col] + _SCALE_NOTE, "units": "1"}
        else:
            arr = np.asarray(values, dtype=object).astype(str)
        data[col] = xr.DataArray(arr, dims=("row",), attrs=attrs_col)
    ds = xr.Dataset(data, coords={"row": np.arange(len(rows), dtype=np.int64)})
    ds["row"].attrs.update(long_name="row of figures/numbers.csv", units="1")
    ds.attrs.update(
        {
            "title": "itscale key numbers of the paper figures with their theory values",
            "Conventions": "CF-1.10",
            "source": "itscale (Halder & Pehlevan, arXiv:2512.19905)",
            **(attrs or {}),
        }
    )
    return ds


def _nc_encoding(ds: xr.Dataset) -> dict[str, dict[str, Any]]:
    """NetCDF encoding of the table: floats without fill value, text as UTF-8 character
    arrays with one ``<column>_strlen`` dimension each (no variable-length strings)."""
    encoding: dict[str, dict[str, Any]] = {}
    for name in ds.data_vars:
        if name in _FLOAT_COLUMNS:
            encoding[name] = {"_FillValue": None}
        else:
            encoding[name] = {"dtype": "S1", "char_dim_name": f"{name}_strlen"}
    return encoding


def write_table(
    rows: Sequence[Mapping[str, Any]],
    csv_path: str | os.PathLike,
    nc_path: str | os.PathLike | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> None:
    """Write the table as CSV (fixed 6-significant-digit floats) and optionally as NetCDF.

    Both files are written atomically and contain nothing time- or host-dependent.
    """
    from itscale.pipeline.datasets import atomic_output

    with atomic_output(csv_path) as tmp:
        Path(tmp).write_text(_csv_text(rows), encoding="utf-8")
    if nc_path is not None:
        ds = to_dataset(rows, attrs)
        encoding = _nc_encoding(ds)
        with atomic_output(nc_path) as tmp:
            ds.to_netcdf(tmp, mode="w", format="NETCDF4", engine="netcdf4", encoding=encoding)
