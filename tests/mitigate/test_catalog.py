"""Parsing ``--strategies`` and describing the catalog for ``--list``."""

from __future__ import annotations

from pathlib import Path

import pytest

from genwatt.errors import ConfigError
from genwatt.mitigate.adaptive_cache import PRESET_3X, AdaptiveSettings
from genwatt.mitigate.catalog import CATALOG, describe_strategies, parse_strategies
from genwatt.models.reference.architecture import DEFAULTS

CALL = DEFAULTS.call_kwargs()


def test_names_settings_and_kinds_parse(tmp_path: Path) -> None:
    chosen = parse_strategies(
        "magcache:0.1, fewer-steps:12,genwatt-adaptive", CALL, reuse_store=tmp_path / "r.db"
    )
    assert [s.name for s in chosen] == ["magcache-0.1", "fewer-steps-12", "genwatt-adaptive-0.2"]
    kinds = {s.kind for s in parse_strategies("all", CALL, reuse_store=tmp_path / "r.db")}
    assert kinds == {"baseline", "cache", "reuse"}
    assert {s.kind for s in parse_strategies("reuse", CALL, reuse_store=tmp_path / "r.db")} == {
        "reuse"
    }


def test_the_3x_preset_keeps_its_warmup_and_run_cap_when_the_threshold_is_set() -> None:
    preset, tighter = parse_strategies("genwatt-adaptive-3x,genwatt-adaptive-3x:0.3", CALL)
    assert preset.settings == AdaptiveSettings(**PRESET_3X)
    assert (tighter.settings.threshold, tighter.settings.warmup, tighter.settings.max_skips) == (
        0.3,
        PRESET_3X["warmup"],
        PRESET_3X["max_skips"],
    )
    # Not the plain default: a longer warm-up and a tighter run cap, both in the name.
    assert preset.name == "genwatt-adaptive-0.4-warmup-5-max-skips-5"
    assert preset.settings != parse_strategies("genwatt-adaptive:0.4", CALL)[0].settings


def test_each_reuse_strategy_gets_its_own_file(tmp_path: Path) -> None:
    exact, semantic = parse_strategies("reuse", CALL, reuse_store=tmp_path / "r.db")
    assert exact.store.path == tmp_path / "exact-r.db"
    assert semantic.store.path == tmp_path / "semantic-r.db"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("warp-drive", "unknown strategy 'warp-drive'"),
        ("magcache:fast", "setting must be a number"),
        ("no-guidance:2", "takes no setting"),
        (" , ", "empty"),
    ],
)
def test_bad_values_are_clear_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_strategies(text, CALL)


def test_the_list_shows_every_strategy_with_its_default() -> None:
    rows = {row["name"]: row for row in describe_strategies()}
    assert set(rows) == set(CATALOG)
    assert rows["fewer-steps"]["default"] == f"fewer-steps-{DEFAULTS.steps // 2}"
    assert rows["magcache"]["default"].startswith("magcache-")
    assert rows["no-guidance"]["setting"] is None
    fifty = {row["name"]: row for row in describe_strategies({**CALL, "num_inference_steps": 50})}
    assert fifty["fewer-steps"]["default"] == "fewer-steps-25"


@pytest.mark.parametrize("setting", ["nan", "inf", "-inf", "NaN"])
def test_non_finite_settings_are_refused(setting: str) -> None:
    with pytest.raises(ConfigError, match="setting must be a finite number"):
        parse_strategies(f"magcache:{setting}", CALL)


def test_an_unknown_strategy_suggests_the_close_ones_once() -> None:
    with pytest.raises(ConfigError, match=r"did you mean magcache\b"):
        parse_strategies("magcach:0.1", CALL)
