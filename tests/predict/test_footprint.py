"""``genwatt.predict.footprint``: a service's energy and CO2e at scale, against hand sums.

Per-query energies are chosen so that every total is a product a reader can redo: one
query of 3,600 J is 1 Wh, so 1,000 a day is 365 kWh a year. The task predictor is
replaced by a stand-in (a fake ``genwatt.predict.task_predictor`` module) with the
API the footprint writes against, so these tests pin the footprint, not the predictor.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from genwatt.carbon import grid_data
from genwatt.carbon.equivalents import US_HOUSEHOLD_KWH_PER_YEAR
from genwatt.carbon.generation import share_of_generation
from genwatt.carbon.intensity import grid_intensity
from genwatt.carbon.setting import RECORD_KEY, CarbonSetting
from genwatt.errors import ConfigError
from genwatt.meter.result import Method, Provenance, WindowResult
from genwatt.predict import footprint as fp
from genwatt.predict import query_energy as qe
from genwatt.predict.predictor import predict
from genwatt.store.records import RunRecord, RunStatus
from genwatt.store.store import ResultsStore
from genwatt.units import J_PER_KWH

WH = 3600.0  # joules
DISTILBERT = "distilbert/distilbert-base-uncased-finetuned-sst-2-english"


def _basis(energy_j: float = WH, low_j: float | None = WH / 2, high_j: float | None = 2 * WH):
    return qe.QueryEnergy(
        model="m",
        energy_j=energy_j,
        low_j=low_j,
        high_j=high_j,
        provenance="predicted",
        scope="gpu",
        source="by hand",
        range_note="by hand",
    )


# ------------------------------------------------------------------ scaling


@pytest.mark.parametrize(
    ("per", "queries"),
    [(None, 1000.0), ("day", 365_000.0), ("week", 52_180.0), ("year", 1000.0)],
)
def test_a_count_per_period_scales_to_a_year(per: str | None, queries: float) -> None:
    result = fp.footprint(_basis(), 1000, per, carbon=CarbonSetting(grid_intensity("FR")))
    data = result.to_dict()
    assert data["queries"] == pytest.approx(queries)
    assert data["period"] == ("total" if per is None else "year")
    # 1 Wh a query: kWh = queries / 1000, the range half and double of it
    assert data["energy_kwh"] == pytest.approx(queries / 1000)
    assert data["energy_kwh_low"] == pytest.approx(queries / 2000)
    assert data["energy_kwh_high"] == pytest.approx(queries / 500)
    assert data["provenance"] == "predicted"


def test_the_pue_and_the_grid_price_the_total() -> None:
    france = CarbonSetting(grid_intensity("FR"), pue=1.5)
    data = fp.footprint(_basis(), 1000, "day", carbon=france).to_dict()
    assert data["energy_kwh_device"] == pytest.approx(365.0)
    assert data["energy_kwh"] == pytest.approx(365.0 * 1.5)
    g_per_kwh = grid_intensity("FR").g_per_kwh
    assert data["co2e_kg"] == pytest.approx(365.0 * 1.5 * g_per_kwh / 1000)
    assert data["co2e_kg_low"] == pytest.approx(data["co2e_kg"] / 2)
    assert data["co2e_kg_high"] == pytest.approx(data["co2e_kg"] * 2)
    assert data["grid"]["country"] == "FRA" and data["grid"]["pue"] == 1.5


def test_the_total_is_linear_in_the_count() -> None:
    setting = CarbonSetting(grid_intensity("DE"))
    one = fp.footprint(_basis(), 10, "day", carbon=setting)
    ten = fp.footprint(_basis(), 100, "day", carbon=setting)
    assert ten.energy_j == pytest.approx(10 * one.energy_j)
    assert ten.co2e.co2e_g == pytest.approx(10 * one.co2e.co2e_g)


def test_the_share_is_of_the_grid_countrys_yearly_generation() -> None:
    result = fp.footprint(_basis(), 1e9, "day", carbon=CarbonSetting(grid_intensity("IE")))
    expected = share_of_generation(result.energy_facility_j, "IE")
    assert result.share is not None
    assert result.share.fraction == pytest.approx(expected.fraction)
    assert result.to_dict()["share_of_generation"]["percent"] == pytest.approx(
        expected.fraction * 100
    )
    assert "Ireland" in fp.share_text(result.share)


def test_the_world_average_is_a_share_of_every_countrys_generation() -> None:
    result = fp.footprint(_basis(), 1e6, "year", carbon=CarbonSetting.resolve())
    total_twh = sum(r.generation_twh for r in grid_data.countries())
    assert result.share is not None and result.share.iso3 == "WLD"
    assert result.share.fraction == pytest.approx(result.energy_facility_j / (total_twh * 3.6e15))


def test_a_households_year_is_its_cited_kwh() -> None:
    energy_j = US_HOUSEHOLD_KWH_PER_YEAR * J_PER_KWH
    result = fp.footprint(_basis(energy_j, None, None), 1, carbon=CarbonSetting.resolve("US"))
    (homes,) = [e for e in result.equivalents if e.key == "us_households"]
    assert homes.value == pytest.approx(1.0)
    assert "EIA" in homes.citation
    assert homes.text() == "1 US household's electricity for a year"
    assert result.relatable() == "1 US household's electricity for a year"
    assert all(e.citation for e in result.equivalents)


def test_without_a_range_the_low_and_high_are_unknown_not_the_point() -> None:
    data = fp.footprint(_basis(WH, None, None), 5, carbon=CarbonSetting.resolve()).to_dict()
    assert data["energy_kwh_low"] is None and data["energy_kwh_high"] is None
    assert data["co2e_kg_low"] is None and data["energy_kwh"] == pytest.approx(0.005)


@pytest.mark.parametrize("count", [0, -1, float("nan"), float("inf"), True])
def test_impossible_counts_are_refused(count: float) -> None:
    with pytest.raises(qe.FootprintError, match="count"):
        fp.footprint(_basis(), count, carbon=CarbonSetting.resolve())


def test_an_unknown_period_is_refused() -> None:
    with pytest.raises(qe.FootprintError, match="day, week, year"):
        fp.footprint(_basis(), 1, "month", carbon=CarbonSetting.resolve())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("energy_j", "text"),
    [
        (3.6e15, "1 TWh"),
        (2.5 * 3.6e12, "2.5 GWh"),
        (3.6e9, "1 MWh"),
        (123.4 * 3.6e6, "123 kWh"),
        (3600.0, "1 Wh"),
        (1.8, "500 µWh"),
        (0.0, "0 Wh"),
    ],
)
def test_energies_read_in_units_from_micro_to_tera_watt_hours(energy_j: float, text: str) -> None:
    assert fp.energy_text(energy_j) == text


# ------------------------------------------------------------------ predictions


def test_a_diffusion_query_is_the_predictors_call_over_its_batch() -> None:
    basis = qe.predicted_query_energy("wan2.1-t2v-1.3b", "h100-sxm", batch=2, steps=10)
    call = predict("wan2.1-t2v-1.3b", "h100-sxm", batch_size=2, steps=10)
    assert basis.energy_j == pytest.approx(call.energy_gpu_j / 2)
    assert basis.provenance == "predicted" and basis.scope == "gpu"
    # The band holds every held-out error of the shipped calibration's cross-validation.
    errors = [p["energy_error"] for p in call.calibration.cv["per_point"]]
    assert basis.low_j == pytest.approx(basis.energy_j / (1 + max(max(errors), 0)))
    assert basis.high_j == pytest.approx(basis.energy_j / (1 + min(min(errors), 0)))
    assert basis.low_j < basis.energy_j < basis.high_j
    assert "cross-validation" in basis.range_note


def test_a_gpu_without_cross_validation_has_no_range() -> None:
    basis = qe.predicted_query_energy("wan2.1-t2v-1.3b", "a100-sxm-80gb", steps=10)
    assert basis.low_j is None and basis.high_j is None
    assert basis.range_note.startswith("unknown")


def test_diffusion_and_task_settings_are_not_mixed() -> None:
    with pytest.raises(ConfigError, match="diffusion model"):
        qe.predicted_query_energy("wan2.1-t2v-1.3b", new_tokens=10)
    with pytest.raises(ConfigError, match="not a diffusion model"):
        qe.predicted_query_energy("distilbert-sst2", steps=10)
    with pytest.raises(ConfigError, match="GPU energy only"):
        qe.predicted_query_energy("wan2.1-t2v-1.3b", scope="machine")


def test_an_unknown_model_is_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="genwatt tasks"):
        qe.predicted_query_energy("no-such-model")


@dataclass
class StandInPrediction:
    """What ``predict_task`` returns, as the lead's API states it."""

    energy_gpu_j: float
    energy_machine_j: float | None
    error_low_frac: float | None
    error_high_frac: float | None
    latency_s: float = 0.01
    provenance: str = "predicted"
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"energy_gpu_j": self.energy_gpu_j, "provenance": self.provenance}


