"""`genwatt results`: list the stored runs, or export them to JSON, CSV or Parquet,
CodeCarbon's ``emissions.csv``, or a model card's ``co2_eq_emissions`` block.

Thin on purpose: the store reads, ``genwatt.store.export``,
``genwatt.store.codecarbon_csv`` and ``genwatt.report.model_card`` shape, this prints.
The app registers it with ``app.command("results")(results)``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from genwatt.errors import GenwattError
from genwatt.store.export import export, records_json
from genwatt.store.records import RunRecord, RunStatus
from genwatt.store.store import ResultsStore
from genwatt.units import format_energy_j

if TYPE_CHECKING:
    from genwatt.report.model_card import ModelCardSelection

TABLE_LIMIT = 20  # runs shown by default; exports take every run unless --limit
_SUMMARY_CHARS = 60


def _summary(record: RunRecord) -> str:
    """The model first, then the other config values, cut to fit; the error if failed."""
    if not record.ok and record.error:
        first_line = record.error.strip().splitlines()[0] if record.error.strip() else ""
        text = f"error: {first_line}"
    else:
        config = dict(record.config)
        model = config.pop("model", None)
        parts = [str(model)] if model is not None else []
        parts += [f"{k}={v}" for k, v in config.items() if not isinstance(v, dict | list)]
        text = " ".join(parts)
    return text if len(text) <= _SUMMARY_CHARS else text[: _SUMMARY_CHARS - 1] + "…"


def _provenance(record: RunRecord) -> str:
    main = record.main_window
    if main is None:
        return "-"
    text = str(main.overall_provenance())
    return text if main.complete else f"{text}, incomplete"


def _table(records: list[RunRecord]) -> Table:
    with_sweep = any(r.sweep for r in records)
    table = Table()
    table.add_column("id", justify="right")
    table.add_column("kind")
    table.add_column("status")
    if with_sweep:
        table.add_column("sweep point")
    table.add_column("started")
    table.add_column("duration", justify="right")
    table.add_column("energy", justify="right")
    table.add_column("provenance")
    table.add_column("config")
    for record in records:
        energy_j = record.total_energy_j
        status = str(record.status) if record.ok else f"[red]{record.status}[/red]"
        cells = [str(record.id), record.kind, status]
        if with_sweep:
            cells.append(
                f"{record.sweep} {record.config_key} #{record.repeat}" if record.sweep else ""
            )
        cells += [
            datetime.fromtimestamp(record.started_at).strftime("%Y-%m-%d %H:%M:%S"),
            f"{record.duration_s:.1f} s",
            "-" if energy_j is None else format_energy_j(energy_j),
            _provenance(record),
            _summary(record),
        ]
        table.add_row(*cells)
    return table


def results(
    store: Annotated[
        Path | None,
        typer.Option("--store", help="Results store (default: $GENWATT_STORE or ./genwatt.db)."),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the runs as JSON (nested, every window).")
    ] = False,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Write one row per run to this CSV file.")
    ] = None,
    parquet: Annotated[
        Path | None,
        typer.Option("--parquet", help="Write one row per run to this Parquet file."),
    ] = None,
    codecarbon_csv: Annotated[
        Path | None,
        typer.Option(
            "--codecarbon-csv",
            help="Append one row per run to this CSV in CodeCarbon's emissions.csv schema "
            "(kWh, kg CO2eq), genwatt's provenance and phases in extra columns; runs "
            "already in the file are not written again.",
        ),
    ] = None,
    model_card: Annotated[
        bool,
        typer.Option(
            "--model-card",
            help="Print the Hugging Face model card co2_eq_emissions YAML block of each "
            "model (grams of CO2e per inference query).",
        ),
    ] = False,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only runs of this kind (measure, bench...).")
    ] = None,
    sweep: Annotated[str | None, typer.Option("--sweep", help="Only runs of this sweep.")] = None,
    status: Annotated[
        RunStatus | None, typer.Option("--status", help="Only ok or only failed runs.")
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            min=0,
            help=f"Only the N most recent runs (0: all). Default: {TABLE_LIMIT} in the "
            "table, all in exports.",
        ),
    ] = None,
) -> None:
    """List stored runs with their energy, or export them."""
    exporting = json_out or model_card or any(p is not None for p in (csv, parquet, codecarbon_csv))
    if limit is None:
        limit = 0 if exporting else TABLE_LIMIT
    try:
        if json_out and model_card:
            raise GenwattError("--json and --model-card both print on stdout: give one of them")
        with ResultsStore(store, create=False) as opened:
            records = opened.runs(kind=kind, sweep=sweep, status=status, limit=limit or None)
            total = opened.count(kind=kind, sweep=sweep, status=status)
            if exporting:
                # The card is made first: runs with no block fail before any file is written.
                card = _model_card(records) if model_card else None
                quiet = json_out or model_card  # stdout is theirs: notes go to stderr
                if codecarbon_csv is not None:
                    _codecarbon(records, codecarbon_csv, err=quiet)
                _export(records, json_out=json_out, csv=csv, parquet=parquet, err=quiet)
                if card is not None:
                    _print_model_card(card)
            elif not records:
                filters = {"kind": kind, "sweep": sweep, "status": status}
                typer.echo(_nothing_to_show(opened, filters))
            else:
                console = Console()
                console.print(_table(records))
                more = "; --limit 0 shows all" if len(records) < total else ""
                console.print(
                    f"{len(records)} of {total} runs in {opened.path}{more}",
                    highlight=False,
                    soft_wrap=True,
                )
    except GenwattError as exc:  # a user's error: one line and exit 2, as in every command
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _nothing_to_show(opened: ResultsStore, filters: dict[str, str | None]) -> str:
    """Why the table is empty: an empty store, or filters that matched none of its runs
    (naming those that match nothing even on their own)."""
    stored = opened.count()
    if stored == 0:
        return (
            f"no runs stored in {opened.path} yet; `genwatt measure` or `genwatt bench` stores some"
        )
    given = {name: value for name, value in filters.items() if value is not None}
    text = " ".join(f"--{name} {value}" for name, value in given.items())
    alone = [
        f"--{name} {value}" for name, value in given.items() if not opened.count(**{name: value})
    ]
    why = f" ({', '.join(alone)} matches none by itself)" if alone and len(given) > 1 else ""
    return (
        f"none of the {stored} runs in {opened.path} match {text}{why}; "
        "`genwatt results` without filters lists them all"
    )


def _export(
    records: list[RunRecord],
    *,
    json_out: bool,
    csv: Path | None,
    parquet: Path | None,
    err: bool,
) -> None:
    written = []
    if csv is not None:
        written.append(export(records, csv, "csv"))
    if parquet is not None:
        written.append(export(records, parquet, "parquet"))
    for path in written:  # on stderr when stdout has JSON or YAML, to keep it pure
        typer.echo(f"wrote {len(records)} runs to {path}", err=err)
    if json_out:
        typer.echo(json.dumps(records_json(records), indent=2, allow_nan=False))


def _codecarbon(records: list[RunRecord], path: Path, *, err: bool) -> None:
    """Append the runs' CodeCarbon rows; say what was written and what was not."""
    from genwatt.store.codecarbon_csv import append_rows, codecarbon_rows

    made = codecarbon_rows(records)
    done = append_rows(path, made.rows)
    left = []
    if done.already_present:
        left.append(f"{done.already_present} already in the file")
    if made.skipped_without_window:
        left.append(
            f"{made.skipped_without_window} failed before metering began, with no energy to write"
        )
    why = f"; not written: {', '.join(left)}" if left else ""
    typer.echo(f"wrote {done.written} runs to {done.path} (CodeCarbon schema){why}", err=err)


def _skipped_words(selection: ModelCardSelection) -> str:
    return "; ".join(f"{count} {why}" for why, count in selection.skipped.items())


def _model_card(records: list[RunRecord]) -> ModelCardSelection:
    """Each model's block, or ``GenwattError`` when no run makes one."""
    from genwatt.report.model_card import model_card_emissions

    selection = model_card_emissions(records)
    if not selection.blocks:
        reasons = f" ({_skipped_words(selection)})" if selection.skipped else ""
        raise GenwattError(
            f"no model card: none of the {len(records)} runs selected is a suite or sweep "
            f"run of a model with energy{reasons}; `genwatt bench` or `genwatt suite` "
            "stores some"
        )
    return selection


def _print_model_card(selection: ModelCardSelection) -> None:
    """The blocks on stdout; the runs left out, and why, on stderr."""
    if selection.skipped:
        typer.echo(f"model card: left out {_skipped_words(selection)}", err=True)
    if len(selection.blocks) > 1:
        names = ", ".join(block.model for block in selection.blocks)
        typer.echo(f"model card: one block per model ({names})", err=True)
    typer.echo(selection.to_yaml(), nl=False)
