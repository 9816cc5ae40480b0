"""Energy per request from meter readings at request boundaries: the accounting only.

A server's meter reads cumulative joules per domain. The ledger is fed one reading at
every *event*: a request starts, a request ends, a request's weight changes, or a plain
checkpoint. Between two consecutive events the set of active requests and their weights
are constant, so the interval's energy is split among them in proportion to their
weights (equal weights: equal shares). An interval with no active request, or whose
active requests all weigh zero, is charged to nobody: it is kept as *unattributed*
energy, so that at any moment

    total energy between the first and the last reading (per domain)
        == shares of ended requests + shares accrued by active requests
           + unattributed + unsplit + partial

up to floating-point rounding. Splits are final when an interval closes: a weight
change applies from the event that records it onwards and never re-splits the past,
so a request's energy is final at its end event.

The split is kept in O(1) per event, whatever the number of active requests, with a
running *level* per domain: each interval adds ``energy / total active weight`` to the
level, and a request's share of the intervals since its weight was last set is its
weight times the rise of the level. The level restarts at zero whenever no request is
active, which keeps the subtraction of two levels precise on a long-running server.

A domain whose reading failed (a ``SourceReadError`` in the reading, a missing key, a
non-finite value) cannot be split across the events it missed: the energy from its
last good reading to its next good one goes to ``unsplit_j``, and every request active
at any time in that gap reports the domain as *incomplete*, with the reason, instead of
a figure that would silently be too small (the shares it did get are kept apart, as
``partial_j``). A counter that went backwards (a driver
reset) leaves the energy of that interval unknown: it is in no total, and the requests
active across it are incomplete for that domain.

This module reads no meter and knows nothing of ASGI; ``middleware.py`` feeds it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from genwatt.errors import ConfigError

Reading = Mapping[str, float | Exception]
"""Cumulative joules per domain at one event, or the error that prevented the read."""


@dataclass(frozen=True)
class RequestEnergy:
    """The energy charged to one request, in joules per domain.

    ``energy_j`` holds only the domains with a complete figure; a domain whose share is
    unknown for part of the request is in ``incomplete`` (domain -> why) instead.
    """

    request_id: int
    energy_j: dict[str, float]
    duration_s: float
    incomplete: dict[str, str] = field(default_factory=dict)

    @property
    def total_j(self) -> float:
        """Sum over the domains with a complete figure."""
        return math.fsum(self.energy_j.values())


@dataclass(frozen=True)
class LedgerTotals:
    """Where the energy between the ledger's first and last reading went, per domain."""

    total_j: dict[str, float]  # every interval with two good readings
    attributed_j: dict[str, float]  # the shares of requests that have ended
    active_j: dict[str, float]  # the shares accrued so far by requests still active
    unattributed_j: dict[str, float]  # intervals with no (weighted) active request
    unsplit_j: dict[str, float]  # spans across a failed reading: known, not split
    partial_j: dict[str, float]  # shares of ended requests in domains they are incomplete in


@dataclass
class _Active:
    weight: float
    started_s: float
    mark: dict[str, float]  # the level per domain when the weight was last set
    accrued_j: dict[str, float]  # energy accrued before the weight was last set
    incomplete: dict[str, str] = field(default_factory=dict)


