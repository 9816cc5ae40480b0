"""``genwatt measure -- CMD ARGS...``: run a command and report the energy it used."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from genwatt.run.command import CommandMeasurement


def measure(
    command: list[str] = typer.Argument(..., help="The command to run, after `--`."),
    json_out: bool = typer.Option(
        False, "--json", help="Print a JSON report on stdout (the command's stdout goes to stderr)."
    ),
    idle_seconds: float = typer.Option(
        0.0, "--idle-seconds", min=0.0, help="Measure idle power first and report net of it."
    ),
    country: str | None = typer.Option(
        None, "--country", help="ISO 3166 code for grid carbon intensity (env GENWATT_COUNTRY)."
    ),
    pue: float = typer.Option(1.0, "--pue", help="Facility overhead (1.0: energy at the device)."),
    timeline: bool = typer.Option(False, "--timeline", help="Keep a power timeline (100 ms)."),
    store: Path | None = typer.Option(
        None, "--store", help="Results store (env GENWATT_STORE; default ./genwatt.db)."
    ),
    no_store: bool = typer.Option(False, "--no-store", help="Do not save the run."),
) -> None:
    """Run CMD, then report its duration, energy per domain, provenance, Wh and CO2e.

    genwatt exits with the command's own exit code.
    """
    from genwatt.meter.meter import Meter
    from genwatt.run.command import measure_command

    meter = Meter(timeline=timeline)
    try:
        measurement = measure_command(
            command,
            meter=meter,
            idle_seconds=idle_seconds,
            country=country,
            pue=pue,
            stdout=sys.stderr if json_out else None,
        )
    finally:
        meter.close()
    report = measurement.to_dict()
    if not no_store:
        run_id, path = _save(measurement, store)
        report["run_id"], report["store"] = run_id, str(path)
    if json_out:
        typer.echo(json.dumps(report, indent=2))
    else:
        from genwatt.cli.render import print_measurement

        print_measurement(report, title=shlex.join(command))
    raise typer.Exit(measurement.exit_code)


def _save(measurement: CommandMeasurement, store: Path | None) -> tuple[int, Path]:
    from genwatt.store.records import RunRecord
    from genwatt.store.store import ResultsStore

    windows = [measurement.window]
    record = RunRecord(
        kind="measure",
        status="ok" if measurement.exit_code == 0 else "failed",
        started_at=measurement.window.started_at,
        duration_s=measurement.window.duration_s,
        config={"command": shlex.join(measurement.command)},
        windows=windows,
        error=None if measurement.exit_code == 0 else f"exit code {measurement.exit_code}",
        extra={
            "exit_code": measurement.exit_code,
            "co2e_g": measurement.carbon.co2e_g,
            "country": measurement.carbon.intensity.iso3,
            "pue": measurement.carbon.pue,
            "idle_power_w": measurement.idle.power_w if measurement.idle else None,
        },
    )
    with ResultsStore(store) as results:
        return results.add(record), results.path
