"""Fake hardware shared by the meter, run and CLI tests.

This machine has no GPU, no RAPL and no hwmon, so every test that needs a counter gets
one from here: a controllable ``EnergySource``, a clock the test moves by hand, and a
Linux powercap tree written into a temporary folder.

pytest runs with ``--import-mode=importlib``, so tests cannot import this module; the
fakes are handed out by fixtures (``fake_source``, ``fake_clock``, ``powercap``,
``genwatt`` for the real command line).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from genwatt.errors import SourceReadError
from genwatt.meter.result import Method, Provenance, WindowResult
from genwatt.meter.sources.base import Domain, EnergySource, Reading
from genwatt.store.records import RunRecord

# --------------------------------------------------------------------------- clock


@dataclass
class FakeClock:
    """Stands in for the ``time`` module of the meter: time moves only when told to."""

    now: float = 1000.0

    def perf_counter(self) -> float:
        return self.now

    def time(self) -> float:
        return 1.7e9 + self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    advance = sleep


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """A clock that drives the Meter's timestamps, durations and ``idle`` sleeps."""
    clock = FakeClock()
    monkeypatch.setattr("genwatt.meter.meter.time", clock)
    return clock


# -------------------------------------------------------------------------- source


class FakeSource(EnergySource):
    """A cumulative counter per domain: ``rate_w`` x elapsed clock time + manual joules.

    ``add_j`` moves a counter by hand, ``fail`` makes a domain's reads fail, ``power``
    is what ``power_w`` reports. ``polls``, ``reads`` and ``closed`` record how the
    meter used the source.
    """

    def __init__(
        self,
        *names: str,
        rate_w: float = 0.0,
        clock: Callable[[], float] = time.perf_counter,
        method: Method = Method.COUNTER,
        provenance: Provenance = Provenance.MEASURED,
        resolution_s: float | None = None,
        read_delay_s: float = 0.0,
        name: str = "fake",
    ) -> None:
        self.name = name
        self._domains = [
            Domain(
                name=n,
                kind=n.split(":")[0],
                source=name,
                method=method,
                provenance=provenance,
                device=f"fake {n}",
                resolution_s=resolution_s,
            )
            for n in names or ("gpu:0",)
        ]
        self.rate_w = {d.name: rate_w for d in self._domains}
        self.clock = clock
        self.read_delay_s = read_delay_s
        self._t0 = clock()
        self._added_j = {d.name: 0.0 for d in self._domains}
        self.failing: dict[str, str] = {}
        self.power: dict[str, float] = {}
        self.polls = 0
        self.reads = 0
        self.closed = False

    @property
    def domains(self) -> list[Domain]:
        return list(self._domains)

    def add_j(self, domain: str, energy_j: float) -> None:
        self._added_j[domain] += energy_j

    def fail(self, domain: str, message: str = "device lost") -> None:
        self.failing[domain] = message

    def read_j(self) -> Reading:
        self.reads += 1
        if self.read_delay_s:
            time.sleep(self.read_delay_s)
        elapsed_s = self.clock() - self._t0
        reading: Reading = {}
        for name, added in self._added_j.items():
            if name in self.failing:
                reading[name] = SourceReadError(self.failing[name])
            else:
                reading[name] = added + self.rate_w[name] * elapsed_s
        return reading

    def poll(self) -> None:
        self.polls += 1

    def power_w(self) -> dict[str, float]:
        return dict(self.power)

    def close(self) -> None:
        self.closed = True


# ------------------------------------------------------------------- caches


