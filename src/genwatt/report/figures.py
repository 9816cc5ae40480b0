"""The report's figures, drawn with matplotlib: one function per figure, data in.

Each ``draw_*`` takes the plain data of ``figdata`` and returns a matplotlib
``Figure``; ``to_svg`` and ``to_png`` turn it into what the page inlines and what
``--png`` writes. matplotlib is imported here only, inside functions, so that importing
the report (and ``genwatt --help``) stays fast.

Text is written as glyph outlines (``svg.fonttype = path``): the figure then looks the
same in every browser and printer, needs no font, and contains no text element a
crafted model name could break out of (matplotlib escapes the comments it writes too).
Mathtext is off, so a ``$`` in a model name is just a dollar sign.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genwatt import formatting as fmt
from genwatt.report.figdata import (
    RESPONSE_LABELS,
    VARIABLE_LABELS,
    PhaseData,
    ScalingData,
    ScalingPanel,
    StepData,
    TimelineData,
)
from genwatt.report.provenance import ESTIMATED, MEASURED, ORDER, PREDICTED, look

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

WIDTH_IN = 10.0
PNG_DPI = 200
POINT_COLOR = "#1f5fa6"
FIT_COLOR = "#222222"
PREDICTED_COLOR = "#c2410c"
NEUTRAL = "#555555"
PHASE_COLORS = {
    "text_encode": "#4c72b0",
    "image_encode": "#64b5cd",
    "vae_encode": "#8c8c3c",
    "prefill": "#8172b3",
    "denoise": "#dd8452",
    "decode": "#c44e52",
    "vae_decode": "#55a868",
    "other": "#9a9a9a",
}
PHASE_NAMES = {
    "text_encode": "text encoder",
    "image_encode": "image encoder",
    "vae_encode": "VAE encoder",
    "prefill": "prefill",
    "denoise": "denoising",
    "decode": "decode",
    "vae_decode": "VAE decoder",
    "other": "other",
}
# Phase shares are written on their segments when the segment is wide enough for
# "100 %" (a fraction of the longest bar), on a pale box so they read over hatching
# too; the shares of narrower segments follow the bar's total.
MIN_SHARE_LABEL_WIDTH = 0.06
CHAR_AXIS_FRACTION = 0.0075  # a 7.5 pt character's width over the phase axis
SHARE_LABEL: dict[str, Any] = {
    "ha": "center",
    "va": "center",
    "fontsize": 7,
    "color": "#1d232b",
    "bbox": {"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.75, "lw": 0},
}
LINE_COLORS = ("#1f5fa6", "#dd8452", "#2a9d5c", "#c44e52", "#8172b3", "#8c6d31", "#e377c2")
DOMAIN_COLORS = {"gpu": "#2a9d5c", "cpu": "#1f5fa6", "dram": "#8172b3", "npu": "#c44e52"}

RC: dict[str, Any] = {
    "svg.fonttype": "path",
    "svg.hashsalt": "genwatt-report",  # ids then depend on content only: same data, same file
    "text.parse_math": False,
    "font.family": "DejaVu Sans",
    "font.size": 9.5,
    "axes.titlesize": 10,
    "axes.labelsize": 9.5,
    "figure.titlesize": 11,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.alpha": 0.35,
    "grid.linewidth": 0.6,
    "hatch.linewidth": 1.0,
}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """matplotlib settings for drawing and saving; applied to nothing outside."""
    import matplotlib

    with matplotlib.rc_context(RC):
        yield


def _styled(draw: Callable[[Any], Figure]) -> Callable[[Any], Figure]:
    """Draw under ``style()``: text objects read their settings when created."""

    @functools.wraps(draw)
    def wrapper(data: Any) -> Figure:
        with style():
            return draw(data)

    return wrapper


def _figure(height_in: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH_IN, height_in), layout="constrained")


def _tick(value: float, _position: Any = None) -> str:
    if value >= 1e6:
        return f"{fmt.sig(value / 1e6, 3)}M"
    if value >= 1e4:
        return f"{fmt.sig(value / 1e3, 3)}k"
    return fmt.sig(value, 2)


def _log_axis(axis: Any, values: list[float], *, at_levels: bool = False) -> None:
    """Readable ticks on a log axis: the data's own levels if asked and few, else steps
    of 1-2-5 per decade (1-1.5-2-3-5-7 when the data span less than one decade)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

    levels = sorted(set(values))
    if at_levels and 1 < len(levels) <= 6:
        axis.set_major_locator(FixedLocator(levels))
    else:
        narrow = len(levels) > 1 and levels[-1] < 10 * levels[0]
        subs = (1.0, 1.5, 2.0, 3.0, 5.0, 7.0) if narrow else (1.0, 2.0, 5.0)
        axis.set_major_locator(LogLocator(base=10, subs=subs, numticks=9))
    axis.set_major_formatter(FuncFormatter(_tick))
    axis.set_minor_locator(LogLocator(base=10, subs="auto", numticks=12))
    axis.set_minor_formatter(NullFormatter())


