"""Workflow layout: rule paths equal the plan's, thin scripts, the figure-kind registry, and
the stage functions run without Snakemake."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from itscale.pipeline.plan import LOGS, PATHS
from itscale.pipeline.resources import shard_blocks
from itscale.pipeline.stages import data, finite_size, posterior, sampling, theory
from itscale.report.kinds import KINDS, get_kind

ROOT = Path(__file__).resolve().parents[1]
RULES = sorted((ROOT / "workflow" / "rules").glob("*.smk"))


def _rule_blocks() -> dict[str, str]:
    """Text of every rule in workflow/rules/*.smk, by rule name."""
    blocks = {}
    for path in RULES:
        parts = re.split(
            r"^(?:rule|use rule \w+ as) (\w+)(?: with)?:\n", path.read_text(), flags=re.M
        )
        blocks.update(zip(parts[1::2], parts[2::2], strict=True))
    return blocks


def _directive(block: str, name: str) -> list[str]:
    """The string literals of one directive (``output:``, ``log:``) of a rule, in order."""
    match = re.search(rf"^    {name}:\n((?:        .*\n|\n)+?)(?=^    \w|\Z)", block, flags=re.M)
    assert match, name
    skip = r"(?!caption=|category=|subcategory=)"  # report() arguments that are not paths
    found = re.findall(
        rf'^\s+{skip}(?:\w+=)?(?:report\(|expand\()?"([^"]+)"', match.group(1), flags=re.M
    )
    # expand("...{{key}}...{ext}", ext=FIGURE_FORMATS): the pattern with its wildcards
    return [path.replace("{{", "{").replace("}}", "}") for path in found]


def test_rule_paths_equal_the_plan():
    """Every rule spells out its plan path; the publish rule's outputs are the published
    copies of Plan.publish_files() (PATHS["publish_*"]), written by that one job."""
    blocks = _rule_blocks()
    outputs = {name: _directive(block, "output") for name, block in blocks.items() if name != "all"}
    published = [name for name in PATHS if name.startswith("publish_")]
    expected = {
        name: [path] for name, path in PATHS.items() if name not in ("numbers_nc", *published)
    }
    expected["numbers"] = [PATHS["numbers"], PATHS["numbers_nc"]]
    expected["publish"] = []  # published("targets"): not literal paths
    assert outputs == expected
    assert re.search(r"^    output:\n        published\(\"targets\"\),\n", blocks["publish"], re.M)
    for name in ("figure", "theory_figure", "judge_figure"):  # one job saves every format
        assert "ext=FIGURE_FORMATS" in blocks[name], name
    logs = {name: _directive(block, "log") for name, block in blocks.items() if name != "all"}
    assert logs == {name: [path] for name, path in LOGS.items()}


def test_publish_files_pair_every_rendering_with_its_copy():
    """One publish job copies every figure format and the numbers table: the pairs cover
    Plan.targets() and both table files, and their sources are the rendering paths."""
    from itscale.pipeline.plan import build_plan
    from itscale.pipeline.schema import validate_config

    config = yaml.safe_load((ROOT / "config" / "tiny.yaml").read_text())
    plan = build_plan(validate_config(config, ROOT / "workflow" / "schemas" / "config.schema.yaml"))
    pairs = plan.publish_files()
    targets = [target for _, target in pairs]
    assert targets == [*plan.targets(), "figures/numbers.csv", "figures/numbers.nc"]
    assert len(set(targets)) == len(targets)
    for source, target in pairs[:-2]:
        name = re.escape(Path(target).name)
        assert re.fullmatch(r"results/(theory_)?figures/[0-9a-f]{16}/" + name, source)
    assert [source for source, _ in pairs[-2:]] == list(plan.numbers_paths())
    assert re.fullmatch(r"results/numbers/[0-9a-f]{16}/numbers\.csv", pairs[-2][0])


def test_no_rule_passes_a_caption_as_a_param():
    """Report captions are files (report(caption=...)), not params the report would list."""
    for name, block in _rule_blocks().items():
        params = re.search(r"^    params:\n((?:        .*\n)+)", block, flags=re.M)
        assert params is None or "caption" not in params.group(1), name


def test_scripts_are_thin():
    """Each workflow script reads, calls one stage function of itscale.pipeline.stages, writes."""
    for path in sorted((ROOT / "workflow" / "scripts").glob("*.py")):
        tree = ast.parse(path.read_text())
        assert len(path.read_text().splitlines()) <= 20, path.name
        imports = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert imports <= {"itscale.pipeline.job", "itscale.pipeline.stages"}, path.name
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.For)]


def test_registry_matches_schema_and_kinds_are_complete():
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    assert set(KINDS) == set(schema["$defs"]["figure"]["properties"]["kind"]["enum"])
    for kind in KINDS:
        module = get_kind(kind)
        size = module.SIZE
        assert len(size) == 2 and all(v > 0 for v in size), kind
        for name in ("theory_request", "plot", "rows"):
            assert callable(getattr(module, name)), (kind, name)
        assert module.__name__.rsplit(".", 1)[-1] == kind
    with pytest.raises(ValueError, match="unknown figure kind"):
        get_kind("numbers")


POINT = {
    "seed": 5,
    "replicates": 1,
    "n": 40,
    "d": 3,
    "S": 1.0,
    "sigma": 0.1,
    "gamma": 1.0,
    "w_mean": 0.0,
    "w_std": 1.0,
    "n_test": 12,
    "block_size": 4,
    "k": [1, 2, 4],
    "T": [0.0, 0.2],
    "c": [0.0, 1.0],
    "trials": 2,
    "hte_order": 3,
}


def test_stage_functions_run_without_snakemake():
    """data -> posterior -> finite size -> shards -> gather, and theory, called from Python:
    three shards gather to the same numbers as one."""
    post = posterior.build(data.build(POINT), POINT)
    fs = finite_size.build(post, POINT)
    gathered = {}
    for shards in (1, 3):
        p = {**POINT, "shards": shards}
        parts = [
            sampling.shard(post, p, shard_blocks(12, 4, shards, i), index=i) for i in range(shards)
        ]
        gathered[shards] = sampling.gather(parts, fs, p)
    for var in ("delta_mc", "delta_mc_se", "delta_rb", "delta_rb_se", "delta_fs"):
        assert gathered[1][var].dims == ("replicate", "T", "c", "k")
        np.testing.assert_array_equal(gathered[1][var].values, gathered[3][var].values)
    # the Rao-Blackwellised estimate agrees with the exact average of the same training set
    rb = gathered[1]
    assert float((abs(rb["delta_rb"] - rb["delta_fs"]) / rb["delta_rb_se"]).max()) < 5
    th = theory.build({**POINT, "curves": {"fine": {"k": [1, 3], "T": [0.2], "c": [0.0]}}})
    assert th["delta_de_fine"].dims == ("T_fine", "c_fine", "k_fine")
    assert th["delta_de_fine"].sel(k_fine=1).item() == pytest.approx(float(th["delta1"]))
    assert "k_star" not in th  # optima only when the figure kind asks for them
