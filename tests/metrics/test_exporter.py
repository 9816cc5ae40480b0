"""The long-running exporter behind ``genwatt metrics``: which meter it builds, how it
stops, and the errors that say what to do."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from genwatt.errors import ConfigError
from genwatt.meter.meter import Meter
from genwatt.meter.result import Provenance
from genwatt.metrics.exporter import EXPORTER_WINDOW, exporter_meter, run_exporter


def test_the_exporter_meter_has_the_counters_and_no_estimate(
    powercap, monkeypatch: pytest.MonkeyPatch
) -> None:
    powercap.add("intel-rapl:0", "package-0", 10_000_000)
    powercap.add("intel-rapl:0:0", "dram", 2_000_000)
    monkeypatch.setenv("GENWATT_POWERCAP_ROOT", str(powercap.root))
    meter = exporter_meter()
    assert {d.name: d.provenance for d in meter.domains} == {
        "cpu:0": Provenance.MEASURED,
        "dram:0": Provenance.MEASURED,
    }


def test_a_machine_without_counters_needs_a_pid() -> None:
    with pytest.raises(ConfigError, match=r"no energy counter on this machine .*--pid PID"):
        exporter_meter()


def test_with_a_pid_the_missing_counters_are_estimated_for_its_process_tree() -> None:
    meter = exporter_meter(pid=os.getpid())
    domains = {d.name: d for d in meter.domains}
    assert set(domains) == {"cpu:0", "dram:0"}
    assert all(d.provenance is Provenance.ESTIMATED for d in domains.values())
    assert f"process {os.getpid()} and its descendants" in domains["cpu:0"].device


def test_a_pid_with_no_process_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="--pid 999999999: cannot follow that process"):
        exporter_meter(pid=999_999_999)


def test_a_run_writes_the_textfile_and_returns_its_whole_window(
    fake_source, tmp_path: Path, parse
) -> None:
    src = fake_source("gpu:0", rate_w=100.0)
    lines: list[str] = []
    run = run_exporter(
        textfile=tmp_path / "genwatt.prom",
        every_s=0.05,
        duration_s=0.3,
        meter=Meter([src], synchronize=False),
        announce=lines.append,
    )
    assert lines[0] == f"writing {tmp_path / 'genwatt.prom'} every 0.05 s"
    assert lines[1] == "gpu:0: measured (fake gpu:0)"
    assert run.url is None and run.textfile == tmp_path / "genwatt.prom"
    assert run.textfile_writes >= 3
    assert run.window.name == EXPORTER_WINDOW
    assert 0.3 <= run.window.duration_s < 5
    assert run.window.energy_j["gpu:0"] == pytest.approx(100.0 * run.window.duration_s, rel=0.05)
    exported = parse(run.textfile.read_text())[
        ("genwatt_energy_joules_total", (("domain", "gpu:0"), ("provenance", "measured")))
    ]
    # The last write follows the window's close: it holds at least the window's energy.
    assert exported >= run.window.energy_j["gpu:0"]
    assert src.polls > 0  # the run's window kept the sampler polling the sources


def test_a_run_stops_on_sigterm_when_in_the_main_thread(fake_source, tmp_path: Path) -> None:
    import signal

    timer = threading.Timer(0.3, os.kill, args=(os.getpid(), signal.SIGTERM))
    before = signal.getsignal(signal.SIGTERM)
    timer.start()
    started = time.monotonic()
    run = run_exporter(
        port=0,
        meter=Meter([fake_source("gpu:0")], synchronize=False),
        announce=lambda _line: None,
    )
    assert time.monotonic() - started < 5
    assert run.url is not None and run.url.startswith("http://127.0.0.1:")
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is put back


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "nothing to export to: give --port N"),
        ({"port": 0, "duration_s": 0.0}, "--duration must be a number of seconds > 0"),
        ({"port": 0, "duration_s": float("nan")}, "--duration"),
    ],
)
def test_what_cannot_run_says_what_to_do(kwargs, match: str, fake_source) -> None:
    with pytest.raises(ConfigError, match=match):
        run_exporter(meter=Meter([fake_source("gpu:0")], synchronize=False), **kwargs)
