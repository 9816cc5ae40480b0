"""Tables for ``genwatt mitigate``: savings and their quality price, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console, JustifyMethod
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from genwatt.cli.render import console, provenance_text
from genwatt.mitigate.comparison.compare import Comparison, StrategyResult
from genwatt.mitigate.comparison.conventions import MIN_WORK_SAVED
from genwatt.mitigate.comparison.size import FULL_PROMPTS, RunEstimate
from genwatt.mitigate.comparison.timing import SAME_OUTPUT_ATOL
from genwatt.units import format_energy_j

#: (header, justify, wraps). Headers break where written, and cells hold only short
#: words, so that the table's natural width fits a 120-column terminal; figures never
#: wrap and never shrink below their width (``_add_columns``).
_COLUMNS: tuple[tuple[str, JustifyMethod, bool], ...] = (
    ("strategy", "left", True),
    ("kind", "left", True),
    ("FLOPs\nsaved", "right", False),
    ("energy\nsaved", "right", False),
    ("energy\nused", "right", True),
    ("PSNR\ndB", "right", False),
    ("min\ndB", "right", False),
    ("≥30\ndB", "right", False),
    ("SSIM", "right", False),
    ("colour", "right", False),
    ("direction", "right", False),
    ("shape", "right", False),
    ("all 3", "right", False),
)
_ADHERENCE_PARTS = ("colour", "direction", "shape", "all_three")


def _x(value: float | None) -> str:
    if value is None:
        return "-"
    return "∞" if value == float("inf") else f"{value:.2f}x"


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _adherence(result: StrategyResult) -> list[str]:
    parts = result.adherence_parts()
    if parts is None:
        return ["-"] * len(_ADHERENCE_PARTS)
    return [f"{parts[key]:.0%}" for key in _ADHERENCE_PARTS]


def _row(result: StrategyResult, reference: bool = False) -> list[str]:
    if not result.ok:
        return [escape(result.name), result.kind, "[red]failed[/]", *["-"] * (len(_COLUMNS) - 3)]
    good = result.share_good_psnr
    quality = (
        ["ref"] * 4
        if reference
        else [
            _num(result.psnr_db_mean, ".1f"),
            _num(result.psnr_db_min, ".1f"),
            "-" if good is None else f"{good:.0%}",
            _num(result.ssim_mean, ".3f"),
        ]
    )
    return [
        escape(result.name),
        result.kind,
        _x(result.flops_ratio) if not reference else "1x",
        _x(result.energy_ratio) if not reference else "1x",
        format_energy_j(result.energy_j) + "\n" + provenance_text(str(result.provenance)),
        *quality,
        *_adherence(result),
    ]


def _add_columns(table: Table, rows: list[list[str]]) -> None:
    """The columns; a column of figures is never narrower than its widest figure.

    Why: rich shrinks columns to fit the terminal and cuts what no longer fits with "…";
    a cut figure ("3.0…") is a wrong figure. Where the terminal is too narrow, names and
    words fold instead, and figure columns (``no_wrap``) are the last to give way.
    """
    for index, (header, justify, wraps) in enumerate(_COLUMNS):
        widest = max((Text.from_markup(row[index]).cell_len for row in rows), default=1)
        table.add_column(
            header,
            justify=justify,
            no_wrap=not wraps,
            overflow="fold",
            min_width=None if wraps else widest,
        )


def timing_caption(comparison: Comparison) -> str:
    """One line saying how time and energy were taken, naming the strategies that differ.

    Why spelled out: ``--timing separate`` cannot re-run reuse strategies, so their
    figures include the FLOP counter's overhead while the others' do not.
    """
    results = [comparison.baseline, *(r for r in comparison.strategies if r.ok)]
    groups: dict[str, list[str]] = {}
    for result in results:
        if result.timing is not None:
            groups.setdefault(result.timing, []).append(result.name)
    usual = groups.pop(comparison.baseline.timing or "", None)
    parts = [f"time and energy: {comparison.baseline.timing}"] if usual is not None else []
    parts += [
        f"{', '.join(names)}: {label}, and their savings against the baseline's counted "
        "run, as they cannot run a case twice (a reuse cache would hit what it just stored)"
        for label, names in groups.items()
    ]
    return "; ".join(parts)


def _timing_warnings(comparison: Comparison) -> list[str]:
    warnings = []
    for result in comparison.strategies:
        if result.timed_output_matches is False:
            off = [c for c in result.cases if c.timed_output_matches is False]
            worst = max(c.timed_output_diff or 0.0 for c in off)
            warnings.append(
                f"{result.name}: the timed run's output differed from the counted run's in "
                f"{len(off)} of {len(result.cases)} cases (max abs diff {worst:.2g} > "
                f"{SAME_OUTPUT_ATOL:.2g}), so its time and energy may belong to other work "
                "than its FLOPs and quality; try --timing instrumented."
            )
    return warnings


def print_mitigation(
    comparison: Comparison,
    *,
    notes: list[str],
    sweep: str,
    store: Path,
    out: Console | None = None,
) -> None:
    """One row per strategy: savings (x fewer), energy with provenance, quality."""
    out = out or console()
    call = comparison.call
    title = (
        f"{comparison.model}: {len(comparison.cases)} prompt x seed cases, baseline "
        f"{call.get('num_inference_steps')} steps, guidance {call.get('guidance_scale')}"
    )
    table = Table(
        title=escape(title),
        title_justify="left",
        caption=escape(timing_caption(comparison)),
        caption_justify="left",
        # No column rules and one space of padding: 13 columns of figures fit in 120.
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 0, 0, 1),
    )
    rows = [_row(comparison.baseline, reference=True)]
    rows += [_row(result) for result in comparison.strategies]
    _add_columns(table, rows)
    for row in rows:
        table.add_row(*row)
    out.print(table)
    for result in comparison.strategies:
        if not result.ok:
            why = result.error or "no cases ran"
            out.print(f"[red]{escape(result.name)} failed: {escape(why)}[/]")
    _print_no_saving(out, comparison)
    for warning in _timing_warnings(comparison):
        out.print(f"[yellow]{escape(warning)}[/]")
    out.print(
        "[dim]Savings are baseline / strategy (2.00x = half). FLOPs: denoising work "
        "actually executed; on small models time and energy include the hooks' own "
        "overhead, so FLOPs are the figure to trust. PSNR/SSIM: against the "
        "baseline output of the same prompt and seed (PSNR capped at 100 dB); a reused "
        "clip made with another seed scores low here, so judge reuse by adherence. "
        "Adherence: share of clips whose colour, direction and shape each match the "
        "caption; 'all 3': share where all three do at once (at most the lowest part).[/]"
    )
    for note in notes:
        out.print(f"[yellow]{escape(note)}[/]")
    out.print(f"comparison [bold]{escape(sweep)}[/] saved in {escape(str(store))}")


def _print_no_saving(out: Console, comparison: Comparison) -> None:
    """Name the strategies that saved no work: their row is no trade-off to weigh."""
    idle = [r for r in comparison.strategies if r.ok and r.saves_work is False]
    if not idle:
        return
    why = "; reuse saves only where prompts repeat" if any(r.kind == "reuse" for r in idle) else ""
    out.print(
        f"[yellow]{escape(', '.join(r.name for r in idle))}: no saving on this prompt set "
        f"(under {MIN_WORK_SAVED:.0%} of the denoising FLOPs saved), so no trade-off to "
        f"weigh{why}.[/]"
    )


def print_estimate(estimate: RunEstimate, *, quick: bool, stderr: bool = False) -> None:
    """How long the comparison should take, before it starts; on stderr under ``--json``."""
    out = console(stderr=stderr)
    hint = (
        f". This is the quick set; --full runs every default strategy on {FULL_PROMPTS} prompts"
        if quick
        else ""
    )
    line = estimate.describe()
    out.print(f"[dim]{escape(line[:1].upper() + line[1:])}{escape(hint)}.[/]")


def print_strategy_catalog(rows: list[dict[str, Any]]) -> None:
    """What ``--strategies`` accepts."""
    out = console()
    table = Table(title="Strategies for --strategies NAME[:SETTING]", title_justify="left")
    for column in ("name", "kind", "setting", "default", "what it does"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            escape(row["name"]),
            row["kind"],
            escape(row.get("setting") or "-"),
            escape(str(row.get("default", "-"))),
            escape(row["description"]),
        )
    out.print(table)
