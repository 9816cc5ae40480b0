"""A long-running exporter of this machine's energy counters (``genwatt metrics``).

``run_exporter`` builds a meter over the energy counters discovery finds (GPUs, RAPL),
serves its metrics
over HTTP and/or writes them to a textfile, and stops after ``duration_s`` seconds, on
Ctrl-C, or on SIGTERM (so a service manager stops it cleanly, with the textfile written
a last time). The whole run is one meter window, which keeps the meter's sampler
polling the sources (a RAPL counter must be read before it wraps) and gives the summary
its total.

A power-model estimate covers a process tree, not the machine, so it is exported only
for a process the user names (``pid``, e.g. an inference server's), and only for the
kinds of domain no counter covers; a machine with no counter and no ``pid`` is an error
rather than an export of the exporter's own few joules labelled ``cpu:0``.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from genwatt.errors import ConfigError
from genwatt.metrics.energy_metrics import EnergyMetrics
from genwatt.metrics.exposition import MetricsServer, TextfileWriter, serve_http

if TYPE_CHECKING:
    from genwatt.meter.meter import Meter
    from genwatt.meter.result import WindowResult

EXPORTER_WINDOW = "metrics-exporter"
DEFAULT_TEXTFILE_EVERY_S = 15.0  # Prometheus' default scrape interval


@dataclass(frozen=True)
class ExporterRun:
    """What an exporter run did: where it served, and the energy over its whole run."""

    url: str | None
    textfile: Path | None
    textfile_writes: int
    window: WindowResult


def exporter_meter(pid: int | None = None) -> Meter:
    """A meter over this machine's counters, plus estimates for ``pid``'s process tree
    where a CPU or DRAM counter is missing (see the module docstring).

    Raises:
        ConfigError: no counter here and no ``pid``, or no process ``pid``.
    """
    from genwatt.meter.meter import Meter
    from genwatt.meter.sources.discovery import discover_sources

    discovery = discover_sources(include_estimates=False)
    sources = list(discovery.sources)
    kinds = {d.kind for d in discovery.domains}
    need_cpu, need_dram = "cpu" not in kinds, "dram" not in kinds
    if pid is not None and (need_cpu or need_dram):
        import psutil

        from genwatt.meter.sources.estimate import EstimateSource

        try:
            sources.append(EstimateSource(cpu=need_cpu, dram=need_dram, pid=pid))
        except psutil.Error as exc:
            raise ConfigError(f"--pid {pid}: cannot follow that process ({exc})") from None
    if not sources:
        why = "; ".join(f"{m.source}: {m.reason}" for m in discovery.missing) or "none found"
        raise ConfigError(
            f"no energy counter on this machine ({why}). An estimate covers a process tree, "
            "not the machine: give --pid PID (e.g. your inference server's) to export its "
            "estimated energy, or see `genwatt env` to enable a counter"
        )
    return Meter(sources)


def run_exporter(
    *,
    port: int | None = None,
    addr: str = "127.0.0.1",
    textfile: str | Path | None = None,
    every_s: float = DEFAULT_TEXTFILE_EVERY_S,
    duration_s: float | None = None,
    meter: Meter | None = None,
    pid: int | None = None,
    announce: Callable[[str], None] = print,
) -> ExporterRun:
    """Export ``meter``'s counters (default: ``exporter_meter(pid)``) until stopped.

    ``announce`` receives one line per thing started (the URL first), as it starts.

    Raises:
        ConfigError: neither ``port`` nor ``textfile`` is given, a duration or interval
            is not a positive number, the port cannot be bound, the textfile path is
            unusable, or there is nothing to measure (``exporter_meter``).
    """
    if port is None and textfile is None:
        raise ConfigError(
            "nothing to export to: give --port N (an HTTP /metrics endpoint; 0 picks a "
            "free port) and/or --textfile PATH.prom (the node exporter's textfile collector)"
        )
    if duration_s is not None and (not math.isfinite(duration_s) or duration_s <= 0):
        raise ConfigError(f"--duration must be a number of seconds > 0, got {duration_s!r}")
    if meter is None:
        meter = exporter_meter(pid)
    from prometheus_client import CollectorRegistry

    metrics = EnergyMetrics(meter, registry=CollectorRegistry())
    stop = threading.Event()
    server: MetricsServer | None = None
    writer: TextfileWriter | None = None
    with ExitStack() as stack:
        if port is not None:
            server = stack.enter_context(serve_http(metrics, port, addr))
            announce(f"serving {server.url}")
        if textfile is not None:
            writer = stack.enter_context(TextfileWriter(metrics, textfile, every_s))
            announce(f"writing {writer.path} every {every_s:g} s")
        for domain in meter.domains:
            announce(f"{domain.name}: {domain.provenance} ({domain.device})")
        stack.enter_context(_stop_on_sigterm(stop))
        with meter.window(EXPORTER_WINDOW, trackers=False) as window:
            _wait(stop, duration_s)
    assert window.result is not None
    return ExporterRun(
        url=server.url if server else None,
        textfile=writer.path if writer else None,
        textfile_writes=writer.writes if writer else 0,
        window=window.result,
    )


def _wait(stop: threading.Event, duration_s: float | None) -> None:
    """Until ``stop`` is set, ``duration_s`` has passed, or Ctrl-C."""
    deadline = None if duration_s is None else time.monotonic() + duration_s
    try:
        while not stop.is_set():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return
            # Short waits, so that Ctrl-C is seen at once on every platform.
            stop.wait(0.5 if left is None else min(left, 0.5))
    except KeyboardInterrupt:
        return


@contextmanager
def _stop_on_sigterm(stop: threading.Event) -> Iterator[None]:
    """SIGTERM sets ``stop`` while inside (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