def _marker_kwargs(provenance: str, color: str) -> dict[str, Any]:
    filled = look(provenance).marker_filled
    return {
        "marker": "o",
        "markersize": 5.5,
        "markeredgewidth": 1.2,
        "markeredgecolor": color,
        "markerfacecolor": color if filled else "white",
    }


def _legend_handle(kind: str, label: str, color: str = NEUTRAL) -> Any:
    """A legend entry showing a provenance the way figures draw it."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if kind == "point-" + MEASURED or kind == "point-" + ESTIMATED:
        return Line2D([], [], ls="none", label=label, **_marker_kwargs(kind[6:], color))
    if kind == "line-" + PREDICTED:
        return Line2D([], [], color=color, ls="--", lw=1.8, label=label)
    if kind == "line-fit":
        return Line2D([], [], color=color, ls="-", lw=1.4, label=label)
    if kind.startswith("line-"):
        return Line2D([], [], color=color, ls=look(kind[5:]).linestyle, lw=1.6, label=label)
    provenance = kind.removeprefix("bar-")
    return Patch(label=label, **_bar_kwargs(provenance, color))


def _bar_kwargs(provenance: str, color: str) -> dict[str, Any]:
    from matplotlib.colors import to_rgba

    if provenance == PREDICTED:
        return {"facecolor": "none", "edgecolor": color, "linestyle": "--", "linewidth": 1.2}
    if provenance == ESTIMATED:
        return {
            "facecolor": to_rgba(color, 0.45),
            "edgecolor": color,
            "hatch": look(ESTIMATED).hatch,
            "linewidth": 0.6,
        }
    return {"facecolor": color, "edgecolor": "white", "linewidth": 0.6}


# ----------------------------------------------------------------------------- scaling


def _scaling_panel(ax: Axes, panel: ScalingPanel, divisor: float) -> None:
    for provenance in (MEASURED, ESTIMATED):
        points = [
            (x, y / divisor)
            for x, y, p in zip(panel.x, panel.y, panel.provenance, strict=True)
            if (p == MEASURED) == (provenance == MEASURED)  # anything else: estimated
        ]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, ls="none", alpha=0.9, **_marker_kwargs(provenance, POINT_COLOR))
    if panel.fit_x and panel.fit_y:
        ax.plot(panel.fit_x, [y / divisor for y in panel.fit_y], color=FIT_COLOR, lw=1.4)
    if panel.predicted_x:
        ys = [y / divisor for y in panel.predicted_y]
        ax.plot(panel.predicted_x, ys, color=PREDICTED_COLOR, ls="--", lw=1.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    _log_axis(ax.xaxis, list(panel.x), at_levels=True)
    _log_axis(ax.yaxis, [y / divisor for y in (*panel.y, *panel.predicted_y)])
    ax.set_xlabel(VARIABLE_LABELS.get(panel.variable, panel.variable))
    if panel.slope is not None:
        ci = panel.ci95
        interval = (
            f" (95% CI {ci[0]:.2f} to {ci[1]:.2f})"
            if ci and all(math.isfinite(c) for c in ci)
            else f" ({panel.ci_note or 'no CI'})"
        )
        ax.set_title(f"slope {panel.slope:.2f}{interval}", loc="left", fontsize=8.5)


@_styled
def draw_scaling(data: ScalingData) -> Figure:
    """Energy (top row) and latency (bottom row) against each varied setting, log-log."""
    responses = [r for r in RESPONSE_LABELS if any(p.response == r for p in data.panels)]
    variables = list(dict.fromkeys(p.variable for p in data.panels))
    figure = _figure(2.6 * len(responses) + 0.9)
    axes = figure.subplots(len(responses), len(variables), squeeze=False)
    energies = [y for p in data.panels if p.response == "energy_j" for y in (*p.y, *p.predicted_y)]
    divisor, unit = fmt.energy_scale(max(energies, default=1.0))
    for row, response in enumerate(responses):
        for col, variable in enumerate(variables):
            ax = axes[row][col]
            panel = next(
                (p for p in data.panels if p.response == response and p.variable == variable),
                None,
            )
            if panel is None:
                ax.set_axis_off()
                continue
            _scaling_panel(ax, panel, divisor if response == "energy_j" else 1.0)
            if col == 0:
                ylabel = f"{RESPONSE_LABELS[response]} ({unit if response == 'energy_j' else 's'})"
                ax.set_ylabel(ylabel)
    kinds = {p for panel in data.panels for p in panel.provenance}
    handles = [
        _legend_handle(f"point-{p}", f"configuration, {p} (mean of its runs)", POINT_COLOR)
        for p in (MEASURED, ESTIMATED)
        if p in kinds
    ]
    handles.append(_legend_handle("line-fit", "power-law fit (slope in each panel)", FIT_COLOR))
    if any(p.predicted_x for p in data.panels):
        handles.append(_legend_handle(f"line-{PREDICTED}", "predicted, GPU only", PREDICTED_COLOR))
    figure.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    figure.suptitle(f"{data.series}: scaling")
    return figure


# ------------------------------------------------------------------------------ phases


@_styled
def draw_phases(data: PhaseData) -> Figure:
    """One horizontal bar per configuration, stacked by phase."""
    count = len(data.bars)
    figure = _figure(max(1.9, 0.27 * count + 1.4))
    ax = figure.subplots()
    divisor, unit = fmt.energy_scale(max((b.total_j for b in data.bars), default=1.0))
    longest = max((b.total_j for b in data.bars), default=1.0) / divisor
    ends: list[str] = []
    for y, bar in enumerate(data.bars):
        left, unlabelled = 0.0, []
        for phase in data.phases:
            value = bar.phases_j.get(phase, 0.0) / divisor
            if value <= 0:
                continue
            color = PHASE_COLORS.get(phase, NEUTRAL)
            ax.barh(y, value, left=left, height=0.72, **_bar_kwargs(bar.provenance, color))
            if value >= MIN_SHARE_LABEL_WIDTH * longest:
                ax.text(left + value / 2, y, bar.share_label(phase), **SHARE_LABEL)
            else:  # no room on the segment: the share goes after the bar
                unlabelled.append(f"{PHASE_NAMES.get(phase, phase)} {bar.share_label(phase)}")
            left += value
        end = f"  {fmt.sig(bar.total_j / divisor)} {unit}"
        end += f" ({', '.join(unlabelled)})" if unlabelled else ""
        ax.text(left, y, end, va="center", fontsize=7.5)
        ends.append(end)
    # Leave room after each bar for its text (about CHAR_AXIS_FRACTION of the axis a
    # character): the axis ends where the widest bar-and-text ends.
    x_max = max(
        [longest * 1.14]
        + [
            b.total_j / divisor / max(0.3, 1 - CHAR_AXIS_FRACTION * len(end))
            for b, end in zip(data.bars, ends, strict=True)
        ]
    )
    ax.set_yticks(range(count), [b.label for b in data.bars], fontsize=8)
    ax.set_ylim(count - 0.5, -0.5)
    ax.set_xlim(0, x_max)
    ax.set_xlabel(f"energy per generation ({unit})")
    ax.grid(axis="y", visible=False)
    handles = [
        _legend_handle(f"bar-{MEASURED}", PHASE_NAMES.get(p, p), PHASE_COLORS.get(p, NEUTRAL))
        for p in data.phases
    ]
    present = [p for p in ORDER if any(b.provenance == p for b in data.bars)]
    handles += [_legend_handle(f"bar-{p}", p, NEUTRAL) for p in present]
    figure.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 9))
    figure.suptitle(f"{data.series}: energy per phase")
    return figure


# ------------------------------------------------------------------------------- steps


@_styled
def draw_steps(data: StepData) -> Figure:
    """Energy of each step (or token) for the configurations with the most of them."""
    figure = _figure(3.4)
    ax = figure.subplots()
    top = max((e for line in data.lines for e in line.energy_j), default=1.0)
    divisor, unit = fmt.energy_scale(top)
    for i, line in enumerate(data.lines):
        color = LINE_COLORS[i % len(LINE_COLORS)]
        ax.plot(
            line.index,
            [e / divisor for e in line.energy_j],
            color=color,
            ls=look(line.provenance).linestyle,
            lw=1.4,
            label=f"{line.label} ({line.provenance})",
            **_marker_kwargs(line.provenance, color),
        )
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0, top=top / divisor * 1.12)
    ax.set_xlabel(f"{data.unit} (index)")
    ax.set_ylabel(f"energy per {data.unit} ({unit})")
    figure.legend(loc="outside lower center", ncols=min(3, len(data.lines)))
    figure.suptitle(f"{data.series}: energy per {data.unit}")
    return figure


# --------------------------------------------------------------------------- timelines


def _domain_color(domain: str, fallback: int) -> str:
    return DOMAIN_COLORS.get(domain.split(":")[0], LINE_COLORS[fallback % len(LINE_COLORS)])


@_styled
def draw_timeline(data: TimelineData) -> Figure:
    """Power per domain over the run, and their sum."""
    figure = _figure(3.3)
    ax = figure.subplots()
    for i, (domain, values) in enumerate(sorted(data.power_w.items())):
        provenance = data.provenance.get(domain, ESTIMATED)
        ax.plot(
            data.t_s,
            values,
            color=_domain_color(domain, i),
            ls=look(provenance).linestyle,
            lw=1.5,
            label=f"{domain} ({provenance})",
        )
    if len(data.power_w) > 1:
        total = [sum(v) for v in zip(*data.power_w.values(), strict=True)]
        label = f"total ({data.provenance_total})"
        ax.plot(
            data.t_s,
            total,
            color=FIT_COLOR,
            lw=1.2,
            ls=look(data.provenance_total).linestyle,
            label=label,
        )
    ax.set_xlabel("time since the window opened (s)")
    ax.set_ylabel("power (W)")
    ax.set_ylim(bottom=0)
    ax.set_xlim(left=0)
    figure.legend(loc="outside lower center", ncols=min(4, len(data.power_w) + 1))
    summary = f"{fmt.energy(data.energy_j)} in {fmt.duration(data.duration_s)}"
    figure.suptitle(f"{data.title}: power over window {data.window!r} ({summary})")
    return figure


# ----------------------------------------------------------------------------- output

_ID_PATTERNS = re.compile(r'(\bid=")([^"]+)(")|(href="#)([^"]+)(")|(url\(#)([^)]+)(\))')


def _scope_ids(svg: str, scope: str) -> str:
    """Prefix every id and reference with ``scope``: many SVGs share one page's ids."""

    def rename(match: re.Match[str]) -> str:
        groups = match.groups()
        for start in (0, 3, 6):
            if groups[start] is not None:
                return f"{groups[start]}{scope}-{groups[start + 1]}{groups[start + 2]}"
        return match.group(0)

    return _ID_PATTERNS.sub(rename, svg)


def to_svg(figure: Figure, scope: str, label: str) -> str:
    """The figure as an ``<svg>`` element to inline in HTML, scaled by CSS.

    The XML prolog and doctype go (they are invalid inside HTML); width and height go
    too, so that the figure fills its column while the viewBox keeps its shape.
    """
    from html import escape

    buffer = io.StringIO()
    with style():
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    head_end = svg.index(">")
    head = re.sub(r'\s(width|height)="[^"]*"', "", svg[:head_end])
    head += f' role="img" aria-label="{escape(label, quote=True)}" class="gw-svg"'
    return _scope_ids(head + svg[head_end:], scope)


def to_png(figure: Figure, path: Path) -> Path:
    with style():
        figure.savefig(path, format="png", dpi=PNG_DPI, metadata={"Software": "genwatt"})
    return path
