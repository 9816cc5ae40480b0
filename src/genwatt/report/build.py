"""From a results store to a report file: read, gather, draw, write.

``write_report`` is what ``genwatt report`` and ``genwatt bench`` call; ``build_report``
does the same from records already in memory and writes nothing, for callers that
want the page as a string (and for tests).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genwatt.errors import GenwattError
from genwatt.report import captions
from genwatt.report.document import ReportContent, collect
from genwatt.report.page import RenderedFigure, render_page
from genwatt.report.predicted import GenwattPredictor, Predictor
from genwatt.report.suite_export import SuiteExport, export_ai_energy_score
from genwatt.report.suite_section import is_suite
from genwatt.store.records import RunRecord
from genwatt.store.store import ResultsStore

if TYPE_CHECKING:
    from matplotlib.figure import Figure

REPORT_SUFFIX = "-report.html"


class ReportError(GenwattError):
    """The report cannot be written: nothing matches, or the output cannot be written."""


@dataclass(frozen=True)
class NamedFigure:
    """A drawn figure and the file name its PNG gets (``03-phases-wan-tiny-cpu.png``)."""

    name: str
    rendered: RenderedFigure
    figure: Figure


@dataclass
class BuiltReport:
    html: str
    content: ReportContent
    figures: list[NamedFigure] = field(default_factory=list)


@dataclass(frozen=True)
class ReportResult:
    """What ``write_report`` wrote."""

    path: Path
    runs: int
    figures: int
    png_paths: list[Path] = field(default_factory=list)
    export: SuiteExport | None = None  # the AI Energy Score export, when asked for


def default_report_path(store_path: Path) -> Path:
    """``X-report.html`` next to the store ``X.db``: one report per store, named after it,
    so that two stores in one folder never overwrite each other's report."""
    return store_path.with_name(store_path.stem + REPORT_SUFFIX)


def _slug(text: str) -> str:
    """A safe file name part: user strings (model names) must not steer a path."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60].rstrip("-") or "figure"


_SECTION_ORDER = (
    "suite-map",
    "suite-batch",
    "scaling",
    "phases",
    "steps",
    "timelines",
    "mitigation",
)


def _jobs(content: ReportContent) -> list[tuple[str, str, Any, str]]:
    """(section, label, data, caption) for every figure, in the page's order."""
    from genwatt.report.suite_figures import batch_caption, map_caption

    jobs: list[tuple[str, str, Any, str]] = []
    for group in content.suite.groups:
        if group.task_map is not None:
            jobs.append(("suite-map", group.label, group.task_map, map_caption(group.task_map)))
        if group.batch_curves is not None:
            curves = group.batch_curves
            jobs.append(("suite-batch", group.label, curves, batch_caption(curves)))
    for item in content.series:
        label = item.series.label
        if item.scaling is not None:
            jobs.append(("scaling", label, item.scaling, captions.scaling(item.scaling)))
        if item.phases is not None:
            jobs.append(("phases", label, item.phases, captions.phases(item.phases)))
        if item.steps is not None:
            jobs.append(("steps", label, item.steps, captions.steps(item.steps)))
    for timeline in content.timelines:
        jobs.append(("timelines", timeline.title, timeline, captions.timeline(timeline)))
    for item in content.mitigation.shown:
        if item.pareto is not None:
            pareto = item.pareto
            jobs.append(("mitigation", pareto.sweep, pareto, captions.mitigation(pareto)))
    return sorted(jobs, key=lambda job: _SECTION_ORDER.index(job[0]))


def _draw(content: ReportContent) -> list[NamedFigure]:
    from genwatt.report import figures as draw
    from genwatt.report.mitigation_figure import draw_pareto
    from genwatt.report.suite_figures import draw_batch_curves, draw_task_map

    painters: dict[str, Callable[[Any], Figure]] = {
        "suite-map": draw_task_map,
        "suite-batch": draw_batch_curves,
        "scaling": draw.draw_scaling,
        "phases": draw.draw_phases,
        "steps": draw.draw_steps,
        "timelines": draw.draw_timeline,
        "mitigation": draw_pareto,
    }
    named: list[NamedFigure] = []
    for number, (section, label, data, caption) in enumerate(_jobs(content), 1):
        figure = painters[section](data)
        figure_id = f"fig-{number}"
        title = f"{section}: {label}"
        rendered = RenderedFigure(
            section=section,
            figure_id=figure_id,
            title=title,
            caption=caption,
            svg=draw.to_svg(figure, scope=figure_id, label=title),
            key=label,
        )
        named.append(NamedFigure(f"{number:02d}-{section}-{_slug(label)}.png", rendered, figure))
    return named


