"""The Pareto figure of a mitigation comparison: work saved against quality kept.

Drawn apart from ``figures`` because its conventions are its own: marker *shape and
colour* say the kind of strategy (so a cache, a reuse scheme and a plain cheaper setting
can be told apart in black and white too), while the fill keeps the report's meaning,
filled for measured energy and hollow for estimated. The unmitigated reference has an
infinite PSNR against itself; when every strategy is far below the cap it is drawn just
above the plot, past the axis's end and labelled off scale, rather than stretching the
axis to 100 dB: no tick then suggests it sits at some finite PSNR. A strategy that
saved no work is not drawn (it would tie with the reference on the frontier); the legend
names it as "no saving on this prompt set".
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from genwatt import formatting as fmt
from genwatt.mitigate.comparison.conventions import GOOD_PSNR_DB, PSNR_CAP_DB
from genwatt.report.figures import FIT_COLOR, NEUTRAL, _figure, _log_axis, _styled, _tick
from genwatt.report.mitigation import ParetoData, ParetoPoint
from genwatt.report.provenance import ESTIMATED, MEASURED, look

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# (marker, colour, legend words) per kind; "reference" is the unmitigated run.
KIND_LOOKS: dict[str, tuple[str, str, str]] = {
    "reference": ("D", FIT_COLOR, "unmitigated (reference)"),
    "cache": ("o", "#1f5fa6", "cache (skips work inside the denoiser)"),
    "reuse": ("s", "#2a9d5c", "reuse (serves earlier outputs)"),
    "baseline": ("^", "#dd8452", "plain cheaper setting"),
}
FRONT_COLOR = "#7a7a7a"
INFINITE_GAP = 2.0  # a saving of ∞ is drawn this many times right of the largest finite one


def _kind_look(kind: str) -> tuple[str, str, str]:
    return KIND_LOOKS.get(kind, ("P", NEUTRAL, kind))


def _marker(kind: str, provenance: str | None) -> dict[str, Any]:
    marker, color, _ = _kind_look(kind)
    filled = look(provenance).marker_filled
    return {
        "marker": marker,
        "markersize": 8 if kind == "reference" else 7.5,
        "markeredgewidth": 1.4,
        "markeredgecolor": color,
        "markerfacecolor": color if filled else "white",
        "linestyle": "none",
    }


def _positions(data: ParetoData) -> tuple[dict[str, tuple[float, float]], float, float]:
    """Where each point is drawn, and the y range: the reference and ∞ savings are placed."""
    strategies = [p for p in data.points if p.kind != "reference"]
    finite = [p.saving for p in data.points if math.isfinite(p.saving)]
    x_infinite = max(finite, default=1.0) * INFINITE_GAP
    ys = [p.psnr_db for p in strategies]
    low, high = min((*ys, GOOD_PSNR_DB)), max((*ys, GOOD_PSNR_DB))
    if data.reference is not None and not data.reference_off_scale:
        high = PSNR_CAP_DB
    pad = max(2.0, 0.08 * (high - low))
    bottom, top = low - pad, high + pad
    above = top + 0.1 * (top - bottom)  # past the axis's end: off scale
    where = {}
    for point in data.points:
        x = point.saving if math.isfinite(point.saving) else x_infinite
        y = above if point.kind == "reference" and data.reference_off_scale else point.psnr_db
        where[point.name] = (x, y)
    return where, bottom, top


def _labels(ax: Axes, data: ParetoData, where: dict[str, tuple[float, float]], span: float) -> None:
    """Each point's name beside it; a label that would sit on its neighbour's goes below."""
    placed: list[tuple[float, float]] = []
    for point in sorted(data.points, key=lambda p: where[p.name]):
        x, y = where[point.name]
        crowded = any(
            abs(math.log10(x) - math.log10(px)) < 0.08 and abs(y - py) < 0.06 * span
            for px, py in placed
        )
        ax.annotate(
            point_label(point, off_scale=data.reference_off_scale),
            (x, y),
            xytext=(6, -11 if crowded else 5),
            textcoords="offset points",
            fontsize=7.5,
            color=FIT_COLOR,
            annotation_clip=False,
        )
        placed.append((x, y))


def _infinite_tick(ax: Axes, data: ParetoData) -> None:
    """An "∞" tick where the strategies that ran no denoising are drawn, and no finite
    tick past the largest finite saving, so that their place reads as no number."""
    from matplotlib.ticker import FixedLocator, FuncFormatter

    finite = max((p.saving for p in data.points if math.isfinite(p.saving)), default=1.0)
    x_infinite = finite * INFINITE_GAP
    left, _ = ax.get_xlim()
    ticks = [t for t in ax.xaxis.get_majorticklocs() if left <= t <= finite * 1.3]
    ax.xaxis.set_major_locator(FixedLocator([*ticks, x_infinite]))
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda v, _: "∞" if math.isclose(v, x_infinite) else _tick(v))
    )


def _legend(figure: Figure, data: ParetoData) -> None:
    from matplotlib.lines import Line2D

    kinds = list(dict.fromkeys(p.kind for p in data.points))
    order = [k for k in KIND_LOOKS if k in kinds] + [k for k in kinds if k not in KIND_LOOKS]
    handles = [Line2D([], [], label=_kind_look(k)[2], **_marker(k, MEASURED)) for k in order]
    handles.append(Line2D([], [], color=FRONT_COLOR, lw=1.3, label="Pareto frontier"))
    provenances = {str(p.provenance) for p in data.points if p.provenance}
    for provenance, words in ((MEASURED, "energy measured"), (ESTIMATED, "energy estimated")):
        if provenance in provenances:
            marker = {**_marker("cache", provenance), "markeredgecolor": NEUTRAL}
            if look(provenance).marker_filled:
                marker["markerfacecolor"] = NEUTRAL
            handles.append(Line2D([], [], label=words, **marker))
    if data.no_saving:  # said where the reader looks for what each mark means
        words = f"not drawn, no saving on this prompt set: {', '.join(data.no_saving)}"
        handles.append(Line2D([], [], linestyle="none", label=words))
    figure.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4))


@_styled
def draw_pareto(data: ParetoData) -> Figure:
    """x: times fewer denoising FLOPs (log); y: mean PSNR against the unmitigated output."""
    figure = _figure(4.6)
    ax = figure.subplots()
    where, bottom, top = _positions(data)
    front = [where[p.name] for p in data.front]
    if len(front) > 1:
        ax.plot(
            *zip(*front, strict=True),
            color=FRONT_COLOR,
            lw=1.3,
            drawstyle="steps-pre",
            clip_on=False,  # its first corner may be the off-scale reference
        )
    ax.axhline(GOOD_PSNR_DB, color=NEUTRAL, lw=0.8, ls=(0, (4, 3)), zorder=1)
    ax.annotate(
        f"{fmt.sig(GOOD_PSNR_DB)} dB: looks the same",
        (0, GOOD_PSNR_DB),
        xycoords=("axes fraction", "data"),
        xytext=(3, 3),
        textcoords="offset points",
        fontsize=7,
        color=NEUTRAL,
    )
    for point in data.points:
        ax.plot(
            *where[point.name], clip_on=False, zorder=3, **_marker(point.kind, point.provenance)
        )
    xs = [x for x, _ in where.values()]
    ax.set_xscale("log")
    ax.set_xlim(min(xs) / 1.25, max(xs) * 1.6)  # room for the labels on the right
    _log_axis(ax.xaxis, xs)
    if any(math.isinf(p.saving) for p in data.points):
        _infinite_tick(ax, data)
    ax.set_ylim(bottom, top)
    _labels(ax, data, where, top - bottom)
    ax.set_xlabel("work saved: × fewer denoising FLOPs than unmitigated (log scale)")
    ax.set_ylabel("mean PSNR vs unmitigated (dB)")
    _legend(figure, data)
    figure.suptitle(f"{data.title}: work saved against quality kept")
    return figure


def point_label(point: ParetoPoint, *, off_scale: bool = False) -> str:
    """The words a point is labelled with: its name, and why it is where it is drawn."""
    if point.kind == "reference":
        where = "off scale" if off_scale else f"drawn at the {fmt.sig(PSNR_CAP_DB)} dB cap"
        return f"{point.name}: identical output, PSNR ∞ ({where})"
    return point.name + (" (∞: ran no denoising)" if math.isinf(point.saving) else "")
