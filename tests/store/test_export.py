"""Runs as frames and files: the columns, the figures, and the three formats."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from genwatt.carbon import WORLD
from genwatt.errors import StoreError
from genwatt.store import RunRecord
from genwatt.store.export import (
    RUN_COLUMNS,
    WINDOW_COLUMNS,
    export,
    iso_utc,
    records_json,
    runs_frame,
    windows_frame,
)


@pytest.fixture
def stored(store, make_record) -> list[RunRecord]:
    """Three runs read back from a real store: ok, failed without windows, in a sweep."""
    store.add(make_record())
    store.add(make_record(kind="measure", status="failed", error="exit 3", windows=[]))
    store.add(
        make_record(
            kind="sweep",
            sweep="s",
            config_key="steps=8",
            repeat=1,
            config={"model": "tiny-dit", "steps": "auto", "extra_flag": True},
        )
    )
    return store.runs()


def test_runs_frame_has_one_row_per_run_with_main_window_energy(stored):
    frame = runs_frame(stored)
    assert len(frame) == 3
    assert list(frame.columns[: len(RUN_COLUMNS)]) == list(RUN_COLUMNS)
    ok = frame.iloc[0]
    assert ok["id"] == stored[0].id
    assert ok["started_at"] == "2023-11-14T22:13:20+00:00"
    assert ok["main_window"] == "run"
    assert ok["energy_j.gpu:0"] == 1234.5  # the "run" window, not "denoise" (1000 J)
    assert ok["energy_j.cpu:0"] == 210.25
    assert ok["provenance.gpu:0"] == "measured"
    assert ok["provenance.cpu:0"] == "estimated"
    assert ok["energy_j_total"] == pytest.approx(1444.75)
    assert ok["energy_wh_total"] == pytest.approx(1444.75 / 3600)
    assert ok["provenance_total"] == "estimated"  # the weakest of its domains
    assert not ok["complete"]  # dram:0 failed
    assert ok["config.model"] == "tiny-sd"
    assert ok["config.cache.kind"] == "fbc"  # nested keys are dotted
    assert ok["config.size"] == "[64, 64]"  # lists stay in one cell
    assert ok["extra.country"] == "FR"


def test_failed_run_without_windows_has_no_energy_not_zero(stored):
    failed = runs_frame(stored).iloc[1]
    assert failed["status"] == "failed"
    assert failed["error"] == "exit 3"
    assert math.isnan(failed["energy_j_total"])
    assert math.isnan(failed["energy_j.gpu:0"])


def test_config_columns_are_the_union_in_first_seen_order(stored):
    columns = list(runs_frame(stored).columns)
    config = [c for c in columns if c.startswith("config.")]
    assert config == ["config.model", "config.steps", "config.size", "config.cache.kind",
                      "config.extra_flag"]  # fmt: skip
    assert columns.index("energy_j.gpu:0") > columns.index("config.extra_flag")


def test_windows_frame_has_one_row_per_window_and_domain(stored):
    frame = windows_frame(stored)
    assert list(frame.columns) == list(WINDOW_COLUMNS)
    first = frame[frame["run_id"] == stored[0].id]
    # "run": gpu, cpu, dram (failed); "denoise": gpu.
    assert list(zip(first["window"], first["domain"], strict=True)) == [
        ("run", "gpu:0"),
        ("run", "cpu:0"),
        ("run", "dram:0"),
        ("denoise", "gpu:0"),
    ]
    dram = first[first["domain"] == "dram:0"].iloc[0]
    assert dram["error"] == "RAPL counter vanished"
    assert math.isnan(dram["energy_j"])
    denoise = first[first["window"] == "denoise"].iloc[0]
    assert denoise["parent"] == "run"
    assert not denoise["main"]
    assert denoise["idle_subtracted_w"] == 35.5
    assert denoise["energy_wh"] == pytest.approx(1000 / 3600)
    gpu = first[(first["window"] == "run") & (first["domain"] == "gpu:0")].iloc[0]
    assert gpu["flags"] == "window shorter than 2 counter updates"
    assert gpu["method"] == "counter"
    assert len(frame[frame["run_id"] == stored[1].id]) == 0  # no windows, no rows


def test_empty_input_gives_frames_with_the_base_columns():
    assert list(runs_frame([]).columns) == list(RUN_COLUMNS)
    assert list(windows_frame([]).columns) == list(WINDOW_COLUMNS)


def test_csv_export_reads_back(stored, tmp_path):
    path = export(stored, tmp_path / "out" / "runs.csv")
    back = pd.read_csv(path)
    assert list(back["id"]) == [r.id for r in stored]
    assert back.loc[0, "energy_j.gpu:0"] == 1234.5
    assert back.loc[2, "config.steps"] == "auto"


def test_parquet_export_survives_mixed_config_types(stored, tmp_path):
    # config.steps is 4 in one run and "auto" in another: written as text.
    path = export(stored, tmp_path / "runs.parquet")
    back = pd.read_parquet(path)
    assert list(back["config.steps"]) == ["4", "4", "auto"]
    assert back.loc[0, "energy_j_total"] == pytest.approx(1444.75)


def test_windows_table_exports_to_parquet(stored, tmp_path):
    back = pd.read_parquet(export(stored, tmp_path / "w.parquet", table="windows"))
    assert len(back) == 8  # 4 rows for each of the two runs with windows


def test_json_export_is_nested_strict_and_round_trips(stored, tmp_path):
    nan_window = stored[0].windows[1]
    broken = RunRecord(
        **{**stored[0].__dict__, "extra": {"co2e_g": float("nan")}, "windows": [nan_window]}
    )
    path = export([*stored, broken], tmp_path / "runs.json")
    text = path.read_text()
    assert "NaN" not in text
    data = json.loads(text)
    assert isinstance(data, list) and len(data) == 4
    assert data[0]["config"] == {"model": "tiny-sd", "steps": 4, "size": [64, 64],
                                 "cache": {"kind": "fbc"}}  # fmt: skip
    assert data[0]["environment"]["host"] == "test-host"
    assert data[0]["windows"][1]["timeline"]["power_w"]["gpu:0"] == [98.0, 101.5, 99.25]
    assert data[0]["energy_j_total"] == pytest.approx(1444.75)
    assert data[0]["started_at_iso"] == iso_utc(stored[0].started_at)
    assert data[1]["energy_j_total"] is None
    assert data[3]["extra"]["co2e_g"] is None
    assert RunRecord.from_dict(data[0]) == stored[0]


def test_unknown_format_is_a_clear_error(stored, tmp_path):
    with pytest.raises(StoreError, match="unknown format 'xlsx'; use one of csv, json, parquet"):
        export(stored, tmp_path / "runs.xlsx")


def test_records_json_matches_export(stored, tmp_path):
    path = export(stored, tmp_path / "a.json")
    assert json.loads(path.read_text()) == records_json(stored)


def test_csv_neutralises_formula_text_but_keeps_negative_numbers(tmp_path, make_record):
    """Text a spreadsheet would run as a formula is quoted; numbers keep their sign."""
    hostile = {
        "command": '=HYPERLINK("http://evil.example","click")',
        "plus": "+1+2",
        "at": "@SUM(A1)",
        "tab": "\tx",
        "cr": "\rx",
        "minus_text": "-3.5",
        "offset": -3.5,
        "plain": "tiny-sd",
    }
    record = make_record(config=hostile, extra={"=cmd": "-x"}, error="-exit 3")
    path = export([record], tmp_path / "runs.csv")
    back = pd.read_csv(path, keep_default_na=False)
    row = back.iloc[0]
    assert row["config.command"] == "'" + hostile["command"]
    assert row["config.plus"] == "'+1+2"
    assert row["config.at"] == "'@SUM(A1)"
    assert row["config.tab"] == "'\tx"
    assert row["config.cr"] == "'\rx"
    assert row["config.minus_text"] == "'-3.5"  # text, though it reads as a number
    assert row["config.offset"] == -3.5  # a number: not a formula, stays a number
    assert row["config.plain"] == "tiny-sd"
    assert row["error"] == "'-exit 3"
    assert row["extra.=cmd"] == "'-x"
    text = path.read_text()
    assert ",=HYPERLINK" not in text and '"=HYPERLINK' not in text


def test_parquet_and_json_keep_formula_text_verbatim(tmp_path, make_record):
    record = make_record(config={"command": "=HYPERLINK(1)", "offset": -3.5})
    frame = pd.read_parquet(export([record], tmp_path / "runs.parquet"))
    assert frame.loc[0, "config.command"] == "=HYPERLINK(1)"
    data = json.loads(export([record], tmp_path / "runs.json").read_text())
    assert data[0]["config"] == {"command": "=HYPERLINK(1)", "offset": -3.5}


def test_runs_carry_their_gross_co2e_on_the_grid_they_were_stored_with(
    store, make_record, monkeypatch: pytest.MonkeyPatch
) -> None:
    from genwatt.carbon import grid_intensity
    from genwatt.carbon.setting import RECORD_KEY, CarbonSetting

    sweden = CarbonSetting(grid_intensity("SE"), 1.1)
    store.add(make_record(extra={RECORD_KEY: sweden.to_dict()}))
    store.add(make_record(extra={"country": "FR"}))  # stored by an earlier genwatt measure
    store.add(make_record(extra={}))
    store.add(make_record(extra={"country": "XX"}))  # a code this version does not know
    monkeypatch.setenv("GENWATT_COUNTRY", "PL")  # the reader's environment plays no part
    frame = runs_frame(store.runs())
    se, fr, none, unknown = frame.to_dict("records")
    assert se["co2e_g_gross"] == pytest.approx(sweden.co2e(se["energy_j_total"]).co2e_g)
    assert "Sweden" in se["co2e_grid"] and "stored with the runs" in se["co2e_grid"]
    france = CarbonSetting(grid_intensity("FR"))
    assert fr["co2e_g_gross"] == pytest.approx(france.co2e(fr["energy_j_total"]).co2e_g)
    assert none["co2e_g_gross"] == pytest.approx(none["energy_j_total"] / 3.6e6 * WORLD.g_per_kwh)
    assert "no country stored" in none["co2e_grid"]
    assert math.isnan(unknown["co2e_g_gross"]) and "XX" in unknown["co2e_grid"]
