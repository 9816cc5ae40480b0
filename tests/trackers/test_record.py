"""What a window and a generation become for a tracker: exact numbers, honest gaps."""

from __future__ import annotations

import pytest

from genwatt.carbon.setting import CarbonSetting
from genwatt.meter.phases import breakdown
from genwatt.meter.result import Method, Provenance, WindowResult
from genwatt.trackers.record import phases_record, window_record


def window(
    name: str,
    energy_j: dict[str, float],
    duration_s: float = 1.0,
    parent: str | None = None,
    errors: dict[str, str] | None = None,
    provenance: Provenance | None = None,
) -> WindowResult:
    return WindowResult(
        name=name,
        started_at=1.7e9,
        duration_s=duration_s,
        energy_j=energy_j,
        provenance={
            d: provenance or (Provenance.MEASURED if d.startswith("gpu") else Provenance.ESTIMATED)
            for d in energy_j
        },
        method={d: Method.COUNTER for d in energy_j},
        errors=errors or {},
        parent=parent,
    )


FRANCE = CarbonSetting.resolve("FRA", 1.2)


def test_a_window_logs_its_total_domains_co2e_duration_and_provenance() -> None:
    record = window_record(window("my job", {"gpu:0": 3000.0, "cpu:0": 600.0}, 2.5), FRANCE)
    assert record.key == "my_job"
    assert record.metrics == {
        "genwatt.duration_s.my_job": 2.5,
        "genwatt.energy_j.my_job": 3600.0,
        "genwatt.co2e_g.my_job": pytest.approx(FRANCE.co2e(3600.0).co2e_g, rel=1e-12),
        "genwatt.domain_energy_j.my_job.gpu_0": 3000.0,
        "genwatt.domain_energy_j.my_job.cpu_0": 600.0,
    }
    # 3600 J = 1 Wh, times the grid's g/kWh / 1000, times the PUE.
    assert record.metrics["genwatt.co2e_g.my_job"] == pytest.approx(
        FRANCE.intensity.g_per_kwh / 1000 * 1.2, rel=1e-9
    )
    assert record.tags == {
        "genwatt.provenance.my_job": "estimated",  # the weakest of the two
        "genwatt.provenance.my_job.domains": "cpu:0=estimated, gpu:0=measured",
        "genwatt.carbon": FRANCE.describe(),
    }


def test_a_window_with_a_domain_in_error_logs_no_total_and_says_why() -> None:
    record = window_record(
        window("w", {"cpu:0": 5.0}, errors={"gpu:0": "counter stepped back"}), FRANCE
    )
    assert "genwatt.energy_j.w" not in record.metrics
    assert "genwatt.co2e_g.w" not in record.metrics
    assert record.metrics["genwatt.domain_energy_j.w.cpu_0"] == 5.0
    assert record.tags["genwatt.errors.w"] == "gpu:0: counter stepped back"


def test_without_a_carbon_setting_energy_is_logged_and_the_reason_is_a_tag() -> None:
    record = window_record(window("w", {"gpu:0": 1.0}), None, "unknown country 'XYZ'")
    assert record.metrics["genwatt.energy_j.w"] == 1.0
    assert not any(name.startswith("genwatt.co2e_g") for name in record.metrics)
    assert record.tags["genwatt.co2e_error"] == "unknown country 'XYZ'"
    assert "genwatt.carbon" not in record.tags


def test_a_generation_logs_each_phase_and_other() -> None:
    windows = [
        window("generation", {"gpu:0": 100.0}, 10.0),
        window("text_encode", {"gpu:0": 5.0}, 0.5, parent="generation"),
        window("step:0", {"gpu:0": 40.0}, 4.0, parent="generation"),
        window("step:1", {"gpu:0": 42.0}, 4.0, parent="generation"),
        window(
            "vae_decode",
            {"gpu:0": 8.0},
            1.0,
            parent="generation",
            provenance=Provenance.ESTIMATED,
        ),
    ]
    record = phases_record(breakdown(windows), FRANCE)
    energy = {k: v for k, v in record.metrics.items() if k.startswith("genwatt.energy_j.")}
    assert energy == {
        "genwatt.energy_j.generation": 100.0,
        "genwatt.energy_j.generation.text_encode": 5.0,
        "genwatt.energy_j.generation.denoise": 82.0,
        "genwatt.energy_j.generation.vae_decode": 8.0,
        "genwatt.energy_j.generation.other": pytest.approx(5.0),
    }
    assert record.metrics["genwatt.duration_s.generation.denoise"] == 8.0
    assert record.metrics["genwatt.co2e_g.generation.denoise"] == pytest.approx(
        FRANCE.co2e(82.0).co2e_g
    )
    assert record.tags["genwatt.provenance.generation.vae_decode"] == "estimated"
    assert record.tags["genwatt.provenance.generation.denoise"] == "measured"
    assert record.key == "generation"
