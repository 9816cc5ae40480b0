"""`genwatt results`: the table, the exports, and clear errors on a bad --store."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from genwatt.cli.results import results
from genwatt.meter.result import Method, Provenance, WindowResult
from genwatt.store import SCHEMA_VERSION, ResultsStore, RunRecord


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """A group, as in the real app, so the command is invoked by name."""

    app.command("results")(results)
    return app


@pytest.fixture
def runner(monkeypatch) -> CliRunner:
    monkeypatch.setenv("COLUMNS", "220")  # rich would otherwise wrap at 80 columns
    return CliRunner()


def _record(energy_j: float, **fields) -> RunRecord:
    window = WindowResult(
        name="run",
        started_at=1_700_000_000.0,
        duration_s=4.0,
        energy_j={"gpu:0": energy_j},
        provenance={"gpu:0": Provenance.MEASURED},
        method={"gpu:0": Method.COUNTER},
    )
    base = {
        "kind": "bench",
        "started_at": 1_700_000_000.0,
        "duration_s": 4.25,
        "config": {"model": "tiny-sd", "steps": 4},
        "windows": [window],
        "environment": {"host": "test"},
    }
    return RunRecord(**{**base, **fields})


@pytest.fixture
def store_path(tmp_path) -> Path:
    path = tmp_path / "genwatt.db"
    with ResultsStore(path) as store:
        store.add(_record(7200.0))  # 2 Wh
        store.add(_record(0.0, kind="measure", status="failed", error="exit 3\ntrace", windows=[]))
        store.add(_record(36.0, kind="sweep", sweep="s1", config_key="steps=8", repeat=1))
    return path


def test_table_lists_runs_with_energy_and_provenance(app, runner, store_path):
    result = runner.invoke(app, ["results", "--store", str(store_path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    first = next(line for line in lines if "│ bench " in line)
    assert "2 Wh" in first
    assert "measured" in first
    assert "4.2 s" in first
    assert "tiny-sd steps=4" in first
    failed = next(line for line in lines if "│ measure " in line)
    assert "failed" in failed
    assert "error: exit 3" in failed
    sweep = next(line for line in lines if "│ sweep " in line)
    assert "10 mWh" in sweep
    assert "s1 steps=8 #1" in sweep
    assert "3 of 3 runs" in result.output


def test_kind_filter_and_default_limit(app, runner, tmp_path):
    path = tmp_path / "many.db"
    with ResultsStore(path) as store:
        for _ in range(23):
            store.add(_record(1.0))
        store.add(_record(1.0, kind="measure"))
    shown = runner.invoke(app, ["results", "--store", str(path)])
    assert "20 of 24 runs" in shown.output
    assert "--limit 0 shows all" in shown.output
    measures = runner.invoke(app, ["results", "--store", str(path), "--kind", "measure"])
    assert "1 of 1 runs" in measures.output


def test_json_prints_every_run_nested(app, runner, store_path):
    result = runner.invoke(app, ["results", "--store", str(store_path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [r["kind"] for r in data] == ["bench", "measure", "sweep"]
    assert data[0]["energy_j_total"] == 7200.0
    assert data[0]["windows"][0]["energy_j"] == {"gpu:0": 7200.0}
    assert data[1]["error"] == "exit 3\ntrace"


def test_status_filter_with_json(app, runner, store_path):
    result = runner.invoke(
        app, ["results", "--store", str(store_path), "--json", "--status", "failed"]
    )
    assert [r["id"] for r in json.loads(result.stdout)] == [2]


def test_csv_and_parquet_exports(app, runner, store_path, tmp_path):
    csv_path, parquet_path = tmp_path / "out.csv", tmp_path / "out.parquet"
    args = ["results", "--store", str(store_path), "--csv", str(csv_path)]
    result = runner.invoke(app, [*args, "--parquet", str(parquet_path)])
    assert result.exit_code == 0, result.output
    assert f"wrote 3 runs to {csv_path}" in result.output
    assert list(pd.read_csv(csv_path)["energy_wh_total"].fillna(-1)) == [2.0, -1, 0.01]
    assert list(pd.read_parquet(parquet_path)["kind"]) == ["bench", "measure", "sweep"]


def test_missing_store_is_an_error_and_is_not_created(app, runner, tmp_path):
    path = tmp_path / "nowhere.db"
    result = runner.invoke(app, ["results", "--store", str(path)])
    assert result.exit_code == 2
    assert f"no results store at {path}" in result.output
    assert not path.exists()


def test_default_store_comes_from_the_env_var(app, runner, store_path, monkeypatch):
    monkeypatch.setenv("GENWATT_STORE", str(store_path))
    result = runner.invoke(app, ["results", "--json"])
    assert len(json.loads(result.stdout)) == 3


def test_store_from_a_newer_genwatt_is_an_error(app, runner, store_path):
    with sqlite3.connect(store_path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    result = runner.invoke(app, ["results", "--store", str(store_path)])
    assert result.exit_code == 2
    assert "written by a newer genwatt" in result.output


def test_empty_store_says_so(app, runner, tmp_path):
    path = tmp_path / "empty.db"
    ResultsStore(path).close()
    result = runner.invoke(app, ["results", "--store", str(path)])
    assert result.exit_code == 0
    assert "no runs stored" in result.output


def test_a_filter_that_matches_nothing_is_not_called_an_empty_store(app, runner, tmp_path):
    path = tmp_path / "ok-only.db"
    with ResultsStore(path) as store:
        store.add(_record(1.0))
        store.add(_record(2.0, sweep="s1", config_key="k"))
    result = runner.invoke(app, ["results", "--store", str(path), "--status", "failed"])
    assert result.exit_code == 0
    assert "none of the 2 runs" in result.output and "match --status failed" in result.output
    assert "genwatt measure` first" not in result.output
    both = runner.invoke(
        app, ["results", "--store", str(path), "--sweep", "s1", "--kind", "measure"]
    )
    assert "(--kind measure matches none by itself)" in both.output


def test_a_read_only_store_can_be_listed(app, runner, store_path, monkeypatch):
    from genwatt.store import handle

    real_connect = sqlite3.connect

    def read_only_folder(database, *args, uri=False, **kwargs):
        if not uri:  # what SQLite answers for a store in a read-only folder or mount
            error = sqlite3.OperationalError("attempt to write a readonly database")
            error.sqlite_errorname = "SQLITE_READONLY_DIRECTORY"
            raise error
        return real_connect(database, *args, uri=uri, **kwargs)

    monkeypatch.setattr(handle.sqlite3, "connect", read_only_folder)
    result = runner.invoke(app, ["results", "--store", str(store_path)])
    assert result.exit_code == 0, result.output
    assert "3 of 3 runs" in result.output


# ------------------------------------------------------------ CodeCarbon and model card


def test_codecarbon_csv_appends_one_row_per_metered_run(app, runner, store_path, tmp_path):
    from genwatt.store.codecarbon_csv import CODECARBON_COLUMNS

    path = tmp_path / "emissions.csv"
    args = ["results", "--store", str(store_path), "--codecarbon-csv", str(path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    # The failed measure run has no window: no energy to write, and the output says so.
    assert "wrote 2 runs" in result.output
    assert "1 failed before metering began" in result.output
    frame = pd.read_csv(path)
    assert list(frame.columns[: len(CODECARBON_COLUMNS)]) == list(CODECARBON_COLUMNS)
    assert frame["genwatt_kind"].tolist() == ["bench", "sweep"]
    assert frame["energy_consumed"].tolist() == pytest.approx([7200.0 / 3.6e6, 36.0 / 3.6e6])
    again = runner.invoke(app, args)
    assert "wrote 0 runs" in again.output and "2 already in the file" in again.output
    assert len(pd.read_csv(path)) == 2


def test_codecarbon_csv_respects_the_filters(app, runner, store_path, tmp_path):
    path = tmp_path / "emissions.csv"
    args = ["results", "--store", str(store_path), "--codecarbon-csv", str(path)]
    result = runner.invoke(app, [*args, "--sweep", "s1"])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(path)["genwatt_sweep"].tolist() == ["s1"]


def test_codecarbon_csv_refuses_a_file_of_another_schema(app, runner, store_path, tmp_path):
    path = tmp_path / "emissions.csv"
    path.write_text("a,b\n1,2\n")
    args = ["results", "--store", str(store_path), "--codecarbon-csv", str(path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "error: refusing to append" in result.output
    assert path.read_text() == "a,b\n1,2\n"


def _sweep_store(tmp_path: Path) -> Path:
    path = tmp_path / "sweeps.db"
    grid = {
        "country": "FRA",
        "country_iso2": "FR",
        "country_name": "France",
        "g_per_kwh": 400.0,
        "source": "test",
        "year": 2023,
        "is_default": False,
        "cloud_region": "",
        "pue": 1.0,
    }
    with ResultsStore(path) as store:
        for model, energy_j in (("tiny-sd", 3.6e6), ("tiny-wan", 7.2e6)):
            window = WindowResult(
                name="generation",
                started_at=1_700_000_000.0,
                duration_s=4.0,
                energy_j={"gpu:0": energy_j},
                provenance={"gpu:0": Provenance.MEASURED},
                method={"gpu:0": Method.COUNTER},
            )
            store.add(
                _record(
                    0.0,
                    kind="sweep",
                    sweep="s",
                    config_key=model,
                    config={"model": model},
                    windows=[window],
                    extra={"carbon": grid},
                )
            )
        store.add(_record(1.0, kind="measure", config={"command": "true"}))
    return path


def test_model_card_prints_one_yaml_block_per_model(app, runner, tmp_path):
    import yaml

    result = runner.invoke(app, ["results", "--store", str(_sweep_store(tmp_path)), "--model-card"])
    assert result.exit_code == 0, result.output
    blocks = result.stdout.split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == ["# model: tiny-sd", "# model: tiny-wan"]
    grams = [yaml.safe_load(b)["co2_eq_emissions"]["emissions"] for b in blocks]
    assert grams == pytest.approx([400.0, 800.0])  # 1 and 2 kWh per generation at 400 g/kWh
    assert "left out 1 measure run(s) (no model" in result.stderr
    assert "one block per model (tiny-sd, tiny-wan)" in result.stderr


def test_model_card_without_any_model_run_is_a_clear_error(app, runner, store_path):
    result = runner.invoke(app, ["results", "--store", str(store_path), "--model-card"])
    assert result.exit_code == 2
    assert "error: no model card" in result.output
    assert "Traceback" not in result.output


def test_model_card_and_json_cannot_share_stdout(app, runner, store_path):
    result = runner.invoke(app, ["results", "--store", str(store_path), "--model-card", "--json"])
    assert result.exit_code == 2
    assert "give one of them" in result.output
