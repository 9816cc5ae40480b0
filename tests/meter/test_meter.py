"""The Meter: windows (nested, overlapping, named), idle power, timeline, sampler."""

from __future__ import annotations

import math
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import pytest

from genwatt.errors import WindowError
from genwatt.meter.meter import Meter
from genwatt.meter.result import IdlePower, Method, Provenance
from genwatt.meter.sources.base import CounterBreak, Snapshot


def wait_until(predicate, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.002)
    return predicate()


@pytest.fixture
def sampler_threads() -> Callable[[], list[threading.Thread]]:
    """Lists the meter sampling threads started during this test and still alive."""
    before = set(threading.enumerate())

    def alive() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "genwatt-sampler" and t not in before]

    return alive


# ------------------------------------------------------------------------- windows


def test_window_energy_is_the_difference_of_two_readings(fake_source, fake_clock) -> None:
    src = fake_source("gpu:0", "cpu:0", rate_w=10.0, clock=fake_clock.perf_counter)
    meter = Meter([src], synchronize=False)
    fake_clock.advance(1.0)  # energy before the window must not count
    with meter.window("generate") as w:
        fake_clock.advance(2.0)
        src.add_j("cpu:0", 5.0)
    fake_clock.advance(3.0)  # nor after it
    result = w.result
    assert result is not None
    assert result.name == "generate"
    assert result.energy_j == {"gpu:0": 20.0, "cpu:0": 25.0}
    assert result.duration_s == 2.0
    assert result.started_at == 1.7e9 + 1001.0
    assert result.provenance == {"gpu:0": Provenance.MEASURED, "cpu:0": Provenance.MEASURED}
    assert result.method == {"gpu:0": Method.COUNTER, "cpu:0": Method.COUNTER}
    assert result.total_energy_j == 45.0
    assert result.energy_wh_total == pytest.approx(45.0 / 3600.0, rel=1e-12)
    assert result.complete and result.errors == {} and result.flags == {}
    assert result.parent is None and result.timeline is None
    assert meter.results == [result]


def test_nested_windows_record_parent_and_inner_fits_in_outer(fake_source, fake_clock) -> None:
    src = fake_source("gpu:0", rate_w=100.0, clock=fake_clock.perf_counter)
    meter = Meter([src], synchronize=False)
    with meter.window("pipeline") as outer:
        fake_clock.advance(0.5)
        with meter.window("denoise") as inner:
            fake_clock.advance(1.0)
            src.add_j("gpu:0", 7.0)
        fake_clock.advance(0.25)
    assert inner.result is not None and outer.result is not None
    assert inner.result.parent == "pipeline"
    assert outer.result.parent is None
    assert inner.result.energy_j["gpu:0"] == pytest.approx(107.0, rel=1e-12)
    assert outer.result.energy_j["gpu:0"] == pytest.approx(182.0, rel=1e-12)
    assert inner.result.energy_j["gpu:0"] <= outer.result.energy_j["gpu:0"]
    assert inner.result.duration_s == pytest.approx(1.0) and outer.result.duration_s == 1.75
    assert [r.name for r in meter.results] == ["denoise", "pipeline"]


def test_overlapping_windows_through_begin_and_end(fake_source, fake_clock) -> None:
    src = fake_source("gpu:0", clock=fake_clock.perf_counter)
    meter = Meter([src], synchronize=False)
    a = meter.begin("a")
    src.add_j("gpu:0", 1.0)
    b = meter.begin("b")
    src.add_j("gpu:0", 2.0)
    result_a = meter.end("a")  # a closes while b is still open
    src.add_j("gpu:0", 4.0)
    result_b = meter.end("b")
    assert result_a.energy_j == {"gpu:0": 3.0}
    assert result_b.energy_j == {"gpu:0": 6.0}
    assert (result_a.parent, result_b.parent) == (None, "a")
    assert a.result is result_a and b.result is result_b


