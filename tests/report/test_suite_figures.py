"""The suite's figures: energy by task on a log axis, and energy against batch size."""

from __future__ import annotations

import math

import pytest

from genwatt.report.suite_figures import (
    batch_caption,
    draw_batch_curves,
    draw_task_map,
    map_caption,
)
from genwatt.report.suite_section import MapPoint, TaskMapData, suite_section


def _points(ax, marker: str) -> list[tuple[float, float, str]]:
    """(x, y, face colour) of every single-point line drawn with ``marker``."""
    found = []
    for line in ax.get_lines():
        if line.get_marker() == marker and len(line.get_xdata()) == 1:
            found.append(
                (float(line.get_xdata()[0]), float(line.get_ydata()[0]), line.get_markerfacecolor())
            )
    return found


@pytest.fixture(scope="module")
def group(synth):
    (built,) = suite_section(synth.suite_runs()).groups
    return built


def test_the_task_map_puts_every_model_on_one_log_axis(group) -> None:
    data = group.task_map
    figure = draw_task_map(data)
    (ax,) = figure.axes
    assert ax.get_yscale() == "log"
    circles, triangles = _points(ax, "o"), _points(ax, "^")
    assert len(circles) == 6 and len(triangles) == 2  # task-specific, multi-purpose
    assert {round(x) for x, _, _ in circles} == {0, 1, 2}  # a column per task
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["text\nclassification", "question\nanswering", "text\ngeneration"]
    assert "GPU only" in ax.get_ylabel()
    low, high = ax.get_ylim()
    values = [p.energy_wh_per_1000 for p in data.points]
    assert low <= min(values) and high >= max(values)


def test_estimated_points_are_hollow_and_a_narrow_spread_still_spans_a_decade() -> None:
    data = TaskMapData(
        title="t",
        basis="machine",
        tasks=("fill-mask",),
        points=(
            MapPoint("fill-mask", "a", "task-specific", 1.0, "estimated", 1),
            MapPoint("fill-mask", "b", "task-specific", 1.2, "measured", 1),
        ),
        miniature=True,
    )
    figure = draw_task_map(data)
    (ax,) = figure.axes
    faces = sorted(face for _, _, face in _points(ax, "o"))
    assert "white" in faces and len(set(faces)) == 2
    low, high = ax.get_ylim()
    assert high / low >= 10 - 1e-9
    assert "miniatures, not the real models" in figure.get_suptitle()
    assert "miniatures" in map_caption(data)


def test_the_caption_names_the_range_the_basis_and_the_provenance(group) -> None:
    caption = map_caption(group.task_map)
    assert "8 models on 3 tasks" in caption
    assert "(GPU only) at batch size 1" in caption
    assert "(small, text-classification)" in caption and "(gen-big, text-generation)" in caption
    assert "Provenance: measured" in caption
    assert "miniature" not in caption


def test_batch_curves_are_log_log_with_a_panel_per_task(group) -> None:
    data = group.batch_curves
    figure = draw_batch_curves(data)
    drawn = [ax for ax in figure.axes if ax.get_visible() and ax.axison]
    (ax,) = drawn
    assert ax.get_xscale() == ax.get_yscale() == "log"
    (line,) = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 1]
    assert list(line.get_xdata()) == [1, 4, 16]
    assert math.isclose(line.get_ydata()[-1] / line.get_ydata()[0], 4.0)
    assert ax.get_title(loc="left") == "text-classification"
    caption = batch_caption(data)
    assert "1 model stored at two batch sizes or more" in caption
    assert "Provenance: measured" in caption
