"""The response headers that carry a request's energy, and how clients read them back.

``X-Energy-Joules``        total over the domains with a complete figure, a plain number
``X-Energy-Provenance``    the weakest provenance among those domains (a total is only as
                           good as its least trustworthy part)
``X-Energy-Domains``       each domain's joules and provenance:
                           ``cpu:0=0.0123;estimated, gpu:0=1.5;measured``
``X-Energy-Incomplete``    domains with no figure for this request (a failed reading at
                           one of its boundaries), comma-separated; absent when none

When no domain has a complete figure, ``X-Energy-Joules`` is left out rather than sent
as a zero. Numbers are written with ``repr``: the shortest text that reads back as the
same float, so a client summing headers gets exactly what the server charged.
"""

from __future__ import annotations

from collections.abc import Mapping

from genwatt.meter.result import Provenance
from genwatt.serve.attribution import RequestEnergy

JOULES = "x-energy-joules"
PROVENANCE = "x-energy-provenance"
DOMAINS = "x-energy-domains"
INCOMPLETE = "x-energy-incomplete"


def weakest_provenance(kinds: list[str]) -> str:
    """The least trustworthy of ``kinds`` (measured < estimated < predicted)."""
    order = [str(p) for p in Provenance]
    return max(kinds, key=lambda kind: order.index(kind) if kind in order else len(order))


def energy_headers(
    energy: RequestEnergy, provenance: Mapping[str, str]
) -> list[tuple[bytes, bytes]]:
    """The ASGI header pairs (lower-case names, latin-1 bytes) for one request."""
    headers: list[tuple[bytes, bytes]] = []
    if energy.energy_j:
        domains = sorted(energy.energy_j)
        kinds = [provenance.get(d, "unknown") for d in domains]
        detail = ", ".join(
            f"{d}={energy.energy_j[d]!r};{kind}" for d, kind in zip(domains, kinds, strict=True)
        )
        headers += [
            (JOULES.encode(), repr(energy.total_j).encode()),
            (PROVENANCE.encode(), weakest_provenance(kinds).encode()),
            (DOMAINS.encode(), detail.encode("latin-1")),
        ]
    if energy.incomplete:
        headers.append((INCOMPLETE.encode(), ", ".join(sorted(energy.incomplete)).encode()))
    return headers


def parse_domains(value: str) -> dict[str, tuple[float, str]]:
    """``X-Energy-Domains`` back into ``{domain: (joules, provenance)}``."""
    parsed: dict[str, tuple[float, str]] = {}
    for item in value.split(","):
        name, _, rest = item.strip().partition("=")
        joules, _, kind = rest.partition(";")
        parsed[name] = (float(joules), kind)
    return parsed


__all__ = [
    "DOMAINS",
    "INCOMPLETE",
    "JOULES",
    "PROVENANCE",
    "energy_headers",
    "parse_domains",
    "weakest_provenance",
]
