"""Fitting the task model: it recovers known parameters, its vectorised form is the
model, cross-validation holds out what it says, and the shipped A100 fit is what the
docs report and carries to other GPUs by datasheet."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from genwatt.errors import ConfigError
from genwatt.meter.result import Method, Provenance, WindowResult
from genwatt.predict import task_calibration as tc
from genwatt.predict.hardware import get_profile
from genwatt.predict.task_model import TaskModelParams, estimate_task
from genwatt.store.records import RunRecord

A100 = get_profile("a100-sxm-80gb")

TRUE = TaskModelParams(
    compute_efficiency=0.4,
    memory_efficiency=0.7,
    kernel_s=2e-5,
    step_s=2e-3,
    host_text_s=4e-3,
    host_image_s=8e-3,
    host_pixel_s=5e-8,
    idle_power_frac=0.25,
    busy_power_frac=0.9,
)


def _phase(flops: float, weights: float, kernels: int, forwards: int = 1) -> tc.PhaseRecord:
    return tc.PhaseRecord(flops, weights, 0.05 * weights, 0.0, kernels, forwards)


def _synthetic(
    n: int = 40, *, node: bool = False, seed: int = 0, params: TaskModelParams = TRUE
) -> list[tc.TaskObservation]:
    """Observations of made-up models on three tasks, measured exactly by ``params``."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        task = ("text-classification", "text-generation", "image-classification")[i % 3]
        size = 10 ** rng.uniform(7.5, 10)  # parameters
        tokens = rng.uniform(10, 400)
        if task == "text-generation":
            steps = rng.randint(5, 30)
            phases = {
                "prefill": _phase(2 * size * tokens, 4 * size, rng.randint(150, 900)),
                "decode": _phase(2 * size * steps, 4 * size * steps, 200 * steps, steps),
            }
        else:
            phases = {"forward": _phase(2 * size * tokens, 4 * size, rng.randint(100, 900))}
        kind = "image" if task == "image-classification" else "text"
        inputs: dict[str, Any] = {}
        if kind == "image":
            inputs = {"image_hw": (rng.choice((32, 375, 480)),) * 2, "model_image_hw": (224, 224)}
        compute = tc.ComputeRecord("tf32", phases)
        est = estimate_task(
            compute,
            A100,
            params,
            host_kind=kind,
            image_pixels=tc.image_pixels(inputs),
        )
        obs = tc.TaskObservation(
            label=f"m{i}",
            group=f"g{i % 5}",
            model=f"model-{i // 2}",
            task=task,
            host_kind=kind,
            batch=1,
            compute=compute,
            inputs=inputs,
            latency_s=est.latency_s_per_query,
            energy_gpu_j=None if node else est.energy_gpu_j_per_query,
        )
        if node:
            queries, window = 1000, est.latency_s * 1000 * rng.uniform(1.05, 2.0)
            idle_w = 0.14 * A100.tdp_w
            duration = est.latency_s * 1000
            energy = 7 * idle_w * window + idle_w * (window - duration)
            energy += queries * est.energy_gpu_j_per_query
            obs = replace(obs, node=tc.NodeEnergy(8, window, duration, energy, queries, 5.0))
        out.append(obs)
    return out


@pytest.mark.parametrize("node", [False, True])
def test_fit_recovers_the_parameters_that_made_the_data(node: bool) -> None:
    observations = _synthetic(node=node)
    free = tc.free_parameters(observations)
    assert ("node_idle_power_frac" in free) == node
    fit = tc.fit_tasks(observations, A100, free=free)
    for name in ("kernel_s", "step_s", "host_text_s", "idle_power_frac", "busy_power_frac"):
        assert getattr(fit.params, name) == pytest.approx(getattr(TRUE, name), rel=0.05), name
    if node:
        assert fit.node_idle_power_frac == pytest.approx(0.14, rel=0.05)
    points = tc.points_of(observations, A100, fit)
    assert max(abs(p.latency_error or 0) for p in points) < 0.02
    assert max(abs(p.energy_error or 0) for p in points) < 0.05


