"""The CPU and DRAM estimates: CPU time of the process tree, installed GB x duration."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
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


def test_live_descendants_are_counted_while_they_run(epyc: float) -> None:
    """A child that sleeps while its own child (a grandchild) burns 0.3 s of CPU."""
    script = (
        "import subprocess, sys\n"
        f"grandchild = subprocess.Popen([sys.executable, '-c', {BUSY.format(s=0.3)!r} + "
        "'print(\"ready\", flush=True)\\nimport time\\ntime.sleep(30)'])\n"
        "grandchild.wait()\n"
    )
    source = estimate.EstimateSource(cpu=True, dram=False)
    start = source.read_j()["cpu:0"]
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        grandchild = psutil.Process(child.pid).children()[0]
        grandchild_s = sum(grandchild.cpu_times()[:2])
        during = source.read_j()["cpu:0"]
    finally:
        for process in psutil.Process(child.pid).children(recursive=True):
            process.kill()
        child.kill()
        child.wait()
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
    source = estimate.EstimateSource(cpu=True, dram=False)
    start = source.read_j()["cpu:0"]
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        times = psutil.Process(child.pid).cpu_times()
        during = source.read_j()["cpu:0"]
    finally:
        child.kill()
        child.wait()
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


def test_dram_is_installed_gb_times_watts_per_gb_times_duration(
    monkeypatch: pytest.MonkeyPatch, fake_clock
) -> None:
    monkeypatch.setattr(estimate.psutil, "virtual_memory", lambda: SimpleNamespace(total=16e9))
    monkeypatch.setattr(
        estimate,
        "time",
        SimpleNamespace(perf_counter=fake_clock.perf_counter, process_time=time.process_time),
    )
    source = estimate.EstimateSource(cpu=False, dram=True)
    (domain,) = source.domains
    assert domain.name == "dram:0" and domain.provenance is Provenance.ESTIMATED
    assert domain.device == "16.0 GB installed DRAM (whole machine)"
    assert domain.assumptions["installed_gb"] == 16.0
    assert domain.assumptions["watts_per_gb"] == estimate.DRAM_WATTS_PER_GB == 0.375
    assert "CodeCarbon" in domain.assumptions["citation"]
    meter = Meter([source], synchronize=False)
    fake_clock.advance(10.0)
    with meter.window("w") as w:
        fake_clock.advance(2.5)
    assert w.result is not None
    assert w.result.energy_j == {"dram:0": 15.0}  # 16 GB x 0.375 W/GB x 2.5 s
    assert w.result.method == {"dram:0": Method.ESTIMATE}
    assert w.result.assumptions["dram:0"]["model"] == "installed_gb x watts_per_gb x duration"


def test_dram_estimate_in_real_time() -> None:
    installed_gb = psutil.virtual_memory().total / 1e9
    meter = Meter([estimate.EstimateSource(cpu=False, dram=True)], synchronize=False)
    with meter.window("w") as w:
        time.sleep(0.1)
    assert w.result is not None
    expected = installed_gb * 0.375 * w.result.duration_s
    assert w.result.energy_j["dram:0"] == pytest.approx(expected, rel=0.01)
