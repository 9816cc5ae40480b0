import time
from pathlib import Path

import pytest

from genwatt.errors import ConfigError
from genwatt.run.sweep_spec import DEFAULT_PROMPTS, MAX_SPEC_BYTES, load_spec, parse_spec


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


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_non_finite_numbers_are_refused(tmp_path: Path, value: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(f"model: wan-tiny\nguidance: {value}\n")
    with pytest.raises(ConfigError, match="guidance: Input should be a finite number"):
        load_spec(path)
    with pytest.raises(ConfigError, match=r"grid\.guidance\.1"):
        parse_spec({"model": "wan-tiny", "grid": {"guidance": [5.0, float(value[-3:])]}})


BOMB = "model: wan-tiny\nx:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"  {b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefg", "bcdefgh", strict=True)
)


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB + "prompts: [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n")
    started = time.perf_counter()
    with pytest.raises(ConfigError, match="expands to more than 100,000 values"):
        load_spec(path)
    assert time.perf_counter() - started < 1.0


def test_a_huge_invalid_value_is_shown_short() -> None:
    nested = ["lol"] * 9
    for _ in range(8):
        nested = [nested] * 9  # shared, as YAML aliases build it
    started = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        parse_spec({"model": "wan-tiny", "prompts": nested})
    assert time.perf_counter() - started < 1.0 and len(str(info.value)) < 4000


def test_non_utf8_spec_and_prompt_file_name_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"model: wan-tiny\nprompts: [caf\xe9]\n")
    with pytest.raises(ConfigError, match=r"latin1\.yaml is not UTF-8 text: byte 29 is 0xe9"):
        load_spec(path)
    (tmp_path / "p.txt").write_bytes(b"a cat\n\xff\n")
    spec = parse_spec({"model": "m", "prompts": "p.txt"})
    with pytest.raises(ConfigError, match=r"prompt file .*p\.txt is not UTF-8 text: byte 6"):
        spec.prompt_list(tmp_path)


def test_an_oversized_spec_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("model: wan-tiny\n" + "#" * (MAX_SPEC_BYTES + 1))
    with pytest.raises(ConfigError, match="larger than 1,024 KiB"):
        load_spec(path)


def test_yaml_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: wan-tiny\ngrid: {steps: [1, 2}\n")
    with pytest.raises(ConfigError) as info:
        load_spec(bad)
    assert "\n" not in str(info.value) and "line 2" in str(info.value)