@pytest.fixture
def task_predictor(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """A stand-in ``genwatt.predict.task_predictor``: 2 J GPU, 3 J machine a query, -30 %
    / +40 %; records every call."""
    calls: list[dict[str, Any]] = []

    def predict_task(model: str, gpu: str, **kwargs: Any) -> StandInPrediction:
        calls.append({"model": model, "gpu": gpu, **kwargs})
        return StandInPrediction(2.0, 3.0, 0.3, 0.4)

    module = types.ModuleType("genwatt.predict.task_predictor")
    module.predict_task = predict_task  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "genwatt.predict.task_predictor", module)
    return calls


def test_a_task_model_goes_to_the_task_predictor_with_its_settings(task_predictor) -> None:
    basis = qe.predicted_query_energy(
        "distilbert-sst2", "h100-sxm", batch=8, input_tokens=128, protocol="ai-energy-score"
    )
    (call,) = task_predictor
    assert call["model"] == DISTILBERT and call["gpu"] == "h100-sxm"
    assert call["batch"] == 8 and call["input_tokens"] == 128
    assert call["protocol"] == "ai-energy-score" and call["new_tokens"] is None
    # A service runs a pipeline, not the benchmark's harness, whatever the protocol.
    assert call["harness"] == "pipeline"
    assert basis.energy_j == 2.0 and basis.scope == "gpu"
    assert basis.low_j == pytest.approx(1.4) and basis.high_j == pytest.approx(2.8)
    machine = qe.predicted_query_energy("distilbert-sst2", scope="machine")
    assert machine.energy_j == 3.0 and machine.scope == "machine"
    assert machine.high_j == pytest.approx(4.2)


