"""Pipeline configuration: schema validation, defaults, content keys and the job plan."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from itscale.pipeline import config as cfg

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
CONFIGS = [ROOT / "config.yaml", ROOT / "config" / "tiny.yaml"]


def _load(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@pytest.fixture
def tiny() -> dict:
    return _load(ROOT / "config" / "tiny.yaml")


def _plan(config: dict) -> cfg.Plan:
    return cfg.build_plan(cfg.validate_config(copy.deepcopy(config), SCHEMA))


def _first_exp(config: dict) -> str:
    return next(iter(config["experiments"]))


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_configs_validate(path):
    config = cfg.validate_config(_load(path), SCHEMA)
    plan = cfg.build_plan(config)
    assert plan.targets()


def test_paper_overlay_validates_on_top_of_default():
    from snakemake.utils import update_config

    config = _load(ROOT / "config.yaml")
    update_config(config, _load(ROOT / "config" / "paper.yaml"))
    config = cfg.validate_config(config, SCHEMA)
    for exp in config["experiments"].values():
        if exp["simulate"]:
            assert exp["sampling"]["n_test"] == 1_000_000
            assert exp["sampling"]["trials"] == 100


def test_defaults_are_filled_and_not_shared(tiny):
    config = {
        "experiments": {
            "a": {"figure": {"kind": "best_of_k"}},
            "b": {"figure": {"kind": "best_of_k"}},
        }
    }
    cfg.validate_config(config, SCHEMA)
    a, b = config["experiments"]["a"], config["experiments"]["b"]
    assert config["seed"] == 20251219
    assert a["model"]["sigma"] == 1.0e-4 and a["sampling"]["shards"] == 1
    assert config["plot_style"]["format"] == ["pdf", "png"]
    a["model"]["n"] = 5  # defaults are deep copies, not shared objects
    assert b["model"]["n"] == 10000


@pytest.mark.parametrize(
    ("where", "value", "expected"),
    [
        (("model", "sigma"), -1.0e-4, ["model.sigma = -0.0001", "> 0"]),
        (("grids", "k"), [0, 5], ["grids.k[0] = 0", ">= 1"]),
        (("grids", "T"), [-1.0], ["grids.T[0] = -1.0", ">= 0"]),
        (("sampling", "n_test"), 0, ["sampling.n_test = 0", ">= 1"]),
        (("model", "n"), "1e4", ["model.n = '1e4'", "integer", "1.0e-4"]),
        (
            ("plot_style_format",),
            "jpg",
            ["plot_style.format = 'jpg'", "one of 'pdf', 'png', 'svg'"],
        ),
    ],
)
def test_bad_values_name_key_and_range(tiny, where, value, expected):
    config = copy.deepcopy(tiny)
    name = _first_exp(config)
    if where == ("plot_style_format",):
        config.setdefault("plot_style", {})["format"] = value
    else:
        config["experiments"][name].setdefault(where[0], {})[where[1]] = value
    with pytest.raises(cfg.ConfigError) as info:
        cfg.validate_config(config, SCHEMA)
    message = str(info.value)
    for fragment in expected:
        assert fragment in message, message


@pytest.mark.parametrize("level", ["top", "experiment", "model", "grids", "sampling", "plot_style"])
def test_unknown_keys_rejected_everywhere(tiny, level):
    config = copy.deepcopy(tiny)
    name = _first_exp(config)
    exp = config["experiments"][name]
    target = {
        "top": config,
        "experiment": exp,
        "model": exp.setdefault("model", {}),
        "grids": exp.setdefault("grids", {}),
        "sampling": exp.setdefault("sampling", {}),
        "plot_style": config.setdefault("plot_style", {}),
    }[level]
    target["bogus_key"] = 1
    with pytest.raises(cfg.ConfigError, match="unknown key.*'bogus_key'.*allowed keys"):
        cfg.validate_config(config, SCHEMA)


def test_semantic_checks(tiny):
    config = copy.deepcopy(tiny)
    name = _first_exp(config)
    config["experiments"][name]["sampling"].update(n_test=10, block_size=10, shards=2)
    with pytest.raises(cfg.ConfigError, match=r"shards = 2 .* <= the number of test-input blocks"):
        cfg.validate_config(config, SCHEMA)
    config = copy.deepcopy(tiny)
    config["experiments"][name]["grids"]["T"] = {
        "start": 0.0,
        "stop": 1.0,
        "num": 3,
        "spacing": "log",
    }
    with pytest.raises(cfg.ConfigError, match="log-spaced range needs start > 0"):
        cfg.validate_config(config, SCHEMA)
    config = copy.deepcopy(tiny)
    config["run"] = ["nope"]
    with pytest.raises(cfg.ConfigError, match="unknown experiment 'nope'"):
        cfg.validate_config(config, SCHEMA)


def test_run_selects_judge_data_experiments():
    """``run`` may name a judge-data experiment: only its jobs are planned."""
    config = cfg.load_config(ROOT / "config.yaml", SCHEMA)
    judge = next(iter(config["judge_data"]))
    config["run"] = [judge]
    plan = cfg.build_plan(cfg.validate_config(config, SCHEMA))
    assert list(plan.judges) == [judge] and not plan.experiments


def test_resolve_grid():
    assert cfg.resolve_grid(
        {"start": 1, "stop": 100, "num": 3, "spacing": "log"}, integer=True
    ) == [1, 10, 100]
    assert cfg.resolve_grid([5, 1, 5.0], integer=True) == [1, 5]
    assert cfg.resolve_grid({"start": 0.0, "stop": 1.0, "num": 3}) == [0.0, 0.5, 1.0]
    grid = cfg.resolve_grid(
        {"start": 0.1, "stop": 1000.0, "num": 5, "spacing": "log", "include_zero": True}
    )
    assert grid == [0.0, 0.1, 1.0, 10.0, 100.0, 1000.0]
    assert cfg.resolve_grid([float("inf"), 0.0]) == [0.0, float("inf")]


# --------------------------------------------------------------------------------------------
# keys: each stage depends on exactly its own parameters
# --------------------------------------------------------------------------------------------


def _keys(config: dict) -> dict[str, set[str]]:
    plan = _plan(config)
    return {stage: set(params) for stage, params in plan.params.items()}


def _changed(before: dict, after: dict) -> set[str]:
    return {stage for stage in before if before[stage] != after.get(stage)}


@pytest.mark.parametrize(
    ("section", "key", "value", "changed"),
    [
        ("grids", "T", [0.0, 1.0e-6], {"sampling", "theory", "figure"}),
        ("grids", "k", [1, 3], {"sampling", "theory", "figure"}),
        ("model", "gamma", 2.0e-3, {"posterior", "sampling", "theory", "figure"}),
        ("sampling", "n_test", 80, {"data", "posterior", "sampling", "figure"}),
        ("sampling", "trials", 3, {"sampling", "figure"}),
        ("sampling", "shards", 4, {"sampling", "figure"}),
        ("theory", "hte_order", 2, {"theory", "figure"}),
        (
            "model",
            "w_std",
            3.0,
            {"data", "posterior", "sampling", "theory", "figure"},
        ),
    ],
)
def test_changes_touch_only_dependent_stages(tiny, section, key, value, changed):
    config = copy.deepcopy(tiny)
    name = _first_exp(config)
    config["experiments"][name].setdefault(section, {})[key] = value
    config["experiments"][name].get("sweep", {}).pop(key, None)
    assert _changed(_keys(tiny), _keys(config)) == changed


def test_seed_and_plot_style(tiny):
    config = copy.deepcopy(tiny)
    config["seed"] = 7
    assert "theory" not in _changed(_keys(tiny), _keys(config))
    config = copy.deepcopy(tiny)
    config.setdefault("plot_style", {})["dpi"] = 111
    assert _changed(_keys(tiny), _keys(config)) == {"figure"}


def test_equivalent_spellings_hash_the_same(tiny):
    config = copy.deepcopy(tiny)
    name = _first_exp(config)
    exp = config["experiments"][name]
    exp["model"]["S"] = 1  # int spelling of the float 1.0 in tiny.yaml
    exp["model"]["n"] = float(exp["model"]["n"])  # 200.0 for 200
    exp["grids"]["k"] = list(reversed(cfg.resolve_grid(exp["grids"]["k"], integer=True)))
    assert _keys(config) == _keys(tiny)


def test_plan_paths_and_upstream(tiny):
    plan = _plan(tiny)
    for exp in plan.experiments.values():
        for path in exp.sampling_paths:
            key = path.split("/")[2]
            assert len(key) == 16
            post = plan.upstream("sampling", key, "posterior")
            data = plan.upstream("posterior", post.split("/")[2], "data")
            assert post.startswith("results/posterior/") and data.startswith("results/data/")
            assert (
                plan.stage("sampling", key)["gamma"]
                == plan.stage("posterior", post.split("/")[2])["gamma"]
            )
            assert len(plan.shard_paths(key)) == plan.stage("sampling", key)["shards"]
        assert exp.publish_path.startswith("figures/")
        assert plan.figure(exp.figure_key) is exp
    with pytest.raises(KeyError, match="stale target"):
        plan.stage("data", "0" * 16)


def test_params_are_plain_python(tiny):
    plan = _plan(tiny)

    def check(obj):
        assert type(obj) in (int, float, str, bool, list, dict, type(None)), type(obj)
        if isinstance(obj, dict):
            for value in obj.values():
                check(value)
        elif isinstance(obj, list):
            for value in obj:
                check(value)

    for stage in plan.params.values():
        for params in stage.values():
            check(params)


def test_two_sigma2_temperature_unit(tiny):
    config = copy.deepcopy(tiny)
    name = _first_exp(config)
    exp = config["experiments"][name]
    exp["model"]["sigma"] = 1.0e-2
    exp["grids"].update(T=[0.0, 10.0], T_unit="two_sigma2")
    point = _plan(config).experiments[name].points[0]
    assert point["T"] == [0.0, 10.0 * 2.0 * 1.0e-4]


def test_shard_blocks_partition():
    for n_test, block, shards in [(10, 3, 1), (10, 3, 4), (1000, 7, 5)]:
        blocks = [cfg.shard_blocks(n_test, block, shards, i) for i in range(shards)]
        flat = [b for part in blocks for b in part]
        assert flat == list(range(-(-n_test // block)))
        assert all(part for part in blocks)
    with pytest.raises(ValueError, match="shards must be"):
        cfg.shard_blocks(10, 5, 3, 0)


def test_resources_are_positive_ints(tiny):
    plan = _plan(tiny)
    for stage in ("data", "posterior", "sampling", "theory"):
        for key in plan.params.get(stage, {}):
            res = plan.resources(stage, key)
            assert set(res) == {"mem_mb", "runtime"}
            assert all(isinstance(v, int) and v > 0 for v in res.values())
    big = dict(n=10, d=10, replicates=1, n_test=10**6, block_size=10**5, trials=1, shards=1)
    big.update(k=[1, 10], T=[0.0], c=[0.0])
    small = dict(big, block_size=10**3)
    mem = {
        name: cfg.stage_resources("shard", p)["mem_mb"]
        for name, p in [("big", big), ("small", small)]
    }
    assert mem["big"] > mem["small"]
    capped = dict(big, trials=100, k=[1, 1000])  # the engine chunks: memory stays bounded
    assert cfg.stage_resources("shard", capped)["mem_mb"] < 3 * (cfg.ENGINE_BUDGET_MB + 400)


# --------------------------------------------------------------------------------------------
# module inputs
# --------------------------------------------------------------------------------------------


def test_module_files_transitive(tmp_path):
    pkg = tmp_path / "itscale"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from itscale.b import f\nfrom . import c\nimport numpy\n")
    (pkg / "b.py").write_text("from itscale import validation\n")
    (pkg / "c.py").write_text("import itscale.d\n")
    (pkg / "d.py").write_text("")
    (pkg / "validation.py").write_text("")
    (pkg / "unused.py").write_text("")
    files = {Path(p).name for p in cfg.module_files("a", "missing", package_dir=pkg)}
    assert files == {"a.py", "b.py", "c.py", "d.py", "validation.py"}


def test_module_files_of_real_stages():
    theory = {
        Path(p).name
        for p in cfg.module_files("theory.equivalents", "theory.expansions", "pipeline.datasets")
    }
    assert "montecarlo.py" not in theory and "expansions.py" in theory
    assert all(Path(p).is_absolute() for p in cfg.module_files("pipeline.datasets"))


def test_old_module_paths_are_aliases_of_new_homes():
    """Code outside the project imports the pre-layout paths; they are the same module objects."""
    import importlib

    import itscale

    moved = {
        "itscale.selection": "itscale.theory.selection",
        "itscale.equivalents": "itscale.theory.equivalents",
        "itscale.expansions": "itscale.theory.expansions",
        "itscale.montecarlo": "itscale.simulation.montecarlo",
        "itscale.data": "itscale.simulation.data",
        "itscale.posterior": "itscale.simulation.posterior",
    }
    for old, new in moved.items():
        assert importlib.import_module(old) is importlib.import_module(new)
    from itscale.selection import delta_exact, delta_exact_curves, judge_centre  # noqa: F401

    assert itscale.delta_exact is delta_exact
    assert set(itscale.__all__) <= set(dir(itscale))


def test_library_and_scripts_import_modules_by_their_homes():
    """The rules' module scanner follows files, so code must not import the old alias paths."""
    import ast

    import itscale

    old = set(itscale._MOVED)
    offenders = []
    for path in [*(ROOT / "src" / "itscale").rglob("*.py"), *(ROOT / "workflow").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n in old]
    assert not offenders, offenders