def test_vectorised_design_is_the_model() -> None:
    """``_Design.predict`` (what the fit evaluates) agrees with ``estimate_task``."""
    observations = _synthetic(12, seed=3)
    params = replace(TRUE, call_s=1e-3)
    latency, energy, _ = tc._Design.of(observations, A100).predict(params)
    for i, o in enumerate(observations):
        est = estimate_task(
            o.compute,
            A100,
            params,
            host_kind=o.host_kind,
            image_pixels=tc.image_pixels(o.inputs),
        )
        assert latency[i] == pytest.approx(est.latency_s_per_query)
        assert energy[i] == pytest.approx(est.energy_gpu_j_per_query)


def test_too_few_measurements_are_refused() -> None:
    with pytest.raises(ConfigError, match="cannot fit"):
        tc.fit_tasks(_synthetic(2), A100)


def test_cross_validation_holds_out_whole_models_and_tasks() -> None:
    observations = _synthetic(30, seed=1)
    by_model = tc.cross_validate_tasks(observations, A100, by="model")
    assert by_model.method == "leave-one-model-out"
    assert len(by_model.points) == 30
    # Exact data: a fit on the other models predicts the held-out ones.
    stats = by_model.stats()
    assert stats["latency"]["within_25_pct"] == 100.0
    by_task = tc.cross_validate_tasks(observations, A100, by="task")
    assert set(by_task.by_task()) == {o.task for o in observations}
    with pytest.raises(ValueError):
        tc.cross_validate_tasks(observations, A100, by="dataset")


def test_error_stats() -> None:
    stats = tc.error_stats([0.1, -0.2, 1.5, -0.6, None])
    assert stats["points"] == 4
    assert stats["mape_pct"] == pytest.approx(100 * (0.1 + 0.2 + 1.5 + 0.6) / 4)
    assert stats["within_25_pct"] == 50.0
    # 2.5x over and 1/0.4 = 2.5x under are both outside 2x
    assert stats["within_2x_pct"] == 50.0
    assert tc.error_stats([None])["mape_pct"] is None


def test_node_energy_arithmetic() -> None:
    node = tc.NodeEnergy(gpus=8, window_s=110.0, duration_s=100.0, energy_j=60_000.0, queries=1000)
    assert node.one_gpu_energy_j(50.0) == pytest.approx(21.0)
    assert node.node_energy_j(50.0, 21.0) == pytest.approx(60_000.0)


def test_calibration_round_trips_through_json(tmp_path: Path) -> None:
    observations = _synthetic(15, seed=2)
    calibration = tc.build_task_calibration(
        observations, A100, source="synthetic", cross_validate=False
    )
    path = tmp_path / "cal.json"
    calibration.save(path)
    loaded = tc.TaskCalibration.load(path)
    assert loaded.params == calibration.params
    assert loaded.free == calibration.free
    assert [o.label for o in loaded.task_observations()] == [o.label for o in observations]
    assert loaded.task_observations()[0].compute == observations[0].compute
    path.write_text('{"format_version": 1, "model": "diffusion"}')
    with pytest.raises(ConfigError):
        tc.TaskCalibration.load(path)


def test_transfer_keeps_fractions_and_seconds() -> None:
    shipped = tc.shipped_task_calibration(tc.REFERENCE_GPU)
    assert shipped is not None
    h100 = tc.task_calibration_for("h100-sxm")
    assert not h100.fitted and h100.derived_from == tc.REFERENCE_GPU
    assert h100.params == shipped.params  # fractions and seconds, carried as they are
    assert h100.observations == []
    assert h100.cross_validated_error() is None
    assert "uncalibrated" in h100.source
    cpu = tc.task_calibration_for("cpu-2vcpu")
    assert cpu.params == tc.CPU_TASK_DEFAULTS


def test_shipped_calibration_is_fitted_cross_validated_and_reproducible() -> None:
    shipped = tc.shipped_task_calibration(tc.REFERENCE_GPU)
    assert shipped is not None and shipped.fitted and shipped.fitted_on
    assert set(shipped.cv) == {"leave-one-model-out", "leave-one-task-out"}
    observations = shipped.task_observations()
    assert len(observations) >= 100
    assert len({o.task for o in observations}) >= 8
    support = shipped.data_support
    assert support["node_idle_power_w"] < support["idle_per_gpu_upper_bound_w"] + 2
    # Refitting the data it carries gives its parameters back.
    refit = tc.fit_tasks(observations, A100, free=tc.free_parameters(observations))
    for name, value in shipped.params.to_dict().items():
        assert getattr(refit.params, name) == pytest.approx(value, rel=1e-3), name
    # What the docs state is what the file holds.
    headline = shipped.cross_validated_error()
    assert headline is not None and headline["method"] == "leave-one-model-out"
    section = tc.markdown_section(shipped)
    doc = (Path(__file__).resolve().parents[2] / "docs" / "validation.md").read_text()
    assert section.strip() in doc


