"""``genwatt metrics`` end to end: the real console script over a fake powercap tree,
scraped over HTTP and read from its textfile with prometheus_client's parser."""

from __future__ import annotations

import signal
import subprocess
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.slow


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def energy(domain: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return ("genwatt_energy_joules_total", (("domain", domain), ("provenance", "measured")))


@pytest.fixture
def rapl(powercap):
    """One package and its DRAM, counters in microjoules the test moves by hand."""
    powercap.add("intel-rapl:0", "package-0", 10_000_000)
    powercap.add("intel-rapl:0:0", "dram", 2_000_000)
    return powercap


def test_serves_the_machines_counters_until_sigterm(genwatt, rapl) -> None:
    process = subprocess.Popen(
        [str(genwatt.executable), "metrics", "--port", "0"],
        cwd=genwatt.cwd,
        env={**genwatt.env, "GENWATT_POWERCAP_ROOT": str(rapl.root)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("serving http://127.0.0.1:") and first.endswith("/metrics")
        url = first.removeprefix("serving ")
        assert process.stdout.readline().startswith("cpu:0: measured (RAPL package-0")
        rapl.set_uj("intel-rapl:0", 13_000_000)
        rapl.set_uj("intel-rapl:0:0", 2_500_000)
        with urllib.request.urlopen(url, timeout=10) as response:
            scraped = samples(response.read().decode())
        assert scraped[energy("cpu:0")] == pytest.approx(3.0, abs=1e-9)
        assert scraped[energy("dram:0")] == pytest.approx(0.5, abs=1e-9)
        assert scraped[("genwatt_energy_counter_breaks_total", (("domain", "cpu:0"),))] == 0
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "stopped after" in out and "J counted (measured)" in out
    assert "Traceback" not in err


def test_writes_a_textfile_and_stops_by_itself(genwatt, rapl) -> None:
    done = genwatt(
        "metrics",
        "--textfile",
        "genwatt.prom",
        "--every",
        "0.1",
        "--duration",
        "0.5",
        env={"GENWATT_POWERCAP_ROOT": str(rapl.root)},
    )
    assert done.returncode == 0, done.stderr
    written = samples((genwatt.cwd / "genwatt.prom").read_text())
    assert written[energy("cpu:0")] == 0.0  # the counters did not move after the start
    assert written[energy("dram:0")] == 0.0
    assert "writing genwatt.prom every 0.1 s" in done.stdout
    assert "genwatt.prom written" in done.stdout


def test_without_counters_or_a_pid_it_says_what_to_do(genwatt) -> None:
    done = genwatt("metrics", "--port", "0", "--duration", "1")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("error: no energy counter on this machine")
    assert "--pid PID" in done.stderr


def test_nothing_to_export_to_is_an_error(genwatt, rapl) -> None:
    done = genwatt("metrics", env={"GENWATT_POWERCAP_ROOT": str(rapl.root)})
    assert done.returncode == 2
    assert "nothing to export to: give --port N" in done.stderr


def test_the_command_is_listed(genwatt) -> None:
    done = genwatt("--help")
    assert done.returncode == 0 and " metrics " in done.stdout