def test_begin_twice_with_the_same_name_is_an_error(fake_source) -> None:
    meter = Meter([fake_source()], synchronize=False)
    meter.begin("step")
    with pytest.raises(WindowError, match="'step' is already open; end it first"):
        meter.begin("step")
    meter.end("step")  # the first window is still intact
    assert [r.name for r in meter.results] == ["step"]
    meter.begin("step")  # and the name is free again
    meter.end("step")
    assert len(meter.results) == 2


def test_end_of_an_unknown_window_is_an_error(fake_source) -> None:
    meter = Meter([fake_source()], synchronize=False)
    with pytest.raises(WindowError, match=r"no open window named 'nope' \(open: none\)"):
        meter.end("nope")
    meter.begin("b")
    meter.begin("a")
    with pytest.raises(WindowError, match=r"\(open: a, b\)"):
        meter.end("nope")
    meter.end("a")
    with pytest.raises(WindowError):
        meter.end("a")  # already closed
    meter.end("b")


def test_window_closes_when_its_body_raises(fake_source, sampler_threads) -> None:
    src = fake_source()
    meter = Meter([src], synchronize=False)
    with pytest.raises(RuntimeError, match="boom"), meter.window("failing"):
        src.add_j("gpu:0", 2.0)
        raise RuntimeError("boom")
    assert meter.results[0].name == "failing"
    assert meter.results[0].energy_j == {"gpu:0": 2.0}
    assert sampler_threads() == []


def test_measure_decorator_makes_every_call_a_window(fake_source) -> None:
    src = fake_source()
    meter = Meter([src], synchronize=False)

    @meter.measure()
    def step(x: int) -> int:
        src.add_j("gpu:0", float(x))
        return 2 * x

    @meter.measure("vae decode")
    def decode() -> str:
        src.add_j("gpu:0", 0.5)
        return "image"

    assert step(3) == 6
    assert step(4) == 8
    assert decode() == "image"
    assert step.__name__ == "step"
    qualname = "test_measure_decorator_makes_every_call_a_window.<locals>.step"
    assert [r.name for r in meter.results] == [qualname, qualname, "vae decode"]
    assert [r.energy_j["gpu:0"] for r in meter.results] == [3.0, 4.0, 0.5]


def test_domain_flags_and_assumptions_travel_with_every_window(fake_source) -> None:
    src = fake_source("cpu:0", method=Method.ESTIMATE, provenance=Provenance.ESTIMATED)
    src._domains[0] = replace(src._domains[0], flags=("shared",), assumptions={"tdp_w": 100})
    meter = Meter([src], synchronize=False)
    with meter.window("w") as w:
        src.add_j("cpu:0", 1.0)
    assert w.result is not None
    assert w.result.flags == {"cpu:0": ["shared"]}
    assert w.result.assumptions == {"cpu:0": {"tdp_w": 100}}
    assert w.result.provenance == {"cpu:0": Provenance.ESTIMATED}
    assert w.result.method == {"cpu:0": Method.ESTIMATE}


def test_meter_lists_domains_reads_every_source_and_closes_them(fake_source) -> None:
    gpu, cpu = fake_source("gpu:0", "gpu:1"), fake_source("cpu:0", name="other")
    gpu.add_j("gpu:1", 3.0)
    cpu.add_j("cpu:0", 4.0)
    with Meter([gpu, cpu], synchronize=False) as meter:
        assert [d.name for d in meter.domains] == ["gpu:0", "gpu:1", "cpu:0"]
        assert meter.read_j() == {"gpu:0": 0.0, "gpu:1": 3.0, "cpu:0": 4.0}
        assert meter.missing == []
    assert gpu.closed and cpu.closed


# ------------------------------------------------------------------ failed readings


def test_a_domain_that_fails_mid_window_is_an_error_not_a_zero(fake_source) -> None:
    src = fake_source("gpu:0", "gpu:1")
    meter = Meter([src], synchronize=False)
    meter.begin("w")
    src.add_j("gpu:0", 5.0)
    src.add_j("gpu:1", 6.0)
    src.fail("gpu:1", "GPU is lost")
    result = meter.end("w")
    assert result.energy_j == {"gpu:0": 5.0}
    assert result.errors == {"gpu:1": "GPU is lost"}
    assert "gpu:1" not in result.provenance
    assert not result.complete


