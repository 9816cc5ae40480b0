"""``genwatt report``: the store's runs as one self-contained HTML page (and PNGs).

Thin on purpose: ``genwatt.report.write_report`` does the work; this parses and prints.
``finish_report`` is the step ``genwatt bench`` and ``genwatt sweep`` end with (from
``cli.sweep_driver.execute``); ``REPORT`` and ``NO_REPORT`` are the options for those commands
to pass on as ``execute(report_path=..., write_report=...)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

REPORT = typer.Option(
    None,
    "--report",
    help="Write the HTML report here (default: X-report.html next to the store X.db).",
)
NO_REPORT = typer.Option(False, "--no-report", help="Do not write the HTML report at the end.")


def report(
    store: Annotated[
        Path | None,
        typer.Option("--store", help="Results store (default: $GENWATT_STORE or ./genwatt.db)."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="HTML file to write (default: X-report.html next to the store X.db).",
        ),
    ] = None,
    sweep: Annotated[str | None, typer.Option("--sweep", help="Only runs of this sweep.")] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="Only runs of this kind (sweep, measure, mitigation, suite)."),
    ] = None,
    png: Annotated[
        Path | None,
        typer.Option("--png", help="Also write every figure as a PNG into this folder."),
    ] = None,
    country: Annotated[
        str | None,
        typer.Option(
            "--country",
            help="Price every run on this grid (ISO code or name) instead of the one it "
            "was stored with; runs stored without one use the world average.",
        ),
    ] = None,
    cloud: Annotated[
        str | None,
        typer.Option(
            "--cloud",
            help="Price every run on this cloud region (PROVIDER:REGION, such as "
            "gcp:europe-west1) instead of the grid it was stored with; not with --country.",
        ),
    ] = None,
    pue: Annotated[
        float | None,
        typer.Option(
            "--pue", help="Facility overhead for CO2e instead of the runs' own (1.0 to 3.0)."
        ),
    ] = None,
    ai_energy_score: Annotated[
        Path | None,
        typer.Option(
            "--ai-energy-score-export",
            help="Also write the `genwatt suite` runs into this folder as AI Energy Score "
            "publishes them: per task and model, benchmark_report.json, GPU_ENERGY_WH.txt "
            "and GPU_ENERGY_SUMMARY.json.",
        ),
    ] = None,
    daily_volume: Annotated[
        float | None,
        typer.Option(
            "--daily-volume",
            help="Also show each stored configuration as a service answering this many "
            "queries a day, for a year: energy, CO2e, households, share of the country's "
            "electricity (as `genwatt footprint --from-store`).",
        ),
    ] = None,
) -> None:
    """Write an HTML report of stored runs: leaderboard, scaling, phases, power over time,
    and the suite's tasks."""
    from genwatt.report import write_report

    result = write_report(
        store,
        output,
        sweep=sweep,
        kind=kind,
        png_dir=png,
        country=country,
        pue=pue,
        cloud=cloud,
        ai_energy_score_dir=ai_energy_score,
        daily_volume=daily_volume,
    )
    typer.echo(
        f"wrote the report of {result.runs} runs ({result.figures} figures) to "
        f"{result.path.absolute()}"
    )
    if png is not None:
        typer.echo(f"wrote {len(result.png_paths)} PNG figures to {png}")
    if result.export is not None:
        failed = (
            f" ({result.export.failed} failed, listed in index.json)"
            if result.export.failed
            else ""
        )
        typer.echo(
            f"wrote the AI Energy Score export of {result.export.exported} configurations "
            f"(task, model, batch size){failed} "
            f"to {result.export.folder.absolute()}"
        )


def finish_report(store: Path, path: Path | None, *, err: bool = False) -> Path | None:
    """Write the store's report after a sweep and say where; never fail the sweep.

    The runs are safely stored by now, so a report that cannot be written is a warning
    with the command that retries it, not an error that hides a finished sweep.
    """
    from genwatt.report import write_report

    try:
        result = write_report(store, path)
    except Exception as exc:  # the sweep succeeded; keep its exit status
        typer.echo(
            f"warning: could not write the report ({exc}); retry with "
            f"`genwatt report --store {store}`",
            err=True,
        )
        return None
    typer.echo(f"report: {result.path.absolute()}", err=err)
    return result.path
