"""The suite's tables as HTML: a leaderboard per task, and the multi-purpose ratios.

Every energy is shown with its unit and, beside it, its provenance; a cell without a
value shows "—" with a numbered note saying why (no GPU was read, no quality was
scored), never an empty cell or a zero. User strings (model names, errors) are escaped.
"""

from __future__ import annotations

from typing import Any

from genwatt import formatting as fmt
from genwatt.analysis.stars import STARS
from genwatt.meter.phases import OTHER
from genwatt.report.provenance import look
from genwatt.report.ratings import star_text
from genwatt.report.suite_section import (
    BASIS_WORDS,
    MINIATURE_NOTE,
    SuiteGroup,
    SuiteSection,
    TaskBoard,
    wh_text,
)
from genwatt.report.tables import Notes, badge, e

_HEAD = (
    "#",
    "Model",
    "Kind",
    "Energy per 1,000 queries (whole machine)",
    "GPU energy per 1,000 queries",
    "Latency per query",
    "Where the energy goes",
    "Stars: AI Energy Score",
    "Stars: log bands",
    "Quality",
    "Energy per correct answer",
)
_OTHER_HEAD = ("Batch", *_HEAD[1:])
FAILED_ERROR_CHARS = 160


def _energy(value_wh: float | None, provenance: str | None, why: str, notes: Notes) -> str:
    if value_wh is None:
        return notes.mark(why)
    kind = look(provenance).provenance
    return (
        f'<span class="gw-value-{e(kind)}">{e(wh_text(value_wh))}</span><br>'
        f"{badge(str(provenance or kind))}"
    )


def _stars(entry: dict[str, Any], formula: str, notes: Notes) -> str:
    stars = entry.get("stars")
    if not stars:
        return notes.mark(
            "no stars: they need two models or more of the task at the same batch size "
            "(for text generation, of the same size class)"
        )
    count = stars[formula]
    klass = (
        f'<br><span class="gw-per-1000">class {e(stars["size_class"])}</span>'
        if stars.get("size_class")
        else ""
    )
    return (
        f'<span class="gw-stars" title="{count} of {STARS}" '
        f'aria-label="{count} of {STARS} stars">{star_text(count)}</span>{klass}'
    )


def _phases(entry: dict[str, Any]) -> str:
    """The phases' shares of the whole machine's energy, largest first."""
    total = entry.get("energy_wh_per_1000")
    phases = entry.get("phases") or {}
    if not total:
        return fmt.DASH
    shares = [
        (name, (values.get("energy_wh_per_1000") or 0.0) / total) for name, values in phases.items()
    ]
    shares = [(n, s) for n, s in shares if s >= 0.005]
    shares.sort(key=lambda item: (item[0] == OTHER, -item[1]))
    text = ", ".join(f"{name} {share * 100:.0f} %" for name, share in shares)
    return f'<span class="gw-per-1000">{e(text)}</span>' if text else fmt.DASH


def _quality(entry: dict[str, Any], notes: Notes) -> tuple[str, str]:
    quality = entry.get("quality")
    if not quality:
        return notes.mark(entry.get("quality_note") or "no quality was scored"), fmt.DASH
    value = quality.get("value")
    shown = f"{quality['metric']} {fmt.sig(value) if fmt.is_number(value) else fmt.DASH}"
    count = quality.get("n")
    cell = e(shown) + (f'<br><span class="gw-per-1000">n = {e(count)}</span>' if count else "")
    per_correct = quality.get("energy_wh_per_correct")
    if per_correct is None:
        return cell, notes.mark("no correct answer to divide by")
    value_class = f"gw-value-{e(look(entry['energy_provenance']).provenance)}"
    return cell, (
        f'<span class="{value_class}">{e(wh_text(per_correct))}</span>'
        '<br><span class="gw-per-1000">whole machine</span>'
    )


def _net_of_idle(entry: dict[str, Any]) -> str:
    """The same energy less the idle power over the call, where idle was measured
    (``genwatt suite --idle-seconds``)."""
    net = entry.get("energy_wh_per_1000_net_of_idle")
    if net is None:
        return ""
    return f'<br><span class="gw-per-1000">net of idle: {e(wh_text(net))}</span>'


def _model(entry: dict[str, Any]) -> str:
    params = entry.get("params")
    extra = []
    if entry.get("weights") == "tiny":  # one tiny form stands for its family's models
        extra.append("miniature")
    elif entry.get("repo_id") and entry["repo_id"] != entry["model"]:
        extra.append(str(entry["repo_id"]))
    if params:
        extra.append(f"{fmt.si(float(params)).strip()} parameters")
    small = f'<br><span class="gw-hardware">{e("; ".join(extra))}</span>' if extra else ""
    return f'<span class="gw-model">{e(entry["model"])}</span>{small}'