def test_a_domain_that_failed_at_the_start_is_an_error(fake_source) -> None:
    src = fake_source("gpu:0")
    src.fail("gpu:0", "not ready")
    meter = Meter([src], synchronize=False)
    meter.begin("w")
    src.failing.clear()
    result = meter.end("w")
    assert result.energy_j == {}
    assert result.errors == {"gpu:0": "not ready"}


def test_a_counter_that_goes_backwards_is_an_error(fake_source) -> None:
    src = fake_source("gpu:0")
    meter = Meter([src], synchronize=False)
    meter.begin("w")
    src.add_j("gpu:0", -2.5)
    result = meter.end("w")
    assert result.energy_j == {}
    assert "went backwards by 2.5 J" in result.errors["gpu:0"]


def breaking(source):
    """Give a fake source a break count per domain: ``source.breaks["gpu:0"] = ...``."""
    source.breaks = {}
    source.snapshot = lambda: Snapshot(source.read_j(), dict(source.breaks))
    return source


def test_a_counter_break_inside_a_window_is_an_error_for_that_window_only(
    fake_source, fake_clock
) -> None:
    src = breaking(fake_source("gpu:0", "cpu:0", rate_w=10.0, clock=fake_clock.perf_counter))
    meter = Meter([src], synchronize=False)
    meter.begin("spanning")
    fake_clock.advance(1.0)
    src.breaks["gpu:0"] = CounterBreak(1, "GPU 0: counter stepped back: a reset")
    with meter.window("after") as after:
        fake_clock.advance(2.0)
    spanning = meter.end("spanning")
    assert spanning.errors == {"gpu:0": "GPU 0: counter stepped back: a reset"}
    assert spanning.energy_j == {"cpu:0": 30.0}
    assert after.result is not None
    assert after.result.errors == {} and after.result.energy_j == {"gpu:0": 20.0, "cpu:0": 20.0}


def test_several_breaks_in_a_window_are_counted(fake_source) -> None:
    src = breaking(fake_source("gpu:0"))
    src.breaks["gpu:0"] = CounterBreak(2, "before the window")
    meter = Meter([src], synchronize=False)
    meter.begin("w")
    src.breaks["gpu:0"] = CounterBreak(5, "the last one")
    result = meter.end("w")
    assert result.errors == {"gpu:0": "3 breaks in this window; the last: the last one"}


def test_a_missing_reading_is_an_error(fake_source) -> None:
    class Forgetful(fake_source):
        def read_j(self):
            reading = super().read_j()
            if self.reads > 1:
                del reading["gpu:1"]
            return reading

    meter = Meter([Forgetful("gpu:0", "gpu:1")], synchronize=False)
    meter.begin("w")
    result = meter.end("w")
    assert result.errors == {"gpu:1": "fake returned no reading for gpu:1"}
    assert result.energy_j == {"gpu:0": 0.0}


# ---------------------------------------------------------------- short windows


def test_window_shorter_than_the_counter_period_is_flagged(fake_source, fake_clock) -> None:
    src = fake_source("gpu:0", clock=fake_clock.perf_counter, resolution_s=0.1)
    meter = Meter([src], synchronize=False)
    with meter.window("short") as w:
        fake_clock.advance(0.02)
        src.add_j("gpu:0", 4.0)
    assert w.result is not None
    assert w.result.energy_j == {"gpu:0": 4.0}
    assert w.result.provenance["gpu:0"] is Provenance.MEASURED
    (flag,) = w.result.flags["gpu:0"]
    assert "window of 20 ms is shorter than the counter's update period (~100 ms)" in flag


