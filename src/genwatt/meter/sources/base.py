"""The contract every energy source fulfils.

A source exposes one or more *domains* (``gpu:0``, ``cpu:0``, ``dram:0``) and a
cumulative energy per domain in joules, monotonic for as long as the source lives.
The meter turns two readings into a window's energy, so nested and overlapping windows
cost nothing extra. Sources whose hardware needs attention between readings (RAPL
wraparound, power sampling on GPUs with no energy counter) do it in ``poll``, which the
meter calls from its sampling thread while any window is open.

A counter that loses continuity (a reset, an impossible jump) cannot say how much
energy passed across that moment. Its source counts such *breaks* per domain and hands
the count out with every reading (``snapshot``); a window whose two snapshots differ in
a domain's break count reports that domain as an error.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from genwatt.errors import SourceReadError
from genwatt.meter.result import Method, Provenance


@dataclass(frozen=True)
class Domain:
    """One thing whose energy is reported: a GPU, a CPU package, a DRAM bank."""

    name: str  # "gpu:0", "cpu:0", "dram:0"
    kind: str  # "gpu", "cpu" or "dram"
    source: str  # "nvml", "rapl", "amdsmi", "estimate"
    method: Method
    provenance: Provenance
    device: str  # human-readable description of the hardware behind the figure
    # A window shorter than this cannot be resolved by the counter and is flagged.
    resolution_s: float | None = None
    # Caveats that apply to every figure of this domain (shared MIG counter, ...).
    flags: tuple[str, ...] = ()
    assumptions: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MissingCounter:
    """A counter genwatt looked for and could not use, and why."""

    source: str
    reason: str
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "reason": self.reason, "fix": self.fix}


Reading = dict[str, float | SourceReadError]
"""Cumulative joules per domain, or the error that prevented reading that domain."""


@dataclass(frozen=True)
class CounterBreak:
    """How often a domain's cumulative counter lost continuity, and why the last time."""

    count: int
    reason: str


@dataclass(frozen=True)
class Snapshot:
    """One reading of a source with the breaks seen up to it, taken together."""

    energy_j: Reading
    breaks: dict[str, CounterBreak] = field(default_factory=dict)


class EnergySource(ABC):
    """A family of energy domains read together."""

    name: str = "source"

    @property
    @abstractmethod
    def domains(self) -> list[Domain]:
        """The domains this source reports, fixed for its lifetime."""

    @abstractmethod
    def read_j(self) -> Reading:
        """Cumulative energy per domain since the source was created, in joules."""

    def snapshot(self) -> Snapshot:
        """``read_j`` with the breaks seen so far; sources that count breaks override it
        to take both under one lock, so no break slips between the two."""
        return Snapshot(self.read_j())

    def poll(self) -> None:  # noqa: B027 - most counters need no attention between reads
        """Called periodically while a window is open; default: nothing to do."""

    def power_w(self) -> dict[str, float]:
        """Instantaneous power per domain where the hardware offers it, else empty."""
        return {}

    def close(self) -> None:  # noqa: B027 - only sources holding handles override it
        """Release library handles."""
