"""The suite's figures: energy per 1,000 queries by task, and energy against batch size.

The first is the signature figure of Power Hungry Processing (Luccioni, Jernite,
Strubell, FAccT 2024): every task on one chart, from text classification to
text-to-video, on a log axis, because the tasks span six orders of magnitude. Marker
*shape and colour* tell a task-specific model (circle) from a multi-purpose one
(triangle), so the two read apart in black and white too; the fill keeps the report's
meaning, filled for measured energy and hollow for estimated. A short bar marks each
task's median.

The second draws energy per query against batch size on log-log axes, a panel per
task and a line per model, for the models stored at two batch sizes or more. The
captions say what each figure is made of, with its provenance, and that tiny weights
are miniatures.
"""

from __future__ import annotations

import math
import statistics
import textwrap
from typing import TYPE_CHECKING, Any

from genwatt import formatting as fmt
from genwatt.report.figures import LINE_COLORS, _figure, _log_axis, _styled
from genwatt.report.provenance import ESTIMATED, MEASURED, look, weakest
from genwatt.report.suite_section import (
    BASIS_WORDS,
    MULTI_PURPOSE,
    BatchCurveData,
    TaskMapData,
    wh_text,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# (marker, colour, legend words) per kind of model.
KIND_LOOKS: dict[str, tuple[str, str, str]] = {
    "task-specific": ("o", "#1f5fa6", "task-specific model"),
    MULTI_PURPOSE: ("^", "#c2410c", "multi-purpose model, zero-shot"),
}
MEDIAN_COLOR = "#222222"
SPREAD = 0.56  # the width of a task's column that its points spread over
MAX_PANEL_COLUMNS = 3
MIN_DECADES_SHOWN = 10.0  # the task map's y axis spans at least this factor


def _kind_look(kind: str) -> tuple[str, str, str]:
    return KIND_LOOKS.get(kind, ("s", "#555555", kind))


def _marker(kind: str, provenance: str) -> dict[str, Any]:
    marker, color, _ = _kind_look(kind)
    return {
        "marker": marker,
        "markersize": 6.5,
        "markeredgewidth": 1.3,
        "markeredgecolor": color,
        "markerfacecolor": color if look(provenance).marker_filled else "white",
    }


def _task_label(task: str) -> str:
    return textwrap.fill(task.replace("-", " "), 14)


def _title(what: str, group: str, miniature: bool) -> str:
    """What the figure shows, then (on a line of its own) which runs."""
    first = f"{what}: miniatures, not the real models" if miniature else what
    return f"{first}\n{group}"


def _readable_log_axis(axis: Any, values: list[float], *, at_levels: bool = False) -> None:
    """The report's log ticks, labelled to three significant figures (two would print
    the same label twice when the data span less than a decade)."""
    from matplotlib.ticker import FuncFormatter

    _log_axis(axis, values, at_levels=at_levels)
    axis.set_major_formatter(FuncFormatter(lambda value, _: fmt.sig(value, 3)))


def _offsets(count: int) -> list[float]:
    if count == 1:
        return [0.0]
    return [-SPREAD / 2 + SPREAD * i / (count - 1) for i in range(count)]


@_styled
def draw_task_map(data: TaskMapData) -> Figure:
    """Wh per 1,000 queries (log) by task (categories), a point per model."""
    from matplotlib.lines import Line2D

    figure = _figure(4.6)
    ax = figure.subplots()
    for x, task in enumerate(data.tasks):
        points = sorted(  # task-specific first, then least energy first
            (p for p in data.points if p.task == task),
            key=lambda p: (p.kind == MULTI_PURPOSE, p.energy_wh_per_1000, p.model),
        )
        for offset, point in zip(_offsets(len(points)), points, strict=True):
            ax.plot(
                x + offset,
                point.energy_wh_per_1000,
                ls="none",
                **_marker(point.kind, point.provenance),
            )
        middle = statistics.median(p.energy_wh_per_1000 for p in points)
        ax.plot([x - 0.38, x + 0.38], [middle, middle], color=MEDIAN_COLOR, lw=1.6)
    ax.set_yscale("log")
    values = [p.energy_wh_per_1000 for p in data.points]
    low, high = min(values), max(values)
    if high < MIN_DECADES_SHOWN * low:  # a narrow spread is not drawn as a wide one
        middle = math.sqrt(low * high)
        ax.set_ylim(middle / math.sqrt(MIN_DECADES_SHOWN), middle * math.sqrt(MIN_DECADES_SHOWN))
    _readable_log_axis(ax.yaxis, values)
    ax.set_xticks(range(len(data.tasks)), [_task_label(t) for t in data.tasks], fontsize=8)
    ax.set_xlim(-0.6, len(data.tasks) - 0.4)
    ax.grid(axis="x", visible=False)
    ax.set_ylabel(data.unit)
    kinds = [k for k in KIND_LOOKS if any(p.kind == k for p in data.points)]
    kinds += sorted({p.kind for p in data.points} - set(KIND_LOOKS))
    handles = [
        Line2D([], [], ls="none", label=_kind_look(k)[2], **_marker(k, MEASURED)) for k in kinds
    ]
    if any(p.provenance != MEASURED for p in data.points):
        handles.append(
            Line2D(
                [], [], ls="none", label="hollow: estimated energy", **_marker(kinds[0], ESTIMATED)
            )
        )
    handles.append(Line2D([], [], color=MEDIAN_COLOR, lw=1.6, label="median of the task"))
    figure.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    figure.suptitle(_title("Energy per 1,000 queries by task", data.title, data.miniature))
    return figure


@_styled
def draw_batch_curves(data: BatchCurveData) -> Figure:
    """Energy per query against batch size, log-log: a panel per task, a line per model."""
    columns = min(MAX_PANEL_COLUMNS, len(data.tasks))
    rows = -(-len(data.tasks) // columns)
    figure = _figure(2.9 * rows + 0.9)
    axes = figure.subplots(rows, columns, squeeze=False)
    for index, ax in enumerate(axes.flat):
        if index >= len(data.tasks):
            ax.set_axis_off()
            continue
        task = data.tasks[index]
        lines = [line for line in data.lines if line.task == task]
        for number, line in enumerate(lines):
            color = LINE_COLORS[number % len(LINE_COLORS)]
            marker = _marker(line.kind, line.provenance) | {
                "markeredgecolor": color,
                "markerfacecolor": color if look(line.provenance).marker_filled else "white",
            }
            ax.plot(
                line.batch_sizes,
                line.energy_wh_per_1000,
                color=color,
                ls=look(line.provenance).linestyle,
                lw=1.4,
                label=line.model,
                **marker,
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        _readable_log_axis(
            ax.xaxis, [b for line in lines for b in line.batch_sizes], at_levels=True
        )
        _readable_log_axis(ax.yaxis, [v for line in lines for v in line.energy_wh_per_1000])
        ax.set_title(task, loc="left", fontsize=9)
        ax.set_xlabel("batch size")
        if index % columns == 0:
            ax.set_ylabel(
                f"energy per query, {BASIS_WORDS[data.basis]}\n(Wh per 1,000 queries)",
                fontsize=8.5,
            )
        ax.legend(fontsize=7, loc="best")
    figure.suptitle(_title("Energy per query by batch size", data.title, data.miniature))
    return figure


# ----------------------------------------------------------------------------- captions


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _provenance_sentence(kinds: list[str]) -> str:
    present = sorted(set(kinds))
    return f"Provenance: {', '.join(present)} (weakest: {weakest(present)})." if present else ""


def map_caption(data: TaskMapData) -> str:
    sizes = sorted({p.batch_size for p in data.points})
    batch = f"batch size {sizes[0]}" if len(sizes) == 1 else "each task's smallest batch size"
    lowest = min(data.points, key=lambda p: p.energy_wh_per_1000)
    highest = max(data.points, key=lambda p: p.energy_wh_per_1000)
    miniature = (
        " These are miniatures (tiny weights): the spread shows the pipelines, not the real models."
        if data.miniature
        else ""
    )
    return (
        f"{data.title}. {_plural(len(data.points), 'model')} on "
        f"{_plural(len(data.tasks), 'task')}, energy per "
        f"1,000 queries ({BASIS_WORDS[data.basis]}) at {batch}, on a log axis: from "
        f"{wh_text(lowest.energy_wh_per_1000)} ({lowest.model}, {lowest.task}) to "
        f"{wh_text(highest.energy_wh_per_1000)} ({highest.model}, {highest.task}). Circles "
        "are task-specific models, triangles multi-purpose ones run zero-shot; the bar is "
        f"the task's median. {_provenance_sentence([p.provenance for p in data.points])}"
        f"{miniature}"
    )


def batch_caption(data: BatchCurveData) -> str:
    miniature = " These are miniatures (tiny weights)." if data.miniature else ""
    return (
        f"{data.title}. {_plural(len(data.lines), 'model')} stored at two batch sizes or "
        "more, energy "
        f"per query ({data.unit}) against batch size, log-log: a falling line means batching "
        "spreads fixed costs over more queries. "
        f"{_provenance_sentence([line.provenance for line in data.lines])}{miniature}"
    )
