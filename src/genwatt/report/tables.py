"""The report's tables as HTML: the leaderboard, every configuration, the measured commands.

Every value that came from a user (model names, commands, hardware names) goes through
``html.escape`` here; numbers are formatted by ``genwatt.formatting``. A cell that has no
value shows "—" with a numbered note saying why, never an empty cell.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from genwatt import formatting as fmt
from genwatt.carbon.setting import stored_run_co2e
from genwatt.report.leaderboard import PER, Leaderboard, LeaderboardRow, Ranking
from genwatt.report.provenance import PREDICTED, look
from genwatt.report.ratings import MIN_MODELS, STARS, star_text
from genwatt.report.series import TASK_NAMES
from genwatt.store.records import RunRecord


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
    parts = [q.text() for q in row.equivalents]
    return '<span class="gw-nowrap">' + "<br>".join(e(p) for p in parts) + "</span>"


def _stars(row: LeaderboardRow) -> str:
    if row.stars is None:
        return fmt.DASH
    return (
        f'<span class="gw-stars" title="{row.stars} of {STARS}" '
        f'aria-label="{row.stars} of {STARS} stars">{star_text(row.stars)}</span>'
    )


# The columns every row has, after what identifies it (model or settings).
_MEASURES = (
    "Runs",
    "Energy per generation",
    f"Energy per {PER:,} generations",
    "CO2e per generation",
    f"{PER:,} generations ≈",
    "Latency",
    "Predicted GPU",
    "Above floor",
    "Provenance",
)
_RANKED_HEAD = ("#", "Model and hardware", *_MEASURES, "Rating")
_CONFIG_HEAD = ("Settings", *_MEASURES)


def _measure_cells(row: LeaderboardRow, notes: Notes) -> tuple[str, ...]:
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
    return (
        runs,
        f'<span class="{value_class}">{e(fmt.energy(row.energy_j))}</span>',
        f'<span class="{value_class}">{e(fmt.energy(row.energy_j * PER))}</span>',
        e(fmt.mass_g(row.co2e_g)),
        _equivalents(row),
        e(fmt.duration(row.latency_s)),
        predicted,
        floor,
        badge(row.provenance),
    )


def _tr(cells: tuple[str, ...]) -> str:
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _table(head: tuple[str, ...], rows: list[str], what: str) -> str:
    """A table of ``rows``; beyond ``VISIBLE_ROWS`` the rest fold away (still printed)."""
    header = "".join(f'<th scope="col">{e(h)}</th>' for h in head)
    body, hidden = rows[:VISIBLE_ROWS], rows[VISIBLE_ROWS:]
    table = (
        f'<div class="gw-table-wrap"><table class="gw-table gw-leaderboard"><thead><tr>{header}'
        f"</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )
    if not hidden:
        return table
    return (
        f'{table}<details class="gw-more"><summary>Show the other {len(hidden)} {e(what)}'
        f'</summary><div class="gw-table-wrap"><table class="gw-table gw-leaderboard"><thead>'
        f"<tr>{header}</tr></thead><tbody>{''.join(hidden)}</tbody></table></div></details>"
    )


# A sweep stores dozens of configurations per model: the first ones are shown,
# the rest fold away (still in the page, and printed: see the print styles).
VISIBLE_ROWS = 10


def _grid_note(board: Leaderboard) -> str:
    grids = "; ".join(board.grids) or "none"
    return (
        f'<p class="gw-small">CO2e (gross: no idle power subtracted) on {e(grids)}. '
        "Energy is per output (a batch of four counts as four generations), summed over "
        "every metered domain (GPU, CPU, DRAM); latency is per pipeline call. The floor "
        "ratio is the measured GPU energy over the least energy the workload's FLOPs "
        "could take (every FLOP at the GPU's peak rate, drawing its TDP).</p>"
    )


def _ranking_html(ranking: Ranking, notes: Notes) -> str:
    rows = [
        _tr(
            (
                str(rank),
                f'<span class="gw-model">{e(row.model)}</span><br>'
                f'<span class="gw-hardware">{e(row.hardware)}</span>',
                *_measure_cells(row, notes),
                _stars(row),
            )
        )
        for rank, row in enumerate(ranking.rows, 1)
    ]
    facts = []
    if ranking.left_out:
        facts.append(f"Not measured at these settings: {', '.join(ranking.left_out)}.")
    if ranking.other_shared:
        facts.append(
            f"{ranking.other_shared} other settings were measured on two models or more; "
            "these are the ones measured on the most."
        )
    if not ranking.rated:
        facts.append(f"No ratings: they need at least {MIN_MODELS} models.")
    small = f'<p class="gw-small">{e(" ".join(facts))}</p>' if facts else ""
    title = f"{TASK_NAMES.get(ranking.task, ranking.task)}, all at {ranking.settings}"
    return f"<h3>{e(title)}</h3>{_table(_RANKED_HEAD, rows, 'models')}{small}"


def leaderboard_html(board: Leaderboard) -> str:
    """Per task, its models ranked at the same settings, least energy first; "" when no
    task has two models measured alike (``board.unranked`` says why)."""
    if not board.rankings:
        return ""
    notes = Notes("gw-rank-note")
    parts = [_ranking_html(r, notes) for r in board.rankings]
    if board.unranked:
        parts.append(f'<p class="gw-small">Not ranked: {e("; ".join(board.unranked))}.</p>')
    return "".join(parts) + _grid_note(board) + notes.html()


def configurations_html(board: Leaderboard) -> str:
    """Every measured configuration of every series, in the order measured, unranked."""
    if not board.configurations:
        return ""
    notes = Notes("gw-config-note")
    parts: list[str] = []
    for label in dict.fromkeys(r.series for r in board.configurations):
        rows = [
            _tr((f'<span class="gw-nowrap">{e(r.settings)}</span>', *_measure_cells(r, notes)))
            for r in board.configurations
            if r.series == label
        ]
        parts.append(f"<h3>{e(label)}</h3>{_table(_CONFIG_HEAD, rows, 'configurations')}")
    return "".join(parts) + _grid_note(board) + notes.html()


def other_runs_html(
    runs: tuple[RunRecord, ...],
    total: int,
    country: str | None,
    pue: float | None = None,
    cloud: str | None = None,
) -> str:
    """Runs that are not generations (commands under ``genwatt measure``), newest first.

    CO2e is gross (the whole window, as stored) on the grid each run was stored with,
    the same figure ``genwatt measure`` printed as gross; the cell's title names it."""
    if not runs:
        return ""
    head = "".join(
        f'<th scope="col">{h}</th>'
        for h in ("Run", "Started", "Command", "Duration", "Energy", "CO2e (gross)", "Provenance")
    )
    rows = []
    for record in runs:
        main = record.main_window
        energy_j = None if main is None else main.total_energy_j
        grams, grid = stored_run_co2e(record.extra, energy_j, country=country, pue=pue, cloud=cloud)
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
            f'<span title="{e(grid)}">{e(fmt.mass_g(grams))}</span>',
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