def test_counter_that_did_not_advance_is_estimated_from_power(fake_source, fake_clock) -> None:
    src = fake_source("gpu:0", "gpu:1", clock=fake_clock.perf_counter, resolution_s=0.1)
    src.power = {"gpu:0": 150.0}
    meter = Meter([src], synchronize=False)
    with meter.window("short") as w:
        fake_clock.advance(0.02)
    result = w.result
    assert result is not None
    # Never 0 J measured: power x duration, labelled as an estimate.
    assert result.energy_j == {"gpu:0": pytest.approx(3.0, rel=1e-12)}
    assert result.provenance == {"gpu:0": Provenance.ESTIMATED}
    assert any("counter did not advance" in f for f in result.flags["gpu:0"])
    assert any("shorter than" in f for f in result.flags["gpu:0"])
    # No power reading either: an error, not a zero.
    assert "window too short for the counter to advance" in result.errors["gpu:1"]
    assert result.overall_provenance() is Provenance.ESTIMATED


def test_long_enough_window_is_not_flagged_even_if_idle(fake_source, fake_clock) -> None:
    src = fake_source("gpu:0", clock=fake_clock.perf_counter, resolution_s=0.1)
    meter = Meter([src], synchronize=False)
    with meter.window("long") as w:
        fake_clock.advance(0.5)
    assert w.result is not None
    assert w.result.energy_j == {"gpu:0": 0.0}
    assert w.result.provenance == {"gpu:0": Provenance.MEASURED}
    assert w.result.flags == {}


# ------------------------------------------------------------------------ idle


def test_idle_then_net_of_idle(fake_source, fake_clock) -> None:
    src = fake_source("gpu:0", "cpu:0", rate_w=10.0, clock=fake_clock.perf_counter)
    meter = Meter([src], synchronize=False)
    idle = meter.idle(2.0)  # the fake clock's sleep: no real waiting
    assert idle.power_w == {"gpu:0": 10.0, "cpu:0": 10.0}
    assert idle.duration_s == 2.0
    assert idle.provenance == {"gpu:0": Provenance.MEASURED, "cpu:0": Provenance.MEASURED}
    assert meter.idle_power is idle
    assert meter.results == []  # the idle window is not a result
    assert idle.to_dict()["provenance"] == {"gpu:0": "measured", "cpu:0": "measured"}

    with meter.window("run") as w:
        fake_clock.advance(1.0)
        src.add_j("gpu:0", 5.0)
    gross = w.result
    assert gross is not None and gross.energy_j == {"gpu:0": 15.0, "cpu:0": 10.0}
    net = gross.net_of_idle(idle)
    assert net.energy_j == {"gpu:0": 5.0, "cpu:0": 0.0}
    assert net.idle_subtracted_w == {"gpu:0": 10.0, "cpu:0": 10.0}
    assert net.flags == {}  # cpu at exactly idle power is 0 J, not clamped
    assert gross.energy_j == {"gpu:0": 15.0, "cpu:0": 10.0}  # gross left untouched


def test_net_of_idle_clamps_at_zero_and_flags(fake_source, fake_clock) -> None:
    src = fake_source("gpu:0", "cpu:0", rate_w=10.0, clock=fake_clock.perf_counter)
    meter = Meter([src], synchronize=False)
    idle = meter.idle(1.0)
    src.rate_w["gpu:0"] = 4.0  # the window runs cooler than idle did
    with meter.window("run") as w:
        fake_clock.advance(1.0)
    assert w.result is not None
    net = w.result.net_of_idle(idle)
    assert net.energy_j["gpu:0"] == 0.0
    (flag,) = net.flags["gpu:0"]
    assert "net of idle was -6 J" in flag and "clamped to 0" in flag
    partial = w.result.net_of_idle(IdlePower({"cpu:0": 1.0}, 1.0, {}))
    assert partial.energy_j == {"gpu:0": 4.0, "cpu:0": 9.0}
    assert partial.flags == {"gpu:0": ["no idle power for this domain; gross"]}
    assert partial.idle_subtracted_w == {"cpu:0": 1.0}


def test_idle_refuses_to_run_inside_a_window(fake_source, fake_clock) -> None:
    meter = Meter([fake_source(clock=fake_clock.perf_counter)], synchronize=False)
    with meter.window("busy"), pytest.raises(WindowError, match="no window open"):
        meter.idle(1.0)


# -------------------------------------------------------------- sampler, timeline


