"""Adding and subtracting windows, written once for every report and runner.

A phase that ran in several pieces (two text encoders, fifty denoising steps) is the
sum of its windows; what a generation spent outside every phase is the generation's
window minus the phases. Provenance of a sum is the weakest of its parts, per domain.
"""

from __future__ import annotations

from collections.abc import Iterable

from genwatt.meter.result import Method, Provenance, WindowResult

_ORDER = list(Provenance)


def weakest(a: Provenance, b: Provenance) -> Provenance:
    return max(a, b, key=_ORDER.index)


def weakest_of(kinds: Iterable[Provenance]) -> Provenance | None:
    """The least trustworthy of ``kinds``: what a sum of their figures is; None for none."""
    result: Provenance | None = None
    for kind in kinds:
        result = kind if result is None else weakest(result, kind)
    return result


def combine(name: str, windows: Iterable[WindowResult], parent: str | None = None) -> WindowResult:
    """One window holding the summed duration and energy of ``windows``.

    A domain that errored in any part is an error of the sum: a total missing a piece
    would silently understate the phase.
    """
    parts = list(windows)
    energy: dict[str, float] = {}
    provenance: dict[str, Provenance] = {}
    method: dict[str, Method] = {}
    flags: dict[str, list[str]] = {}
    errors: dict[str, str] = {}
    assumptions: dict[str, dict] = {}
    for part in parts:
        for domain, value in part.energy_j.items():
            energy[domain] = energy.get(domain, 0.0) + value
            kind = part.provenance[domain]
            provenance[domain] = weakest(provenance.get(domain, kind), kind)
            method.setdefault(domain, part.method[domain])
        for domain, notes in part.flags.items():
            bucket = flags.setdefault(domain, [])
            bucket.extend(n for n in notes if n not in bucket)
        for domain, why in part.errors.items():
            errors.setdefault(domain, f"in window {part.name!r}: {why}")
        for domain, values in part.assumptions.items():
            assumptions.setdefault(domain, values)
    for domain in errors:
        energy.pop(domain, None)
        provenance.pop(domain, None)
        method.pop(domain, None)
    return WindowResult(
        name=name,
        started_at=min((p.started_at for p in parts), default=0.0),
        duration_s=sum(p.duration_s for p in parts),
        energy_j=energy,
        provenance=provenance,
        method=method,
        flags=flags,
        errors=errors,
        assumptions=assumptions,
        parent=parent,
    )


def remainder(name: str, whole: WindowResult, parts: WindowResult) -> WindowResult:
    """``whole`` minus ``parts`` per domain: the energy spent outside every part.

    Values may come out slightly negative when counters are coarse; they are kept as
    they are (the caller checks them against its tolerance) rather than clamped.
    """
    energy = {d: v - parts.energy_j.get(d, 0.0) for d, v in whole.energy_j.items()}
    errors = dict(whole.errors)
    errors.update({d: w for d, w in parts.errors.items() if d not in errors})
    for domain in errors:
        energy.pop(domain, None)
    provenance = {
        d: weakest(whole.provenance[d], parts.provenance.get(d, whole.provenance[d]))
        for d in energy
    }
    return WindowResult(
        name=name,
        started_at=whole.started_at,
        duration_s=whole.duration_s - parts.duration_s,
        energy_j=energy,
        provenance=provenance,
        method={d: whole.method[d] for d in energy},
        flags={},
        errors=errors,
        assumptions=dict(whole.assumptions),
        parent=whole.name,
    )
