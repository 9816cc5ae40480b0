"""``genwatt models``: the registered models, their defaults and their tiny forms."""

from __future__ import annotations

import json

import typer

from genwatt.cli.render import console
from genwatt.labels import settings_label
from genwatt.models.registry import list_models


def short_count(n: int | None) -> str:
    if n is None:
        return "-"
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= scale:
            return f"{n / scale:.3g}{suffix}"
    return str(n)


def _settings(defaults: dict[str, object]) -> str:
    """The authors' default settings, labelled as everywhere else in genwatt."""
    return settings_label(defaults, guidance=defaults.get("max_new_tokens") is None)


def models(
    json_out: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """List the registered models: real checkpoints first, then their tiny CPU forms."""
    rows = [spec.summary() for spec in list_models()]
    if json_out:
        typer.echo(json.dumps(rows, indent=2))
        return

    from rich.table import Table

    table = Table(
        caption="defaults: width x height, frames (f), steps (st), guidance (g). "
        "Run any model with --weights tiny on a CPU, or --weights random at full size.",
        caption_justify="left",
    )
    table.add_column("name", no_wrap=True)
    table.add_column("repo id", overflow="fold")
    table.add_column("task")
    table.add_column("family")
    table.add_column("denoiser", justify="right")
    table.add_column("defaults", no_wrap=True)
    table.add_column("tiny", no_wrap=True)
    for row in rows:
        tiny = row["tiny_name"] if row["tiny_name"] != row["name"] else "-"
        table.add_row(
            str(row["name"]),
            str(row["repo_id"] or "-"),
            str(row["task"]),
            str(row["family"]),
            short_count(row["denoiser_params"]),  # type: ignore[arg-type]
            _settings(row["defaults"]),  # type: ignore[arg-type]
            str(tiny),
        )
    console(piped_width=170).print(table)  # seven columns, repo ids unbroken
