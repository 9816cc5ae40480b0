"""The meter's cumulative counters as Prometheus metrics, read at every scrape.

Exported per domain, from the exporter's start:

- ``<ns>_energy_joules_total{domain, provenance}``: the energy the meter counted since
  the exporter started. It never goes backwards: a reading below the previous one, or
  a counter break the source reported (``meter/sources/counter.py``), adds nothing for
  that scrape interval, whose energy is unknown, and counts one break; the counter
  carries on from the new reading. It is therefore a lower bound whenever
  ``<ns>_energy_counter_breaks_total`` has moved;
- ``<ns>_power_watts{domain, provenance}``: mean power between the two latest scrapes
  at least ``min_power_interval_s`` apart (a faster scrape repeats the last value), so
  each scraper, and the textfile writer, sees the power of its own interval. Absent
  when that interval held a break or a failed read, or until the first interval ends.
  For power over a fixed window, ``rate(<ns>_energy_joules_total[1m])`` in PromQL is the
  robust choice with several scrapers;
- ``<ns>_energy_counter_breaks_total{domain}`` and ``<ns>_energy_read_errors_total{domain}``:
  intervals whose energy is unknown, and scrapes whose reading failed (that scrape has
  no energy or power sample for the domain: never a silent zero).

Provenance is the domain's (``measured`` for a hardware counter, ``estimated`` for the
power model).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genwatt.meter.meter import Meter
    from genwatt.meter.sources.base import Snapshot

DEFAULT_MIN_POWER_INTERVAL_S = 1.0


@dataclass
class _DomainTrack:
    provenance: str
    last_j: float | None = None  # the meter's cumulative reading at the last good read
    readable: bool = False  # whether the latest read gave a figure
    breaks_seen: int = 0  # the source's own break count at the last read
    exported_j: float = 0.0
    breaks: int = 0
    read_errors: int = 0
    # The current power interval: exported_j at its start, whether the reading there was
    # good, and whether a break came since.
    power_ref_j: float = 0.0
    ref_good: bool = False
    broken_since_ref: bool = False
    power_w: float | None = None


class MeterCounters:
    """A Prometheus collector (``collect``/``describe``) over one meter's counters."""

    def __init__(
        self,
        meter: Meter,
        namespace: str,
        *,
        clock: Callable[[], float],
        min_power_interval_s: float = DEFAULT_MIN_POWER_INTERVAL_S,
    ) -> None:
        self.meter = meter
        self.namespace = namespace
        self._clock = clock
        self._min_interval_s = min_power_interval_s
        self._lock = threading.Lock()
        self._tracks = {d.name: _DomainTrack(str(d.provenance)) for d in meter.domains}
        # Energy before the exporter started is not its to count: the first reading is
        # the baseline (a domain that fails now takes its first good reading as one).
        self._power_ref_t = clock()
        self._fold(meter.snapshot(), at_start=True)

    # ------------------------------------------------------------ the collector protocol
    def describe(self) -> Iterator[Any]:
        """The families without samples: registering reads nothing."""
        yield from self._families()

    def collect(self) -> Iterator[Any]:
        with self._lock:
            self._fold(self.meter.snapshot(), at_start=False)
            families = self._families()
            energy, power, breaks, errors = families
            for domain, track in self._tracks.items():
                if track.readable and track.last_j is not None:
                    energy.add_metric([domain, track.provenance], track.exported_j)
                if track.power_w is not None:
                    power.add_metric([domain, track.provenance], track.power_w)
                breaks.add_metric([domain], track.breaks)
                errors.add_metric([domain], track.read_errors)
        yield from families

    # ----------------------------------------------------------------------- internals
    def _families(self) -> list[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        ns = self.namespace
        return [
            CounterMetricFamily(
                f"{ns}_energy_joules",
                "Energy counted by genwatt's meter since the exporter started; intervals "
                "with a counter break add nothing (see genwatt_energy_counter_breaks_total).",
                labels=["domain", "provenance"],
                unit="joules",
            ),
            GaugeMetricFamily(
                f"{ns}_power_watts",
                "Mean power between the two latest scrapes (at least "
                f"{self._min_interval_s:g} s apart).",
                labels=["domain", "provenance"],
                unit="watts",
            ),
            CounterMetricFamily(
                f"{ns}_energy_counter_breaks",
                "Scrape intervals whose energy is unknown (a counter reset or an impossible "
                "step); they add nothing to the energy counter.",
                labels=["domain"],
            ),
            CounterMetricFamily(
                f"{ns}_energy_read_errors",
                "Scrapes at which the domain could not be read.",
                labels=["domain"],
            ),
        ]

    def _fold(self, snapshot: Snapshot, *, at_start: bool) -> None:
        """Add each domain's progress since the last read (call with the lock held).

        A power interval is known when the readings at both its ends are good and no
        break came between; a failed read inside it loses nothing, since the counter is
        cumulative.
        """
        now = self._clock()
        close_interval = not at_start and now - self._power_ref_t >= self._min_interval_s
        for domain, track in self._tracks.items():
            value = snapshot.energy_j.get(domain)
            seen = snapshot.breaks.get(domain)
            seen_count = seen.count if seen is not None else 0
            good = track.readable = isinstance(value, int | float)
            if not good:  # a SourceReadError, or no reading at all
                if not at_start:
                    track.read_errors += 1
            elif track.last_j is None:  # the baseline
                track.last_j, track.breaks_seen = float(value), seen_count
            elif seen_count != track.breaks_seen or value < track.last_j:
                track.breaks += max(seen_count - track.breaks_seen, 1)
                track.last_j, track.breaks_seen = float(value), seen_count
                track.broken_since_ref = True
            else:
                track.exported_j += value - track.last_j
                track.last_j = float(value)
            if at_start:
                track.ref_good = good
            elif close_interval:
                known = track.ref_good and good and not track.broken_since_ref
                elapsed_s = now - self._power_ref_t
                track.power_w = (
                    (track.exported_j - track.power_ref_j) / elapsed_s if known else None
                )
                track.power_ref_j, track.ref_good = track.exported_j, good
                track.broken_since_ref = False
        if close_interval:
            self._power_ref_t = now
