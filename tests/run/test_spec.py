from pathlib import Path

import pytest

from genwatt.errors import ConfigError
from genwatt.run.spec import DEFAULT_PROMPTS, load_spec, parse_spec


def test_minimal_spec_from_the_issue_parses(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "model: wan-tiny\nweights: tiny\n"
        "grid: {num_frames: [5, 9, 17], height: [32, 64], width: [32, 64], steps: [2, 4]}\n"
        "guidance: 5.0\nrepeats: 1\nwarmup: 0\n"
    )
    spec = load_spec(path)
    assert spec.grid.axes() == {
        "num_frames": [5, 9, 17],
        "height": [32, 64],
        "width": [32, 64],
        "steps": [2, 4],
    }
    assert spec.guidance == 5.0 and spec.weights == "tiny"


def test_unknown_top_level_key_names_it_and_suggests(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        parse_spec({"model": "wan-tiny", "repeat": 3})
    message = str(info.value)
    assert "'repeat'" in message and "did you mean 'repeats'" in message
    assert "allowed keys here" in message and "warmup" in message


def test_unknown_grid_key_lists_grid_keys() -> None:
    with pytest.raises(ConfigError) as info:
        parse_spec({"model": "wan-tiny", "grid": {"frames": [5]}})
    message = str(info.value)
    assert "'grid.frames'" in message and "num_frames" in message


def test_wrong_literal_lists_allowed_values() -> None:
    with pytest.raises(ConfigError, match="'pretrained', 'random' or 'tiny'"):
        parse_spec({"model": "wan-tiny", "weights": "rand"})


def test_wrong_type_and_bounds() -> None:
    with pytest.raises(ConfigError, match=r"grid\.num_frames"):
        parse_spec({"model": "wan-tiny", "grid": {"num_frames": "many"}})
    with pytest.raises(ConfigError, match="repeats"):
        parse_spec({"model": "wan-tiny", "repeats": 0})
    with pytest.raises(ConfigError, match="at least one value"):
        parse_spec({"model": "wan-tiny", "grid": {"steps": []}})


def test_bad_yaml_and_non_mapping(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_spec(bad)
    listed = tmp_path / "list.yaml"
    listed.write_text("- model: wan-tiny\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_spec(listed)
    with pytest.raises(ConfigError, match="cannot read"):
        load_spec(tmp_path / "missing.yaml")


def test_adaptive_repeats_are_checked() -> None:
    with pytest.raises(ConfigError, match="max_repeats must be >= min_repeats"):
        parse_spec({"model": "m", "adaptive": {"min_repeats": 5, "max_repeats": 3}})


def test_prompts_from_list_file_and_default(tmp_path: Path) -> None:
    assert parse_spec({"model": "m"}).prompt_list() == [DEFAULT_PROMPTS[0]]
    assert parse_spec({"model": "m", "prompts": ["a", "b"]}).prompt_list() == ["a", "b"]
    (tmp_path / "p.txt").write_text("first prompt\n\n second \n")
    spec = parse_spec({"model": "m", "prompts": "p.txt"})
    assert spec.prompt_list(tmp_path) == ["first prompt", "second"]
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(ConfigError, match="holds no prompt"):
        parse_spec({"model": "m", "prompts": "empty.txt"}).prompt_list(tmp_path)


def test_fingerprint_is_stable_and_sensitive() -> None:
    a = parse_spec({"model": "m", "grid": {"steps": [2, 4]}})
    b = parse_spec({"model": "m", "grid": {"steps": [2, 4]}})
    c = parse_spec({"model": "m", "grid": {"steps": [2, 8]}})
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
