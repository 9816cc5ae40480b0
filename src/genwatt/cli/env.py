"""``genwatt env``: which energy domains this machine has and how each is measured."""

from __future__ import annotations

import json

import typer

from genwatt.meter.inventory import inventory


def env(
    json_out: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """List every energy domain found, its method, and why each missing counter is missing."""
    report = inventory()
    if json_out:
        typer.echo(json.dumps(report, indent=2))
        return
    from genwatt.cli.render import print_inventory

    print_inventory(report)
