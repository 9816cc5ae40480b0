"""What a measurement window produces: plain dataclasses, joules and seconds.

Every energy figure is kept per domain (``gpu:0``, ``cpu:0``, ``dram:0``) next to its
provenance and the method that produced it, so that a measured GPU figure and an
estimated CPU figure are never added up without the reader knowing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from genwatt.units import j_to_wh


class Provenance(StrEnum):
    """Where an energy figure comes from, most trustworthy first."""

    MEASURED = "measured"  # a hardware energy counter or power sensor
    ESTIMATED = "estimated"  # a model of power (TDP x utilisation, W per GB of DRAM)
    PREDICTED = "predicted"  # the analytical model, before anything ran


class Method(StrEnum):
    """How a domain's energy is obtained."""

    COUNTER = "counter"  # cumulative energy register (NVML total energy, RAPL, amdsmi)
    SAMPLING = "sampling"  # instantaneous power integrated with the trapezoid rule
    ESTIMATE = "estimate"  # a power model, no sensor involved


@dataclass(frozen=True)
class PowerTimeline:
    """Power per domain sampled while a window was open.

    ``t_s`` is relative to the window's start; each list in ``power_w`` has one value
    per timestamp (the mean power over the interval that ends at that timestamp).
    """

    t_s: list[float] = field(default_factory=list)
    power_w: dict[str, list[float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"t_s": list(self.t_s), "power_w": {k: list(v) for k, v in self.power_w.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PowerTimeline:
        return cls(t_s=list(data["t_s"]), power_w={k: list(v) for k, v in data["power_w"].items()})


@dataclass(frozen=True)
class IdlePower:
    """Mean power per domain while nothing ran, used to report energy net of idle."""

    power_w: dict[str, float]
    duration_s: float
    provenance: dict[str, Provenance]

    def to_dict(self) -> dict[str, Any]:
        return {
            "power_w": dict(self.power_w),
            "duration_s": self.duration_s,
            "provenance": {k: str(v) for k, v in self.provenance.items()},
        }


@dataclass(frozen=True)
class WindowResult:
    """Energy and time of one measurement window.

    ``energy_j`` holds only domains with a figure; a domain that failed during the
    window appears in ``errors`` instead (never as a silent zero). ``flags`` carries
    caveats per domain (a window shorter than the counter's update period, a MIG slice
    sharing its GPU's counter); ``assumptions`` the parameters of every estimate.
    """

    name: str
    started_at: float  # Unix time at the window's start
    duration_s: float
    energy_j: dict[str, float]
    provenance: dict[str, Provenance]
    method: dict[str, Method]
    flags: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    assumptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    parent: str | None = None
    idle_subtracted_w: dict[str, float] | None = None
    timeline: PowerTimeline | None = None

    @property
    def total_energy_j(self) -> float:
        """Sum over every domain with a figure, whatever its provenance."""
        return sum(self.energy_j.values())

    @property
    def energy_wh_total(self) -> float:
        return j_to_wh(self.total_energy_j)

    @property
    def complete(self) -> bool:
        """False when at least one domain has no figure for this window."""
        return not self.errors

    def energy_by_provenance_j(self) -> dict[Provenance, float]:
        totals: dict[Provenance, float] = {}
        for domain, energy in self.energy_j.items():
            kind = self.provenance[domain]
            totals[kind] = totals.get(kind, 0.0) + energy
        return totals

    def overall_provenance(self) -> Provenance:
        """The weakest provenance among the domains: a total is only as good as that."""
        order = list(Provenance)
        kinds = set(self.provenance[d] for d in self.energy_j) or {Provenance.ESTIMATED}
        return max(kinds, key=order.index)

    def net_of_idle(self, idle: IdlePower) -> WindowResult:
        """This window's energy minus idle power x duration, per domain.

        A domain whose net energy would be negative (idle was measured hotter than the
        window) is clamped at zero and flagged rather than reported as negative.
        """
        energy: dict[str, float] = {}
        flags = {d: list(v) for d, v in self.flags.items()}
        subtracted: dict[str, float] = {}
        for domain, value in self.energy_j.items():
            idle_w = idle.power_w.get(domain)
            if idle_w is None:
                energy[domain] = value
                flags.setdefault(domain, []).append("no idle power for this domain; gross")
                continue
            net = value - idle_w * self.duration_s
            if net < 0:
                flags.setdefault(domain, []).append(
                    f"net of idle was {net:.3g} J (idle power {idle_w:.3g} W exceeds the "
                    "window's mean power); clamped to 0"
                )
                net = 0.0
            energy[domain] = net
            subtracted[domain] = idle_w
        return replace(self, energy_j=energy, flags=flags, idle_subtracted_w=subtracted)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "started_at": self.started_at,
            "duration_s": self.duration_s,
            "energy_j": dict(self.energy_j),
            "provenance": {k: str(v) for k, v in self.provenance.items()},
            "method": {k: str(v) for k, v in self.method.items()},
            "flags": {k: list(v) for k, v in self.flags.items()},
            "errors": dict(self.errors),
            "assumptions": dict(self.assumptions),
            "parent": self.parent,
            "idle_subtracted_w": self.idle_subtracted_w,
            "timeline": self.timeline.to_dict() if self.timeline else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WindowResult:
        timeline = data.get("timeline")
        return cls(
            name=data["name"],
            started_at=data["started_at"],
            duration_s=data["duration_s"],
            energy_j=dict(data["energy_j"]),
            provenance={k: Provenance(v) for k, v in data["provenance"].items()},
            method={k: Method(v) for k, v in data["method"].items()},
            flags={k: list(v) for k, v in data.get("flags", {}).items()},
            errors=dict(data.get("errors", {})),
            assumptions=dict(data.get("assumptions", {})),
            parent=data.get("parent"),
            idle_subtracted_w=data.get("idle_subtracted_w"),
            timeline=PowerTimeline.from_dict(timeline) if timeline else None,
        )
