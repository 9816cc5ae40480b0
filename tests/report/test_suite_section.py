"""The suite in the report: groups, leaderboards per task, ratios, figure data, the page."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from genwatt.report import build_report
from genwatt.report.document import collect
from genwatt.report.suite_section import (
    GPU,
    MACHINE,
    suite_section,
    wh_text,
)
from genwatt.run.suite.summary import suite_summary
from genwatt.units import j_to_wh


def _per_1000(energy_j: float, queries: int) -> float:
    return j_to_wh(energy_j) * 1000 / queries


def _board(section: Any, task: str) -> Any:
    (group,) = section.groups
    return next(b for b in group.boards if b.task == task)


def _section_html(html: str, section: str) -> str:
    match = re.search(rf'<section id="{section}">(.*?)</section>', html, re.S)
    assert match, f"no section {section}"
    return match.group(1)


def test_a_task_ranks_its_models_at_batch_one_on_the_gpu(synth) -> None:
    board = _board(suite_section(synth.suite_runs()), "text-classification")
    q = synth.SUITE_QUERIES
    assert board.batch_size == 1 and board.basis == GPU
    assert [e["model"] for e in board.ranked] == ["small", "medium", "large", "t5-base"]
    assert board.ranked[0]["gpu_energy_wh_per_1000"] == pytest.approx(_per_1000(4.0, q))
    assert board.ranked[0]["energy_wh_per_1000"] == pytest.approx(_per_1000(16.0, q))
    assert [(e["model"], e["batch_size"]) for e in board.other_batches] == [
        ("small", 4),
        ("small", 16),
    ]
    # GPU 4, 16, 64 and 256 J: equal-width bands put 16 J in the top fifth with 4 J,
    # log bands (a factor of 4 each) tell them apart
    assert [e["stars"]["ai_energy_score"] for e in board.ranked] == [5, 5, 4, 1]
    assert [e["stars"]["log_bands"] for e in board.ranked] == [5, 4, 2, 1]
    # multi-purpose 512 J against the task-specific median of 16, 32 and 128 J
    assert board.multi_purpose_ratio == pytest.approx(16.0)


def test_failures_are_listed_not_ranked(synth) -> None:
    board = _board(suite_section(synth.suite_runs()), "summarization")
    assert board.ranked == () and board.batch_size is None
    (failed,) = board.failed
    assert failed["model"] == "bart" and "out of memory" in failed["error"]


def test_the_ratio_rows_agree_with_the_summary(synth) -> None:
    runs = synth.suite_runs()
    (group,) = suite_section(runs).groups
    ratios = {r.task: r for r in group.ratios}
    assert set(ratios) == {"text-classification", "question-answering"}
    summary = {t["task"]: t["multi_purpose_ratio"] for t in suite_summary(runs)["tasks"]}
    q = synth.SUITE_QUERIES
    tc = ratios["text-classification"]
    assert tc.ratio == summary["text-classification"]
    assert tc.task_specific_wh == pytest.approx(_per_1000(32.0, q))
    assert tc.multi_purpose_wh == pytest.approx(_per_1000(512.0, q))
    assert tc.task_specific == ("small", "medium", "large") and tc.multi_purpose == ("t5-base",)
    assert tc.provenance == "estimated"  # the CPU's share is estimated
    assert ratios["question-answering"].ratio == pytest.approx(12.0)


def test_power_hungry_processing_ranks_the_whole_machine(synth) -> None:
    runs = [
        synth.suite_run("fill-mask", "gpu-light", 1.0, 100.0, protocol="power-hungry-processing"),
        synth.suite_run("fill-mask", "gpu-heavy", 10.0, 1.0, protocol="power-hungry-processing"),
    ]
    board = _board(suite_section(runs), "fill-mask")
    assert board.basis == MACHINE
    assert [e["model"] for e in board.ranked] == ["gpu-heavy", "gpu-light"]
    assert board.ranked[0]["stars"]["ai_energy_score"] == 5


def test_runs_measured_differently_are_grouped_apart(synth) -> None:
    runs = [
        synth.suite_run("fill-mask", "a", 1.0, 1.0),
        synth.suite_run("fill-mask", "a", None, 2.0),
        synth.suite_run("fill-mask", "a-tiny", None, 2.0, weights="tiny"),
        synth.suite_run("fill-mask", "a", 1.0, 1.0, protocol="ai-energy-score"),
    ]
    section = suite_section(runs)
    assert len(section.groups) == 4
    labels = [g.label for g in section.groups]
    assert "genwatt protocol · random weights · cuda: NVIDIA H100 80GB HBM3" in labels
    assert "genwatt protocol · tiny weights (miniatures) · cpu: Test CPU" in labels
    assert [g.miniature for g in section.groups].count(True) == 1


def test_the_latest_run_of_a_configuration_counts_and_a_success_beats_a_failure(
    synth,
) -> None:
    runs = [
        replace(synth.suite_run("fill-mask", "a", 8.0, 8.0), id=1),
        replace(synth.suite_run("fill-mask", "a", 2.0, 2.0), id=2),
        replace(synth.suite_run("fill-mask", "a", 2.0, 2.0, error="boom"), id=3),
    ]
    (group,) = suite_section(runs[::-1]).groups
    (entry,) = group.boards[0].ranked
    assert entry["gpu_energy_wh_per_1000"] == pytest.approx(_per_1000(2.0, 8))
    assert group.boards[0].failed == () and group.superseded == 2


def test_the_task_map_has_a_point_per_ranked_model_in_catalog_order(synth) -> None:
    (group,) = suite_section(synth.suite_runs()).groups
    data = group.task_map
    assert data is not None and data.basis == GPU and not data.miniature
    assert data.tasks == ("text-classification", "question-answering", "text-generation")
    assert len(data.points) == 8  # 4 + 2 + 2 at batch 1; the failure has no point
    kinds = {p.model: p.kind for p in data.points}
    assert kinds["t5-base"] == kinds["flan"] == "multi-purpose"
    assert {p.provenance for p in data.points} == {"measured"}  # the GPU was read
    assert data.unit == "Wh per 1,000 queries (GPU only)"


def test_batch_curves_only_for_models_stored_at_two_sizes(synth) -> None:
    (group,) = suite_section(synth.suite_runs()).groups
    curves = group.batch_curves
    assert curves is not None
    (line,) = curves.lines
    assert (line.task, line.model, line.batch_sizes) == ("text-classification", "small", (1, 4, 16))
    assert line.energy_wh_per_1000 == pytest.approx(tuple(_per_1000(j, 8) for j in (4, 8, 16)))
    only_batch_one = [r for r in synth.suite_runs() if r.config["batch_size"] == 1]
    assert suite_section(only_batch_one).groups[0].batch_curves is None


def test_wh_text_keeps_numbers_readable() -> None:
    assert wh_text(2500.0) == "2.5 kWh"
    assert wh_text(0.00212) == "2.12 mWh"
    assert wh_text(3.4e-6) == "3.4 µWh"
    assert wh_text(None) == "—"


def test_suite_runs_stay_out_of_the_generation_sections(synth) -> None:
    content = collect([*synth.runs(), *synth.suite_runs()], synth.FakePredictor())
    assert {s.series.model for s in content.series}.isdisjoint(
        {"small", "medium", "large", "t5-base", "bart"}
    )
    assert all(r.kind != "suite" for r in content.other_runs)
    assert len(content.suite.groups) == 1
    alone = collect(synth.runs(), synth.FakePredictor())
    assert content.suite.figure_count == 2
    assert content.figure_count == alone.figure_count + 2


@pytest.fixture(scope="module")
def suite_page(synth) -> str:
    return build_report(synth.suite_runs(), predictor=synth.FakePredictor()).html


def test_the_page_shows_the_suite_sections(suite_page: str) -> None:
    for section in ("suite-map", "suite-leaderboard", "suite-kinds", "suite-batch"):
        assert f'<section id="{section}">' in suite_page
        assert f'href="#{section}"' in suite_page
    board = _section_html(suite_page, "suite-leaderboard")
    assert board.index(">small<") < board.index(">medium<") < board.index(">t5-base<")
    assert "gw-prov-measured" in board and "gw-prov-estimated" in board
    assert "Show the 2 configurations at other batch sizes" in board
    assert "Failed: bart at batch 1: RuntimeError: out of memory." in board
    assert "No configuration of this task succeeded." in board and "None" not in board
    assert "class A" in board  # text generation is rated within size classes
    assert "×16" in board
    kinds = _section_html(suite_page, "suite-kinds")
    assert "text-classification" in kinds and "question-answering" in kinds
    assert "squad-f1 0.75" in board and "n = 8" in board
    assert wh_text(j_to_wh(16.0) / 6) in board  # energy per correct answer, whole machine
    assert "miniature" not in suite_page.lower()


def test_figures_of_the_suite_come_first(synth) -> None:
    built = build_report([*synth.runs(), *synth.suite_runs()], predictor=synth.FakePredictor())
    sections = [f.rendered.section for f in built.figures]
    assert sections[:2] == ["suite-map", "suite-batch"]
    assert built.figures[0].name.startswith("01-suite-map-genwatt-protocol")


def test_a_report_without_suite_runs_says_nothing_of_the_suite(built) -> None:
    assert "suite-" not in built.html
    assert "genwatt suite" not in built.html


def test_missing_suite_parts_are_named_and_a_cpu_run_has_no_gpu_figure(synth) -> None:
    runs = [
        synth.suite_run("fill-mask", "a-tiny", None, 2.0, weights="tiny"),
        synth.suite_run("fill-mask", "b-tiny", None, 4.0, weights="tiny"),
    ]
    html = build_report(runs, predictor=synth.FakePredictor()).html
    assert '<section id="suite-kinds">' not in html and '<section id="suite-batch">' not in html
    absent = re.search(r'<p class="gw-absent">(.*?)</p>', html, re.S)
    assert absent and "--batch-sizes 1,8,32" in absent.group(1)
    assert "task-specific vs multi-purpose" in absent.group(1)
    board = _section_html(html, "suite-leaderboard")
    assert "These are miniatures" in board
    assert "no GPU energy was read: the run was on cpu" in board
    assert "gw-prov-measured" not in board


def test_energy_net_of_idle_is_shown_where_idle_was_measured(synth) -> None:
    run = synth.suite_run("fill-mask", "a", 1.0, 7.0)
    idle = {"power_w": {"cpu:0": 0.5, "dram:0": 0.25}}  # 1.5 J over the 2 s call
    runs = [
        replace(run, extra={**run.extra, "idle": idle}),
        synth.suite_run("fill-mask", "b", 2.0, 2.0),
    ]
    board = _section_html(
        build_report(runs, predictor=synth.FakePredictor()).html, "suite-leaderboard"
    )
    assert f"net of idle: {wh_text(_per_1000(6.5, 8))}" in board
    assert board.count("net of idle") == 1


def test_user_strings_in_suite_runs_are_escaped(synth) -> None:
    xss = synth.XSS
    runs = [
        synth.suite_run("fill-mask", xss, 1.0, 1.0),
        synth.suite_run("fill-mask", "b", 2.0, 2.0),
        synth.suite_run("fill-mask", "c", 2.0, 2.0, error=xss),
    ]
    html = build_report(runs, predictor=synth.FakePredictor()).html
    assert xss not in html
    assert "&lt;script&gt;" in html
