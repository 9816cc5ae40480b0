"""The suite's JSON from stored runs: per-1,000 figures, both energies, stars, ratio."""

from __future__ import annotations

from typing import Any

import pytest

from genwatt.meter.result import Method, Provenance, WindowResult
from genwatt.run.suite.summary import multi_purpose_ratio, suite_summary
from genwatt.store.records import RunRecord, RunStatus
from genwatt.units import j_to_wh


def _window(name: str, gpu_j: float | None, cpu_j: float, duration_s: float = 1.0) -> WindowResult:
    energy = {"cpu:0": cpu_j}
    provenance = {"cpu:0": Provenance.ESTIMATED}
    method = {"cpu:0": Method.ESTIMATE}
    if gpu_j is not None:
        energy["gpu:0"] = gpu_j
        provenance["gpu:0"] = Provenance.MEASURED
        method["gpu:0"] = Method.COUNTER
    return WindowResult(
        name=name,
        started_at=1.7e9,
        duration_s=duration_s,
        energy_j=energy,
        provenance=provenance,
        method=method,
        parent=None if name == "generation" else "generation",
    )


def _run(
    task: str,
    model: str,
    total_j: tuple[float | None, float],
    *,
    kind: str = "task-specific",
    batch: int = 1,
    queries: int = 100,
    params: int | None = None,
    phases: dict[str, tuple[float | None, float]] | None = None,
    **extra: Any,
) -> RunRecord:
    windows = [_window("generation", *total_j, duration_s=2.0)]
    windows += [_window(name, *e) for name, e in (phases or {}).items()]
    return RunRecord(
        kind="suite",
        started_at=1.7e9,
        duration_s=2.0,
        config={
            "task": task,
            "model": model,
            "kind": kind,
            "batch_size": batch,
            "queries": queries,
            "weights": "random",
            "params": params,
        },
        windows=windows,
        sweep="s",
        config_key=f"{task}|{model}|{batch}",
        extra={"queries_run": queries, **extra},
    )


def test_per_1000_figures_latency_phases_and_provenance() -> None:
    run = _run(
        "text-classification",
        "a",
        (36.0, 72.0),
        phases={"preprocess": (0.0, 7.2), "forward": (36.0, 36.0)},
    )
    (task,) = suite_summary([run])["tasks"]
    (m,) = task["models"]
    assert m["energy_wh_per_1000"] == pytest.approx(j_to_wh(108.0) * 10)
    assert m["gpu_energy_wh_per_1000"] == pytest.approx(j_to_wh(36.0) * 10)
    assert m["energy_provenance"] == "estimated"  # the weakest of measured GPU, estimated CPU
    assert m["gpu_energy_provenance"] == "measured"
    assert m["latency_s_per_query"] == pytest.approx(0.02)
    assert set(m["phases"]) == {"preprocess", "forward", "other"}
    assert m["phases"]["other"]["energy_wh_per_1000"] == pytest.approx(j_to_wh(108 - 79.2) * 10)
    assert m["phases_add_up"]
    assert m["stars"] is None  # one model: nothing to rate it against
    assert task["multi_purpose_ratio"] is None


def test_without_a_gpu_the_gpu_figure_is_null_and_stars_use_the_machine() -> None:
    runs = [_run("fill-mask", "a", (None, 10.0)), _run("fill-mask", "b", (None, 100.0))]
    models = suite_summary(runs)["tasks"][0]["models"]
    assert all(m["gpu_energy_wh_per_1000"] is None for m in models)
    assert [m["stars"]["ai_energy_score"] for m in models] == [5, 1]
    assert {m["stars"]["basis"] for m in models} == {"machine"}


def test_stars_score_gpu_energy_where_there_is_one() -> None:
    # the machine's energy ranks them the other way round: the GPU figure decides
    runs = [_run("fill-mask", "a", (1.0, 100.0)), _run("fill-mask", "b", (10.0, 1.0))]
    models = suite_summary(runs, "ai-energy-score")["tasks"][0]["models"]
    assert [m["stars"]["ai_energy_score"] for m in models] == [5, 1]
    assert models[0]["stars"]["basis"] == "gpu"


def test_power_hungry_processing_rates_the_whole_machine() -> None:
    runs = [_run("fill-mask", "a", (1.0, 100.0)), _run("fill-mask", "b", (10.0, 1.0))]
    models = suite_summary(runs, "power-hungry-processing")["tasks"][0]["models"]
    assert [m["stars"]["ai_energy_score"] for m in models] == [1, 5]