def build_report(
    records: Sequence[RunRecord],
    *,
    predictor: Predictor | None = None,
    store: str = "",
    filters: dict[str, str] | None = None,
    country: str | None = None,
    pue: float | None = None,
    cloud: str | None = None,
    daily_volume: float | None = None,
) -> BuiltReport:
    """The report of ``records`` as an HTML string, with its matplotlib figures; with
    ``daily_volume``, each stored configuration's footprint at that many queries a day."""
    content = collect(
        records,
        predictor if predictor is not None else GenwattPredictor(),
        store=store,
        filters=filters,
        country=country,
        pue=pue,
        cloud=cloud,
        daily_volume=daily_volume,
    )
    figures = _draw(content)
    html = render_page(content, [f.rendered for f in figures], country, pue, cloud)
    return BuiltReport(html=html, content=content, figures=figures)


def _write_text(path: Path, text: str) -> None:
    """Write whole or not at all: a reader never sees half a report."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            Path(tmp).chmod(0o644)
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ReportError(f"cannot write the report to {path}: {exc}; pick another -o") from exc


def write_pngs(figures: Sequence[NamedFigure], folder: Path) -> list[Path]:
    """Each figure as a PNG in ``folder`` (created if needed), for papers and slides."""
    from genwatt.report.figures import to_png

    try:
        folder.mkdir(parents=True, exist_ok=True)
        return [to_png(f.figure, folder / f.name) for f in figures]
    except OSError as exc:
        raise ReportError(
            f"cannot write PNG figures to {folder}: {exc}; pick another --png"
        ) from exc


def write_report(
    store: str | os.PathLike[str] | None = None,
    output: str | os.PathLike[str] | None = None,
    *,
    sweep: str | None = None,
    kind: str | None = None,
    png_dir: str | os.PathLike[str] | None = None,
    country: str | None = None,
    pue: float | None = None,
    cloud: str | None = None,
    predictor: Predictor | None = None,
    ai_energy_score_dir: str | os.PathLike[str] | None = None,
    daily_volume: float | None = None,
) -> ReportResult:
    """Write the report of a store's runs (those of ``sweep`` and ``kind`` if given).

    ``output`` defaults to ``X-report.html`` next to the store ``X.db``. With
    ``ai_energy_score_dir``, the suite runs are also exported there in the shape AI
    Energy Score publishes (``suite_export``); with ``daily_volume``, the page shows each
    stored configuration's footprint at that many queries a day. Raises ``ReportError``
    when no run matches, when an export is asked for without suite runs, or when a file
    cannot be written; ``StoreError`` when the store cannot be read.
    """
    with ResultsStore(store, create=False) as opened:
        records = opened.runs(kind=kind, sweep=sweep)
        store_path = opened.path
        if not records:
            raise ReportError(_nothing_matches(opened, sweep, kind))
    if ai_energy_score_dir is not None and not any(is_suite(r) for r in records):
        raise ReportError(
            f"none of the {len(records)} runs selected in {store_path} comes from "
            "`genwatt suite`, so there is nothing to export in the AI Energy Score shape; "
            "run `genwatt suite` first, or drop the --kind/--sweep filter that leaves them out"
        )
    filters = {k: v for k, v in (("sweep", sweep), ("kind", kind)) if v is not None}
    built = build_report(
        records,
        predictor=predictor,
        store=str(store_path),
        filters=filters,
        country=country,
        pue=pue,
        cloud=cloud,
        daily_volume=daily_volume,
    )
    path = Path(output).expanduser() if output is not None else default_report_path(store_path)
    _write_text(path, built.html)
    pngs = write_pngs(built.figures, Path(png_dir).expanduser()) if png_dir is not None else []
    export = None
    if ai_energy_score_dir is not None:
        try:
            export = export_ai_energy_score(records, ai_energy_score_dir)
        except GenwattError as exc:
            raise ReportError(str(exc)) from exc
    return ReportResult(
        path=path, runs=len(records), figures=len(built.figures), png_paths=pngs, export=export
    )


def _nothing_matches(store: ResultsStore, sweep: str | None, kind: str | None) -> str:
    if sweep is None and kind is None:
        return (
            f"the results store {store.path} holds no runs yet: run `genwatt bench` or "
            "`genwatt measure` first"
        )
    wanted = " and ".join(
        f"{name} {value!r}" for name, value in (("sweep", sweep), ("kind", kind)) if value
    )
    sweeps = sorted({r.sweep for r in store.runs(limit=1000) if r.sweep})
    hint = f"; stored sweeps: {', '.join(sweeps[-5:])}" if sweeps else ""
    return f"no run in {store.path} matches {wanted}{hint} (`genwatt results` lists them)"
