"""What ``genwatt env`` shows: every domain, how it is measured, and each missing counter."""

from __future__ import annotations

from typing import Any

from genwatt.meter.sources.base import Domain, MissingCounter
from genwatt.meter.sources.discovery import Discovery, discover_sources


def domain_to_dict(domain: Domain) -> dict[str, Any]:
    return {
        "domain": domain.name,
        "kind": domain.kind,
        "source": domain.source,
        "method": str(domain.method),
        "provenance": str(domain.provenance),
        "device": domain.device,
        "resolution_s": domain.resolution_s,
        "flags": list(domain.flags),
        "assumptions": dict(domain.assumptions),
    }


def inventory(discovery: Discovery | None = None) -> dict[str, Any]:
    """A JSON-ready description of this machine's energy sources."""
    discovery = discovery or discover_sources()
    try:
        domains = [domain_to_dict(d) for d in discovery.domains]
        missing: list[MissingCounter] = discovery.missing
        return {
            "domains": domains,
            "missing": [m.to_dict() for m in missing],
            "all_measured": bool(domains) and all(d["provenance"] == "measured" for d in domains),
        }
    finally:
        for source in discovery.sources:
            source.close()
