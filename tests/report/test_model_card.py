"""The model card's co2_eq_emissions block: the spec's keys, grams per query, one block
per model, and the runs that cannot make one left out with the reason."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from genwatt.carbon.setting import RECORD_KEY
from genwatt.meter.result import Method, Provenance, WindowResult
from genwatt.report.model_card import TRAINING_TYPE, model_card_emissions
from genwatt.store.records import RunRecord
from genwatt.version import __version__

SPEC_KEYS = {"emissions", "source", "training_type", "geographical_location", "hardware_used"}
GRID = {
    "country": "FRA",
    "country_iso2": "FR",
    "country_name": "France",
    "g_per_kwh": 400.0,
    "source": "test table",
    "year": 2023,
    "is_default": False,
    "cloud_region": "",
    "pue": 1.0,
}
GPU_ENV: dict[str, Any] = {
    "cpu": {"model": "Test CPU", "logical_cores": 8},
    "gpus": [{"index": 0, "name": "NVIDIA H100 80GB HBM3"}],
    "nvml_error": None,
}


def _generation(energy_j: float, provenance: Provenance = Provenance.MEASURED) -> WindowResult:
    return WindowResult(
        name="generation",
        started_at=1.7e9,
        duration_s=10.0,
        energy_j={"gpu:0": energy_j},
        provenance={"gpu:0": provenance},
        method={"gpu:0": Method.COUNTER},
    )


def _sweep_run(model: str, energy_j: float, **fields: Any) -> RunRecord:
    base: dict[str, Any] = {
        "kind": "sweep",
        "started_at": 1.7e9,
        "duration_s": 10.0,
        "config": {"model": model, "steps": 4, "device": "cuda", "weights": "random"},
        "windows": [_generation(energy_j)],
        "environment": GPU_ENV,
        "extra": {RECORD_KEY: GRID},
    }
    return RunRecord(**{**base, **fields})


def _suite_run(model: str, energy_j: float, queries: int, grid: dict[str, Any]) -> RunRecord:
    return RunRecord(
        kind="suite",
        started_at=1.7e9,
        duration_s=10.0,
        config={"model": model, "task": "text-classification", "queries": queries},
        windows=[_generation(energy_j, Provenance.ESTIMATED)],
        environment=GPU_ENV,
        extra={RECORD_KEY: grid, "queries_run": queries},
    )


def _parsed(text: str) -> dict[str, Any]:
    data = yaml.safe_load(text)
    assert set(data) == {"co2_eq_emissions"}
    return data["co2_eq_emissions"]


def test_the_block_parses_with_the_specs_keys_and_grams_per_query() -> None:
    selection = model_card_emissions([_sweep_run("wan-x", 3.6e6)])  # 1 kWh per generation
    (block,) = selection.blocks
    card = _parsed(block.to_yaml())
    assert set(card) >= SPEC_KEYS
    assert card["emissions"] == pytest.approx(400.0)  # grams: 1 kWh at 400 g/kWh
    assert card["training_type"] == TRAINING_TYPE == "inference"
    assert card["geographical_location"] == "France"
    assert (
        card["hardware_used"]
        == "1 x NVIDIA H100 80GB HBM3 (GPU) and Test CPU (CPU, 8 logical cores)"
    )
    assert f"genwatt {__version__}" in card["source"]
    assert "measured" in card["source"] and card["provenance"] == "measured"
    assert card["energy_consumed"] == pytest.approx(1.0)  # kWh per query
    assert "one inference query" in card["workload"]
    assert block.to_yaml().startswith("# model: wan-x\n")


def test_a_suite_runs_grams_are_per_query_weighted_by_queries() -> None:
    priced = {**GRID, "pue": 1.5}
    runs = [
        _suite_run("bert", 3.6e6, 1, priced),  # 1 kWh per query
        _suite_run("bert", 3.6e6, 3, priced),  # 1/3 kWh per query, three queries
    ]
    (block,) = model_card_emissions(runs).blocks
    card = _parsed(block.to_yaml())
    # Two runs, four queries, 2 kWh at the device: 0.5 kWh per query, x PUE 1.5.
    assert card["energy_consumed"] == pytest.approx(0.75)
    assert card["emissions"] == pytest.approx(300.0)
    assert card["provenance"] == "estimated"
    assert "estimated" in card["source"]
    assert block.queries == 4 and block.runs == 2


def test_one_block_per_model_named_in_its_comment() -> None:
    runs = [_sweep_run("model-a", 3.6e6), _sweep_run("model-b", 7.2e6)]
    selection = model_card_emissions(runs)
    assert [b.model for b in selection.blocks] == ["model-a", "model-b"]
    texts = selection.to_yaml().split("\n\n")
    assert len(texts) == 2
    assert texts[1].startswith("# model: model-b\n")
    assert _parsed(texts[1])["emissions"] == pytest.approx(800.0)


def test_runs_that_make_no_block_are_left_out_with_the_reason() -> None:
    measure = RunRecord(
        kind="measure",
        started_at=1.7e9,
        duration_s=1.0,
        config={"command": "python x.py"},
        windows=[_generation(1.0)],
    )
    failed = _sweep_run("model-a", 3.6e6, status="failed", error="OOM", windows=[])
    selection = model_card_emissions([_sweep_run("model-a", 3.6e6), measure, failed])
    assert len(selection.blocks) == 1
    assert selection.skipped == {
        "measure run(s) (no model: only suite and sweep runs name one)": 1,
        "failed run(s)": 1,
    }


def test_tiny_weights_and_mixed_configurations_are_said() -> None:
    tiny = _sweep_run("wan-x", 3.6e6, config={"model": "wan-x", "steps": 2, "weights": "tiny"})
    block = model_card_emissions([_sweep_run("wan-x", 3.6e6), tiny]).blocks[0]
    text = block.to_yaml()
    assert "tiny weights" in text
    assert "averaged over 2 configurations" in text


def test_a_run_without_a_country_says_the_location_is_not_given() -> None:
    run = _sweep_run("wan-x", 3.6e6, extra={})  # stored before runs kept a carbon setting
    card = _parsed(model_card_emissions([run]).blocks[0].to_yaml())
    assert card["geographical_location"].startswith("not given (priced on the world-average")
