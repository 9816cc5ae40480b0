"""The report's tables as HTML: the leaderboard per task, and the measured commands.

Every value that came from a user (model names, commands, hardware names) goes through
``html.escape`` here; numbers are formatted by ``report.format``. A cell that has no
value shows "—" with a numbered note saying why, never an empty cell.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from genwatt.carbon import co2e
from genwatt.report import format as fmt
from genwatt.report.leaderboard import PER, Leaderboard, LeaderboardRow
from genwatt.report.provenance import PREDICTED, look
from genwatt.report.ratings import MIN_MODELS, STARS, star_text
from genwatt.report.series import TASK_NAMES
from genwatt.store.records import RunRecord

_EQUIVALENT_LABELS = {
    "smartphone_charges": "phone charges",
    "car_km": "km by petrol car",
    "microwave_min": "min of microwave",
}


def e(text: object) -> str:
    """Escape for HTML text and attribute values alike."""
    return escape(str(text), quote=True)


def badge(provenance: str) -> str:
    """The provenance as a labelled mark, drawn as the figures draw it."""
    shown = look(provenance)
    return (
        f'<span class="gw-prov gw-prov-{e(shown.provenance)}">'
        f'<span aria-hidden="true">{shown.symbol}</span> {e(provenance)}</span>'
    )


class Notes:
    """Numbered notes for cells that show "—": each distinct reason is numbered once.

    ``prefix`` names the notes' ids; every table with its own notes on a page needs its own.
    """

    def __init__(self, prefix: str = "gw-note") -> None:
        self.prefix = prefix
        self.reasons: list[str] = []

    def mark(self, reason: str) -> str:
        if not reason:
            return fmt.DASH
        if reason not in self.reasons:
            self.reasons.append(reason)
        number = self.reasons.index(reason) + 1
        return f'{fmt.DASH}<sup><a href="#{self.prefix}-{number}">{number}</a></sup>'

    def html(self) -> str:
        if not self.reasons:
            return ""
        items = "".join(
            f'<li id="{self.prefix}-{i}">{e(reason)}</li>'
            for i, reason in enumerate(self.reasons, 1)
        )
        return f'<ol class="gw-notes">{items}</ol>'


def _equivalents(row: LeaderboardRow) -> str:
    parts = [
        f"{fmt.sig(q.value, 2)} {_EQUIVALENT_LABELS.get(q.key, q.label)}" for q in row.equivalents
    ]
    return '<span class="gw-nowrap">' + "<br>".join(e(p) for p in parts) + "</span>"


def _stars(row: LeaderboardRow) -> str:
    if row.stars is None:
        return fmt.DASH
    return (
        f'<span class="gw-stars" title="{row.stars} of {STARS}" '
        f'aria-label="{row.stars} of {STARS} stars">{star_text(row.stars)}</span>'
    )


_HEAD = (
    "#",
    "Model and hardware",
    "Settings",
    "Runs",
    f"Energy / generation (kWh / {PER:,})",
    "CO2e / generation",
    f"{PER:,} generations ≈",
    "Latency",
    "Predicted GPU",
    "Above floor",
    "Provenance",
    "Rating",
)


def _leaderboard_row(rank: int, row: LeaderboardRow, notes: Notes) -> str:
    runs = str(row.runs) + (
        f' <span class="gw-failed">+{row.failed} failed</span>' if row.failed else ""
    )
    predicted = (
        f'<span class="gw-value-{PREDICTED}">{e(fmt.energy(row.predicted_energy_j))}</span>'
        if row.predicted_energy_j is not None
        else notes.mark(row.floor_note)
    )
    floor = (
        e(fmt.ratio(row.above_floor)) if row.above_floor is not None else notes.mark(row.floor_note)
    )
    value_class = f"gw-value-{e(look(row.provenance).provenance)}"
    cells = (
        str(rank),
        f'<span class="gw-model">{e(row.model)}</span><br>'
        f'<span class="gw-hardware">{e(row.hardware)}</span>',
        f'<span class="gw-nowrap">{e(row.settings)}</span>',
        runs,
        f'<span class="{value_class}">{e(fmt.energy(row.energy_j))}</span><br>'
        f'<span class="gw-per-1000 {value_class}" title="kWh per {PER:,} generations">'
        f"{e(fmt.sig(row.energy_kwh_per_1000))} kWh</span>",
        e(fmt.mass_g(row.co2e_g)),
        _equivalents(row),
        e(fmt.duration(row.latency_s)),
        predicted,
        floor,
        badge(row.provenance),
        _stars(row),
    )
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


# A sweep stores dozens of configurations per model: the least-energy ones are shown,
# the rest fold away (still in the page, and printed: see the print styles).
VISIBLE_ROWS = 10


def leaderboard_html(board: Leaderboard) -> str:
    """One table per task, least energy first, then the notes and how to read them."""
    if not board.rows:
        return '<p class="gw-empty">No generation has been stored yet: run `genwatt bench`.</p>'
    notes = Notes()
    parts: list[str] = []
    tasks = list(dict.fromkeys(r.task for r in board.rows))
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in _HEAD)
    for task in tasks:
        rows = [r for r in board.rows if r.task == task]
        rendered = [_leaderboard_row(i, r, notes) for i, r in enumerate(rows, 1)]
        body = "".join(rendered[:VISIBLE_ROWS])
        hidden = rendered[VISIBLE_ROWS:]
        models = len({r.model for r in rows})
        rated = (
            ""
            if task in board.rated_tasks
            else f'<p class="gw-small">No ratings: they need at least {MIN_MODELS} models of '
            f"this task in the report (here {models}).</p>"
        )
        more = (
            f'<details class="gw-more"><summary>Show the other {len(hidden)} '
            f'configurations</summary><div class="gw-table-wrap"><table class="gw-table '
            f'gw-leaderboard"><thead><tr>{head}</tr></thead><tbody>{"".join(hidden)}</tbody>'
            "</table></div></details>"
            if hidden
            else ""
        )
        parts.append(
            f'<h3>{e(TASK_NAMES.get(task, task))}</h3><div class="gw-table-wrap">'
            f'<table class="gw-table gw-leaderboard"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>{more}{rated}"
        )
    grid = board.grid
    where = "world average (no country given)" if grid.is_default else grid.name
    parts.append(
        f'<p class="gw-small">CO2e on the grid of {e(where)}: {e(fmt.sig(grid.g_per_kwh))} '
        f"g CO2e/kWh ({e(grid.source)}, {grid.year}); PUE {e(fmt.sig(board.pue))}. "
        "Energy is per output (a batch of four counts as four generations), summed over "
        "every metered domain (GPU, CPU, DRAM); latency is per pipeline call. The floor "
        "ratio is the measured GPU energy over the least energy the workload's FLOPs "
        "could take (every FLOP at the GPU's peak rate, drawing its TDP).</p>"
    )
    parts.append(notes.html())
    return "".join(parts)


def other_runs_html(runs: tuple[RunRecord, ...], total: int, country: str | None) -> str:
    """Runs that are not generations (commands under ``genwatt measure``), newest first."""
    if not runs:
        return ""
    head = "".join(
        f'<th scope="col">{h}</th>'
        for h in ("Run", "Started", "Command", "Duration", "Energy", "CO2e", "Provenance")
    )
    rows = []
    for record in runs:
        main = record.main_window
        energy_j = None if main is None else main.total_energy_j
        grams = co2e(max(energy_j, 0.0), country).co2e_g if energy_j is not None else None
        what = record.config.get("command") or record.kind
        status = "" if record.ok else f' <span class="gw-failed">{e(record.status)}</span>'
        kind = str(main.overall_provenance()) if main is not None else ""
        provenance = badge(kind) if kind else fmt.DASH
        started = datetime.fromtimestamp(record.started_at).strftime("%Y-%m-%d %H:%M")
        cells = (
            e(record.id),
            e(started),
            f"<code>{e(what)}</code>{status}",
            e(fmt.duration(record.duration_s)),
            f'<span class="gw-value-{e(look(kind).provenance)}">{e(fmt.energy(energy_j))}</span>',
            e(fmt.mass_g(grams)),
            provenance,
        )
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    more = (
        f'<p class="gw-small">The {len(runs)} most recent of {total}; '
        "`genwatt results --kind measure` lists them all.</p>"
        if total > len(runs)
        else ""
    )
    return (
        f'<div class="gw-table-wrap"><table class="gw-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>{more}"
    )
