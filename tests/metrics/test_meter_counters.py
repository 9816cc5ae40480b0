"""The meter's cumulative counters at scrape time: exact joules and watts from fake
sources of known rate, never backwards, breaks and failed reads counted, not hidden."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from genwatt.meter.meter import Meter
from genwatt.meter.result import Provenance
from genwatt.meter.sources.base import CounterBreak, Snapshot
from genwatt.metrics import EnergyMetrics

ENERGY = "genwatt_energy_joules_total"
POWER = "genwatt_power_watts"
BREAKS = "genwatt_energy_counter_breaks_total"
ERRORS = "genwatt_energy_read_errors_total"


def labels(**values: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(values.items()))


def gpu(name: str = "gpu:0") -> tuple[tuple[str, str], ...]:
    return labels(domain=name, provenance="measured")


def exporter(fake_source, fake_clock, **source_args):
    """A meter over one measured gpu:0 at 10 W and one estimated cpu:0 at 2 W, and its
    exporter, built 5 s after the sources started (energy the exporter must not count)."""
    gpu_src = fake_source("gpu:0", rate_w=10.0, clock=fake_clock.perf_counter, **source_args)
    cpu_src = fake_source(
        "cpu:0",
        rate_w=2.0,
        clock=fake_clock.perf_counter,
        provenance=Provenance.ESTIMATED,
        name="estimate",
    )
    meter = Meter([gpu_src, cpu_src], synchronize=False)
    fake_clock.advance(5.0)
    metrics = EnergyMetrics(meter, registry=CollectorRegistry(), clock=fake_clock.perf_counter)
    return gpu_src, cpu_src, metrics


def test_energy_since_the_exporter_started_and_power_per_domain(
    fake_source, fake_clock, scrape
) -> None:
    gpu_src, _, metrics = exporter(fake_source, fake_clock)
    fake_clock.advance(3.0)
    gpu_src.add_j("gpu:0", 4.0)
    first = scrape(metrics.registry)
    cpu = labels(domain="cpu:0", provenance="estimated")
    assert first[(ENERGY, gpu())] == pytest.approx(34.0, rel=1e-12)
    assert first[(ENERGY, cpu)] == pytest.approx(6.0, rel=1e-12)
    assert first[(POWER, gpu())] == pytest.approx(34.0 / 3.0, rel=1e-12)
    assert first[(POWER, cpu)] == pytest.approx(2.0, rel=1e-12)
    assert first[(BREAKS, labels(domain="gpu:0"))] == 0
    assert first[(ERRORS, labels(domain="cpu:0"))] == 0
    fake_clock.advance(2.0)
    second = scrape(metrics.registry)
    assert second[(ENERGY, gpu())] == pytest.approx(54.0, rel=1e-12)
    assert second[(POWER, gpu())] == pytest.approx(10.0, rel=1e-12)
    assert second[(POWER, cpu)] == pytest.approx(2.0, rel=1e-12)


def test_a_scrape_sooner_than_the_power_interval_repeats_the_last_power(
    fake_source, fake_clock, scrape
) -> None:
    gpu_src, _, metrics = exporter(fake_source, fake_clock)
    fake_clock.advance(2.0)
    assert scrape(metrics.registry)[(POWER, gpu())] == pytest.approx(10.0)
    fake_clock.advance(0.25)
    gpu_src.add_j("gpu:0", 100.0)  # a burst inside a too-short interval
    quick = scrape(metrics.registry)
    assert quick[(POWER, gpu())] == pytest.approx(10.0)
    assert quick[(ENERGY, gpu())] == pytest.approx(122.5)  # energy is never held back
    fake_clock.advance(0.75)  # the interval since the last power reading is now 1 s
    assert scrape(metrics.registry)[(POWER, gpu())] == pytest.approx(110.0)


def test_no_power_before_a_whole_interval(fake_source, fake_clock, scrape) -> None:
    _, _, metrics = exporter(fake_source, fake_clock)
    fake_clock.advance(0.5)
    samples = scrape(metrics.registry)
    assert (POWER, gpu()) not in samples
    assert samples[(ENERGY, gpu())] == pytest.approx(5.0)


def test_a_counter_that_goes_backwards_adds_nothing_and_counts_a_break(
    fake_source, fake_clock, scrape
) -> None:
    gpu_src, _, metrics = exporter(fake_source, fake_clock)
    fake_clock.advance(2.0)
    assert scrape(metrics.registry)[(ENERGY, gpu())] == pytest.approx(20.0)
    fake_clock.advance(2.0)
    gpu_src.add_j("gpu:0", -1000.0)  # a driver reset: the reading drops
    reset = scrape(metrics.registry)
    assert reset[(ENERGY, gpu())] == pytest.approx(20.0)  # that interval's energy is unknown
    assert reset[(BREAKS, labels(domain="gpu:0"))] == 1
    assert (POWER, gpu()) not in reset
    assert reset[(POWER, labels(domain="cpu:0", provenance="estimated"))] == pytest.approx(2.0)
    fake_clock.advance(1.0)
    after = scrape(metrics.registry)
    assert after[(ENERGY, gpu())] == pytest.approx(30.0)  # counting again from the new value
    assert after[(POWER, gpu())] == pytest.approx(10.0)
    assert after[(BREAKS, labels(domain="gpu:0"))] == 1


def test_a_break_the_source_reports_adds_nothing_for_its_interval(
    fake_source, fake_clock, scrape
) -> None:
    gpu_src = fake_source("gpu:0", rate_w=10.0, clock=fake_clock.perf_counter)
    gpu_src.breaks = {"gpu:0": CounterBreak(2, "before the exporter")}
    gpu_src.snapshot = lambda: Snapshot(gpu_src.read_j(), dict(gpu_src.breaks))
    meter = Meter([gpu_src], synchronize=False)
    metrics = EnergyMetrics(meter, registry=CollectorRegistry(), clock=fake_clock.perf_counter)
    fake_clock.advance(1.0)
    assert scrape(metrics.registry)[(BREAKS, labels(domain="gpu:0"))] == 0  # not ours
    fake_clock.advance(1.0)
    gpu_src.breaks["gpu:0"] = CounterBreak(4, "GPU 0: counter stepped back: a reset")
    samples = scrape(metrics.registry)
    assert samples[(ENERGY, gpu())] == pytest.approx(10.0)
    assert samples[(BREAKS, labels(domain="gpu:0"))] == 2
    assert (POWER, gpu()) not in samples


def test_a_failed_read_has_no_sample_and_loses_no_energy(fake_source, fake_clock, scrape) -> None:
    gpu_src, _, metrics = exporter(fake_source, fake_clock)
    fake_clock.advance(1.0)
    scrape(metrics.registry)
    fake_clock.advance(1.0)
    gpu_src.fail("gpu:0", "GPU lost")
    failed = scrape(metrics.registry)
    assert (ENERGY, gpu()) not in failed and (POWER, gpu()) not in failed
    assert failed[(ERRORS, labels(domain="gpu:0"))] == 1
    fake_clock.advance(1.0)
    gpu_src.failing.clear()
    back = scrape(metrics.registry)
    # The counter is cumulative: the energy of the failed interval is counted now...
    assert back[(ENERGY, gpu())] == pytest.approx(30.0)
    # ...but the interval that started at the failed read has no known power.
    assert (POWER, gpu()) not in back
    fake_clock.advance(1.0)
    assert scrape(metrics.registry)[(POWER, gpu())] == pytest.approx(10.0)


def test_a_domain_unreadable_at_start_counts_from_its_first_reading(
    fake_source, fake_clock, scrape
) -> None:
    gpu_src = fake_source("gpu:0", rate_w=10.0, clock=fake_clock.perf_counter)
    gpu_src.fail("gpu:0")
    meter = Meter([gpu_src], synchronize=False)
    metrics = EnergyMetrics(meter, registry=CollectorRegistry(), clock=fake_clock.perf_counter)
    fake_clock.advance(1.0)
    gpu_src.failing.clear()
    assert scrape(metrics.registry)[(ENERGY, gpu())] == 0.0  # the baseline
    fake_clock.advance(1.0)
    assert scrape(metrics.registry)[(ENERGY, gpu())] == pytest.approx(10.0)


def test_registering_reads_no_counter(fake_source, fake_clock) -> None:
    gpu_src = fake_source("gpu:0", clock=fake_clock.perf_counter)
    meter = Meter([gpu_src], synchronize=False)
    EnergyMetrics(meter, registry=CollectorRegistry(auto_describe=True))
    assert gpu_src.reads == 1  # the baseline; describing the families read nothing


# One scripted scrape interval: the counter moves by ``step`` joules (negative: a
# reset), or the read fails, or the source reports a break.
STEP = st.one_of(
    st.floats(min_value=0, max_value=1e4, allow_nan=False),
    st.floats(min_value=-1e4, max_value=-1e-3, allow_nan=False),
    st.just("fail"),
    st.just("break"),
)


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(STEP, max_size=30))
def test_the_energy_counter_never_goes_backwards_and_counts_only_known_steps(
    steps: list[float | str],
) -> None:
    from prometheus_client import generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from genwatt.meter.result import Method
    from genwatt.meter.sources.base import Domain, EnergySource

    class Scripted(EnergySource):
        def __init__(self) -> None:
            self.value, self.breaks, self.failing = 1e6, 0, False

        @property
        def domains(self) -> list[Domain]:
            return [Domain("gpu:0", "gpu", "s", Method.COUNTER, Provenance.MEASURED, "s")]

        def read_j(self):
            return {"gpu:0": RuntimeError("x") if self.failing else self.value}

        def snapshot(self) -> Snapshot:
            reading = self.read_j()
            return Snapshot(reading, {"gpu:0": CounterBreak(self.breaks, "b")})

    source = Scripted()
    registry = CollectorRegistry()
    EnergyMetrics(Meter([source], synchronize=False), registry=registry)
    exported, expected = 0.0, 0.0
    for step in steps:
        source.failing = step == "fail"
        if step == "break":
            source.breaks += 1
        elif isinstance(step, float):
            source.value += step
            if step >= 0:
                expected += step
        text = generate_latest(registry).decode()
        values = [
            s.value
            for f in text_string_to_metric_families(text)
            for s in f.samples
            if s.name == ENERGY
        ]
        if step == "fail":
            assert values == []
            continue
        (value,) = values
        assert value >= exported
        exported = value
    # Failed reads lose nothing (the next good read catches up), breaks and resets add
    # nothing, forward steps add exactly themselves.
    if steps and steps[-1] == "fail":
        return
    assert exported == pytest.approx(expected, rel=1e-9, abs=1e-6)
