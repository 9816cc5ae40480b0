"""``genwatt measure -- CMD ARGS...``: run a command and report the energy it used.

Every measured command waits for genwatt to start, so this path imports only what
measuring needs before the command runs: not typer (whose option parsing builds
pydantic validators), not rich, not the sweep machinery. ``genwatt.cli.app.main``
parses a plain ``genwatt measure`` command line with ``parse_args`` and calls ``run``;
anything else (``--help``, a typo, a malformed value) goes through the typer command,
which is built only when asked for (see ``__getattr__``) and calls the same ``run``.

The results store (and the CodeCarbon CSV of ``--codecarbon-csv``) is opened and
checked for writing before the command starts, so an unusable store or file costs the
user nothing; if writing still fails at the end, the measurement is printed first and
the error after it.
"""

from __future__ import annotations

import functools
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from genwatt.carbon.setting import RECORD_KEY
from genwatt.errors import StoreError
from genwatt.meter.meter import Meter
from genwatt.run.command import CommandMeasurement, check_options, measure_command
from genwatt.store.records import RunRecord
from genwatt.store.store import ResultsStore

# Exit code when the command succeeded but its measurement could not be stored (or
# written to the CodeCarbon CSV of --codecarbon-csv).
STORE_FAILED_EXIT_CODE = 2


@dataclass(frozen=True)
class MeasureOptions:
    """The options of ``genwatt measure``; the defaults are the command line's."""

    command: list[str]
    json_out: bool = False
    idle_seconds: float = 0.0
    country: str | None = None
    cloud: str | None = None  # PROVIDER:REGION, instead of a country
    pue: float | None = None  # None: $GENWATT_PUE, else 1.0
    timeline: bool = False
    store: Path | None = None
    no_store: bool = False
    codecarbon_csv: Path | None = None  # append the run's row to this CodeCarbon CSV


# The command line's spelling of each option (``measure``'s typer options must match:
# a test compares the two).
_SWITCHES = {"--json": "json_out", "--timeline": "timeline", "--no-store": "no_store"}
_VALUES: dict[str, tuple[str, Callable[[str], Any]]] = {
    "--idle-seconds": ("idle_seconds", float),
    "--country": ("country", str),
    "--cloud": ("cloud", str),
    "--pue": ("pue", float),
    "--store": ("store", Path),
    "--codecarbon-csv": ("codecarbon_csv", Path),
}


def parse_args(args: list[str]) -> MeasureOptions | None:
    """The options of a plain ``genwatt measure`` command line (what follows
    ``measure``), or None when typer should handle it: ``--help``, an unknown option,
    a missing or malformed value, no command. Options end at ``--`` or at the first
    argument that is not one, as in the typer command."""
    values: dict[str, Any] = {}
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            index += 1
            break
        if not arg.startswith("-") or arg == "-":
            break
        name, equals, inline = arg.partition("=")
        if name in _SWITCHES and not equals:
            values[_SWITCHES[name]] = True
            index += 1
            continue
        if name not in _VALUES:
            return None
        if equals:
            text, index = inline, index + 1
        elif index + 1 < len(args):
            text, index = args[index + 1], index + 2
        else:
            return None
        dest, kind = _VALUES[name]
        if kind is not float and text.startswith("-"):
            return None  # probably a forgotten value: let typer say so
        try:
            values[dest] = kind(text)
        except ValueError:
            return None
    command = args[index:]
    return MeasureOptions(command=command, **values) if command else None


def run(options: MeasureOptions) -> int:
    """Check the options and the store, run and measure the command, print the report,
    store the run; return the exit code for genwatt (see ``final_exit_code``).

    Raises ``GenwattError`` (the CLI prints one line, exit 2) before the command starts
    when an option or the store is unusable.
    """
    check_options(
        options.command,
        idle_seconds=options.idle_seconds,
        country=options.country,
        pue=options.pue,
        cloud=options.cloud,
    )
    if options.codecarbon_csv is not None:
        from genwatt.store.codecarbon_csv import check_appendable

        check_appendable(options.codecarbon_csv)
    results = None if options.no_store else _open_store(options.store)
    errors: list[str] = []
    try:
        measurement = _measure(options)
        report = measurement.to_dict()
        record = _record(measurement)
        if results is not None:
            try:
                record = replace(record, id=results.add(record))
                report["run_id"], report["store"] = record.id, str(results.path)
            except StoreError as exc:
                errors.append(f"the measurement above was not stored: {exc}")
                report["store_error"] = str(exc)
        if options.codecarbon_csv is not None:
            try:
                report["codecarbon_csv"] = str(_append_row(record, options.codecarbon_csv))
            except StoreError as exc:
                errors.append(f"the measurement above was not written to CodeCarbon's CSV: {exc}")
                report["codecarbon_csv_error"] = str(exc)
        _print_report(report, options)
    finally:
        if results is not None:
            results.close()
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    if errors:
        return measurement.final_exit_code or STORE_FAILED_EXIT_CODE
    return measurement.final_exit_code


