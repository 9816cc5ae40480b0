"""``genwatt check-reference``: flag published measurements that the predictor disbelieves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from genwatt.labels import settings_label
from genwatt.predict.check import check_csv
from genwatt.units import format_energy_j


def check_reference(
    csv_path: Path = typer.Argument(..., help="CSV of measurements (shared/reference layout)."),
    gpu: str = typer.Option("h100-sxm", "--gpu", help="GPU the measurements were taken on."),
    model: str | None = typer.Option(
        None, "--model", help="The model, for a CSV without a model column."
    ),
    tolerance: float = typer.Option(
        0.5, "--tolerance", help="Flag rows with measured/predicted outside [1/(1+t), 1+t]."
    ),
    calibration: Path | None = typer.Option(
        None, "--calibration", help="A calibration JSON (default: the shipped one)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """Compare each row's measured GPU energy with the prediction for the settings it
    states. Exits 1 when any row is flagged."""
    checks = check_csv(csv_path, gpu, model=model, calibration=calibration, tolerance=tolerance)
    if json_out:
        typer.echo(
            json.dumps(
                {"tolerance": tolerance, "gpu": gpu, "groups": [c.to_dict() for c in checks]},
                indent=2,
            )
        )
    else:
        _print([c.to_dict() for c in checks], tolerance)
    if any(c.flagged for c in checks):
        raise typer.Exit(1)


def _settings(s: dict[str, Any] | None) -> str:
    return settings_label(s) if s else "-"


def _print(groups: list[dict[str, Any]], tolerance: float) -> None:
    from rich.markup import escape
    from rich.table import Table

    from genwatt.cli.render import console

    out = console()
    table = Table(
        title=f"Measured vs predicted GPU energy (flag outside x{1 + tolerance:g})",
        title_justify="left",
    )
    for column in (
        "model",
        "stated",
        "rows",
        "flagged",
        "measured",
        "predicted",
        "ratio",
        "explained by",
    ):
        table.add_column(
            column, justify="right" if column in ("rows", "flagged", "ratio") else "left"
        )
    for g in groups:
        style = "red" if g["flagged"] else "green"
        explained = "-"
        if g["suggestion"]:
            explained = (
                f"{_settings(g['suggestion'])} "
                f"({format_energy_j(g['suggested_energy_j'])} predicted)"
            )
        table.add_row(
            escape(g["model"]),
            _settings(g["stated"]),
            str(g["rows"]),
            f"[{style}]{g['flagged_rows']}[/]",
            format_energy_j(g["measured_energy_j"]),
            format_energy_j(g["predicted_energy_j"]),
            f"[{style}]{g['ratio_measured_to_predicted']:.2f}[/]",
            escape(explained),
        )
    out.print(table)
    flagged = [g for g in groups if g["flagged"]]
    if flagged:
        out.print(
            f"[red]{sum(g['flagged_rows'] for g in flagged)} row(s) in {len(flagged)} group(s) "
            "are far from what their stated settings should cost.[/]"
        )
    else:
        out.print("[green]every row is within tolerance of its prediction.[/]")
