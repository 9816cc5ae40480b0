"""``genwatt measure`` end to end: the real console script metering real commands."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import psutil
import pytest

from genwatt.carbon import WORLD, grid_intensity
from genwatt.store import ResultsStore

PY = sys.executable
BUSY = "import time\nprint('from the child')\nwhile time.process_time() < 0.2: pass\n"


def measure_json(genwatt, *args: str) -> tuple[dict, str, int]:
    done = genwatt("measure", "--json", *args)
    return json.loads(done.stdout), done.stderr, done.returncode


def test_measure_json_report(genwatt) -> None:
    report, stderr, code = measure_json(genwatt, "--no-store", "--", PY, "-c", BUSY)
    assert code == 0
    assert "from the child" in stderr  # the command's stdout must not spoil the JSON
    assert report["exit_code"] == 0
    assert 0.2 <= report["duration_s"] < 10
    assert set(report["energy_j"]) == {"cpu:0", "dram:0"}
    assert report["provenance"] == {"cpu:0": "estimated", "dram:0": "estimated"}
    # The child burnt at least 0.2 s of CPU: at least that many thread-seconds of power.
    watts_per_thread = report["assumptions"]["cpu:0"]["watts_per_thread"]
    assert report["energy_j"]["cpu:0"] >= 0.2 * watts_per_thread
    dram_w = psutil.virtual_memory().total / 1e9 * 0.375
    assert report["energy_j"]["dram:0"] == pytest.approx(dram_w * report["duration_s"], rel=0.02)
    total_j = sum(report["energy_j"].values())
    assert report["energy_wh_total"] == pytest.approx(total_j / 3600, rel=1e-12)
    assert report["co2e_g"] == pytest.approx(total_j / 3.6e6 * WORLD.g_per_kwh, rel=1e-12)
    assert report["carbon"]["intensity"]["is_default"] is True
    assert "run_id" not in report
    assert {m["source"] for m in report["missing_counters"]} >= {"nvml", "rapl"}


def test_measure_timeline(genwatt) -> None:
    code = "import time; time.sleep(0.45)"
    report, _, _ = measure_json(genwatt, "--no-store", "--timeline", "--", PY, "-c", code)
    timeline = report["timeline"]
    assert 2 <= len(timeline["t_s"]) <= 6  # one sample per 100 ms
    dram_w = psutil.virtual_memory().total / 1e9 * 0.375
    assert timeline["power_w"]["dram:0"] == pytest.approx([dram_w] * len(timeline["t_s"]), rel=0.02)


@pytest.mark.parametrize(
    ("code", "exit_code"),
    [
        ("import sys; sys.exit(3)", 3),
        ("import os, signal; os.kill(os.getpid(), signal.SIGTERM)", 128 + signal.SIGTERM),
    ],
)
def test_genwatt_exits_with_the_command_exit_code(genwatt, code: str, exit_code: int) -> None:
    report, _, returncode = measure_json(genwatt, "--no-store", "--", PY, "-c", code)
    assert returncode == exit_code
    assert report["exit_code"] == exit_code
    assert report["energy_j"]["dram:0"] > 0


def test_country_changes_the_co2e(genwatt) -> None:
    report, _, _ = measure_json(genwatt, "--no-store", "--country", "FR", "--", PY, "-c", "pass")
    france = grid_intensity("FR")
    assert report["carbon"]["intensity"]["iso3"] == "FRA"
    assert report["carbon"]["intensity"]["is_default"] is False
    total_j = sum(report["energy_j"].values())
    assert report["co2e_g"] == pytest.approx(total_j / 3.6e6 * france.g_per_kwh, rel=1e-12)
    assert france.g_per_kwh != WORLD.g_per_kwh


def test_an_unknown_country_is_a_clear_error_before_anything_runs(genwatt, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w')"
    done = genwatt("measure", "--no-store", "--country", "XX", "--", PY, "-c", code)
    assert done.returncode == 2
    assert "error:" in done.stderr
    assert "No grid carbon intensity for country 'XX'" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr
    assert not marker.exists()


def test_a_command_that_does_not_exist(genwatt) -> None:
    done = genwatt("measure", "--no-store", "--", "genwatt-no-such-command")
    assert done.returncode == 2
    assert "command not found: genwatt-no-such-command" in done.stderr
    assert "Traceback" not in done.stderr


def test_store_keeps_the_run(genwatt, tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    report, _, code = measure_json(genwatt, "--store", str(db), "--", PY, "-c", "exit(4)")
    assert code == 4
    assert report["store"] == str(db)
    with ResultsStore(db) as store:
        (run,) = store.runs()
        assert store.runs(kind="measure") == [run]
    assert run.id == report["run_id"]
    assert run.kind == "measure" and run.status == "failed" and run.error == "exit code 4"
    assert run.extra["exit_code"] == 4
    assert run.extra["co2e_g"] == report["co2e_g"]
    assert run.config["command"].endswith("-c 'exit(4)'")
    (window,) = run.windows
    assert window.name == "run"
    assert window.energy_j == report["energy_j_gross"]
    assert window.duration_s == report["duration_s"]


def test_human_report(genwatt) -> None:
    done = genwatt("measure", "--no-store", "--", PY, "-c", "print('child output')")
    assert done.returncode == 0
    assert done.stdout == "child output\n"  # the report goes to stderr
    assert "genwatt measure:" in done.stderr
    assert "estimated" in done.stderr and "exit code 0" in done.stderr
