"""Window metrics: the histogram's buckets and counts, the per-domain counter and its
labels, windows recorded from a meter, validation, and registration."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys

import pytest
from prometheus_client import REGISTRY, CollectorRegistry

from genwatt.errors import ConfigError
from genwatt.meter.meter import Meter
from genwatt.meter.result import Method, Provenance, WindowResult
from genwatt.metrics import WINDOW_ENERGY_BUCKETS_J, EnergyMetrics, window_label

HIST = "genwatt_window_energy_joules"
BY_DOMAIN = "genwatt_window_domain_energy_joules_total"
WINDOW_ERRORS = "genwatt_window_errors_total"


def labels(**values: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(values.items()))


def le(window: str, bound: float | str) -> tuple[tuple[str, str], ...]:
    text = bound if isinstance(bound, str) else repr(float(bound))
    return labels(window=window, le=text)


def metrics_only() -> EnergyMetrics:
    return EnergyMetrics(registry=CollectorRegistry())


def test_buckets_are_log_spaced_from_a_millijoule_to_a_megajoule() -> None:
    assert WINDOW_ENERGY_BUCKETS_J[0] == 1e-3 and WINDOW_ENERGY_BUCKETS_J[-1] == 1e6
    ratios = [b / a for a, b in itertools.pairwise(WINDOW_ENERGY_BUCKETS_J)]
    assert all(r == pytest.approx(2.0) or r == pytest.approx(2.5) for r in ratios)
    assert len(WINDOW_ENERGY_BUCKETS_J) == 28


def test_record_energy_fills_the_histogram_and_the_per_domain_counter(scrape) -> None:
    metrics = metrics_only()
    request = "GET /generate"
    metrics.record_energy(
        request, {"gpu:0": 0.7, "cpu:0": 0.2}, {"gpu:0": "measured", "cpu:0": "estimated"}
    )
    metrics.record_energy(request, {"gpu:0": 3.0}, {"gpu:0": "measured"})
    metrics.record_energy(request, {"gpu:0": 40.0}, {"gpu:0": Provenance.MEASURED})
    metrics.record_energy("POST /embed", {"cpu:0": 0.004}, {"cpu:0": "estimated"})
    samples = scrape(metrics.registry)
    # Cumulative buckets: 0.9 J <= 1, 3 J <= 5, 40 J <= 50.
    assert samples[(f"{HIST}_bucket", le(request, 0.5))] == 0
    assert samples[(f"{HIST}_bucket", le(request, 1.0))] == 1
    assert samples[(f"{HIST}_bucket", le(request, 2.0))] == 1
    assert samples[(f"{HIST}_bucket", le(request, 5.0))] == 2
    assert samples[(f"{HIST}_bucket", le(request, 20.0))] == 2
    assert samples[(f"{HIST}_bucket", le(request, 50.0))] == 3
    assert samples[(f"{HIST}_bucket", le(request, "+Inf"))] == 3
    assert samples[(f"{HIST}_count", labels(window=request))] == 3
    assert samples[(f"{HIST}_sum", labels(window=request))] == pytest.approx(43.9)
    assert samples[(f"{HIST}_bucket", le("POST /embed", 0.005))] == 1
    assert samples[(f"{HIST}_bucket", le("POST /embed", 0.002))] == 0
    measured = labels(window=request, domain="gpu:0", provenance="measured")
    assert samples[(BY_DOMAIN, measured)] == pytest.approx(43.7)
    estimated = labels(window=request, domain="cpu:0", provenance="estimated")
    assert samples[(BY_DOMAIN, estimated)] == pytest.approx(0.2)
    assert samples[
        (BY_DOMAIN, labels(window="POST /embed", domain="cpu:0", provenance="estimated"))
    ] == pytest.approx(0.004)


def test_window_counters_only_go_up(scrape) -> None:
    metrics = metrics_only()
    key = (BY_DOMAIN, labels(window="w", domain="gpu:0", provenance="measured"))
    seen = []
    for energy_j in (0.0, 1.5, 0.25, 7.0):
        metrics.record_energy("w", {"gpu:0": energy_j}, {"gpu:0": "measured"})
        seen.append(scrape(metrics.registry)[key])
    assert seen == sorted(seen) and seen[-1] == pytest.approx(8.75)


@pytest.mark.parametrize(
    ("energies", "provenance", "match"),
    [
        ({"gpu:0": -1.0}, {"gpu:0": "measured"}, "finite number of joules >= 0"),
        ({"gpu:0": math.nan}, {"gpu:0": "measured"}, "finite"),
        ({"gpu:0": math.inf}, {"gpu:0": "measured"}, "finite"),
        ({"gpu:0": 1.0}, {}, "no provenance"),
        ({"gpu:0": 1.0}, {"gpu:0": "guessed"}, "not one of estimated, measured, predicted"),
    ],
)
def test_record_energy_refuses_what_is_not_a_figure(energies, provenance, match, scrape) -> None:
    metrics = metrics_only()
    with pytest.raises(ValueError, match=match):
        metrics.record_energy("w", {"cpu:0": 1.0, **energies}, {"cpu:0": "estimated", **provenance})
    samples = scrape(metrics.registry)
    assert not any(
        name.startswith("genwatt_window") and name.endswith(("_total", "_count"))
        for name, _ in samples
    ), "nothing recorded, not even the valid domain"


def test_an_empty_window_records_nothing(scrape) -> None:
    metrics = metrics_only()
    metrics.record_energy("w", {}, {})
    assert not any(name == f"{HIST}_count" for name, _ in scrape(metrics.registry))


def window(
    name: str,
    energy_j: dict[str, float],
    errors: dict[str, str] | None = None,
    parent: str | None = None,
) -> WindowResult:
    return WindowResult(
        name=name,
        started_at=1.7e9,
        duration_s=1.0,
        energy_j=energy_j,
        provenance={
            d: Provenance.MEASURED if d.startswith("gpu") else Provenance.ESTIMATED
            for d in energy_j
        },
        method={d: Method.COUNTER for d in energy_j},
        errors=errors or {},
        parent=parent,
    )


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("step:12", "step"),
        ("step:prior:3", "step:prior"),
        ("token:57", "token"),
        ("forward:cond", "forward:cond"),
        ("forward:0", "forward"),
        ("generation", "generation"),
        ("7", "7"),
    ],
)
def test_window_labels_drop_a_trailing_index(name: str, label: str) -> None:
    assert window_label(name) == label


def test_record_window_labels_steps_by_kind_and_counts_errors(scrape) -> None:
    metrics = metrics_only()
    for i in range(3):
        metrics.record_window(
            window(f"step:{i}", {"gpu:0": 2.0, "cpu:0": 0.5}, parent="generation")
        )
    metrics.record_window(window("vae_decode", {"cpu:0": 0.3}, errors={"gpu:0": "GPU lost"}))
    samples = scrape(metrics.registry)
    assert samples[(f"{HIST}_count", labels(window="step"))] == 3
    assert samples[(f"{HIST}_sum", labels(window="step"))] == pytest.approx(7.5)
    assert samples[
        (BY_DOMAIN, labels(window="step", domain="gpu:0", provenance="measured"))
    ] == pytest.approx(6.0)
    # A window with a domain in error: its other domains count, its total does not.
    assert (f"{HIST}_count", labels(window="vae_decode")) not in samples
    assert samples[
        (BY_DOMAIN, labels(window="vae_decode", domain="cpu:0", provenance="estimated"))
    ] == pytest.approx(0.3)
    assert samples[(WINDOW_ERRORS, labels(window="vae_decode", domain="gpu:0"))] == 1


def test_attach_records_every_window_the_meter_closes_until_detached(
    fake_source, fake_clock, scrape
) -> None:
    src = fake_source("gpu:0", rate_w=4.0, clock=fake_clock.perf_counter)
    meter = Meter([src], synchronize=False)
    metrics = metrics_only()
    detach = metrics.attach(meter)
    with meter.window("generation"):
        for i in range(2):
            with meter.window(f"step:{i}"):
                fake_clock.advance(0.5)
        fake_clock.advance(1.0)
    detach()
    with meter.window("generation"):
        fake_clock.advance(10.0)
    samples = scrape(metrics.registry)
    assert samples[(f"{HIST}_count", labels(window="step"))] == 2
    assert samples[(f"{HIST}_sum", labels(window="step"))] == pytest.approx(4.0)
    assert samples[(f"{HIST}_count", labels(window="generation"))] == 1
    assert samples[(f"{HIST}_sum", labels(window="generation"))] == pytest.approx(8.0)
    assert samples[(f"{HIST}_bucket", le("generation", 5.0))] == 0
    assert samples[(f"{HIST}_bucket", le("generation", 10.0))] == 1


def test_one_set_of_metrics_per_registry_and_namespace() -> None:
    registry = CollectorRegistry()
    first = EnergyMetrics(registry=registry)
    with pytest.raises(ConfigError, match="already holds genwatt's metrics"):
        EnergyMetrics(registry=registry)
    other = EnergyMetrics(registry=registry, namespace="inference")
    first.unregister()
    EnergyMetrics(registry=registry)  # its names are free again
    other.record_energy("w", {"gpu:0": 1.0}, {"gpu:0": "measured"})


def test_a_namespace_renames_every_metric(fake_source, scrape) -> None:
    meter = Meter([fake_source("gpu:0")], synchronize=False)
    metrics = EnergyMetrics(meter, registry=CollectorRegistry(), namespace="svc")
    metrics.record_energy("w", {"gpu:0": 1.0}, {"gpu:0": "measured"})
    names = {name for name, _ in scrape(metrics.registry)}
    assert "svc_energy_joules_total" in names and "svc_window_energy_joules_count" in names
    assert not any(n.startswith("genwatt_") for n in names)


@pytest.mark.parametrize("namespace", ["", "9lives", "gen-watt", "gen watt"])
def test_a_namespace_that_is_no_prometheus_name_is_refused(namespace: str) -> None:
    with pytest.raises(ConfigError, match="not a Prometheus name"):
        EnergyMetrics(registry=CollectorRegistry(), namespace=namespace)


def test_the_default_registry_is_prometheus_clients_own(scrape) -> None:
    metrics = EnergyMetrics()
    try:
        assert metrics.registry is REGISTRY
        metrics.record_energy("default-registry-test", {"gpu:0": 2.0}, {"gpu:0": "measured"})
        samples = scrape(REGISTRY)
        assert samples[(f"{HIST}_count", labels(window="default-registry-test"))] == 1
    finally:
        metrics.unregister()


def test_importing_genwatt_metrics_does_not_import_prometheus_client() -> None:
    code = (
        "import sys, genwatt.metrics\n"
        "print('prometheus_client' in sys.modules)\n"
        "genwatt.metrics.EnergyMetrics()\n"
        "print('prometheus_client' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.split() == ["False", "True"]
