"""genwatt's energy as Prometheus metrics, for a long-running process.

``EnergyMetrics`` puts two kinds of figures in a Prometheus registry:

- the meter's cumulative counters per domain, read at scrape time
  (``meter_counters.py``: ``<ns>_energy_joules_total``, ``<ns>_power_watts``, and the
  counts of breaks and failed reads), when it is given a meter;
- the energy of windows: each window the meter closes once ``attach``\\ed
  (``record_window``), and any window a caller measured itself, such as one HTTP request
  in ``genwatt.serve`` (``record_energy``):

  - ``<ns>_window_energy_joules{window}``: a histogram of a window's energy over all
    its domains, log-spaced buckets from 1 mJ to 1 MJ (1, 2, 5 per decade). Only whole
    windows are observed: a window with a domain in error would understate;
  - ``<ns>_window_domain_energy_joules_total{window, domain, provenance}``: the summed
    energy of the windows per domain. (Not ``<ns>_window_energy_joules_total``: that
    name belongs to the histogram's family, and Prometheus refuses both in one registry);
  - ``<ns>_window_errors_total{window, domain}``: windows that had no figure for a
    domain.

A window's label is its name with any trailing ``:<index>`` removed (``step:12`` is
``step``, ``token:57`` is ``token``), so that a generation's hundreds of steps or tokens
stay a handful of label values. ``record_energy`` takes the label as given.

prometheus_client is imported when an ``EnergyMetrics`` is built, never by importing
this module.
"""

from __future__ import annotations

import contextlib
import math
import re
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from genwatt.errors import ConfigError
from genwatt.meter.result import Provenance

if TYPE_CHECKING:
    from genwatt.meter.meter import Meter
    from genwatt.meter.result import WindowResult

# 1 mJ to 1 MJ, 1-2-5 per decade: a denoising step of a tiny model to a long video.
WINDOW_ENERGY_BUCKETS_J: tuple[float, ...] = (
    *(float(f"{m}e{e}") for e in range(-3, 6) for m in (1, 2, 5)),
    1e6,
)
_NAMESPACE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_INDEX_SUFFIX = re.compile(r"(?::\d+)+$")
_PROVENANCES = frozenset(str(p) for p in Provenance)


def window_label(name: str) -> str:
    """The ``window`` label of a window named ``name``: without a trailing ``:<index>``."""
    return _INDEX_SUFFIX.sub("", name) or name


class EnergyMetrics:
    """Prometheus metrics of a meter's counters and of measured windows.

    ``meter`` None exports no counters, only what is recorded. ``registry`` None is
    prometheus_client's default registry, the one a program's existing ``/metrics``
    endpoint already serves. ``clock`` (seconds, monotonic) times the power gauge.

    Raises:
        ConfigError: ``namespace`` is not a Prometheus name, or the registry holds
            these metrics already (one ``EnergyMetrics`` per registry and namespace).
    """

    def __init__(
        self,
        meter: Meter | None = None,
        registry: Any = None,
        namespace: str = "genwatt",
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not _NAMESPACE.match(namespace):
            raise ConfigError(
                f"metrics namespace {namespace!r} is not a Prometheus name: use letters, "
                "digits and _, not starting with a digit (e.g. 'genwatt')"
            )
        from prometheus_client import REGISTRY, Counter, Histogram

        from genwatt.metrics.meter_counters import MeterCounters

        self.meter = meter
        self.namespace = namespace
        self.registry = REGISTRY if registry is None else registry
        self._window_energy = Histogram(
            f"{namespace}_window_energy_joules",
            "Energy of one measured window over all its domains (whole windows only).",
            ["window"],
            unit="joules",
            buckets=WINDOW_ENERGY_BUCKETS_J,
            registry=None,
        )
        self._window_domain_energy = Counter(
            f"{namespace}_window_domain_energy_joules",
            "Summed energy of measured windows, per domain.",
            ["window", "domain", "provenance"],
            unit="joules",
            registry=None,
        )
        self._window_errors = Counter(
            f"{namespace}_window_errors",
            "Measured windows that had no energy figure for a domain.",
            ["window", "domain"],
            registry=None,
        )
        self._collectors: list[Any] = [
            self._window_energy,
            self._window_domain_energy,
            self._window_errors,
        ]
        if meter is not None:
            self._collectors.append(MeterCounters(meter, namespace, clock=clock))
        self._register()

    # ------------------------------------------------------------------------ recording
    def record_energy(
        self, window: str, energies_j: Mapping[str, float], provenance: Mapping[str, str]
    ) -> None:
        """Record one measured window: its joules per domain and each one's provenance.

        ``window`` is the label as given. Nothing is recorded for an empty mapping.

        Raises:
            ValueError: an energy is negative or not finite, a domain has no provenance,
                or a provenance is not one of measured, estimated, predicted.
        """
        _check(window, energies_j, provenance)
        for domain, energy_j in energies_j.items():
            self._window_domain_energy.labels(window, domain, str(provenance[domain])).inc(energy_j)
        if energies_j:
            self._window_energy.labels(window).observe(math.fsum(energies_j.values()))

    def record_window(self, result: WindowResult) -> None:
        """Record a window the meter closed (see the module docstring for what counts)."""
        label = window_label(result.name)
        _check(label, result.energy_j, result.provenance)
        for domain, energy_j in result.energy_j.items():
            kind = str(result.provenance[domain])
            self._window_domain_energy.labels(label, domain, kind).inc(energy_j)
        for domain in result.errors:
            self._window_errors.labels(label, domain).inc()
        if result.energy_j and not result.errors:
            self._window_energy.labels(label).observe(result.total_energy_j)

    def attach(self, meter: Meter) -> Callable[[], None]:
        """Record every window ``meter`` closes from now on; returns the detacher."""
        return meter.add_listener(self.record_window)

    # ---------------------------------------------------------------------- registration
    def unregister(self) -> None:
        """Take these metrics out of the registry (a no-op for those not in it)."""
        for collector in self._collectors:
            with contextlib.suppress(KeyError):
                self.registry.unregister(collector)

    def _register(self) -> None:
        done: list[Any] = []
        for collector in self._collectors:
            try:
                self.registry.register(collector)
            except ValueError as exc:  # prometheus_client's duplicated time series
                for registered in done:
                    self.registry.unregister(registered)
                raise ConfigError(
                    f"the registry already holds genwatt's metrics ({exc}); build one "
                    "EnergyMetrics per registry, or give this one another namespace"
                ) from None
            done.append(collector)


def _check(window: str, energies_j: Mapping[str, float], provenance: Mapping[str, Any]) -> None:
    for domain, energy_j in energies_j.items():
        if not math.isfinite(energy_j) or energy_j < 0:
            raise ValueError(
                f"window {window!r}, domain {domain!r}: energy must be a finite number of "
                f"joules >= 0, got {energy_j!r}"
            )
        kind = provenance.get(domain)
        if kind is None:
            raise ValueError(f"window {window!r}, domain {domain!r}: no provenance given")
        if str(kind) not in _PROVENANCES:
            raise ValueError(
                f"window {window!r}, domain {domain!r}: provenance {kind!r} is not one of "
                f"{', '.join(sorted(_PROVENANCES))}"
            )
