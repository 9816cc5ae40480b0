"""The contract every energy source fulfils.

A source exposes one or more *domains* (``gpu:0``, ``cpu:0``, ``dram:0``) and a
cumulative energy per domain in joules, monotonic for as long as the source lives.
The meter turns two readings into a window's energy, so nested and overlapping windows
cost nothing extra. Sources whose hardware needs attention between readings (RAPL
wraparound, power sampling on GPUs with no energy counter) do it in ``poll``, which the
meter calls from its sampling thread while any window is open.
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

    def poll(self) -> None:  # noqa: B027 - most counters need no attention between reads
        """Called periodically while a window is open; default: nothing to do."""

    def power_w(self) -> dict[str, float]:
        """Instantaneous power per domain where the hardware offers it, else empty."""
        return {}

    def close(self) -> None:  # noqa: B027 - only sources holding handles override it
        """Release library handles."""