def test_a_task_footprint_from_the_stand_in(task_predictor) -> None:
    result = fp.service_footprint("distilbert-sst2", 1e9, "day", country="SE")
    data = result.to_dict()
    assert data["energy_kwh"] == pytest.approx(2.0 * 1e9 * 365 / J_PER_KWH)
    assert data["energy_kwh_low"] == pytest.approx(data["energy_kwh"] * 0.7)
    assert data["energy_kwh_high"] == pytest.approx(data["energy_kwh"] * 1.4)
    assert data["provenance"] == "predicted" and data["grid"]["country"] == "SWE"


def test_whole_machine_energy_must_exist_to_be_scaled(monkeypatch, task_predictor) -> None:
    module = sys.modules["genwatt.predict.task_predictor"]
    monkeypatch.setattr(
        module, "predict_task", lambda *a, **k: StandInPrediction(2.0, None, 0.3, 0.4)
    )
    with pytest.raises(qe.FootprintError, match="whole-machine"):
        qe.predicted_query_energy("distilbert-sst2", scope="machine")


# ------------------------------------------------------------------ from the store


def _window(gpu_j: float | None, cpu_j: float, provenance: Provenance) -> WindowResult:
    energy = {"cpu:0": cpu_j} | ({} if gpu_j is None else {"gpu:0": gpu_j})
    return WindowResult(
        name="generation",
        started_at=1.7e9,
        duration_s=1.0,
        energy_j=energy,
        provenance={d: (provenance if d == "gpu:0" else Provenance.ESTIMATED) for d in energy},
        method={d: Method.COUNTER for d in energy},
    )


