"""Estimated CPU and DRAM energy, only for domains that no counter covers.

CPU: the CPU time used by this process and its descendants, times a per-thread share
of the CPU model's TDP (``cpu_models.py``). One busy hardware thread for one second
costs TDP / threads joules; idle threads cost nothing, so this is the energy the
workload is responsible for, not the machine's wall-socket draw.

DRAM: installed memory times a constant power per GB, for as long as the window is
open (DRAM refresh and background power dominate and hardly depend on load).

Every figure carries provenance ``estimated`` and its assumptions.
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path
from typing import Any

import psutil

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
    if _CHILDREN_FILE:
        pids = _live_descendants(process.pid)
    else:
        pids = [c.pid for c in process.children(recursive=True)]
    for pid in pids:
        try:
            ct = psutil.Process(pid).cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue  # gone between listing and reading; its time moves to children_*
        # children_*: descendants it already reaped, which are no longer listed above.
        total += ct.user + ct.system + ct.children_user + ct.children_system
    return total


_CHILDREN_FILE = _children_supported()


def cpu_assumptions(model_name: str | None = None) -> dict[str, Any]:
    name = model_name or cpu_model_name()
    model = lookup_cpu_model(name)
    if model is not None:
        return {
            "model": "cpu_seconds x tdp_w / threads (process tree)",
            "cpu_model": name,
            "tdp_w": model.tdp_w,
            "threads": model.threads,
            "watts_per_thread": model.watts_per_thread,
            "citation": model.citation,
        }
    return {
        "model": "cpu_seconds x watts_per_thread (process tree)",
        "cpu_model": name,
        "watts_per_thread": DEFAULT_WATTS_PER_THREAD,
        "note": (
            f"{name!r} is not in genwatt's TDP table; using the median TDP per thread of "
            "the table's server CPUs"
        ),
    }


class EstimateSource(EnergySource):
    name = "estimate"

    def __init__(self, *, cpu: bool, dram: bool, pid: int | None = None) -> None:
        self._process = psutil.Process(pid or os.getpid())
        self._domains: list[Domain] = []
        self._cpu_w_per_thread = 0.0
        self._dram_w = 0.0
        self._t0 = time.perf_counter()
        self._cpu0 = process_tree_cpu_seconds(self._process)
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
                    device=f"{assumptions['cpu_model']} (all packages, this process tree)",
                    assumptions=assumptions,
                )
            )
        if dram:
            installed_gb = psutil.virtual_memory().total / 1e9
            self._dram_w = installed_gb * DRAM_WATTS_PER_GB
            self._domains.append(
                Domain(
                    name="dram:0",
                    kind="dram",
                    source="estimate",
                    method=Method.ESTIMATE,
                    provenance=Provenance.ESTIMATED,
                    device=f"{installed_gb:.1f} GB installed DRAM (whole machine)",
                    assumptions={
                        "model": "installed_gb x watts_per_gb x duration",
                        "installed_gb": round(installed_gb, 2),
                        "watts_per_gb": DRAM_WATTS_PER_GB,
                        "citation": "CodeCarbon methodology: 3 W per 8 GB of RAM",
                    },
                )
            )

    @property
    def domains(self) -> list[Domain]:
        return list(self._domains)

    def read_j(self) -> Reading:
        reading: Reading = {}
        for domain in self._domains:
            if domain.kind == "cpu":
                cpu_s = process_tree_cpu_seconds(self._process) - self._cpu0
                reading[domain.name] = cpu_s * self._cpu_w_per_thread
            else:
                reading[domain.name] = (time.perf_counter() - self._t0) * self._dram_w
        return reading