@pytest.fixture(scope="session", autouse=True)
def private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """genwatt's disk cache (counted compute) in a folder of the test session, inherited
    by every genwatt subprocess: tests never read or fill the developer's own cache."""
    folder = tmp_path_factory.mktemp("genwatt-cache")
    before = os.environ.get("GENWATT_CACHE_DIR")
    os.environ["GENWATT_CACHE_DIR"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("GENWATT_CACHE_DIR", None)
    else:
        os.environ["GENWATT_CACHE_DIR"] = before


# ------------------------------------------------------------------- torch threads


@pytest.fixture(scope="session")
def one_torch_thread() -> Iterator[None]:
    """torch on one intra-op thread for the session, restored after: a folder's conftest
    asks for it (autouse) where tiny models would only lose time to thread contention."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ------------------------------------------------------------------ stored windows


@pytest.fixture
def estimated_window() -> Callable[..., WindowResult]:
    """Builds the window a CPU estimate stores: ``energy_j`` joules on cpu:0, started at
    1.7e9; ``name``, ``duration_s`` and any other field of WindowResult as keywords."""

    def build(
        energy_j: float, name: str = "case", *, duration_s: float = 1.0, **fields: Any
    ) -> WindowResult:
        return WindowResult(
            name=name,
            started_at=1.7e9,
            duration_s=duration_s,
            energy_j={"cpu:0": energy_j},
            provenance={"cpu:0": Provenance.ESTIMATED},
            method={"cpu:0": Method.ESTIMATE},
            **fields,
        )

    return build


@pytest.fixture
def estimated_run(estimated_window: Callable[..., WindowResult]) -> Callable[..., RunRecord]:
    """Builds a stored run of ``config`` (a sweep's unless ``kind`` says otherwise), started
    at 1.7e9 and one second long, with ``windows`` (by default one 2 J ``generation``
    window estimated on cpu:0); any other field of RunRecord as keywords."""

    def build(
        config: dict[str, Any],
        windows: list[WindowResult] | None = None,
        *,
        kind: str = "sweep",
        **fields: Any,
    ) -> RunRecord:
        return RunRecord(
            kind=kind,
            started_at=1.7e9,
            duration_s=1.0,
            config=config,
            windows=windows or [estimated_window(2.0, "generation")],
            **fields,
        )

    return build


@pytest.fixture
def fake_source() -> type[FakeSource]:
    """The ``FakeSource`` class: ``fake_source("gpu:0", rate_w=10.0, clock=...)``."""
    return FakeSource


# ------------------------------------------------------------------------ powercap


@dataclass
class PowercapTree:
    """A ``/sys/class/powercap`` look-alike: zones nested in their package's folder,
    with links at the top level for subzones, as the kernel lays them out."""

    root: Path
    zones: dict[str, Path] = field(default_factory=dict)

    def add(self, zone: str, name: str, energy_uj: int = 0, max_uj: int = 262_143_328_850) -> Path:
        parts = zone.split(":")
        if len(parts) == 3:  # a subzone lives in its package's folder
            folder = self.zones[":".join(parts[:2])] / zone
            (self.root / zone).symlink_to(folder, target_is_directory=True)
        else:
            folder = self.root / zone
        folder.mkdir(parents=True)
        (folder / "name").write_text(f"{name}\n")
        (folder / "energy_uj").write_text(f"{energy_uj}\n")
        (folder / "max_energy_range_uj").write_text(f"{max_uj}\n")
        (folder / "enabled").write_text("1\n")
        self.zones[zone] = folder
        return folder

    def set_uj(self, zone: str, energy_uj: int) -> None:
        (self.zones[zone] / "energy_uj").write_text(f"{energy_uj}\n")

    def energy_path(self, zone: str) -> Path:
        return self.zones[zone] / "energy_uj"


@pytest.fixture
def powercap(tmp_path: Path) -> PowercapTree:
    """An empty powercap tree (only the ``intel-rapl`` control type folder)."""
    root = tmp_path / "powercap"
    (root / "intel-rapl").mkdir(parents=True)
    (root / "intel-rapl" / "enabled").write_text("1\n")
    return PowercapTree(root)


@pytest.fixture
def two_socket_powercap(powercap: PowercapTree) -> PowercapTree:
    """Two packages, each with core and dram subzones (package 0 also has uncore), and a
    platform-wide ``psys`` zone that overlaps everything."""
    powercap.add("intel-rapl:0", "package-0", 10_000_000)
    powercap.add("intel-rapl:0:0", "core", 5_000_000)
    powercap.add("intel-rapl:0:1", "uncore", 1_000_000)
    powercap.add("intel-rapl:0:2", "dram", 2_000_000)
    powercap.add("intel-rapl:1", "package-1", 20_000_000)
    powercap.add("intel-rapl:1:0", "core", 7_000_000)
    powercap.add("intel-rapl:1:1", "dram", 3_000_000)
    powercap.add("intel-rapl:2", "psys", 90_000_000)
    return powercap


# ------------------------------------------------------------------------------ CLI


@dataclass
class GenwattCli:
    """Runs the installed ``genwatt`` console script in a subprocess, hermetically:
    no powercap tree, no GPU visible, no country or store from the developer's shell."""

    executable: Path
    cwd: Path
    env: dict[str, str]

    def __call__(
        self, *args: str, env: dict[str, str] | None = None, timeout_s: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.executable), *args],
            cwd=self.cwd,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )


@pytest.fixture
def genwatt(tmp_path: Path) -> GenwattCli:
    executable = Path(sys.executable).with_name("genwatt")
    if not executable.exists():
        pytest.skip(f"no genwatt console script next to {sys.executable}")
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "GENWATT_COUNTRY",
            "GENWATT_CLOUD",
            "GENWATT_PUE",
            "GENWATT_STORE",
            "GENWATT_NVML_RESOLUTION_S",
        }
    }
    env.update(
        {
            "GENWATT_POWERCAP_ROOT": str(tmp_path / "no-powercap"),
            "CUDA_VISIBLE_DEVICES": "",
            "HIP_VISIBLE_DEVICES": "",
            "COLUMNS": "200",
        }
    )
    return GenwattCli(executable, tmp_path, env)
