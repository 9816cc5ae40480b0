"""Rich rendering shared by the commands: tables and provenance colours are written once,
here; numbers come from ``genwatt.formatting``.

Reports go to stderr when the command's stdout belongs to something else (the measured
command's own output); tables always show the provenance next to every energy figure.

Tables never cut a number: a 120-column terminal that cannot fit a table must not turn
``3.07`` into ``3.0…``. Rich narrows wrappable columns first, each down to its longest
word, and only then cuts every column alike. So numeric columns (``number_column``)
are wrappable with ``overflow="fold"``: a number is one word, so they keep it whole,
and if a table is hopeless they fold it onto two lines rather than drop digits. Text
columns wrap at spaces and are never ``no_wrap`` (that would push the squeeze onto
the numbers), and headers are short or have spaces to wrap at. Numbers are printed
without exponents (``number``).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from genwatt.carbon.equivalents import Equivalent
from genwatt.formatting import mass_g, sig
from genwatt.meter.phases import OTHER, PHASES
from genwatt.units import format_energy_j

PROVENANCE_STYLE = {"measured": "green", "estimated": "yellow", "predicted": "cyan"}


# When output is piped (CI logs, files) rich assumes 80 columns, which folds every table.
PIPED_WIDTH = 120


def console(stderr: bool = False, piped_width: int = PIPED_WIDTH) -> Console:
    probe = Console(stderr=stderr)
    width = None if probe.is_terminal else piped_width
    return Console(stderr=stderr, highlight=False, width=width)


def number_column(table: Table, header: str) -> None:
    """A right-aligned column of numbers that rich never truncates (see the module doc)."""
    table.add_column(header, justify="right", overflow="fold")


def text_column(table: Table, header: str) -> None:
    """A column of words that wraps at spaces to make room for the numbers."""
    table.add_column(header, overflow="fold")


def number(value: float, digits: int = 3) -> str:
    """A table cell's number: ``digits`` significant figures, never an exponent; "-"
    for NaN (a configuration with no successful run)."""
    return "-" if value != value else sig(value, digits)


def provenance_text(provenance: str) -> str:
    style = PROVENANCE_STYLE.get(provenance, "white")
    return f"[{style}]{provenance}[/]"


def print_inventory(report: dict[str, Any]) -> None:
    out = console()
    table = Table(title="Energy domains on this machine", title_justify="left")
    for column in ("domain", "method", "provenance", "device", "notes"):
        table.add_column(column)
    for d in report["domains"]:
        notes = list(d["flags"])
        if d["assumptions"]:
            notes.append(_assumption_summary(d["assumptions"]))
        table.add_row(
            d["domain"],
            d["method"],
            provenance_text(d["provenance"]),
            escape(d["device"]),
            escape("\n".join(notes)),
        )
    out.print(table)
    if report["missing"]:
        missing = Table(title="Counters not available", title_justify="left")
        for column in ("source", "why", "fix"):
            missing.add_column(column)
        for m in report["missing"]:
            missing.add_row(m["source"], escape(m["reason"]), escape(m["fix"] or ""))
        out.print(missing)
    if not report["all_measured"]:
        out.print(
            "[yellow]Some domains have no hardware counter: their figures are estimates "
            "(labelled 'estimated' everywhere they appear).[/]"
        )


def _assumption_summary(assumptions: dict[str, Any]) -> str:
    keys = ("watts_per_thread", "tdp_w", "threads", "installed_gb", "watts_per_gb")
    parts = [
        f"{k}={assumptions[k]:.3g}" for k in keys if isinstance(assumptions.get(k), float | int)
    ]
    if isinstance(assumptions.get("scope"), str):  # whose energy: a process tree, a machine
        parts.append(f"scope={assumptions['scope']}")
    return (
        "model: " + str(assumptions.get("model", "")) + (f" ({', '.join(parts)})" if parts else "")
    )


def energy_table(
    energy_j: dict[str, float],
    provenance: dict[str, str],
    *,
    title: str | None = None,
    errors: dict[str, str] | None = None,
    flags: dict[str, list[str]] | None = None,
) -> Table:
    table = Table(title=title, title_justify="left")
    text_column(table, "domain")
    number_column(table, "energy")
    number_column(table, "J")
    text_column(table, "provenance")
    text_column(table, "notes")
    for domain, value in energy_j.items():
        notes = escape("\n".join((flags or {}).get(domain, [])))
        table.add_row(
            domain,
            format_energy_j(value),
            number(value, 4),
            provenance_text(provenance[domain]),
            notes,
        )
    for domain, why in (errors or {}).items():
        table.add_row(domain, "[red]n/a[/]", "", "", f"[red]{escape(why)}[/]")
    return table


def print_measurement(report: dict[str, Any], title: str) -> None:
    out = console(stderr=True)
    net = " (net of idle)" if report["net_of_idle"] else ""
    out.print(
        energy_table(
            report["energy_j"],
            report["provenance"],
            title=escape(f"genwatt measure: {title}{net}"),
            errors=report["errors"],
            flags=report["flags"],
        )
    )
    carbon = report["carbon"]
    intensity = carbon["intensity"]
    where = "world average (default)" if intensity["is_default"] else intensity["name"]
    # Both CO2e figures are labelled: the net one is what this command reports, the
    # gross one is what the report and exports show for the stored run.
    co2e = f"[bold]{mass_g(report['co2e_g'])} CO2e[/]"
    if report["net_of_idle"]:
        co2e += f" net of idle ({mass_g(report['co2e_g_gross'])} gross)"
    out.print(
        f"duration [bold]{report['duration_s']:.3f} s[/]  ·  total "
        f"[bold]{format_energy_j(report['energy_j_total'])}[/] "
        f"({provenance_text(report['provenance_total'])})  ·  "
        f"{co2e} at {intensity['g_per_kwh']:.0f} g/kWh, "
        f"{escape(where)}, PUE {carbon['pue']:g} ({escape(intensity['source'])}"
        + (f", {intensity['year']})" if intensity["year"] else ")")
    )
    if report["equivalents"]:
        out.print("≈ " + "  ·  ".join(escape(_equivalent_text(e)) for e in report["equivalents"]))
    if report.get("run_id") is not None:
        out.print(f"[dim]stored as run {report['run_id']} in {report['store']}[/]")
    out.print(f"exit code {report['exit_code']}")


def _equivalent_text(item: dict[str, Any]) -> str:
    """``3.2 m by petrol car``: the equivalent in a unit a person reads (no exponent)."""
    fields = {k: v for k, v in item.items() if k in Equivalent.__dataclass_fields__}
    return Equivalent(**fields).text()


def print_plan(
    plan: list[Any],
    spec: Any,
    sweep: str,
    *,
    costs: list[Any] | None = None,
    gpu: str | None = None,
) -> None:
    out = console()
    table = Table(title=escape(f"Plan for sweep {sweep}: {spec.model}, {len(plan)} configurations"))
    number_column(table, "#")
    for column in ("configuration", "requested", "prompt"):
        text_column(table, column)
    number_column(table, "seed")
    if costs is not None:
        number_column(table, "predicted s")
        number_column(table, "predicted GPU")
    text_column(table, "notes")
    for i, config in enumerate(plan, 1):
        requested = ", ".join(f"{k}={v}" for k, v in config.requested.items())
        cells = [
            str(i),
            escape(config.label()),
            escape(requested),
            escape(config.prompt[:40]),
            str(config.seed),
        ]
        notes = list(config.notes)
        if costs is not None:
            cost = costs[i - 1]
            if cost.energy_gpu_j is None:
                cells += ["-", "-"]
                notes.append(f"no prediction: {cost.reason}")
            else:
                cells += [
                    number(cost.latency_s),
                    provenance_text("predicted") + " " + format_energy_j(cost.energy_gpu_j),
                ]
        table.add_row(*cells, escape("; ".join(notes)))
    out.print(table)
    per = spec.runs_per_config
    runs = len(plan) * per
    out.print(f"{runs} runs ({per} per configuration), warm-up {spec.warmup} per configuration")
    if costs is None:
        out.print("[dim]Pass --gpu NAME (see `genwatt gpus`) to see the predicted cost.[/]")
        return
    priced = [c for c in costs if c.energy_gpu_j is not None]
    if priced:
        calls = per + spec.warmup
        energy = sum(c.energy_gpu_j for c in priced) * calls
        seconds = sum(c.latency_s for c in priced) * calls
        out.print(
            f"predicted on {escape(gpu or '')}: {provenance_text('predicted')} "
            f"{format_energy_j(energy)} of GPU energy and {number(seconds / 60)} min of generation "
            f"for the whole sweep, warm-ups included ({escape(priced[0].calibration or '')})"
        )


# Phase headers no wider than their numbers, so a 120-column table need not squeeze.
_PHASE_HEADERS = {"text_encode": "text enc", "vae_decode": "VAE dec"}


def _interval(low: float | None, high: float | None) -> str:
    """`` (95% CI 0.91–1.10)``; nothing without one (the fit's note says why), never
    ``-inf–inf``."""
    return "" if low is None or high is None else f" (95% CI {low:.2f}–{high:.2f})"


def _r_squared(value: float) -> str:
    """R² to three decimals; "n/a" when the response does not vary (no variance to explain)."""
    return "n/a" if value != value else f"{value:.3f}"


def _print_headline(out: Console, report: Any) -> None:
    """What one generation costs, before the table (see ``genwatt.report.headline``)."""
    from genwatt.report.headline import headline

    found = headline(report.spec.model, report.summaries)
    if found is not None:
        out.print(f"[bold]{escape(found.text())}[/]")


def print_sweep_report(report: Any) -> None:
    out = console()
    _print_headline(out, report)
    if report.outcome.placement is not None:
        out.print(escape(report.outcome.placement.describe()))
    table = Table(
        title=escape(
            f"{report.spec.model} ({report.spec.weights or 'default weights'}, "
            f"{report.spec.device}) — energy per generation, joules"
        ),
        title_justify="left",
    )
    text_column(table, "settings")
    text_column(table, "runs")
    number_column(table, "latency s")
    shown = [p for p in PHASES if any(s.phases_j.get(p) for s in report.summaries)] + [OTHER]
    for phase in shown:
        number_column(table, _PHASE_HEADERS.get(phase, phase.replace("_", " ")))
    number_column(table, "total J")
    number_column(table, "total")
    text_column(table, "provenance")
    for s in report.summaries:
        if not s.runs:
            why = escape(s.errors[0][:60] if s.errors else "")
            table.add_row(
                escape(s.label()),
                f"0 ({s.failed} failed)",
                *[""] * (len(shown) + 3),
                f"[red]{why}[/]",
            )
            continue
        table.add_row(
            escape(s.label()),
            str(s.runs) + (f" ({s.failed} failed)" if s.failed else ""),
            f"{s.mean_latency_s:.3f}",
            *(number(s.mean_phase_j(p)) for p in shown),
            number(s.mean_energy_j),
            format_energy_j(s.mean_energy_j),
            provenance_text(str(s.provenance)),
        )
    out.print(table)
    fits = (
        (report.energy_fit, "energy"),
        (report.phase_fit, report.phase_fit.response.removesuffix("_j") + " energy"),
        (report.latency_fit, "latency"),
    )
    for fit, what in fits:
        if not fit.exponents:
            out.print(f"[dim]{what} scaling: {fit.note}[/]")
            continue
        parts = [
            f"{name} [bold]{e.value:.2f}[/]" + _interval(e.ci_low, e.ci_high)
            for name, e in fit.exponents.items()
        ]
        note = f" ({escape(fit.note)})" if fit.note else ""
        out.print(
            f"{what} ∝ "
            + " · ".join(parts)
            + f"   R²={_r_squared(fit.r_squared)}, {fit.points} configs{note}"
        )
    provenances = {s.provenance for s in report.summaries if s.provenance}
    if any(str(p) != "measured" for p in provenances):
        out.print(
            "[yellow]Energy here is estimated (no hardware counter for some domains); "
            "see `genwatt env`.[/]"
        )
    out.print(f"[dim]{escape(report.weights_note)}[/]")
    done = f"{report.outcome.ran} run(s) now, {report.outcome.skipped} already stored"
    if report.outcome.failed:
        done += f", [red]{report.outcome.failed} failed[/]"
        if report.outcome.retryable:
            done += (
                f" ({report.outcome.retryable} for genwatt's own reasons: a resume retries them)"
            )
    out.print(f"sweep [bold]{escape(report.sweep)}[/] in {escape(str(report.store))}: {done}")
