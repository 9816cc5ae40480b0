"""The CPU and DRAM estimates: CPU time and resident memory of the process tree."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import psutil
import pytest

from genwatt.meter.meter import Meter
from genwatt.meter.result import Method, Provenance
from genwatt.meter.sources import estimate
from genwatt.meter.sources.cpu_models import DEFAULT_WATTS_PER_THREAD

EPYC_7763 = "AMD EPYC 7763 64-Core Processor"
BUSY = "import time\nwhile time.process_time() < {s}: pass\n"


def busy_cpu_s(seconds: float) -> float:
    """Spin for ``seconds`` of this thread's CPU time; return the process CPU time used."""
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass
    return time.process_time() - start


@pytest.fixture
def epyc(monkeypatch: pytest.MonkeyPatch) -> float:
    """A CPU from the TDP table: 280 W over 128 threads."""
    monkeypatch.setattr(estimate, "cpu_model_name", lambda: EPYC_7763)
    return 280.0 / 128


def cpu_meter() -> tuple[Meter, estimate.EstimateSource]:
    source = estimate.EstimateSource(cpu=True, dram=False)
    return Meter([source], synchronize=False), source


# ---------------------------------------------------------------------------- CPU


def test_cpu_domain_and_its_assumptions(epyc: float) -> None:
    source = estimate.EstimateSource(cpu=True, dram=False)
    (domain,) = source.domains
    assert (domain.name, domain.kind, domain.source) == ("cpu:0", "cpu", "estimate")
    assert domain.method is Method.ESTIMATE and domain.provenance is Provenance.ESTIMATED
    assert domain.assumptions == {
        "model": "cpu_seconds x tdp_w / threads (process tree)",
        "scope": "process tree",
        "cpu_model": EPYC_7763,
        "tdp_w": 280,
        "threads": 128,
        "watts_per_thread": epyc,
        "citation": "AMD product page, amd.com",
    }


