"""CPU package and DRAM energy from Linux powercap (Intel RAPL, and AMD via the same driver).

Layout read: ``<root>/intel-rapl:N`` is package N (its ``name`` is ``package-N``) and
``<root>/intel-rapl:N:M`` its subzones (``core``, ``uncore``, ``dram``). Packages and
DRAM are reported; core and uncore are already inside their package and would be
counted twice. ``psys`` (whole platform, on some laptops) overlaps everything and is
skipped. The counters are microjoules that wrap at ``max_energy_range_uj``; ``poll``
runs often enough (the meter's sampling period) that at most one wrap happens between
two readings. A backward step that cannot be a wrap (a firmware or driver reset) is a
break, never a wrap's worth of energy (``counter.py``).
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from genwatt.errors import SourceReadError
from genwatt.meter.result import Method, Provenance
from genwatt.meter.sources.base import (
    Domain,
    EnergySource,
    MissingCounter,
    Reading,
    Snapshot,
)
from genwatt.meter.sources.counter import POWER_CEILING_W, CounterTrack

DEFAULT_POWERCAP_ROOT = Path("/sys/class/powercap")
POWERCAP_ROOT_ENV = "GENWATT_POWERCAP_ROOT"
# RAPL registers update about every millisecond (Intel SDM vol. 3B, 15.10.1); a window
# shorter than this cannot be resolved.
RAPL_RESOLUTION_S = 0.001

_ZONE_RE = re.compile(r"^intel-rapl:(\d+)(?::(\d+))?$")


def powercap_root() -> Path:
    return Path(os.environ.get(POWERCAP_ROOT_ENV, str(DEFAULT_POWERCAP_ROOT)))


def permission_fix(path: Path) -> str:
    return (
        f"run as root, or grant read access: `sudo chmod a+r {path.parent.parent}/*/energy_uj "
        f"{path.parent.parent}/*/*/energy_uj` (resets at boot; a udev rule makes it "
        "permanent). Linux restricts these files since CVE-2020-8694."
    )


@dataclass
class _Zone:
    domain: Domain
    energy_path: Path
    counter: CounterTrack  # microjoules, wrapping at max_energy_range_uj

    @property
    def last_raw_uj(self) -> int:
        return int(self.counter.last_raw)

    def read_raw_uj(self) -> int:
        return int(self.energy_path.read_text().strip())

    def advance(self) -> None:
        """Fold the counter's progress since the last read into the running total."""
        t_before = time.perf_counter()
        raw = self.read_raw_uj()
        self.counter.advance(raw, t_before, time.perf_counter())


class RaplSource(EnergySource):
    name = "rapl"

    def __init__(self, zones: list[_Zone]) -> None:
        self._zones = zones
        self._lock = threading.Lock()

    @property
    def domains(self) -> list[Domain]:
        return [z.domain for z in self._zones]

    def poll(self) -> None:
        self.read_j()

    def read_j(self) -> Reading:
        return self.snapshot().energy_j

    def snapshot(self) -> Snapshot:
        reading: Reading = {}
        with self._lock:
            for zone in self._zones:
                try:
                    zone.advance()
                    reading[zone.domain.name] = zone.counter.total_j
                except (OSError, ValueError) as exc:
                    reading[zone.domain.name] = SourceReadError(
                        f"reading {zone.energy_path} failed: {exc}"
                    )
            breaks = {z.domain.name: b for z in self._zones if (b := z.counter.break_record())}
        return Snapshot(reading, breaks)


def _read(path: Path) -> str:
    return path.read_text().strip()


def discover(root: Path | None = None) -> tuple[list[EnergySource], list[MissingCounter]]:
    """Find every readable package and DRAM zone under the powercap root."""
    root = root or powercap_root()
    if not root.is_dir():
        hint = (
            f"no powercap folder at {root} (not Linux, RAPL driver not loaded, or sysfs "
            "not mounted in this container)"
        )
        return [], [
            MissingCounter(
                "rapl",
                hint,
                f"load the intel_rapl_common module, or set {POWERCAP_ROOT_ENV} to where "
                "the host's /sys/class/powercap is mounted",
            )
        ]
    zones: list[_Zone] = []
    missing: list[MissingCounter] = []
    package_dirs = sorted(
        (p for p in root.iterdir() if (m := _ZONE_RE.match(p.name)) and m.group(2) is None),
        key=lambda p: int(_ZONE_RE.match(p.name).group(1)),  # type: ignore[union-attr]
    )
    if not package_dirs:
        return [], [MissingCounter("rapl", f"no intel-rapl zones under {root}")]
    for package_dir in package_dirs:
        for zone_dir in [package_dir, *sorted(package_dir.glob("intel-rapl:*:*"))]:
            zone = _open_zone(zone_dir, missing)
            if zone is not None:
                zones.append(zone)
    if not zones:
        return [], missing
    return [RaplSource(zones)], missing


def _open_zone(zone_dir: Path, missing: list[MissingCounter]) -> _Zone | None:
    try:
        label = _read(zone_dir / "name")
    except OSError as exc:
        missing.append(MissingCounter("rapl", f"cannot read {zone_dir / 'name'}: {exc}"))
        return None
    domain = _domain_for(label, zone_dir)
    if domain is None:
        return None
    energy_path = zone_dir / "energy_uj"
    try:
        t_before = time.perf_counter()
        raw = int(_read(energy_path))
        max_range = int(_read(zone_dir / "max_energy_range_uj"))
    except PermissionError:
        missing.append(
            MissingCounter(
                "rapl",
                f"permission denied reading {energy_path} ({domain.name})",
                permission_fix(energy_path),
            )
        )
        return None
    except (OSError, ValueError) as exc:
        missing.append(MissingCounter("rapl", f"cannot read {energy_path}: {exc}"))
        return None
    counter = CounterTrack(
        description=domain.device,
        ceiling_w=POWER_CEILING_W[domain.kind],
        units_per_j=1e6,
        wrap_at=max_range if max_range > 0 else None,
        last_raw=raw,
        last_t=t_before,
    )
    return _Zone(domain, energy_path, counter)


def _domain_for(label: str, zone_dir: Path) -> Domain | None:
    # Numbered by the package's zone (intel-rapl:N), not by its label: labels repeat
    # across sockets on multi-die parts (package-0-die-1, package-1-die-1), and a DRAM
    # subzone must carry the number of the package it belongs to.
    package = int(_ZONE_RE.match(zone_dir.name).group(1))  # type: ignore[union-attr]
    if label.startswith("package"):
        kind = "cpu"
    elif label == "dram":
        kind = "dram"
    else:  # core, uncore: inside the package figure; psys: overlaps everything
        return None
    return Domain(
        name=f"{kind}:{package}",
        kind=kind,
        source="rapl",
        method=Method.COUNTER,
        provenance=Provenance.MEASURED,
        device=f"RAPL {label} ({zone_dir})",
        resolution_s=RAPL_RESOLUTION_S,
    )