def suite_run(
    *,
    model: str = DISTILBERT,
    batch: int = 1,
    queries: int = 50,
    gpu_j: float | None = 100.0,
    cpu_j: float = 50.0,
    country: str | None = None,
    started_at: float = 1.7e9,
    status: RunStatus = RunStatus.OK,
) -> RunRecord:
    extra: dict[str, Any] = {"queries_run": queries}
    if country:
        extra[RECORD_KEY] = CarbonSetting(grid_intensity(country)).to_dict()
    return RunRecord(
        kind="suite",
        status=status,
        started_at=started_at,
        duration_s=1.0,
        config={
            "task": "text-classification",
            "model": model,
            "batch_size": batch,
            "weights": "random",
            "device": "cuda",
            "queries": queries,
            "protocol": "genwatt",
        },
        windows=[_window(gpu_j, cpu_j, Provenance.MEASURED)],
        extra=extra,
        sweep="s",
        config_key=f"{model}|b{batch}|{started_at}",
    )


def sweep_run(batch: int = 2, gpu_j: float = 10.0, steps: int = 4) -> RunRecord:
    return RunRecord(
        kind="sweep",
        started_at=1.7e9,
        duration_s=1.0,
        config={
            "model": "wan2.1-t2v-1.3b",
            "num_frames": 17,
            "height": 64,
            "width": 64,
            "steps": steps,
            "batch_size": batch,
            "weights": "random",
            "device": "cuda",
        },
        windows=[_window(gpu_j, 0.0, Provenance.MEASURED)],
        sweep="w",
        config_key=f"wan|{batch}|{steps}",
    )


def test_a_suite_run_is_its_generation_window_over_its_queries() -> None:
    run = qe.run_query_energy(suite_run())
    assert run is not None
    assert run.gpu_j == pytest.approx(2.0) and run.machine_j == pytest.approx(3.0)
    assert run.gpu_provenance == "measured" and run.machine_provenance == "estimated"
    assert qe.run_query_energy(suite_run(status=RunStatus.FAILED)) is None


def test_a_sweep_run_is_its_generation_over_its_batch() -> None:
    run = qe.run_query_energy(sweep_run(batch=2, gpu_j=10.0))
    assert run is not None and run.gpu_j == pytest.approx(5.0) and run.queries == 2


def test_runs_are_found_by_any_name_of_the_model_and_filtered_by_settings() -> None:
    runs = [qe.run_query_energy(r) for r in (suite_run(), suite_run(batch=8), sweep_run())]
    found = [r for r in runs if r is not None]
    assert len(qe.matching_runs(found, "distilbert-sst2")) == 2
    assert len(qe.matching_runs(found, "distilbert-sst2", {"batch_size": 8})) == 1
    assert len(qe.matching_runs(found, "Wan-AI/Wan2.1-T2V-1.3B-Diffusers")) == 1
    assert qe.matching_runs(found, "wan2.1-t2v-1.3b", {"steps": 50}) == []
    assert len(qe.matching_runs(found, "wan2.1-t2v-1.3b", {"task": "text-to-video"})) == 1
    assert qe.matching_runs(found, "distilbert-sst2", {"task": "fill-mask"}) == []


def test_measured_energy_is_query_weighted_with_the_spread_as_range() -> None:
    runs = [
        qe.run_query_energy(suite_run(queries=50, gpu_j=100.0)),  # 2 J a query
        qe.run_query_energy(suite_run(queries=150, gpu_j=600.0, started_at=1.8e9)),  # 4 J
    ]
    basis = qe.measured_query_energy([r for r in runs if r is not None])
    assert basis.energy_j == pytest.approx((100.0 + 600.0) / 200)
    assert (basis.low_j, basis.high_j) == (pytest.approx(2.0), pytest.approx(4.0))
    assert basis.provenance == "measured" and basis.scope == "gpu"
    assert "stored" in basis.source and "not predicted" in basis.source


