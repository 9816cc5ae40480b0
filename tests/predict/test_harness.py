"""AI Energy Score's harness against a pipeline: the shipped measurement, how the
predictor uses it, and the greedy generation the protocol fixes."""

from __future__ import annotations

import pytest

from genwatt.predict.harness import ENERGY_STAR, energy_star_cost, measured_harness
from genwatt.predict.task_model import HOST_PHASE, PREPROCESS_PHASE
from genwatt.predict.task_predictor import predict_task


def test_the_shipped_measurement_says_how_it_was_made_and_covers_text_and_images() -> None:
    data = measured_harness()
    assert "benchmarks/harness_overhead.py" in data["command"]
    tasks = {c["task"] for c in data["cases"]}
    assert {"text-classification", "image-classification", "object-detection"} <= tasks
    for case in data["cases"]:
        # Every figure is a time per query: positive, and under a second on any CPU.
        for key in ("pipeline_s", "loop_s", "preprocess_s", "forward_s"):
            assert 0 < case[key] < 1.0, (case["task"], key)


def test_text_tasks_take_their_own_costs_or_text_classifications() -> None:
    data = {c["task"]: c for c in measured_harness()["cases"]}
    qa = data["question-answering"]
    assert energy_star_cost("question-answering").loop_delta_s == pytest.approx(
        qa["loop_host_s"] - qa["pipeline_host_s"]
    )
    fill, classify = energy_star_cost("fill-mask"), energy_star_cost("text-classification")
    assert "text-classification" in fill.source
    assert (fill.loop_delta_s, fill.preprocess_s) == (
        classify.loop_delta_s,
        classify.preprocess_s,
    )


def test_image_costs_grow_with_the_processed_image() -> None:
    small = energy_star_cost("image-classification", 224 * 224)
    large = energy_star_cost("object-detection", 800 * 1066)
    assert large.preprocess_s > small.preprocess_s
    assert large.loop_delta_s > small.loop_delta_s
    assert "processed pixels" in large.source


def test_captioning_takes_the_image_line_not_a_text_tasks_costs() -> None:
    caption = energy_star_cost("image-to-text", 384 * 384)
    assert "processed pixels" in caption.source
    assert caption.preprocess_s > energy_star_cost("text-classification").preprocess_s


def test_audio_is_not_measured_and_says_so() -> None:
    cost = energy_star_cost("automatic-speech-recognition")
    assert (cost.loop_delta_s, cost.preprocess_s) == (0.0, 0.0)
    assert "not measured" in cost.source


def test_ai_energy_score_predicts_its_harness_and_power_hungry_processing_a_pipeline() -> None:
    aies = predict_task("facebook/detr-resnet-50", "h100-sxm", protocol="ai-energy-score")
    php = predict_task("facebook/detr-resnet-50", "h100-sxm", protocol="power-hungry-processing")
    assert any(ENERGY_STAR.replace("-", "_") in n for n in aies.notes)
    assert not any("energy_star" in n for n in php.notes)
    assert PREPROCESS_PHASE in aies.estimate["latency_by_phase_s"]
    assert PREPROCESS_PHASE not in php.estimate["latency_by_phase_s"]
    # The forward is the same; only the host work differs, by the measured amount.
    assert aies.estimate["latency_by_phase_s"]["forward"] == pytest.approx(
        php.estimate["latency_by_phase_s"]["forward"]
    )
    hw = aies.compute["inputs"]["model_image_hw"]
    expected = energy_star_cost("object-detection", hw[0] * hw[1])
    assert aies.estimate["latency_by_phase_s"][HOST_PHASE] == pytest.approx(
        php.estimate["latency_by_phase_s"][HOST_PHASE] + expected.loop_delta_s
    )
    # Preprocessing runs before the model is loaded: at the GPU's rest power, below the
    # working floor the rest of the query draws.
    rest_w = aies.estimate["energy_by_phase_j"][PREPROCESS_PHASE] / expected.preprocess_s
    assert 0 < rest_w < aies.estimate["power_w"]["idle"]


def test_ai_energy_score_generates_greedily_where_the_checkpoint_searches_beams() -> None:
    aies = predict_task("facebook/bart-large-cnn", "h100-sxm", protocol="ai-energy-score")
    php = predict_task("facebook/bart-large-cnn", "h100-sxm", protocol="power-hungry-processing")
    assert aies.compute["inputs"]["beams"] == 1
    assert php.compute["inputs"]["beams"] == 4
    assert any("greedily" in n for n in aies.notes)
    decode = "decode"
    assert (
        aies.compute["phases"][decode]["activation_bytes"]
        < php.compute["phases"][decode]["activation_bytes"]
    )
    gpt2 = predict_task("openai-community/gpt2", "h100-sxm", protocol="ai-energy-score")
    assert not any("greedily" in n for n in gpt2.notes)  # greedy already: nothing to say


def test_the_ai_energy_score_summary_splits_the_total_as_its_files_do() -> None:
    generating = predict_task("openai-community/gpt2", "h100-sxm", protocol="ai-energy-score")
    summary = generating.to_dict()["ai_energy_score_summary"]
    parts = summary["preprocess_wh"] + summary["prefill_wh"] + summary["decode_wh"]
    assert parts == pytest.approx(summary["total"])
    assert summary["total"] == pytest.approx(generating.to_dict()["energy_gpu_wh_per_1000"])
    assert summary["provenance"] == "predicted" and "forward_wh" not in summary
    forward = predict_task("dslim/bert-base-NER", "h100-sxm", protocol="ai-energy-score")
    summary = forward.to_dict()["ai_energy_score_summary"]
    assert summary["preprocess_wh"] + summary["forward_wh"] == pytest.approx(summary["total"])
    assert "decode_wh" not in summary
    piped = predict_task(
        "dslim/bert-base-NER", "h100-sxm", protocol="ai-energy-score", harness="pipeline"
    )
    assert "ai_energy_score_summary" not in piped.to_dict()


def test_ai_energy_score_predicts_its_benchmark_s_generation_length() -> None:
    """Whisper under AI Energy Score decodes optimum-benchmark's 100 tokens, said in the
    notes; a length the user gives wins; the pipeline protocols keep the catalog's 26."""
    aies = predict_task("openai/whisper-tiny", "h100-sxm", protocol="ai-energy-score")
    php = predict_task("openai/whisper-tiny", "h100-sxm", protocol="power-hungry-processing")
    asked = predict_task(
        "openai/whisper-tiny", "h100-sxm", protocol="ai-energy-score", new_tokens=26
    )
    assert aies.compute["inputs"]["new_tokens"] == 100
    assert php.compute["inputs"]["new_tokens"] == 26
    assert asked.compute["inputs"]["new_tokens"] == 26
    assert any("100 tokens per query" in n for n in aies.notes)
    assert not any("tokens per query" in n for n in asked.notes)
    assert aies.energy_gpu_j > asked.energy_gpu_j  # the same harness, 74 more steps