def test_an_unknown_cpu_uses_the_table_median(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(estimate, "cpu_model_name", lambda: "Imaginary CPU 9000")
    assumptions = estimate.cpu_assumptions()
    assert assumptions["watts_per_thread"] == DEFAULT_WATTS_PER_THREAD
    assert "not in genwatt's TDP table" in assumptions["note"]
    assert 1.0 < DEFAULT_WATTS_PER_THREAD < 10.0


def test_cpu_estimate_is_cpu_time_times_watts_per_thread(epyc: float) -> None:
    meter, _ = cpu_meter()
    with meter.window("busy") as w:
        used_s = busy_cpu_s(0.3)
    assert w.result is not None
    energy = w.result.energy_j["cpu:0"]
    assert energy / epyc == pytest.approx(used_s, abs=0.03)
    assert w.result.provenance == {"cpu:0": Provenance.ESTIMATED}
    assert w.result.assumptions["cpu:0"]["watts_per_thread"] == epyc


def test_cpu_estimate_is_proportional_to_cpu_time(epyc: float) -> None:
    meter, _ = cpu_meter()
    with meter.window("short") as short:
        busy_cpu_s(0.1)
    with meter.window("long") as long:
        busy_cpu_s(0.3)
    with meter.window("sleep") as asleep:
        time.sleep(0.2)
    assert short.result and long.result and asleep.result
    ratio = long.result.energy_j["cpu:0"] / short.result.energy_j["cpu:0"]
    assert ratio == pytest.approx(3.0, rel=0.15)
    assert asleep.result.energy_j["cpu:0"] < 0.02 * epyc  # sleeping costs (almost) nothing


def test_reaped_children_are_counted(epyc: float) -> None:
    meter, _ = cpu_meter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with meter.window("child") as w:
        subprocess.run([sys.executable, "-c", BUSY.format(s=0.3)], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert child_s >= 0.3
    assert w.result is not None
    assert w.result.energy_j["cpu:0"] / epyc == pytest.approx(child_s, abs=0.05)


@contextmanager
def _ready_child(
    script: str,
) -> Iterator[tuple[estimate.EstimateSource, float, subprocess.Popen[str]]]:
    """Run ``script`` in a child until it prints "ready"; hand over a CPU estimate, its
    reading from before the child started, and the child. Its whole tree is killed after."""
    source = estimate.EstimateSource(cpu=True, dram=False)
    start = source.read_j()["cpu:0"]
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        yield source, start, child
    finally:
        for process in psutil.Process(child.pid).children(recursive=True):
            process.kill()
        child.kill()
        child.wait()


def test_live_descendants_are_counted_while_they_run(epyc: float) -> None:
    """A child that sleeps while its own child (a grandchild) burns 0.3 s of CPU."""
    script = (
        "import subprocess, sys\n"
        f"grandchild = subprocess.Popen([sys.executable, '-c', {BUSY.format(s=0.3)!r} + "
        "'print(\"ready\", flush=True)\\nimport time\\ntime.sleep(30)'])\n"
        "grandchild.wait()\n"
    )
    with _ready_child(script) as (source, start, child):
        grandchild = psutil.Process(child.pid).children()[0]
        grandchild_s = sum(grandchild.cpu_times()[:2])
        during = source.read_j()["cpu:0"]
    assert grandchild_s >= 0.25  # psutil reads clock ticks (10 ms)
    assert (during - start) / epyc >= grandchild_s


def test_grandchildren_reaped_by_a_live_child_are_still_counted(epyc: float) -> None:
    """The child waits for its own busy child, then lingers: the grandchild's CPU time
    now sits in the child's ``children_*`` times and must not vanish from the tree."""
    script = (
        "import subprocess, sys, time\n"
        f"subprocess.run([sys.executable, '-c', {BUSY.format(s=0.3)!r}], check=True)\n"
        "print('ready', flush=True)\n"
        "time.sleep(30)\n"
    )
    with _ready_child(script) as (source, start, child):
        times = psutil.Process(child.pid).cpu_times()
        during = source.read_j()["cpu:0"]
    assert times.children_user + times.children_system >= 0.25
    assert (during - start) / epyc >= sum(times[:4])


def test_source_for_another_process(epyc: float) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", BUSY.format(s=0.2) + "print('ready', flush=True)\ninput()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        source = estimate.EstimateSource(cpu=True, dram=False, pid=child.pid)
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        used = sum(psutil.Process(child.pid).cpu_times()[:2])
        assert source.read_j()["cpu:0"] / epyc == pytest.approx(used, abs=0.25)
        assert source.read_j()["cpu:0"] > 0
    finally:
        child.kill()
        child.wait()


@pytest.mark.skipif(not estimate._CHILDREN_FILE, reason="kernel without /proc/PID/task/*/children")
def test_descendants_from_proc_match_psutil() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        found = estimate._live_descendants(os.getpid())
        assert child.pid in found
        assert set(found) >= {c.pid for c in psutil.Process().children(recursive=True)}
    finally:
        child.kill()
        child.wait()


# --------------------------------------------------------------------------- DRAM


@pytest.fixture
def estimate_clock(fake_clock, monkeypatch: pytest.MonkeyPatch):
    """The fake clock also drives the estimate's timestamps (CPU time stays real)."""
    monkeypatch.setattr(
        estimate,
        "time",
        SimpleNamespace(perf_counter=fake_clock.perf_counter, process_time=time.process_time),
    )
    return fake_clock


@pytest.fixture
def resident(monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    """The process tree's resident memory, set by hand: ``resident["gb"] = 1.0``."""
    held = {"gb": 0.0}
    monkeypatch.setattr(
        estimate, "process_tree_rss_bytes", lambda _process, _descendants=None: held["gb"] * 1e9
    )
    return held


def test_dram_is_resident_gb_times_watts_per_gb_times_duration(
    monkeypatch: pytest.MonkeyPatch, estimate_clock, resident
) -> None:
    monkeypatch.setattr(estimate.psutil, "virtual_memory", lambda: SimpleNamespace(total=64e9))
    resident["gb"] = 1.0
    source = estimate.EstimateSource(cpu=False, dram=True)
    (domain,) = source.domains
    assert domain.name == "dram:0" and domain.provenance is Provenance.ESTIMATED
    assert domain.device == "DRAM resident to this process tree (of 64.0 GB installed)"
    assert domain.assumptions["scope"] == "process tree"
    assert domain.assumptions["watts_per_gb"] == estimate.DRAM_WATTS_PER_GB == 0.375
    assert "CodeCarbon" in domain.assumptions["citation"]
    meter = Meter([source], synchronize=False)
    estimate_clock.advance(10.0)
    with meter.window("w") as w:
        estimate_clock.advance(2.0)
    assert w.result is not None
    # 1 GB x 0.375 W/GB x 2 s, whatever the 64 GB installed: the scope is the tree.
    assert w.result.energy_j == {"dram:0": pytest.approx(0.75, rel=1e-12)}
    assert w.result.method == {"dram:0": Method.ESTIMATE}
    assert w.result.assumptions["dram:0"]["scope"] == "process tree"
    assert w.result.assumptions["dram:0"]["model"] == (
        "resident_gb x watts_per_gb x duration (process tree)"
    )


def test_dram_follows_resident_memory_through_the_window(estimate_clock, resident) -> None:
    """Trapezoids between samples: 0 GB, (poll) 2 GB after 1 s, 2 GB 1 s later."""
    source = estimate.EstimateSource(cpu=False, dram=True)
    meter = Meter([source], synchronize=False, sample_period_s=60)
    with meter.window("w") as w:
        estimate_clock.advance(1.0)
        resident["gb"] = 2.0
        source.poll()  # what the meter's sampler does every sample period
        estimate_clock.advance(1.0)
    assert w.result is not None
    expected_j = (0.5 * (0.0 + 2.0) * 1.0 + 2.0 * 1.0) * estimate.DRAM_WATTS_PER_GB
    assert w.result.energy_j["dram:0"] == pytest.approx(expected_j, rel=1e-12)


def test_cpu_and_dram_record_the_same_scope(epyc: float) -> None:
    source = estimate.EstimateSource(cpu=True, dram=True)
    assert {d.name: d.assumptions["scope"] for d in source.domains} == {
        "cpu:0": "process tree",
        "dram:0": "process tree",
    }


def _dram_power_w_of(script: str) -> float:
    """Mean DRAM estimate of a child running ``script`` (it prints "ready" when set),
    over a 0.3 s window scoped to that child."""
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        source = estimate.EstimateSource(cpu=False, dram=True, pid=child.pid)
        meter = Meter([source], synchronize=False, sample_period_s=0.05)
        with meter.window("w") as w:
            time.sleep(0.3)
    finally:
        child.kill()
        child.wait()
    assert w.result is not None
    return w.result.energy_j["dram:0"] / w.result.duration_s


def test_a_sleeping_process_costs_almost_no_dram() -> None:
    """The old estimate charged the whole machine's memory (9.5 W on a 25 GB machine)."""
    power_w = _dram_power_w_of("print('ready', flush=True)\nimport time\ntime.sleep(30)")
    assert 0.0 < power_w < 0.05  # a bare interpreter holds ~10 MB: ~0.004 W


def test_a_process_holding_1_gb_costs_about_0_375_w() -> None:
    script = (
        "held = b'\\x01' * 1_000_000_000\n"  # written, hence resident
        "print('ready', flush=True)\nimport time\ntime.sleep(30)"
    )
    assert _dram_power_w_of(script) == pytest.approx(0.375, rel=0.05)


def test_a_vanished_process_is_an_error_not_a_zero() -> None:
    child = subprocess.Popen([sys.executable, "-c", "input()"], stdin=subprocess.PIPE)
    source = estimate.EstimateSource(cpu=True, dram=True, pid=child.pid)
    meter = Meter([source], synchronize=False)
    meter.begin("w")
    child.kill()
    child.wait()  # reaped: the pid no longer exists
    result = meter.end("w")
    assert f"cannot read process {child.pid} for the cpu estimate" in result.errors["cpu:0"]
    assert "cpu:0" not in result.energy_j


def test_a_reading_lists_the_process_tree_once_for_every_domain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Listing the tree opens a file per thread (a server's pool makes that the cost of
    a reading): the CPU and DRAM domains share one listing, and still see a child."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        source = estimate.EstimateSource(cpu=True, dram=True)
        calls: list[int] = []
        real = estimate._tree_pids

        def counted(process):
            calls.append(process.pid)
            return real(process)

        monkeypatch.setattr(estimate, "_tree_pids", counted)
        reading = source.read_j()
        assert len(calls) == 1
        assert set(reading) == {"cpu:0", "dram:0"}
        assert all(isinstance(v, float) for v in reading.values())
        # The child's memory is in the DRAM figure: the shared listing found it.
        alone = estimate.process_tree_rss_bytes(source._process, descendants=[])
        assert source._rss_bytes(real(source._process)) > alone
    finally:
        child.kill()
        child.wait()
