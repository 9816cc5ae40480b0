"""The "Cutting the energy" section as HTML: per comparison, its figure and its table.

One table per comparison, the reference first, then the strategies by work saved (the
figure's x axis, read left to right from the bottom), then those that failed with their
error. Energy is styled by its provenance as in the leaderboard ("≈" and italics when
estimated), since on a small model it is the figure a reader should trust least: it
includes the hooks' overhead, which FLOPs do not. A strategy that saved no work says
"no saving on this prompt set" where a frontier point says "◆ frontier", and adherence
shows the share of clips with all three parts of the caption above each part's own share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from genwatt import formatting as fmt
from genwatt.mitigate.comparison.conventions import GOOD_PSNR_DB, PSNR_CAP_DB
from genwatt.report.mitigation import (
    ComparisonFigures,
    MitigationSection,
    StoredComparison,
    StrategyRow,
)
from genwatt.report.provenance import look
from genwatt.report.tables import Notes, badge, e

_HEAD = (
    "Strategy",
    "Kind",
    "FLOPs saved",
    "Energy saved",
    "Time saved",
    "Mean PSNR",
    "Min PSNR",
    f"≥ {fmt.sig(GOOD_PSNR_DB)} dB",
    "SSIM",
    "Adherence: all three",
    "Energy provenance",
)
_NO_ADHERENCE = (
    "adherence is checked only when the prompts are captions the reference model was "
    "trained on (`genwatt mitigate` on genwatt's reference model)"
)
_NO_ENERGY = "no energy was metered for this strategy or for the unmitigated reference"
_NO_FLOPS = "the unmitigated reference ran no denoising FLOPs, so there is nothing to save"
_NO_SAVING = "no saving on this prompt set"
_ERROR_CHARS = 300


def _order(rows: tuple[StrategyRow, ...]) -> list[StrategyRow]:
    def key(row: StrategyRow) -> tuple[int, float]:
        if row.is_reference:
            return (0, 0.0)
        if not row.ok:
            return (2, 0.0)
        return (1, -(row.flops_ratio if row.flops_ratio is not None else -math.inf))

    return sorted(rows, key=key)


def _psnr(value: float | None) -> str:
    if value is None:
        return fmt.DASH
    return "identical" if value >= PSNR_CAP_DB else f"{fmt.sig(value)} dB"


def _share(value: float | None) -> str:
    return fmt.DASH if value is None else f"{value:.0%}"


def _small(text: str, classes: str = "") -> str:
    return f'<br><span class="gw-per-1000 {classes}">{e(text)}</span>'


def _adherence(row: StrategyRow, notes: Notes) -> str:
    """The share of clips showing the whole caption, and below it each part on its own:
    one weak part (shape) must not hide two strong ones behind a low headline."""
    found = row.adherence
    if found is None:
        return notes.mark(_NO_ADHERENCE)
    parts = found.parts
    detail = (
        _small(" · ".join(f"{name} {value:.0%}" for name, value in parts.items()))
        if parts is not None
        else ""
    )
    return _share(found.all_three) + detail


def _reference_row(row: StrategyRow, notes: Notes) -> list[str]:
    value_class = f"gw-value-{e(look(row.provenance).provenance)}"
    energy = (
        f'<span class="{value_class}">{e(fmt.energy(row.energy_per_case_j))}</span> per case'
        if row.energy_per_case_j is not None
        else notes.mark(_NO_ENERGY)
    )
    return [
        "reference" + _small(fmt.flops(row.flops)),
        energy,
        "reference",
        "identical",
        "identical",
        _share(row.share_good),
        fmt.DASH if row.ssim is None else e(fmt.sig(row.ssim)),
        _adherence(row, notes),
    ]


def _time_saved(row: StrategyRow, reference_timing: str | None) -> str:
    """The latency ratio, and why it may not compare with the other rows' when it does not."""
    cell = e(fmt.saving(row.latency_ratio))
    if row.timing and row.timing != reference_timing:
        against = row.ratio_baseline_timing or reference_timing or "unknown"
        cell += _small(f"timed in: {row.timing}; against the reference's {against}")
    if row.timed_output_matches is False:
        cell += _small("a timed run's output differed from its counted run", "gw-failed")
    return cell