def _cells(entry: dict[str, Any], device: str, notes: Notes) -> tuple[str, ...]:
    quality, per_correct = _quality(entry, notes)
    return (
        _model(entry),
        e(entry["kind"]),
        _energy(entry["energy_wh_per_1000"], entry["energy_provenance"], "", notes)
        + _net_of_idle(entry),
        _energy(
            entry["gpu_energy_wh_per_1000"],
            entry.get("gpu_energy_provenance"),
            f"no GPU energy was read: the run was on {device}",
            notes,
        ),
        e(fmt.duration(entry["latency_s_per_query"])),
        _phases(entry),
        _stars(entry, "ai_energy_score", notes),
        _stars(entry, "log_bands", notes),
        quality,
        per_correct,
    )


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    header = "".join(f'<th scope="col">{e(h)}</th>' for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (
        '<div class="gw-table-wrap"><table class="gw-table gw-leaderboard gw-suite">'
        f"<thead><tr>{header}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _why_failed(entry: dict[str, Any]) -> str:
    """The first line of the error, or why a run stored as ok has no figure."""
    if entry["status"] == "ok":
        return "stored without any energy read"
    lines = (entry.get("error") or "").strip().splitlines()
    return lines[0][:FAILED_ERROR_CHARS] if lines else "failed"


def _facts(board: TaskBoard) -> str:
    count = len(board.ranked)
    facts = (
        [
            f"Ranked by energy per 1,000 queries, {BASIS_WORDS[board.basis]}"
            + (" (the basis of the stars)" if board.rated else "")
            + f", at batch size {board.batch_size}; {count} model{'' if count == 1 else 's'}."
        ]
        if board.ranked
        else ["No configuration of this task succeeded."]
    )
    if board.multi_purpose_ratio is not None:
        facts.append(
            f"Multi-purpose over task-specific models: {fmt.ratio(board.multi_purpose_ratio)} "
            "(median whole-machine energy)."
        )
    if board.failed:
        failures = "; ".join(
            f"{f['model']} at batch {f['batch_size']}: {_why_failed(f)}" for f in board.failed
        )
        facts.append(f"Failed: {failures}.")
    return f'<p class="gw-small">{e(" ".join(facts))}</p>'


def _board_html(board: TaskBoard, group: SuiteGroup, notes: Notes, heading: str) -> str:
    rows = [
        (str(rank), *_cells(entry, group.device, notes))
        for rank, entry in enumerate(board.ranked, 1)
    ]
    table = _table(_HEAD, rows) if rows else ""
    others = ""
    if board.other_batches:
        other_rows = [
            (e(entry["batch_size"]), *_cells(entry, group.device, notes))
            for entry in board.other_batches
        ]
        count = len(other_rows)
        others = (
            f'<details class="gw-more"><summary>Show the {count} configuration'
            f"{'' if count == 1 else 's'} at other batch sizes (not ranked)</summary>"
            f"{_table(_OTHER_HEAD, other_rows)}</details>"
        )
    return f"<{heading}>{e(board.task)}</{heading}>{table}{others}{_facts(board)}"


def _group_intro(group: SuiteGroup) -> str:
    runs = len(group.records)
    superseded = (
        f" {group.superseded} older runs of the same configurations are not shown."
        if group.superseded
        else ""
    )
    text = (
        f"{group.label}: {runs} configuration{'' if runs == 1 else 's'} "
        f"(task × model × batch size).{superseded}"
    )
    banner = (
        f'<div class="gw-banner" role="note">{e(MINIATURE_NOTE)}</div>' if group.miniature else ""
    )
    return f'{banner}<p class="gw-small">{e(text)}</p>'


_KEY = (
    "Energy is per 1,000 queries: the whole measured call over every query (a batch of "
    "eight counts as eight queries), scaled to 1,000. The whole machine is every domain "
    "the meter read (GPU, CPU, DRAM), as Power Hungry Processing counted it; GPU energy is "
    "what AI Energy Score scores. Stars compare the models of a task in this report at the "
    "same batch size: AI Energy Score's formula cuts the range between the lowest and the "
    "highest energy into five equal-width bands, five stars for the lowest, and rates text "
    "generation within size classes (A up to 20B parameters, B up to 66B, C larger); log "
    "bands are the same five bands equal in log energy, which keep a factor of ten visible "
    "when one large model stretches the range. Neither is AI Energy Score's published "
    "rating. Energy per correct answer is the whole machine's energy over the correct "
    "answers, where pretrained weights answered labelled queries."
)


def suite_leaderboard_html(section: SuiteSection) -> str:
    """A leaderboard per task, per group of runs measured alike; "" without suite runs."""
    if not section.groups:
        return ""
    notes = Notes("gw-suite-note")
    several = len(section.groups) > 1
    parts = []
    for group in section.groups:
        if several:
            parts.append(f"<h3>{e(group.label)}</h3>")
        parts.append(_group_intro(group))
        heading = "h4" if several else "h3"
        parts.extend(_board_html(b, group, notes, heading) for b in group.boards)
    return "".join(parts) + f'<p class="gw-small">{e(_KEY)}</p>' + notes.html()


def suite_ratio_html(section: SuiteSection) -> str:
    """Task-specific against multi-purpose models, per task that ran both; "" if none."""
    if not section.has_ratios:
        return ""
    head = (
        "Task",
        "Batch size",
        "Task-specific (median per 1,000 queries)",
        "Multi-purpose (median per 1,000 queries)",
        "Multi-purpose ÷ task-specific",
        "Provenance",
    )
    parts = []
    for group in section.groups:
        if not group.ratios:
            continue
        rows = [
            (
                e(row.task),
                e(row.batch_size),
                f"{e(wh_text(row.task_specific_wh))}<br>"
                f'<span class="gw-hardware">{e(", ".join(row.task_specific))}</span>',
                f"{e(wh_text(row.multi_purpose_wh))}<br>"
                f'<span class="gw-hardware">{e(", ".join(row.multi_purpose))}</span>',
                e(fmt.ratio(row.ratio)),
                badge(row.provenance),
            )
            for row in group.ratios
        ]
        miniature = f'<p class="gw-small">{e(MINIATURE_NOTE)}</p>' if group.miniature else ""
        parts.append(f"<h3>{e(group.label)}</h3>{_table(head, rows)}{miniature}")
    return "".join(parts) + (
        '<p class="gw-small">Whole-machine energy, as Power Hungry Processing compared the '
        "two kinds, at the smallest batch size both ran; the GPU figures are in the "
        "leaderboard.</p>"
    )
