"""What a new user hits in the config (issue 12): non-finite values, text from --config,
misleading messages, YAML syntax errors and experiments without grids."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from itscale.pipeline.schema import ConfigError, ConfigWarning, load_yaml, main, validate_config

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture
def tiny() -> dict:
    return yaml.safe_load((ROOT / "config" / "tiny.yaml").read_text())


def _error(config: dict) -> str:
    with pytest.raises(ConfigError) as info:
        validate_config(config, SCHEMA)
    return str(info.value)


@pytest.mark.parametrize("value", [float("inf"), float("nan")], ids=["inf", "nan"])
def test_non_finite_T_is_rejected_with_its_meaning(tiny, value):
    tiny["experiments"]["tiny_softmax"]["grids"]["T"] = [10.0, value]
    message = _error(tiny)
    assert f"config.experiments.tiny_softmax.grids.T[1] = {value!r} is not allowed" in message
    assert "must be a finite number" in message
    assert "T = inf means no selection" in message


@pytest.mark.parametrize(
    "where",
    [
        ("grids", "c", 1),
        ("grids", "k", 0),
        ("model", "sigma", None),
        ("model", "w_mean", None),
        ("grids", "T", "stop"),
    ],
)
@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_values_are_rejected_everywhere(tiny, where, value):
    exp = tiny["experiments"]["tiny_softmax"]
    section, key, index = where
    if index == "stop":
        exp[section][key] = {"start": 1.0, "stop": value, "num": 3}
    elif index is None:
        exp[section][key] = value
    else:
        exp[section][key] = list(exp[section][key])
        exp[section][key][index] = value
    suffix = "" if index is None else f".{index}" if index == "stop" else f"[{index}]"
    message = _error(tiny)
    assert f"config.experiments.tiny_softmax.{section}.{key}{suffix} = {value!r}" in message
    assert "must be a finite number" in message


def test_non_finite_plot_style_rejected(tiny):
    tiny["plot_style"]["width"] = float("nan")
    assert "config.plot_style.width = nan is not allowed: must be a finite number" in _error(tiny)


def test_fractional_k_says_whole_numbers(tiny):
    tiny["experiments"]["tiny_softmax"]["grids"]["k"] = [2.5, 10]
    message = _error(tiny)
    assert "grids.k[0] = 2.5 is not allowed: must be integer >= 1" in message
    assert "k must be whole numbers" in message
    assert "mapping with keys" not in message


def test_bad_range_mapping_still_names_the_range_keys(tiny):
    tiny["experiments"]["tiny_softmax"]["grids"]["k"] = {"start": 1, "stop": 10}
    assert "'num' is a required property" in _error(tiny)


def test_text_from_command_line_is_read_as_yaml(tiny):
    """What Snakemake's --config parser gives: 'plot_style={dpi: 150}' arrives as a mapping
    of text (YAML BaseLoader), merged into the config's plot_style; 'k=[1, 3]' as text."""
    expected = copy.deepcopy(tiny)
    tiny["plot_style"].update({"dpi": "150", "width": "3.5", "error_bars": "false"})
    tiny["experiments"]["tiny_softmax"]["grids"]["k"] = "[1, 3]"
    tiny["experiments"]["tiny_softmax"]["sampling"]["n_test"] = "48"
    validate_config(tiny, SCHEMA)
    assert tiny["plot_style"]["dpi"] == 150 and tiny["plot_style"]["width"] == 3.5
    assert tiny["plot_style"]["error_bars"] is False
    assert tiny["plot_style"]["height"] == expected["plot_style"]["height"]
    assert tiny["experiments"]["tiny_softmax"]["grids"]["k"] == [1, 3]
    assert tiny["experiments"]["tiny_softmax"]["sampling"]["n_test"] == 48


def test_text_that_stays_text_keeps_its_message(tiny):
    tiny["plot_style"]["dpi"] = "lots"
    assert "config.plot_style.dpi = 'lots' is not allowed: must be integer" in _error(tiny)
    tiny["plot_style"] = "dpi=150"
    message = _error(tiny)
    assert "config.plot_style = 'dpi=150' is not allowed: must be a mapping" in message
    assert "--configfile overlay.yaml" in message


def test_yaml_syntax_error_names_file_line_and_column(tmp_path):
    path = tmp_path / "overlay.yaml"
    path.write_text("seed: 1\nplot_style:\n  dpi: [150\n  width: 3\n")
    with pytest.raises(ConfigError) as info:
        load_yaml(path)
    message = str(info.value)
    assert f"YAML syntax error in {path}, line 4, column 8" in message


def test_check_command_names_the_bad_file(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text((ROOT / "config" / "tiny.yaml").read_text())
    bad = tmp_path / "bad.yaml"
    bad.write_text("plot_style: {dpi: 150\n")
    assert main([str(good)]) == 0 and capsys.readouterr().out.strip() == "ok"
    assert main([str(good), str(bad)]) == 1
    assert f"YAML syntax error in {bad}, line 2, column 1" in capsys.readouterr().out
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("plot_style: {dpi: 10}\n")
    assert main([str(good), str(overlay)]) == 1
    assert "config.plot_style.dpi = 10 is not allowed" in capsys.readouterr().out


def test_experiment_without_grids_warns(tiny):
    del tiny["experiments"]["tiny_softmax"]["grids"]
    with pytest.warns(ConfigWarning, match=r"tiny_softmax: no grids given.*k = \[1, 2, 5"):
        validate_config(tiny, SCHEMA)


def test_experiment_with_grids_does_not_warn(tiny, recwarn):
    validate_config(tiny, SCHEMA)
    assert not [w for w in recwarn if issubclass(w.category, ConfigWarning)]