def test_cpu_runs_scale_the_whole_machine_and_say_estimated() -> None:
    (run,) = [qe.run_query_energy(suite_run(gpu_j=None, cpu_j=30.0))]
    assert run is not None
    basis = qe.measured_query_energy([run])
    assert basis.scope == "machine" and basis.provenance == "estimated"
    assert basis.energy_j == pytest.approx(0.6)
    with pytest.raises(qe.FootprintError, match="--scope machine"):
        qe.measured_query_energy([run], scope="gpu")


def _store(tmp_path: Path, *records: RunRecord) -> Path:
    path = tmp_path / "runs.db"
    with ResultsStore(path) as store:
        for record in records:
            store.add(record)
    return path


def test_from_store_uses_the_runs_grid_unless_another_is_asked(tmp_path: Path) -> None:
    path = _store(tmp_path, suite_run(country="FR"))
    stored = fp.service_footprint("distilbert-sst2", 1000, "day", from_store=True, store=path)
    data = stored.to_dict()
    assert data["provenance"] == "measured"
    assert data["per_query"]["energy_j"] == pytest.approx(2.0)
    assert data["energy_kwh"] == pytest.approx(2.0 * 365_000 / J_PER_KWH)
    assert data["grid"]["country"] == "FRA" and data["grid"]["origin"] == "stored with the runs"
    asked = fp.service_footprint(
        "distilbert-sst2", 1000, "day", from_store=True, store=path, country="PL"
    )
    assert asked.to_dict()["grid"]["country"] == "POL"


def test_from_store_without_a_matching_run_is_one_clear_line(tmp_path: Path) -> None:
    path = _store(tmp_path, suite_run())
    with pytest.raises(qe.FootprintError) as caught:
        fp.service_footprint("distilbert-sst2", 10, from_store=True, store=path, batch=32)
    message = str(caught.value)
    assert "\n" not in message and "batch_size 32" in message and "batch 1" in message
    with pytest.raises(qe.FootprintError, match="genwatt suite --models bert-large-sst2"):
        fp.service_footprint("bert-large-sst2", 10, from_store=True, store=path)


def test_settings_a_store_cannot_select_by_are_refused(tmp_path: Path) -> None:
    path = _store(tmp_path, suite_run())
    with pytest.raises(qe.FootprintError, match="input_tokens"):
        fp.service_footprint("distilbert-sst2", 10, from_store=True, store=path, input_tokens=9)


def test_the_words_name_provenance_range_grid_and_share() -> None:
    basis = replace(_basis(), notes=("a note",))
    text = "\n".join(fp.footprint(basis, 1000, "day", country="FR").lines())
    assert "1,000 queries a day = 365,000 a year" in text
    assert "365 kWh" in text and "(predicted)" in text and "kWh to 730 kWh" in text
    assert "France" in text and "yearly electricity generation" in text
    assert "note: a note" in text


def test_less_than_a_household_year_reads_in_days() -> None:
    energy_j = US_HOUSEHOLD_KWH_PER_YEAR * J_PER_KWH / 365 * 2  # two days of a US home
    result = fp.footprint(_basis(energy_j, None, None), 1, carbon=CarbonSetting.resolve("US"))
    texts = {e.key: e.text() for e in result.equivalents}
    assert texts["us_households"] == "2 days of a US household's electricity"
    assert "microwave_min" not in texts  # minutes of a microwave mean little at this scale


def test_a_services_footprint_is_driven_as_a_pipeline_and_keeps_the_predictors_notes() -> None:
    """With the real task predictor: the protocol's settings and datasets, a pipeline's
    host costs (not AI Energy Score's Arrow round trip), and the notes that say so."""
    basis = qe.predicted_query_energy(
        "facebook/detr-resnet-50", "h100-sxm", protocol="ai-energy-score"
    )
    assert basis.detail["harness"] == "pipeline"
    assert "preprocess_dataset" not in basis.detail["estimate"]["latency_by_phase_s"]
    assert any("ai-energy-score" in n for n in basis.notes)
