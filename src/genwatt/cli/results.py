"""`genwatt results`: list the stored runs, or export them to JSON, CSV or Parquet.

Thin on purpose: the store reads, ``genwatt.store.export`` shapes, this prints. The
app registers it with ``app.command("results")(results)``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from genwatt.errors import GenwattError
from genwatt.store.export import export, records_json
from genwatt.store.records import RunRecord, RunStatus
from genwatt.store.store import ResultsStore
from genwatt.units import format_energy_j

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
    exporting = json_out or csv is not None or parquet is not None
    if limit is None:
        limit = 0 if exporting else TABLE_LIMIT
    try:
        with ResultsStore(store, create=False) as opened:
            records = opened.runs(kind=kind, sweep=sweep, status=status, limit=limit or None)
            total = opened.count(kind=kind, sweep=sweep, status=status)
            if exporting:
                _export(records, json_out=json_out, csv=csv, parquet=parquet)
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
    records: list[RunRecord], *, json_out: bool, csv: Path | None, parquet: Path | None
) -> None:
    written = []
    if csv is not None:
        written.append(export(records, csv, "csv"))
    if parquet is not None:
        written.append(export(records, parquet, "parquet"))
    for path in written:  # on stderr when --json is given too, to keep stdout pure JSON
        typer.echo(f"wrote {len(records)} runs to {path}", err=json_out)
    if json_out:
        typer.echo(json.dumps(records_json(records), indent=2, allow_nan=False))
