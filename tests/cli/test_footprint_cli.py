"""``genwatt footprint`` end to end: JSON keys and sums, the words, --from-store, errors.

The console script runs in a subprocess for diffusion models (the shipped predictor) and
stored runs; the task predictor is replaced by a stand-in in-process, through typer's
runner, to pin what the command passes on and prints.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from genwatt.carbon.intensity import grid_intensity
from genwatt.carbon.setting import RECORD_KEY, CarbonSetting
from genwatt.meter.result import Method, Provenance, WindowResult
from genwatt.predict.predictor import predict
from genwatt.store.records import RunRecord
from genwatt.store.store import ResultsStore
from genwatt.units import J_PER_KWH

WAN = ("--model", "wan2.1-t2v-1.3b", "--steps", "10")
REQUIRED = {"energy_kwh", "energy_kwh_low", "energy_kwh_high", "co2e_kg", "provenance"}


def _store(tmp_path: Path) -> Path:
    """One suite run of DistilBERT on a GPU in Germany: 100 J of GPU over 50 queries."""
    window = WindowResult(
        name="generation",
        started_at=1.7e9,
        duration_s=1.0,
        energy_j={"gpu:0": 100.0},
        provenance={"gpu:0": Provenance.MEASURED},
        method={"gpu:0": Method.COUNTER},
    )
    record = RunRecord(
        kind="suite",
        started_at=1.7e9,
        duration_s=1.0,
        config={
            "task": "text-classification",
            "model": "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
            "repo_id": "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
            "kind": "task-specific",
            "family": "distilbert",
            "params": 66_955_010,
            "batch_size": 1,
            "weights": "random",
            "device": "cuda",
            "dtype": None,
            "queries": 50,
            "warmup": 10,
            "new_tokens": None,
            "steps": None,
            "data": "builtin",
            "seed": 0,
            "protocol": "ai-energy-score",
        },
        windows=[window],
        extra={"queries_run": 50, RECORD_KEY: CarbonSetting(grid_intensity("DE")).to_dict()},
        sweep="suite-1",
        config_key="k",
    )
    path = tmp_path / "s.db"
    with ResultsStore(path) as store:
        store.add(record)
    return path


def test_json_has_the_totals_the_range_and_the_grid(genwatt) -> None:
    result = genwatt(
        "footprint", *WAN, "--count", "1000", "--per", "day", "--country", "FR", "--json"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= REQUIRED
    per_query_j = predict("wan2.1-t2v-1.3b", "h100-sxm", steps=10).energy_gpu_j
    assert data["energy_kwh"] == pytest.approx(per_query_j * 365_000 / J_PER_KWH)
    assert data["energy_kwh_low"] < data["energy_kwh"] < data["energy_kwh_high"]
    assert data["provenance"] == "predicted" and data["per_query"]["provenance"] == "predicted"
    assert data["count"] == 1000 and data["per"] == "day" and data["queries"] == 365_000
    assert data["grid"]["country"] == "FRA"
    assert data["co2e_kg"] == pytest.approx(data["energy_kwh"] * data["grid"]["g_per_kwh"] / 1e3)
    assert {e["key"] for e in data["equivalents"]} >= {"us_households", "car_km"}
    assert data["share_of_generation"]["iso3"] == "FRA"


def test_the_words_give_a_year_homes_and_the_share(genwatt) -> None:
    result = genwatt("footprint", *WAN, "--count", "40000000", "--per", "week", "--country", "IE")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "40,000,000 queries a week = 2,087,200,000 a year" in out
    assert "GWh" in out and "(predicted)" in out and "range" in out
    assert "households' electricity for a year" in out
    assert "of the yearly electricity generation of Ireland" in out


def test_from_store_scales_the_stored_energy_and_says_so(genwatt, tmp_path: Path) -> None:
    store = _store(tmp_path)
    args = ("footprint", "--model", "distilbert-sst2", "--count", "1000000", "--from-store")
    result = genwatt(*args, "--store", str(store), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["provenance"] == "measured"
    assert data["per_query"]["energy_j"] == pytest.approx(2.0)
    assert data["energy_kwh"] == pytest.approx(2.0 * 1e6 / J_PER_KWH)
    assert data["grid"]["country"] == "DEU"  # the grid the run was stored with
    words = genwatt(*args, "--store", str(store)).stdout
    assert "measured in 1 stored run(s)" in words and "not predicted" in words


def test_from_store_without_matching_runs_is_one_error_line(genwatt, tmp_path: Path) -> None:
    store = _store(tmp_path)
    result = genwatt(
        "footprint", "--model", "distilbert-sst2", "--count", "10", "--from-store",
        "--store", str(store), "--batch", "8",
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("error: no stored run of distilbert-sst2")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "bad",
    [("--per", "month"), ("--count", "nan"), ("--scope", "cpu"), ("--image-size", "480")],
)
def test_bad_flags_are_refused_before_anything_runs(genwatt, bad: tuple[str, str]) -> None:
    result = genwatt("footprint", "--model", "distilbert-sst2", "--count", "10", *bad)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """``genwatt.predict.task_predictor`` as the lead's API states it: 2 J a query."""
    calls: list[dict[str, Any]] = []

    class Prediction:
        energy_gpu_j = 2.0
        energy_machine_j = None
        error_low_frac = 0.25
        error_high_frac = 0.5
        notes = ()

        def to_dict(self) -> dict[str, Any]:
            return {"energy_gpu_j": 2.0, "provenance": "predicted"}

    def predict_task(model: str, gpu: str, **kwargs: Any) -> Prediction:
        calls.append({"model": model, "gpu": gpu, **kwargs})
        return Prediction()

    module = types.ModuleType("genwatt.predict.task_predictor")
    module.predict_task = predict_task  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "genwatt.predict.task_predictor", module)
    return calls


def test_task_settings_reach_the_task_predictor(stand_in) -> None:
    from genwatt.cli.app import app

    result = CliRunner().invoke(
        app,
        [
            "footprint", "--model", "vit-base-224", "--image-size", "480x640", "--gpu", "l40s",
            "--batch", "4", "--count", "3", "--per", "year", "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (call,) = stand_in
    assert call["model"] == "google/vit-base-patch16-224" and call["gpu"] == "l40s"
    assert call["image_hw"] == (480, 640) and call["batch"] == 4
    data = json.loads(result.output)
    assert data["energy_kwh"] == pytest.approx(6.0 / J_PER_KWH)
    assert data["energy_kwh_low"] == pytest.approx(4.5 / J_PER_KWH)
    assert data["energy_kwh_high"] == pytest.approx(9.0 / J_PER_KWH)


def test_footprint_imports_no_torch(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from genwatt.cli.app import app\n"
        f"r = CliRunner().invoke(app, ['footprint', *{list(WAN)!r}, '--count', '5', '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.strip() == "[]"


def test_report_shows_the_stored_configuration_at_a_daily_volume(genwatt, tmp_path: Path) -> None:
    store = _store(tmp_path)
    out = tmp_path / "r.html"
    args = ("report", "--store", str(store), "-o", str(out))
    result = genwatt(*args, "--daily-volume", "1000000")
    assert result.returncode == 0, result.stderr
    html = out.read_text()
    assert '<section id="footprint">' in html and "1,000,000 queries a day" in html
    # 2 J a query x 1,000,000 a day x 365 = 203 kWh a year
    assert "203 kWh" in html and "Germany" in html
    refused = genwatt(*args, "--daily-volume", "0")
    assert refused.returncode == 2 and "--daily-volume" in refused.stderr
