"""Estimated CPU and DRAM energy, only for domains that no counter covers.

Both figures have the same scope, the *process tree*: the measured process (this one
unless a pid is given) and its descendants, so ``genwatt measure -- CMD`` charges the
command it started. They are the energy the workload is responsible for, not the
machine's wall-socket draw.

CPU: the tree's CPU time times a per-thread share of the CPU model's TDP
(``cpu_models.py``). One busy hardware thread for one second costs TDP / threads
joules; idle threads cost nothing.

DRAM: the tree's resident memory times a constant power per GB, integrated over time
(trapezoids between samples taken at every window boundary and every tick of the
meter's sampler). DRAM draws its background and refresh power whether pages are used
or not; the workload is charged the share it holds, as the CPU estimate charges the
share of TDP its busy threads hold.

Every figure carries provenance ``estimated``, its assumptions and its scope.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from genwatt.errors import SourceReadError
from genwatt.meter.result import Method, Provenance
from genwatt.meter.sources.base import Domain, EnergySource, Reading
from genwatt.meter.sources.cpu_models import (
    DEFAULT_WATTS_PER_THREAD,
    cpu_model_name,
    lookup_cpu_model,
)

# 3 W per 8 GB of DRAM: the figure CodeCarbon's methodology documents for its RAM
# estimate (codecarbon docs, "Methodology: RAM"), also used by the studies behind genwatt.
DRAM_WATTS_PER_GB = 3.0 / 8.0
PROCESS_TREE_SCOPE = "process tree"


def _live_descendants(pid: int) -> list[int]:
    """Descendant PIDs from /proc/<pid>/task/*/children: a few small file reads,
    where psutil's ``children(recursive=True)`` scans every process (~1.5 ms)."""
    found: list[int] = []
    stack = [pid]
    while stack:
        current = stack.pop()
        folder = f"/proc/{current}/task"
        try:
            tasks = os.listdir(folder)  # noqa: PTH208 - hot path, see below
        except OSError:
            continue
        for task in tasks:
            # plain os calls: this runs at every window boundary and every sample
            try:
                with open(f"{folder}/{task}/children", "rb") as handle:  # noqa: PTH123
                    kids = [int(k) for k in handle.read().split()]
            except OSError:
                continue
            found.extend(kids)
            stack.extend(kids)
    return found


def _children_supported() -> bool:
    return Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists()


def process_tree_cpu_seconds(process: psutil.Process) -> float:
    """CPU seconds of a process, its reaped children, and its live descendants (with
    the children those reaped, so a grandchild's time stays counted once it exits).

    For this process the clock is ``CLOCK_PROCESS_CPUTIME_ID`` (nanoseconds), so even
    a millisecond window gets a meaningful figure; psutil's times tick at 10 ms.
    """
    if process.pid == os.getpid():
        reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
        total = time.process_time() + reaped.ru_utime + reaped.ru_stime
    else:
        times = process.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
    for pid in _tree_pids(process):
        try:
            ct = psutil.Process(pid).cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue  # gone between listing and reading; its time moves to children_*
        # children_*: descendants it already reaped, which are no longer listed above.
        total += ct.user + ct.system + ct.children_user + ct.children_system
    return total


def _tree_pids(process: psutil.Process) -> list[int]:
    """The process's live descendants."""
    if _CHILDREN_FILE:
        return _live_descendants(process.pid)
    return [c.pid for c in process.children(recursive=True)]


def process_tree_rss_bytes(process: psutil.Process) -> int:
    """Resident memory of a process and its live descendants, in bytes.

    A page shared between processes (after ``fork``, a shared library) counts once per
    process that maps it: an upper bound, cheap to read (``/proc/PID/statm``), where
    the proportional share (PSS) needs a walk of every mapping.
    """
    total = 0
    for pid in [process.pid, *_tree_pids(process)]:
        try:
            total += psutil.Process(pid).memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue  # gone between listing and reading: it holds no memory any more
    return total


_CHILDREN_FILE = _children_supported()


def cpu_assumptions(model_name: str | None = None) -> dict[str, Any]:
    name = model_name or cpu_model_name()
    model = lookup_cpu_model(name)
    if model is not None:
        return {
            "model": "cpu_seconds x tdp_w / threads (process tree)",
            "scope": PROCESS_TREE_SCOPE,
            "cpu_model": name,
            "tdp_w": model.tdp_w,
            "threads": model.threads,
            "watts_per_thread": model.watts_per_thread,
            "citation": model.citation,
        }
    return {
        "model": "cpu_seconds x watts_per_thread (process tree)",
        "scope": PROCESS_TREE_SCOPE,
        "cpu_model": name,
        "watts_per_thread": DEFAULT_WATTS_PER_THREAD,
        "note": (
            f"{name!r} is not in genwatt's TDP table; using the median TDP per thread of "
            "the table's server CPUs"
        ),
    }


def dram_assumptions() -> dict[str, Any]:
    return {
        "model": "resident_gb x watts_per_gb x duration (process tree)",
        "scope": PROCESS_TREE_SCOPE,
        "watts_per_gb": DRAM_WATTS_PER_GB,
        "citation": "CodeCarbon methodology: 3 W per 8 GB of RAM",
        "note": (
            "resident memory (RSS) of the process and its descendants, sampled at every "
            "window boundary and sampler tick; a page shared between processes counts "
            "once per process"
        ),
    }


class _ResidentMemory:
    """Running integral of the process tree's resident memory, in GB x seconds."""

    def __init__(self, process: psutil.Process) -> None:
        self._process = process
        self._lock = threading.Lock()
        self._last_t = time.perf_counter()
        self._last_gb = process_tree_rss_bytes(process) / 1e9
        self.gb_s = 0.0

    def sample(self) -> float:
        """Add the trapezoid since the last sample; return the integral so far."""
        with self._lock:
            gb = process_tree_rss_bytes(self._process) / 1e9
            now = time.perf_counter()
            self.gb_s += 0.5 * (self._last_gb + gb) * max(now - self._last_t, 0.0)
            self._last_t, self._last_gb = now, gb
            return self.gb_s


class EstimateSource(EnergySource):
    name = "estimate"

    def __init__(self, *, cpu: bool, dram: bool, pid: int | None = None) -> None:
        self._process = psutil.Process(pid or os.getpid())
        self._domains: list[Domain] = []
        self._cpu_w_per_thread = 0.0
        self._cpu0 = process_tree_cpu_seconds(self._process)
        self._resident: _ResidentMemory | None = None
        who = "this process tree" if pid is None else f"process {pid} and its descendants"
        if cpu:
            assumptions = cpu_assumptions()
            self._cpu_w_per_thread = assumptions["watts_per_thread"]
            self._domains.append(
                Domain(
                    name="cpu:0",
                    kind="cpu",
                    source="estimate",
                    method=Method.ESTIMATE,
                    provenance=Provenance.ESTIMATED,
                    device=f"{assumptions['cpu_model']} (all packages, {who})",
                    assumptions=assumptions,
                )
            )
        if dram:
            installed_gb = psutil.virtual_memory().total / 1e9
            self._resident = _ResidentMemory(self._process)
            self._domains.append(
                Domain(
                    name="dram:0",
                    kind="dram",
                    source="estimate",
                    method=Method.ESTIMATE,
                    provenance=Provenance.ESTIMATED,
                    device=f"DRAM resident to {who} (of {installed_gb:.1f} GB installed)",
                    assumptions=dram_assumptions(),
                )
            )

    @property
    def domains(self) -> list[Domain]:
        return list(self._domains)

    def poll(self) -> None:
        """Sample resident memory, so the DRAM figure follows it through the window."""
        if self._resident is not None:
            self._resident.sample()

    def read_j(self) -> Reading:
        reading: Reading = {}
        for domain in self._domains:
            try:
                reading[domain.name] = self._read_domain_j(domain)
            except psutil.Error as exc:  # the measured process is gone or hidden
                reading[domain.name] = SourceReadError(
                    f"cannot read process {self._process.pid} for the {domain.kind} estimate: {exc}"
                )
        return reading

    def _read_domain_j(self, domain: Domain) -> float:
        if domain.kind == "cpu":
            cpu_s = process_tree_cpu_seconds(self._process) - self._cpu0
            return cpu_s * self._cpu_w_per_thread
        assert self._resident is not None  # a dram domain exists only with it
        return self._resident.sample() * DRAM_WATTS_PER_GB
