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

A worker that double-forks (or whose parent exits) is reparented to init and leaves
the tree, taking its CPU time with it. ``follow_process_group`` widens the scope, while
a window is open, to the processes of a process group (``genwatt measure`` starts the
command in a group of its own): a member outside the tree is charged its CPU time and
memory, the last figure read before it exited staying counted. Reads happen at every
window boundary and sampler tick, so a member that exits between two reads loses at
most one sampling period. A worker that also leaves the group (``setsid``) is not found.

Every figure carries provenance ``estimated``, its assumptions and its scope.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from collections.abc import Callable
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


def process_tree_cpu_seconds(
    process: psutil.Process, descendants: list[int] | None = None
) -> float:
    """CPU seconds of a process, its reaped children, and its live descendants (with
    the children those reaped, so a grandchild's time stays counted once it exits).

    For this process the clock is ``CLOCK_PROCESS_CPUTIME_ID`` (nanoseconds), so even
    a millisecond window gets a meaningful figure; psutil's times tick at 10 ms.
    ``descendants``: the live descendants if the caller has just listed them.
    """
    if process.pid == os.getpid():
        reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
        total = time.process_time() + reaped.ru_utime + reaped.ru_stime
    else:
        times = process.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
    for pid in _tree_pids(process) if descendants is None else descendants:
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


def process_tree_rss_bytes(process: psutil.Process, descendants: list[int] | None = None) -> int:
    """Resident memory of a process and its live descendants, in bytes.

    A page shared between processes (after ``fork``, a shared library) counts once per
    process that maps it: an upper bound, cheap to read (``/proc/PID/statm``), where
    the proportional share (PSS) needs a walk of every mapping. ``descendants``: as for
    ``process_tree_cpu_seconds``.
    """
    total = 0
    listed = _tree_pids(process) if descendants is None else descendants
    for pid in [process.pid, *listed]:
        try:
            total += psutil.Process(pid).memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue  # gone between listing and reading: it holds no memory any more
    return total


_CHILDREN_FILE = _children_supported()

# psutil's process start times derive from the boot time, which /proc gives in whole
# seconds: a member started this long before the group was followed may be a new one.
_START_TIME_SLACK_S = 1.0


def process_group_pids(pgid: int) -> list[int]:
    """PIDs of the live processes in process group ``pgid``."""
    if not _CHILDREN_FILE:  # no /proc to read: ask every process (slower)
        found = []
        for process in psutil.process_iter():
            try:
                if os.getpgid(process.pid) == pgid:
                    found.append(process.pid)
            except OSError:
                continue
        return found
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:  # noqa: PTH123 - hot path
                stat = handle.read()
        except OSError:
            continue
        # After "pid (comm) ": state, ppid, pgrp, ... (comm may hold spaces and parens).
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 2 and int(fields[2]) == pgid:
            found.append(int(entry.name))
    return found


class _GroupMembers:
    """CPU time and memory of the processes of one group that are outside a tree."""

    def __init__(self, pgid: int) -> None:
        self.pgid = pgid
        self._since = time.time() - _START_TIME_SLACK_S
        self._lock = threading.Lock()
        # (pid, start time) -> (CPU seconds when first seen, CPU seconds when last seen)
        self._cpu_s: dict[tuple[int, float], tuple[float, float]] = {}

    def cpu_seconds(self, tree: set[int]) -> float:
        """CPU seconds the members outside ``tree`` used since they were followed,
        exited members included (at their last reading)."""
        with self._lock:
            for pid in process_group_pids(self.pgid):
                if pid in tree:
                    continue
                try:
                    process = psutil.Process(pid)
                    key = (pid, process.create_time())
                    times = process.cpu_times()
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue
                used = times.user + times.system + times.children_user + times.children_system
                if key in self._cpu_s:
                    baseline = self._cpu_s[key][0]
                else:  # started while followed: all its time is the command's
                    baseline = 0.0 if key[1] >= self._since else used
                self._cpu_s[key] = (baseline, used)
            return sum(last - first for first, last in self._cpu_s.values())

    def rss_bytes(self, tree: set[int]) -> int:
        total = 0
        for pid in process_group_pids(self.pgid):
            if pid in tree:
                continue
            try:
                total += psutil.Process(pid).memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return total


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
    """Running integral of the measured processes' resident memory, in GB x seconds."""

    def __init__(self, read_bytes: Callable[[], int]) -> None:
        self._read_bytes = read_bytes
        self._lock = threading.Lock()
        self._last_t = time.perf_counter()
        self._last_gb = read_bytes() / 1e9
        self.gb_s = 0.0

    def sample(self, resident_bytes: int | None = None) -> float:
        """Add the trapezoid since the last sample; return the integral so far.
        ``resident_bytes``: the resident memory if the caller has just read it."""
        with self._lock:
            gb = (self._read_bytes() if resident_bytes is None else resident_bytes) / 1e9
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
        self._group: _GroupMembers | None = None
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
            self._resident = _ResidentMemory(self._rss_bytes)
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

    def follow_process_group(self, pgid: int | None) -> None:
        """Also charge the processes of group ``pgid`` that are not in the tree (see the
        module docstring); ``None`` stops. Stopping keeps what they used counted, so the
        CPU figure stays monotonic."""
        group, self._group = self._group, None
        if group is not None:
            self._cpu0 -= group.cpu_seconds(self._tree())
        if pgid is not None:
            self._group = _GroupMembers(pgid)

    def _tree(self, descendants: list[int] | None = None) -> set[int]:
        listed = _tree_pids(self._process) if descendants is None else descendants
        return {self._process.pid, *listed}

    def _rss_bytes(self, descendants: list[int] | None = None) -> int:
        total = process_tree_rss_bytes(self._process, descendants)
        group = self._group
        return total + group.rss_bytes(self._tree(descendants)) if group is not None else total

    def _cpu_seconds(self, descendants: list[int] | None = None) -> float:
        total = process_tree_cpu_seconds(self._process, descendants)
        group = self._group
        return total + group.cpu_seconds(self._tree(descendants)) if group is not None else total

    def poll(self) -> None:
        """Sample resident memory, so the DRAM figure follows it through the window, and
        the CPU time of followed group members, so an exited one keeps its last figure."""
        if self._resident is not None:
            self._resident.sample()
        group = self._group
        if group is not None and any(d.kind == "cpu" for d in self._domains):
            group.cpu_seconds(self._tree())

    def read_j(self) -> Reading:
        reading: Reading = {}
        # The process tree is listed once per reading, for every domain: listing it
        # opens a file per thread of every process in it (a server's thread pool).
        try:
            descendants: list[int] | None = _tree_pids(self._process)
        except psutil.Error:
            descendants = None  # each domain then reports the error itself
        for domain in self._domains:
            try:
                reading[domain.name] = self._read_domain_j(domain, descendants)
            except psutil.Error as exc:  # the measured process is gone or hidden
                reading[domain.name] = SourceReadError(
                    f"cannot read process {self._process.pid} for the {domain.kind} estimate: {exc}"
                )
        return reading

    def _read_domain_j(self, domain: Domain, descendants: list[int] | None = None) -> float:
        if domain.kind == "cpu":
            cpu_s = self._cpu_seconds(descendants) - self._cpu0
            return cpu_s * self._cpu_w_per_thread
        assert self._resident is not None  # a dram domain exists only with it
        return self._resident.sample(self._rss_bytes(descendants)) * DRAM_WATTS_PER_GB