def test_sources_are_polled_only_while_a_window_is_open(fake_source, sampler_threads) -> None:
    src = fake_source()
    meter = Meter([src], synchronize=False, sample_period_s=0.005)
    time.sleep(0.03)
    assert src.polls == 0
    with meter.window("w"):
        assert wait_until(lambda: src.polls >= 3)
        assert len(sampler_threads()) == 1
    polls = src.polls
    time.sleep(0.03)
    assert src.polls == polls
    assert sampler_threads() == []


def test_one_sampler_for_nested_and_overlapping_windows(fake_source, sampler_threads) -> None:
    src = fake_source()
    meter = Meter([src], synchronize=False, sample_period_s=0.005)
    meter.begin("a")
    with meter.window("b"):
        meter.begin("c")
        assert len(sampler_threads()) == 1
    meter.end("a")
    assert len(sampler_threads()) == 1  # "c" is still open
    polls = src.polls
    assert wait_until(lambda: src.polls > polls)
    meter.end("c")
    assert sampler_threads() == []


def test_synchronize_accelerators_before_each_boundary_reading(
    fake_source, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []

    class Recording(fake_source):
        def read_j(self):
            events.append("read")
            return super().read_j()

    monkeypatch.setattr(
        "genwatt.meter.meter.synchronize_accelerators", lambda: events.append("sync")
    )
    meter = Meter([Recording()], sample_period_s=0.001, timeline=True)
    with meter.window("w"):
        assert wait_until(lambda: events.count("read") >= 4)
        events.clear()
    # The sampler's own readings never synchronise: only the boundaries do.
    assert events[-2:] == ["sync", "read"]
    assert events.count("sync") == 1

    events.clear()
    meter = Meter([Recording()], synchronize=False)
    with meter.window("w"):
        pass
    assert events == ["read", "read"]


def test_timeline_power_from_a_counter_at_a_known_rate(fake_source, fake_clock) -> None:
    """Every sampler tick moves the fake clock 10 ms: the timeline is exact."""

    class Ticking(fake_source):
        def poll(self) -> None:
            super().poll()
            fake_clock.advance(0.01)

    src = Ticking("gpu:0", "cpu:0", rate_w=50.0, clock=fake_clock.perf_counter)
    src.rate_w["cpu:0"] = 20.0
    meter = Meter([src], synchronize=False, sample_period_s=0.001, timeline=True)
    with meter.window("outer") as w:
        assert wait_until(lambda: src.polls >= 8)
    timeline = w.result.timeline if w.result else None
    assert timeline is not None
    assert len(timeline.t_s) >= 7
    assert timeline.t_s == pytest.approx([0.01 * (i + 1) for i in range(len(timeline.t_s))])
    assert timeline.power_w["gpu:0"] == pytest.approx([50.0] * len(timeline.t_s), rel=1e-9)
    assert timeline.power_w["cpu:0"] == pytest.approx([20.0] * len(timeline.t_s), rel=1e-9)
    assert timeline.to_dict()["t_s"] == timeline.t_s


def test_timeline_has_a_gap_where_a_counter_broke_or_went_backwards(
    fake_source, fake_clock
) -> None:
    """Tick 3 sees a break, tick 5 a counter going back: no power for those intervals."""

    class Ticking(fake_source):
        def poll(self) -> None:
            super().poll()
            fake_clock.advance(0.01)
            if self.polls == 3:
                self.breaks["gpu:0"] = CounterBreak(1, "reset")
            if self.polls == 5:
                self.add_j("gpu:0", -1.0)

    src = breaking(Ticking("gpu:0", "cpu:0", rate_w=50.0, clock=fake_clock.perf_counter))
    meter = Meter([src], synchronize=False, sample_period_s=0.001, timeline=True)
    with meter.window("w") as w:
        assert wait_until(lambda: src.polls >= 8)
    timeline = w.result.timeline if w.result else None
    assert timeline is not None and len(timeline.t_s) >= 7
    gpu = timeline.power_w["gpu:0"]
    assert [i for i, p in enumerate(gpu) if math.isnan(p)] == [2, 4]
    assert [p for p in gpu if not math.isnan(p)] == pytest.approx([50.0] * (len(gpu) - 2))
    assert timeline.power_w["cpu:0"] == pytest.approx([50.0] * len(timeline.t_s))


def test_timeline_sampled_every_10_ms_in_real_time(fake_source) -> None:
    src = fake_source("gpu:0", rate_w=50.0)
    meter = Meter([src], synchronize=False, sample_period_s=0.01, timeline=True)
    with meter.window("outer") as outer:
        time.sleep(0.05)
        with meter.window("inner") as inner:
            time.sleep(0.2)
    assert outer.result is not None and inner.result is not None
    timeline = outer.result.timeline
    assert timeline is not None
    n = len(timeline.t_s)
    assert 10 <= n <= 26  # ~25 ticks in 0.25 s; fewer on a loaded machine, never more
    assert all(b > a for a, b in zip(timeline.t_s, timeline.t_s[1:], strict=False))
    assert timeline.t_s[0] > 0 and timeline.t_s[-1] <= outer.result.duration_s
    steps = [b - a for a, b in zip(timeline.t_s, timeline.t_s[1:], strict=False)]
    assert 0.009 <= statistics.median(steps) <= 0.02
    assert statistics.median(timeline.power_w["gpu:0"]) == pytest.approx(50.0, rel=0.02)
    # The inner window's timeline is the outer one's samples within its own span.
    inner_tl = inner.result.timeline
    assert inner_tl is not None and 0 < len(inner_tl.t_s) < n
    assert inner_tl.t_s[-1] <= inner.result.duration_s


def test_no_timeline_unless_asked(fake_source) -> None:
    meter = Meter([fake_source()], synchronize=False, sample_period_s=0.001)
    with meter.window("w") as w:
        time.sleep(0.01)
    assert w.result is not None and w.result.timeline is None


def test_closing_windows_while_the_sampler_records_does_not_deadlock(fake_source) -> None:
    """The last window's close stops the sampler thread; it must never wait for a
    sampler that is itself waiting for the meter's lock."""
    src = fake_source("gpu:0", rate_w=1.0, read_delay_s=0.0003)
    meter = Meter([src], synchronize=False, sample_period_s=0.0005, timeline=True)

    def open_and_close() -> None:
        for _ in range(150):
            with meter.window("w"):
                time.sleep(0.0007)

    worker = threading.Thread(target=open_and_close, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "Meter deadlocked closing a window"
    assert len(meter.results) == 150
    for result in meter.results:
        assert result.timeline is not None
        assert all(p >= 0 for p in result.timeline.power_w.get("gpu:0", []))


def test_ending_named_windows_while_the_sampler_records_does_not_deadlock(fake_source) -> None:
    """``end`` closes under the meter's lock; the sampler it stops must be joined only
    after the lock is released, or a sample waiting for the lock never finishes."""
    src = fake_source("gpu:0", rate_w=1.0, read_delay_s=0.0003)
    meter = Meter([src], synchronize=False, sample_period_s=0.0005, timeline=True)

    def begin_and_end() -> None:
        for _ in range(150):
            meter.begin("w")
            time.sleep(0.0007)
            meter.end("w")

    worker = threading.Thread(target=begin_and_end, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "Meter deadlocked ending a named window"
    assert len(meter.results) == 150


# ----------------------------------------------------------------------- listeners


def test_listeners_see_every_window_as_it_closes_innermost_first(fake_source, fake_clock) -> None:
    src = fake_source("gpu:0", rate_w=10.0, clock=fake_clock.perf_counter)
    meter = Meter([src], synchronize=False)
    first: list[tuple[str, float]] = []
    second: list[str] = []
    meter.add_listener(lambda r: first.append((r.name, r.energy_j["gpu:0"])))
    meter.add_listener(lambda r: second.append(r.name))
    with meter.window("outer"):
        fake_clock.advance(1.0)
        meter.begin("inner")
        fake_clock.advance(2.0)
        inner = meter.end("inner")
    assert first == [("inner", 20.0), ("outer", 30.0)]
    assert second == ["inner", "outer"]
    assert meter.results[0] is inner  # the very result the caller got


def test_listeners_run_outside_the_meters_lock(fake_source) -> None:
    """Another thread can take the meter's lock while a listener runs (a listener that
    reads the meter from a thread of its own must not deadlock)."""
    meter = Meter([fake_source("gpu:0", rate_w=1.0)], synchronize=False)
    acquired: list[bool] = []

    def listener(_result) -> None:
        def try_lock() -> None:
            ok = meter._lock.acquire(timeout=2)
            acquired.append(ok)
            if ok:
                meter._lock.release()

        thread = threading.Thread(target=try_lock)
        thread.start()
        thread.join()

    meter.add_listener(listener)
    with meter.window("with"):
        pass
    meter.begin("named")
    meter.end("named")
    assert acquired == [True, True]


def test_removing_a_listener_stops_its_calls_and_is_idempotent(fake_source) -> None:
    meter = Meter([fake_source("gpu:0")], synchronize=False)
    seen: list[str] = []
    remove = meter.add_listener(lambda r: seen.append(r.name))
    with meter.window("a"):
        pass
    remove()
    remove()
    with meter.window("b"):
        pass
    assert seen == ["a"]


def test_a_listener_that_raises_is_logged_once_and_breaks_nothing(
    fake_source, fake_clock, caplog: pytest.LogCaptureFixture
) -> None:
    src = fake_source("gpu:0", rate_w=5.0, clock=fake_clock.perf_counter)
    meter = Meter([src], synchronize=False)
    after: list[str] = []

    def broken(_result) -> None:
        raise RuntimeError("exporter down")

    meter.add_listener(broken)
    meter.add_listener(lambda r: after.append(r.name))
    for name in ("a", "b", "c"):
        with meter.window(name) as w:
            fake_clock.advance(1.0)
        assert w.result is not None and w.result.energy_j == {"gpu:0": 5.0}
    assert after == ["a", "b", "c"]
    assert [r.name for r in meter.results] == ["a", "b", "c"]
    warnings = [r for r in caplog.records if "listener" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelname == "WARNING"
    assert "'a'" in warnings[0].getMessage() and warnings[0].exc_info is not None


def test_idle_power_is_no_window_of_the_workload_for_listeners(fake_source, fake_clock) -> None:
    meter = Meter([fake_source("gpu:0", clock=fake_clock.perf_counter)], synchronize=False)
    seen: list[str] = []
    meter.add_listener(lambda r: seen.append(r.name))
    meter.idle(1.0)
    assert seen == [] and meter.results == []


def test_a_discarded_window_reaches_no_listener(fake_source) -> None:
    meter = Meter([fake_source("gpu:0")], synchronize=False)
    seen: list[str] = []
    meter.add_listener(lambda r: seen.append(r.name))
    meter.begin("cut-short")
    assert meter.discard("cut-short")
    assert seen == []


def test_importing_the_meter_imports_no_tracker_or_exporter() -> None:
    code = (
        "import sys, genwatt.meter.meter\n"
        "loaded = [m for m in ('mlflow', 'wandb', 'prometheus_client') if m in sys.modules]\n"
        "print(','.join(loaded))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""


def test_a_held_sampler_polls_with_no_window_open_and_stops_on_release() -> None:
    """``hold_sampler`` keeps the sources polled between windows (a server between
    requests) without a window that other windows would nest in."""
    import time as _time

    from genwatt.meter.sources.estimate import EstimateSource

    polls: list[float] = []

    class Counting(EstimateSource):
        def poll(self) -> None:
            polls.append(_time.perf_counter())

    meter = Meter([Counting(cpu=True, dram=False)], sample_period_s=0.01)
    release = meter.hold_sampler()
    try:
        _time.sleep(0.1)
        assert len(polls) >= 3 and meter.open_windows == []
        with meter.window("inside") as handle:
            pass
        assert handle.result is not None and handle.result.parent is None
        assert meter._sampler is not None  # a closing window does not stop a held sampler
    finally:
        release()
        release()  # harmless twice
    assert meter._sampler is None
    seen = len(polls)
    _time.sleep(0.05)
    assert len(polls) == seen
    meter.close()