def _open_store(path: Path | None) -> ResultsStore:
    """The results store, opened and proven writable, or ``StoreError``."""
    results = ResultsStore(path)
    try:
        results.check_writable()
    except BaseException:
        results.close()
        raise
    return results


def _measure(options: MeasureOptions) -> CommandMeasurement:
    meter = Meter(timeline=options.timeline)
    try:
        return measure_command(
            options.command,
            meter=meter,
            idle_seconds=options.idle_seconds,
            country=options.country,
            pue=options.pue,
            cloud=options.cloud,
            stdout=sys.stderr if options.json_out else None,
        )
    finally:
        meter.close()


def _print_report(report: dict[str, Any], options: MeasureOptions) -> None:
    if options.json_out:
        import json

        print(json.dumps(report, indent=2), flush=True)
    else:
        from genwatt.cli.render import print_measurement

        print_measurement(report, title=shlex.join(options.command))
        if "codecarbon_csv" in report:
            # On stderr, with the report: stdout is the command's own.
            print(
                f"appended its row to {report['codecarbon_csv']} (CodeCarbon's schema)",
                file=sys.stderr,
            )


def _append_row(record: RunRecord, path: Path) -> Path:
    """Append the run's CodeCarbon row to ``path``; return the path written."""
    from genwatt.store.codecarbon_csv import append_rows, codecarbon_row
    from genwatt.store.environment import current_environment

    # A run not stored has no environment yet: the one the store would have filled in.
    row = codecarbon_row(record, environment=current_environment())
    assert row is not None  # a measured command has its window
    return append_rows(path, [row]).path


def _record(measurement: CommandMeasurement) -> RunRecord:
    return RunRecord(
        kind="measure",
        status="ok" if measurement.ok else "failed",
        started_at=measurement.window.started_at,
        duration_s=measurement.window.duration_s,
        config={"command": shlex.join(measurement.command)},
        windows=[measurement.window],
        error=None if measurement.ok else _failure(measurement),
        extra={
            "exit_code": measurement.exit_code,
            "signal": measurement.signal_name,
            # Priced on the gross window, like every later reading of this run; the
            # net figure (idle measured) is kept beside it, labelled.
            "co2e_g": measurement.carbon_gross.co2e_g,
            "co2e_g_net_of_idle": measurement.carbon.co2e_g if measurement.idle else None,
            RECORD_KEY: measurement.setting.to_dict(),
            "idle_power_w": measurement.idle.power_w if measurement.idle else None,
        },
    )


def _failure(measurement: CommandMeasurement) -> str:
    text = f"exit code {measurement.exit_code}"
    if measurement.signal_name is not None:
        text += f"; genwatt received {measurement.signal_name} and passed it on to the command"
    return text


@functools.cache
def _typer_command() -> Callable[..., None]:
    """The typer form of ``genwatt measure``: help, and errors for malformed input."""
    import typer

    def measure(
        command: list[str] = typer.Argument(..., help="The command to run, after `--`."),
        json_out: bool = typer.Option(
            False,
            "--json",
            help="Print a JSON report on stdout (the command's stdout goes to stderr).",
        ),
        idle_seconds: float = typer.Option(
            0.0, "--idle-seconds", help="Measure idle power first and report net of it."
        ),
        country: str | None = typer.Option(
            None,
            "--country",
            help="ISO 3166 code or name for grid carbon intensity (env GENWATT_COUNTRY).",
        ),
        cloud: str | None = typer.Option(
            None,
            "--cloud",
            help="Cloud region for grid carbon intensity, PROVIDER:REGION such as "
            "gcp:europe-west1 (env GENWATT_CLOUD), instead of --country.",
        ),
        pue: float | None = typer.Option(
            None,
            "--pue",
            help="Facility overhead, 1.0 to 3.0 (env GENWATT_PUE; default 1.0: at the device).",
        ),
        timeline: bool = typer.Option(False, "--timeline", help="Keep a power timeline (100 ms)."),
        store: Path | None = typer.Option(
            None, "--store", help="Results store (env GENWATT_STORE; default ./genwatt.db)."
        ),
        no_store: bool = typer.Option(False, "--no-store", help="Do not save the run."),
        codecarbon_csv: Path | None = typer.Option(
            None,
            "--codecarbon-csv",
            help="Also append the run's row to this CSV in CodeCarbon's emissions.csv "
            "schema (kWh, kg CO2eq; genwatt's provenance in extra columns).",
        ),
    ) -> None:
        """Run CMD, then report its duration, energy per domain, provenance, Wh and CO2e.

        genwatt exits with the command's own exit code (128 + N when signal N stopped
        genwatt; the signal is passed on to the command).
        """
        options = MeasureOptions(
            command=command,
            json_out=json_out,
            idle_seconds=idle_seconds,
            country=country,
            cloud=cloud,
            pue=pue,
            timeline=timeline,
            store=store,
            no_store=no_store,
            codecarbon_csv=codecarbon_csv,
        )
        raise typer.Exit(run(options))

    return measure


def __getattr__(name: str) -> Any:
    """``measure``, the typer command, built on first use (see the module docstring)."""
    if name == "measure":
        return _typer_command()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
