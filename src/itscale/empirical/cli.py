"""Command line ``itscale analyse FILE``: one-off analysis of scored candidates, no workflow.

Reads the records (:func:`read_records`), runs :func:`analyse`, prints the tables and writes
``analysis.nc`` (and ``analysis.png``) into ``--out``. Bad input prints one message naming the
file, line and field and exits with status 2 without writing anything.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from pathlib import Path

import numpy as np
import xarray as xr

from itscale.empirical.analysis import AnalysisConfig, analyse
from itscale.empirical.records import RecordFormat, read_records

__all__ = ["main", "parse_grid"]


def parse_grid(text: str, kind: type) -> list:
    """Comma-separated values and ``a:b`` integer ranges (inclusive): '1:4,8' -> [1, 2, 3, 4, 8]."""
    out: list = []
    for token in text.replace(" ", "").split(","):
        if not token:
            continue
        if ":" in token and kind is int:
            a, b = (int(v) for v in token.split(":", 1))
            out += list(range(a, b + 1))
        else:
            out.append(kind(token))
    if not out:
        raise ValueError(f"empty grid {text!r}")
    return out


def _grid(kind: type):
    def convert(text: str) -> list:
        try:
            return parse_grid(text, kind)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a list of {kind.__name__}: {text!r}") from None

    return convert


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="itscale", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("analyse", help="error against k and T of judges on scored candidates")
    p.add_argument("file", help="JSONL or CSV records (gzip allowed)")
    p.add_argument("--judge", action="append", help="judge to analyse (repeat; default all)")
    p.add_argument("--k", type=_grid(int), default=list(range(1, 11)), help="e.g. 1:10 or 1,2,5")
    p.add_argument("--T", type=_grid(float), default=None, help="temperatures, e.g. 0,0.1,1,inf")
    p.add_argument("--k-ref", type=int, help="k of the error-vs-T curve (default: largest k)")
    p.add_argument("--bootstrap", type=int, default=1000, help="resamples (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--level", type=float, default=0.95, help="interval coverage")
    p.add_argument("--normalise", choices=("raw", "pooled_sd"), default="pooled_sd")
    p.add_argument("--drop-small-pools", action="store_true", help="drop pools smaller than k")
    p.add_argument("--out", default="itscale-analysis", help="output directory")
    p.add_argument("--no-figure", action="store_true")
    p.add_argument("--full-table", action="store_true", help="print every (judge, k, T)")
    f = p.add_argument_group("record format")
    f.add_argument("--layout", choices=("auto", "candidates", "problems", "csv"), default="auto")
    f.add_argument("--problem-field", default="problem_id")
    f.add_argument("--candidate-field", default=None)
    f.add_argument("--quality-field", default="correct")
    f.add_argument("--quality", choices=("correct", "loss"), default="correct")
    f.add_argument("--score-field", action="append", default=[], help="numeric judge field")
    f.add_argument("--score-dict", default="judge_scores", help="object of named judge scores")
    return parser


def _default_T() -> list[float]:
    return [0.0] + [float(t) for t in np.geomspace(0.05, 50.0, 16)]


def _fmt(x: float) -> str:
    return f"{x:.4g}" if math.isfinite(x) else str(x)


def _cell(res: xr.Dataset, **sel) -> str:
    lo, hi = float(res.delta_lower.sel(sel)), float(res.delta_upper.sel(sel))
    return f"k={sel['k']}: {float(res.delta.sel(sel)):.4f} [{lo:.4f}, {hi:.4f}]"


def _print_tables(res: xr.Dataset, full: bool) -> None:
    T0 = float(res["T"].min())
    k_ref = int(res.attrs["k_ref"])
    print(f"# {res.attrs['source_file']}: {res.attrs['n_problems']} problems; "
          f"intervals: {res.attrs['interval']}")  # fmt: skip
    print(f"# error against k at T = {_fmt(T0)} (oracle, random = {_fmt(float(res.baseline))})")
    for judge in res["judge"].values:
        print(f"## {judge}")
        for k in res["k"].values:
            s = {"judge": judge, "k": k, "T": T0}
            print(f"  k={k:<4d} {float(res.delta.sel(s)):.4f} "
                  f"[{float(res.delta_lower.sel(s)):.4f}, {float(res.delta_upper.sel(s)):.4f}]"
                  f"   oracle {float(res.oracle.sel(k=k)):.4f}")  # fmt: skip
    print(f"# error against T at k = {k_ref}; T*, and T above which the expansion holds")
    for judge in res["judge"].values:
        s = {"judge": judge, "k": k_ref}
        print(f"## {judge}: T* = {_fmt(float(res.T_star.sel(s)))} "
              f"[{_fmt(float(res.T_star_lower.sel(s)))}, {_fmt(float(res.T_star_upper.sel(s)))}]"
              f", expansion valid from T = {_fmt(float(res.T_valid.sel(s)))}")  # fmt: skip
        for T in res["T"].values if full else []:
            cells = [_cell(res, judge=judge, T=T, k=k) for k in res["k"].values]
            print(f"  T={_fmt(T):<8} " + "  ".join(cells))
    print(f"# paired differences at k = {k_ref}, T = {_fmt(T0)}: error(a) - error(b)")
    for a in res["judge"].values:
        for b in res["judge_b"].values:
            if a < b:
                s = {"judge": a, "judge_b": b, "T": T0}
                print(f"  {a} - {b}: {float(res.difference.sel(s)):+.4f} "
                      f"[{float(res.difference_lower.sel(s)):+.4f}, "
                      f"{float(res.difference_upper.sel(s)):+.4f}], "
                      f"P(a better) = {float(res.fraction_better.sel(s)):.3f}")  # fmt: skip


def _run(args: argparse.Namespace) -> None:
    fmt = RecordFormat(
        layout=args.layout,
        problem=args.problem_field,
        candidate=args.candidate_field,
        quality=args.quality_field,
        quality_kind=args.quality,
        score_fields=tuple(args.score_field),
        score_dict=None if args.score_field else args.score_dict,
    )
    ds = read_records(args.file, fmt, judges=args.judge)
    config = AnalysisConfig(
        judges=None if args.judge is None else tuple(args.judge),
        k=tuple(args.k),
        T=tuple(_default_T() if args.T is None else args.T),
        bootstrap=args.bootstrap,
        seed=args.seed,
        level=args.level,
        normalise=args.normalise,
        k_ref=args.k_ref,
        drop_small_pools=args.drop_small_pools,
    )
    res = analyse(ds, config)
    _print_tables(res, args.full_table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # written like the pipeline's judges stage: provenance, CF attributes, no vlen strings
    from itscale.pipeline.datasets import write_dataset
    from itscale.pipeline.stages.judges import label

    params = dataclasses.asdict(config) | {"judges": list(res["judge"].values.tolist())}
    write_dataset(label(res, params, ds.attrs["source_file"]), out / "analysis.nc")
    if not args.no_figure:
        from itscale.empirical.figure import plot_analysis

        plot_analysis(res, out / "analysis.png")  # atomic, like write_dataset
    print(f"# wrote {out / 'analysis.nc'}" + ("" if args.no_figure else " and analysis.png"))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``itscale`` console script; returns the exit status (2: bad input)."""
    args = _parser().parse_args(argv)
    try:
        _run(args)
    except (ValueError, OSError) as exc:  # RecordError and KGridError are ValueErrors
        print(f"itscale: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
