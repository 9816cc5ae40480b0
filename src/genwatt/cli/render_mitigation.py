"""Tables for ``genwatt mitigate``: savings and their quality price, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from genwatt.cli.render import console, provenance_text
from genwatt.mitigate.compare import Comparison, StrategyResult
from genwatt.mitigate.timing import SAME_OUTPUT_ATOL
from genwatt.units import format_energy_j


def _x(value: float | None) -> str:
    if value is None:
        return "-"
    return "∞" if value == float("inf") else f"{value:.2f}x"


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _rate(rates: dict[str, float] | None, key: str) -> str:
    return "-" if rates is None else f"{rates[key]:.0%}"


def _row(result: StrategyResult, reference: bool = False) -> list[str]:
    if not result.ok:
        return [escape(result.name), result.kind, "[red]failed[/]", *["-"] * 8]
    rates = result.adherence_rates()
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
        format_energy_j(result.energy_j) + " " + provenance_text(str(result.provenance)),
        *quality,
        _rate(rates, "overall_rate"),
        _rate(rates, "colour_rate"),
    ]


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


def print_mitigation(comparison: Comparison, *, notes: list[str], sweep: str, store: Path) -> None:
    """One row per strategy: savings (x fewer), energy with provenance, quality."""
    out = console()
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
    )
    table.add_column("strategy", no_wrap=True)
    table.add_column("kind")
    for name in ("FLOPs saved", "energy saved", "energy used"):
        table.add_column(name, justify="right")
    for name in ("PSNR dB", "min dB", "≥30 dB", "SSIM", "adherence", "colour ok"):
        table.add_column(name, justify="right")
    table.add_row(*_row(comparison.baseline, reference=True))
    for result in comparison.strategies:
        table.add_row(*_row(result))
    out.print(table)
    for result in comparison.strategies:
        if not result.ok:
            why = result.error or "no cases ran"
            out.print(f"[red]{escape(result.name)} failed: {escape(why)}[/]")
    for warning in _timing_warnings(comparison):
        out.print(f"[yellow]{escape(warning)}[/]")
    out.print(
        "[dim]Savings are baseline / strategy (2.00x = half). FLOPs: denoising work "
        "actually executed; on small models time and energy include the hooks' own "
        "overhead, so FLOPs are the figure to trust. PSNR/SSIM: against the "
        "baseline output of the same prompt and seed (PSNR capped at 100 dB); a reused "
        "clip made with another seed scores low here, so judge reuse by adherence. "
        "Adherence: colour, direction and shape all shown.[/]"
    )
    for note in notes:
        out.print(f"[yellow]{escape(note)}[/]")
    out.print(f"comparison [bold]{escape(sweep)}[/] saved in {escape(str(store))}")


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
