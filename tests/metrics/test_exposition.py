"""The HTTP endpoint and the textfile, read back with prometheus_client's parser:
exact values from a fake meter, clean shutdown, atomic files, a writer that stops."""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from genwatt.errors import ConfigError
from genwatt.meter.meter import Meter
from genwatt.metrics import EnergyMetrics, TextfileWriter, serve_http, write_textfile

ENERGY = "genwatt_energy_joules_total"
GPU = (("domain", "gpu:0"), ("provenance", "measured"))


def known_metrics(fake_source, fake_clock) -> tuple[object, EnergyMetrics]:
    """gpu:0 at 10 W for 3 s since the exporter started, plus one 2.5 J request."""
    src = fake_source("gpu:0", rate_w=10.0, clock=fake_clock.perf_counter)
    meter = Meter([src], synchronize=False)
    metrics = EnergyMetrics(meter, registry=CollectorRegistry(), clock=fake_clock.perf_counter)
    metrics.record_energy("GET /", {"gpu:0": 2.5}, {"gpu:0": "measured"})
    fake_clock.advance(3.0)
    return src, metrics


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        return response.read().decode()


def test_http_exposition_parses_to_the_known_values(fake_source, fake_clock, parse) -> None:
    src, metrics = known_metrics(fake_source, fake_clock)
    with serve_http(metrics, 0) as server:
        assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}/metrics"
        samples = parse(fetch(server.url))
        assert samples[(ENERGY, GPU)] == pytest.approx(30.0)
        assert samples[("genwatt_power_watts", GPU)] == pytest.approx(10.0)
        assert samples[("genwatt_window_energy_joules_count", (("window", "GET /"),))] == 1
        assert samples[("genwatt_window_energy_joules_sum", (("window", "GET /"),))] == 2.5
        fake_clock.advance(1.0)
        src.add_j("gpu:0", 5.0)
        assert parse(fetch(server.url))[(ENERGY, GPU)] == pytest.approx(45.0)
    with pytest.raises(urllib.error.URLError):
        fetch(server.url)  # shut down: the port no longer answers


def test_a_port_in_use_is_a_config_error(fake_source, fake_clock) -> None:
    _, metrics = known_metrics(fake_source, fake_clock)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ConfigError, match=r"cannot serve metrics on 127\.0\.0\.1"):
            serve_http(metrics, taken.getsockname()[1])
    with pytest.raises(ConfigError, match="0 to 65535"):
        serve_http(metrics, 70000)


def test_textfile_parses_to_the_known_values_and_leaves_no_temporary(
    fake_source, fake_clock, parse, tmp_path: Path
) -> None:
    _, metrics = known_metrics(fake_source, fake_clock)
    path = write_textfile(metrics, tmp_path / "genwatt.prom")
    assert path == tmp_path / "genwatt.prom"
    samples = parse(path.read_text())
    assert samples[(ENERGY, GPU)] == pytest.approx(30.0)
    assert samples[("genwatt_window_energy_joules_count", (("window", "GET /"),))] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["genwatt.prom"]


def test_a_textfile_is_replaced_whole_never_written_in_place(
    fake_source, fake_clock, tmp_path: Path
) -> None:
    _, metrics = known_metrics(fake_source, fake_clock)
    path = write_textfile(metrics, tmp_path / "genwatt.prom")
    before = path.stat().st_ino
    reader = path.open()  # a textfile collector in the middle of reading the old file
    write_textfile(metrics, path)
    assert path.stat().st_ino != before  # a new file renamed over the old one
    assert reader.read().endswith("\n")  # the old one is still whole for its reader
    reader.close()


@pytest.mark.parametrize(
    ("name", "match"),
    [("genwatt.txt", r"only \*.prom files"), ("missing/genwatt.prom", "no such folder")],
)
def test_textfile_paths_the_collector_cannot_use_are_refused(
    name: str, match: str, fake_source, fake_clock, tmp_path: Path
) -> None:
    _, metrics = known_metrics(fake_source, fake_clock)
    with pytest.raises(ConfigError, match=match):
        write_textfile(metrics, tmp_path / name)


def test_the_periodic_writer_rewrites_and_ends_with_the_last_figures(
    fake_source, fake_clock, parse, tmp_path: Path
) -> None:
    _, metrics = known_metrics(fake_source, fake_clock)
    path = tmp_path / "genwatt.prom"
    before = set(threading.enumerate())
    with TextfileWriter(metrics, path, every_s=0.02) as writer:
        assert path.is_file()  # written at once, not one interval later
        deadline = time.monotonic() + 5
        while writer.writes < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert writer.writes >= 3
        metrics.record_energy("GET /", {"gpu:0": 4.0}, {"gpu:0": "measured"})
    written = writer.writes
    samples = parse(path.read_text())
    assert samples[("genwatt_window_energy_joules_count", (("window", "GET /"),))] == 2
    assert not [t for t in threading.enumerate() if t not in before and t.is_alive()]
    time.sleep(0.05)
    assert writer.writes == written  # stopped: no write after the last one


@pytest.mark.parametrize("every_s", [0.0, -1.0, float("nan"), float("inf")])
def test_the_periodic_writer_needs_a_positive_interval(
    every_s: float, fake_source, fake_clock, tmp_path: Path
) -> None:
    _, metrics = known_metrics(fake_source, fake_clock)
    with pytest.raises(ConfigError, match="> 0 seconds"):
        TextfileWriter(metrics, tmp_path / "genwatt.prom", every_s)