def _strategy_cells(row: StrategyRow, notes: Notes, reference_timing: str | None) -> list[str]:
    value_class = f"gw-value-{e(look(row.provenance).provenance)}"
    flops = (
        e(fmt.saving(row.flops_ratio)) + _small(fmt.flops(row.flops))
        if row.flops_ratio is not None
        else notes.mark(_NO_FLOPS)
    )
    per_case = row.energy_per_case_j
    energy = (
        f'<span class="{value_class}">{e(fmt.saving(row.energy_ratio))}</span>'
        + (_small(f"{fmt.energy(per_case)} per case", value_class) if per_case is not None else "")
        if row.energy_ratio is not None
        else notes.mark(_NO_ENERGY)
    )
    return [
        flops,
        energy,
        _time_saved(row, reference_timing),
        e(_psnr(row.psnr_db)),
        e(_psnr(row.psnr_db_min)),
        _share(row.share_good),
        fmt.DASH if row.ssim is None else e(fmt.sig(row.ssim)),
        _adherence(row, notes),
    ]


def _row(row: StrategyRow, front: set[str], notes: Notes, reference_timing: str | None) -> str:
    name = f'<span class="gw-model">{e(row.name)}</span>'
    if row.saves_work is False:
        name += _small(_NO_SAVING)
    elif row.name in front and not row.is_reference:
        name += ' <span class="gw-frontier" title="on the Pareto frontier">◆ frontier</span>'
    head = [name, e("reference" if row.is_reference else row.kind)]
    if not row.ok:
        error = (row.error or "no case ran")[:_ERROR_CHARS]
        colspan = len(_HEAD) - len(head)
        cells = "".join(f"<td>{c}</td>" for c in head)
        return (
            f'<tr class="gw-failed-row">{cells}<td colspan="{colspan}">'
            f'<span class="gw-failed">failed: {e(error)}</span></td></tr>'
        )
    body = (
        _reference_row(row, notes)
        if row.is_reference
        else _strategy_cells(row, notes, reference_timing)
    )
    provenance = badge(row.provenance) if row.provenance else fmt.DASH
    return "<tr>" + "".join(f"<td>{c}</td>" for c in (*head, *body, provenance)) + "</tr>"


def comparison_table(item: ComparisonFigures, index: int) -> str:
    """The table of one comparison, and the notes of its "—" cells."""
    front = {p.name for p in item.pareto.front} if item.pareto is not None else set()
    notes = Notes(prefix=f"gw-mitigation-{index}-note")
    reference = item.comparison.reference
    timing = reference.timing if reference is not None else None
    rows = "".join(_row(r, front, notes, timing) for r in _order(item.comparison.rows))
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in _HEAD)
    return (
        '<div class="gw-table-wrap"><table class="gw-table gw-mitigation"><thead><tr>'
        f"{head}</tr></thead><tbody>{rows}</tbody></table></div>{notes.html()}"
    )


def _heading(comparison: StoredComparison) -> str:
    call = ", ".join(f"{k}={v}" for k, v in comparison.call.items() if v is not None)
    return (
        f"<h3>{e(comparison.model)} · {e(comparison.started)}</h3>"
        f'<p class="gw-small">Sweep <code>{e(comparison.sweep)}</code>: '
        f"{comparison.n_cases} prompt × seed cases"
        + (f"; every case called with <code>{e(call)}</code>" if call else "")
        + "."
        + _timing_sentence(comparison)
        + "</p>"
    )


def _timing_sentence(comparison: StoredComparison) -> str:
    """How seconds and joules were taken: without the FLOP counter, or with its overhead."""
    reference = comparison.reference
    if reference is None or reference.timing is None:
        return ""
    return f" Seconds and joules: {e(reference.timing)}, unless a row says otherwise."


def _older(older: tuple[StoredComparison, ...]) -> str:
    if not older:
        return ""
    items = "".join(
        f"<li><code>{e(c.sweep)}</code>: {e(c.model)}, {e(c.started)}, "
        f"{len(c.strategies)} strategies</li>"
        for c in older
    )
    return (
        f"<h3>{len(older)} older {'comparison' if len(older) == 1 else 'comparisons'}</h3>"
        f'<ul class="gw-small">{items}</ul><p class="gw-small">`genwatt report --sweep '
        "SWEEP` draws one of them.</p>"
    )


def mitigation_html(section: MitigationSection, figures: Mapping[str, str]) -> str:
    """The section's body (empty without comparisons); ``figures`` maps a sweep to the
    HTML of its drawn figure."""
    if not section.shown:
        return ""
    parts = []
    for index, item in enumerate(section.shown, 1):
        figure = figures.get(item.comparison.sweep) or (
            '<p class="gw-empty">No strategy finished with a FLOP saving and a PSNR, so '
            "there is no figure; the table says why.</p>"
        )
        parts.append(_heading(item.comparison) + figure + comparison_table(item, index))
    return "".join(parts) + _older(section.older)