class EnergyLedger:
    """Splits the energy between events among the requests active in each interval.

    Every method that takes a ``reading`` is one event: call them in the order the
    events happened, each with the reading taken at that event (one reading per event,
    whatever the number of active requests). ``now_s`` is a monotonic clock in seconds,
    used only for durations.
    """

    def __init__(self) -> None:
        self._active: dict[int, _Active] = {}
        self._next_id = 0
        self._total_weight = 0.0
        self._last_j: dict[str, float] = {}  # last good reading per domain
        self._gap: dict[str, str] = {}  # domain -> why its last reading failed
        self._level: dict[str, float] = {}
        self._total_j: dict[str, float] = {}
        self._attributed_j: dict[str, float] = {}
        self._unattributed_j: dict[str, float] = {}
        self._unsplit_j: dict[str, float] = {}
        self._partial_j: dict[str, float] = {}
        self.readings = 0

    # ------------------------------------------------------------------------ events
    def start(self, reading: Reading, now_s: float, weight: float = 1.0) -> int:
        """A request arrived; returns its id for ``set_weight`` and ``end``."""
        weight = check_weight(weight)
        self._advance(reading)
        request_id = self._next_id
        self._next_id += 1
        self._active[request_id] = _Active(
            weight=weight,
            started_s=now_s,
            mark=dict(self._level),
            accrued_j=dict.fromkeys(self._level, 0.0),
            incomplete=dict(self._gap),
        )
        self._total_weight += weight
        return request_id

    def set_weight(self, request_id: int, weight: float, reading: Reading) -> None:
        """From this event on, ``request_id`` weighs ``weight`` in every split."""
        weight = check_weight(weight)
        request = self._get(request_id)
        self._advance(reading)
        self._settle(request)
        self._total_weight += weight - request.weight
        request.weight = weight

    def end(self, request_id: int, reading: Reading, now_s: float) -> RequestEnergy:
        """The request's response is complete: its final energy."""
        request = self._get(request_id)
        self._advance(reading)
        self._settle(request)
        del self._active[request_id]
        self._total_weight -= request.weight
        if not self._active:
            self._total_weight = 0.0  # no rounding residue carried into the next busy period
            self._level = dict.fromkeys(self._level, 0.0)
        energy: dict[str, float] = {}
        for domain, joules in request.accrued_j.items():
            if domain in request.incomplete:
                _add(self._partial_j, domain, joules)
            else:
                energy[domain] = joules
                _add(self._attributed_j, domain, joules)
        return RequestEnergy(
            request_id=request_id,
            energy_j=energy,
            duration_s=now_s - request.started_s,
            incomplete=dict(request.incomplete),
        )

    def checkpoint(self, reading: Reading) -> None:
        """An event with no request starting or ending: closes the current interval, so
        that the totals run up to this reading (at server start and stop, say)."""
        self._advance(reading)

    # ----------------------------------------------------------------------- totals
    @property
    def active(self) -> int:
        """Requests started and not yet ended."""
        return len(self._active)

    @property
    def unattributed_j(self) -> dict[str, float]:
        """Energy of the intervals that no request was charged for, per domain."""
        return dict(self._unattributed_j)

    def totals(self) -> LedgerTotals:
        active: dict[str, float] = {}
        for request in self._active.values():
            for domain, level in self._level.items():
                share = request.accrued_j.get(domain, 0.0) + request.weight * (
                    level - request.mark.get(domain, 0.0)
                )
                _add(active, domain, share)
        return LedgerTotals(
            total_j=dict(self._total_j),
            attributed_j=dict(self._attributed_j),
            active_j=active,
            unattributed_j=dict(self._unattributed_j),
            unsplit_j=dict(self._unsplit_j),
            partial_j=dict(self._partial_j),
        )

    # -------------------------------------------------------------------- internals
    def _get(self, request_id: int) -> _Active:
        request = self._active.get(request_id)
        if request is None:
            raise ConfigError(
                f"request {request_id} is not active (it ended, or never started): "
                "its energy is final and can no longer change"
            )
        return request

    def _settle(self, request: _Active) -> None:
        """Fold the request's share since its mark into ``accrued_j``; mark = level now."""
        for domain, level in self._level.items():
            share = request.weight * (level - request.mark.get(domain, 0.0))
            _add(request.accrued_j, domain, share)
        request.mark = dict(self._level)

    def _advance(self, reading: Reading) -> None:
        """Close the interval that ends at this reading: split it per domain."""
        self.readings += 1
        for domain in self._last_j.keys() - reading.keys():
            self._lose(domain, "no reading at a request boundary")
        for domain, value in reading.items():
            if isinstance(value, Exception) or not math.isfinite(value):
                self._lose(domain, f"reading failed at a request boundary: {value}")
                continue
            last = self._last_j.get(domain)
            self._last_j[domain] = value
            if last is None:
                self._first_reading(domain)
                continue
            delta = value - last
            if delta < 0:
                self._gap.pop(domain, None)
                self._mark_active(
                    domain, f"counter went backwards by {-delta:.3g} J (driver reset?)"
                )
                continue
            _add(self._total_j, domain, delta)
            if self._gap.pop(domain, None) is not None:
                _add(self._unsplit_j, domain, delta)
            elif self._total_weight > 0 and self._active:
                self._level[domain] += delta / self._total_weight
            else:
                _add(self._unattributed_j, domain, delta)

    def _first_reading(self, domain: str) -> None:
        self._level.setdefault(domain, 0.0)
        self._total_j.setdefault(domain, 0.0)
        self._mark_active(domain, "the domain's first reading came after this request began")
        for request in self._active.values():
            request.mark.setdefault(domain, 0.0)

    def _lose(self, domain: str, reason: str) -> None:
        """A failed reading: the span up to the next good one cannot be split."""
        if domain not in self._last_j:
            return  # never read: nothing to split yet
        self._gap.setdefault(domain, reason)
        self._mark_active(domain, reason)

    def _mark_active(self, domain: str, reason: str) -> None:
        for request in self._active.values():
            request.incomplete.setdefault(domain, reason)


def _add(totals: dict[str, float], domain: str, joules: float) -> None:
    totals[domain] = totals.get(domain, 0.0) + joules


def check_weight(weight: float) -> float:
    """A request's weight: a finite number >= 0 (tokens, pixels, FLOPs, 1.0)."""
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise ConfigError(f"a request's energy weight must be a number, got {weight!r}")
    if not math.isfinite(weight) or weight < 0:
        raise ConfigError(f"a request's energy weight must be finite and >= 0, got {weight!r}")
    return float(weight)


__all__ = ["EnergyLedger", "LedgerTotals", "Reading", "RequestEnergy", "check_weight"]