def test_text_generation_is_rated_within_size_classes() -> None:
    runs = [
        _run("text-generation", "small", (None, 1.0), params=int(1e8)),
        _run("text-generation", "mid", (None, 5.0), params=int(7e9)),
        _run("text-generation", "big", (None, 100.0), params=int(30e9)),
        _run("text-generation", "bigger", (None, 300.0), params=int(60e9)),
    ]
    models = {m["model"]: m["stars"] for m in suite_summary(runs)["tasks"][0]["models"]}
    assert models["small"]["size_class"] == "A" and models["small"]["ai_energy_score"] == 5
    assert models["mid"]["ai_energy_score"] == 1  # the top of class A, not near 5
    assert models["big"]["size_class"] == "B" and models["big"]["ai_energy_score"] == 5


def test_models_are_rated_at_their_own_batch_size() -> None:
    runs = [
        _run("fill-mask", "a", (None, 10.0), batch=1),
        _run("fill-mask", "b", (None, 20.0), batch=1),
        _run("fill-mask", "a", (None, 1.0), batch=8),
        _run("fill-mask", "b", (None, 2.0), batch=8),
    ]
    models = suite_summary(runs)["tasks"][0]["models"]
    assert [m["stars"]["ai_energy_score"] for m in models] == [5, 1, 5, 1]


def test_multi_purpose_ratio_is_the_ratio_of_medians() -> None:
    runs = [
        _run("summarization", "s1", (None, 10.0)),
        _run("summarization", "s2", (None, 30.0)),
        _run("summarization", "m1", (None, 50.0), kind="multi-purpose"),
        _run("summarization", "m2", (None, 70.0), kind="multi-purpose"),
        _run("summarization", "m3", (None, 900.0), kind="multi-purpose"),
    ]
    task = suite_summary(runs)["tasks"][0]
    assert task["multi_purpose_ratio"] == pytest.approx(70.0 / 20.0)


def test_ratio_needs_both_kinds_at_a_shared_batch_size() -> None:
    entries = [
        {"status": "ok", "energy_wh_per_1000": 1.0, "kind": "task-specific", "batch_size": 1},
        {"status": "ok", "energy_wh_per_1000": 5.0, "kind": "multi-purpose", "batch_size": 8},
    ]
    assert multi_purpose_ratio(entries) is None


def test_a_failed_model_is_listed_with_its_error() -> None:
    failed = RunRecord(
        kind="suite",
        status=RunStatus.FAILED,
        started_at=1.7e9,
        duration_s=0.1,
        config={
            "task": "fill-mask",
            "model": "x",
            "kind": "task-specific",
            "batch_size": 1,
            "queries": 10,
            "weights": "tiny",
        },
        error="RuntimeError: out of memory",
        sweep="s",
        config_key="k",
    )
    ok = [_run("fill-mask", "a", (None, 1.0)), _run("fill-mask", "b", (None, 2.0))]
    models = suite_summary([failed, *ok])["tasks"][0]["models"]
    bad = next(m for m in models if m["model"] == "x")
    assert bad["status"] == "failed" and bad["energy_wh_per_1000"] is None
    assert "out of memory" in bad["error"]
    assert all(m["stars"] for m in models if m["model"] != "x")


def test_energy_per_correct_answer() -> None:
    quality = {
        "metric": "accuracy",
        "value": 0.5,
        "n": 100,
        "correct": 50,
        "higher_is_better": True,
    }
    run = _run("text-classification", "a", (None, 36.0), quality=quality)
    (m,) = suite_summary([run])["tasks"][0]["models"]
    assert m["quality"]["energy_wh_per_correct"] == pytest.approx(j_to_wh(36.0) / 50)


def test_energy_net_of_idle() -> None:
    run = _run("fill-mask", "a", (None, 100.0), idle={"power_w": {"cpu:0": 10.0}})
    (m,) = suite_summary([run])["tasks"][0]["models"]
    # 2 s at 10 W idle: 80 J of the 100 are the work
    assert m["energy_wh_per_1000_net_of_idle"] == pytest.approx(j_to_wh(80.0) * 10)


def test_tasks_come_in_catalog_order() -> None:
    runs = [_run("text-to-image", "a", (None, 1.0)), _run("text-classification", "b", (None, 1.0))]
    assert [t["task"] for t in suite_summary(runs)["tasks"]] == [
        "text-classification",
        "text-to-image",
    ]
