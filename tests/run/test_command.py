"""measure_command: a real child process inside one window, with a fake energy source."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import pytest

from genwatt.carbon import ENV_COUNTRY, WORLD, grid_intensity
from genwatt.errors import ConfigError, GenwattError, UnknownCountryError
from genwatt.meter.meter import Meter
from genwatt.run.command import exit_code_of, measure_command

PY = sys.executable


@pytest.fixture(autouse=True)
def _no_country_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_COUNTRY, raising=False)


@pytest.fixture
def meter(fake_source) -> Meter:
    """100 W on gpu:0 and 10 W on cpu:0, in real time."""
    source = fake_source("gpu:0", "cpu:0", rate_w=100.0)
    source.rate_w["cpu:0"] = 10.0
    return Meter([source], synchronize=False)


@pytest.mark.parametrize(
    ("returncode", "exit_code"),
    [(0, 0), (3, 3), (255, 255), (-signal.SIGTERM, 143), (-signal.SIGKILL, 137)],
)
def test_exit_code_follows_the_shell_convention(returncode: int, exit_code: int) -> None:
    assert exit_code_of(returncode) == exit_code


def test_the_command_runs_inside_a_window_named_run(meter: Meter) -> None:
    threads_before = set(threading.enumerate())
    measurement = measure_command([PY, "-c", "import time; time.sleep(0.2)"], meter=meter)
    assert measurement.exit_code == 0
    window = measurement.window
    assert window.name == "run" and meter.results == [window]
    assert 0.2 <= window.duration_s < 5
    # the fake counter and the meter read the clock apart; allow a stall of a few ms
    assert window.energy_j["gpu:0"] == pytest.approx(100.0 * window.duration_s, rel=0.05)
    assert window.energy_j["cpu:0"] == pytest.approx(10.0 * window.duration_s, rel=0.05)
    assert measurement.idle is None and measurement.reported is window
    assert measurement.carbon.intensity == WORLD
    assert measurement.carbon.co2e_g == pytest.approx(
        window.total_energy_j / 3.6e6 * WORLD.g_per_kwh, rel=1e-12
    )
    report = measurement.to_dict()
    assert report["command"] == [PY, "-c", "import time; time.sleep(0.2)"]
    assert report["exit_code"] == 0
    assert report["duration_s"] == window.duration_s
    assert report["energy_j"] == window.energy_j
    assert report["provenance"] == {"gpu:0": "measured", "cpu:0": "measured"}
    assert report["energy_j_total"] == window.total_energy_j
    assert report["energy_wh_total"] == pytest.approx(window.total_energy_j / 3600, rel=1e-12)
    assert report["provenance_total"] == "measured"
    assert report["net_of_idle"] is False and report["idle_power_w"] is None
    assert report["co2e_g"] == measurement.carbon.co2e_g
    assert report["missing_counters"] == [] and report["errors"] == {}
    assert report["timeline"] is None
    assert set(threading.enumerate()) <= threads_before  # the sampler thread has stopped


@pytest.mark.parametrize(
    ("code", "exit_code"),
    [
        ("import sys; sys.exit(3)", 3),
        ("import os, signal; os.kill(os.getpid(), signal.SIGTERM)", 128 + signal.SIGTERM),
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", 128 + signal.SIGKILL),
    ],
)
def test_the_command_exit_code_is_kept(meter: Meter, code: str, exit_code: int) -> None:
    measurement = measure_command([PY, "-c", code], meter=meter)
    assert measurement.exit_code == exit_code
    assert measurement.window.energy_j["gpu:0"] > 0


def test_stdout_can_be_redirected(meter: Meter, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    with out.open("w") as stream:
        measure_command([PY, "-c", "print('hello')"], meter=meter, stdout=stream)
    assert out.read_text() == "hello\n"


def test_a_command_that_does_not_exist(meter: Meter) -> None:
    with pytest.raises(GenwattError, match="command not found: genwatt-no-such-command --flag"):
        measure_command(["genwatt-no-such-command", "--flag"], meter=meter)
    assert [r.name for r in meter.results] == ["run"]  # the window was closed, not leaked


def test_a_file_that_is_not_executable(meter: Meter, tmp_path: Path) -> None:
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o644)
    with pytest.raises(GenwattError, match=f"cannot execute {script}"):
        measure_command([str(script)], meter=meter)


def test_an_empty_command(meter: Meter) -> None:
    with pytest.raises(GenwattError, match="no command given"):
        measure_command([], meter=meter)


def test_idle_is_measured_first_and_subtracted(meter: Meter) -> None:
    measurement = measure_command(
        [PY, "-c", "import time; time.sleep(0.1)"], meter=meter, idle_seconds=0.2
    )
    idle = measurement.idle
    assert idle is not None and meter.idle_power is idle
    assert idle.duration_s >= 0.2
    # The fake counter runs on its own clock reads, a few microseconds from the meter's;
    # a stalled thread on a loaded 2-core machine shifts them by milliseconds (a 2 %
    # bound over 50 ms failed once in CI), so the window is longer and the bound looser.
    assert idle.power_w["gpu:0"] == pytest.approx(100.0, rel=0.1)
    gross, shown = measurement.window, measurement.reported
    for domain, energy in gross.energy_j.items():
        expected = max(0.0, energy - idle.power_w[domain] * gross.duration_s)
        assert shown.energy_j[domain] == pytest.approx(expected, abs=1e-9)
    assert shown.idle_subtracted_w == idle.power_w
    report = measurement.to_dict()
    assert report["net_of_idle"] is True
    assert report["energy_j_gross"] == gross.energy_j
    assert report["idle_power_w"] == idle.power_w
    assert report["co2e_g"] == pytest.approx(
        shown.total_energy_j / 3.6e6 * WORLD.g_per_kwh, rel=1e-9, abs=1e-15
    )


def test_country_and_pue_change_the_co2e(meter: Meter) -> None:
    measurement = measure_command([PY, "-c", "pass"], meter=meter, country="FR", pue=1.5)
    france = grid_intensity("FR")
    assert measurement.carbon.intensity == france and france.g_per_kwh != WORLD.g_per_kwh
    energy_j = measurement.window.total_energy_j
    assert measurement.carbon.co2e_g == pytest.approx(
        energy_j * 1.5 / 3.6e6 * france.g_per_kwh, rel=1e-12
    )


@pytest.mark.parametrize(
    ("options", "error"),
    [({"country": "XX"}, UnknownCountryError), ({"pue": 0.5}, ConfigError)],
)
def test_bad_carbon_options_fail_before_the_command_runs(
    meter: Meter, tmp_path: Path, options: dict, error: type[Exception]
) -> None:
    marker = tmp_path / "ran"
    with pytest.raises(error):
        measure_command([PY, "-c", f"open({str(marker)!r}, 'w')"], meter=meter, **options)
    assert not marker.exists()
    assert meter.results == []