def test_doc_section_replaces_itself(tmp_path: Path) -> None:
    doc = tmp_path / "validation.md"
    doc.write_text("# Validation\n\nbefore\n")
    tc.write_doc_section(doc, f"{tc.DOC_BEGIN}\nfirst\n{tc.DOC_END}\n")
    tc.write_doc_section(doc, f"{tc.DOC_BEGIN}\nsecond\n{tc.DOC_END}\n")
    text = doc.read_text()
    assert "before" in text and "second" in text and "first" not in text
    assert text.count(tc.DOC_BEGIN) == 1


def _window(duration_s: float, energy: dict[str, float]) -> WindowResult:
    return WindowResult(
        name="generation",
        started_at=0.0,
        duration_s=duration_s,
        energy_j=energy,
        provenance={d: Provenance.MEASURED for d in energy},
        method={d: Method.COUNTER for d in energy},
    )


def _suite_run(run_id: int, batch: int, latency_s: float, gpu_j: float) -> RunRecord:
    queries = 20
    return RunRecord(
        id=run_id,
        kind="suite",
        started_at=0.0,
        duration_s=latency_s * queries,
        config={
            "task": "text-classification",
            "model": "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
            "repo_id": "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
            "family": "distilbert",
            "batch_size": batch,
            "weights": "random",
            "dtype": None,
            "queries": queries,
            "new_tokens": None,
            "data": "builtin",
        },
        windows=[_window(latency_s * queries, {"gpu:0": gpu_j * queries, "cpu:0": 1.0})],
        environment={"gpus": [{"name": "NVIDIA H100 80GB HBM3"}]},
        extra={"queries_run": queries},
    )


def test_calibrate_tasks_reads_suite_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A user's stored suite runs become observations (compute counted per run) and a
    calibration for the GPU the runs name; the counting itself is stood in for."""

    class Compute:
        def __init__(self, batch: int) -> None:
            self.dtype = "float32"
            self.inputs = {"input_tokens": 25.0}
            self.phases = {"forward": _phase(2e8 * batch, 2.6e8, 110)}

    def fake_count(spec: Any, task: str, *, batch: int = 1, **_: Any) -> Compute:
        assert spec.repo_id.startswith("distilbert/")
        return Compute(batch)

    monkeypatch.setattr(tc, "count_compute", fake_count)
    runs = [
        _suite_run(i, batch, 0.004 + 0.002 / batch + 0.001 * batch, 0.6 + 0.05 * batch)
        for i, batch in enumerate((1, 2, 4, 8, 16, 32, 64), start=1)
    ]
    observations, skipped = tc.suite_observations([*runs, replace(runs[0], id=99, kind="sweep")])
    assert len(observations) == 7 and len(skipped) == 1
    assert observations[0].latency_s == pytest.approx(0.007)
    assert observations[0].energy_gpu_j == pytest.approx(0.65)  # GPU domains only
    assert "call_s" in tc.free_parameters(observations)  # several batch sizes
    calibration = tc.calibrate_tasks(runs, cross_validate=False)
    assert calibration.gpu == "h100-sxm" and calibration.fitted
    with pytest.raises(ConfigError, match="not a100-sxm-80gb"):
        tc.calibrate_tasks(runs, "a100-sxm-80gb")
    with pytest.raises(ConfigError, match="no stored suite run"):
        tc.calibrate_tasks([replace(runs[0], kind="sweep")], "h100-sxm")


def test_estimate_with_a_calibration_uses_its_gpu() -> None:
    shipped = tc.task_calibration_for(tc.REFERENCE_GPU)
    observation = shipped.task_observations()[0]
    est = tc.estimate_with(observation.compute, shipped, task=observation.task)
    assert math.isfinite(est.energy_gpu_j) and est.provenance == "predicted"
    assert est.latency_s > 0
