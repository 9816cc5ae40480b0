"""``genwatt carbon [MATCH]``: the grid intensities genwatt prices CO2e with, to check.

Thin on purpose: ``genwatt.carbon.grid_listing`` finds the rows; this prints them.
"""

from __future__ import annotations

import json

import typer

from genwatt.carbon import grid_listing


def carbon(
    match: str | None = typer.Argument(
        None,
        help="Only the countries and cloud regions this names: a code (fr, fra, gcp), or "
        "from four letters up part of a name or region (france, europe).",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """List the countries and cloud regions with their g CO2e/kWh, year and source."""
    listing = grid_listing(match)
    if json_out:
        typer.echo(json.dumps(listing.to_dict(), indent=2))
        return

    from rich.markup import escape
    from rich.table import Table

    from genwatt.cli.render import console

    out = console()
    out.print(
        f"World average (used when no grid is given): {listing.world_g_per_kwh:.0f} g CO2e/kWh, "
        f"{escape(listing.world_source)}."
    )
    if listing.countries:
        sources = dict.fromkeys(c.source for c in listing.countries)
        table = Table(
            title="Countries (--country, $GENWATT_COUNTRY)",
            caption=f"Source: {'; '.join(sources)}.",
            caption_justify="left",
        )
        for column in ("iso3", "iso2", "name", "g CO2e/kWh", "year", "generation TWh"):
            table.add_column(column, justify="right" if column[0] in "gy" else "left")
        for c in listing.countries:
            table.add_row(
                c.iso3,
                c.iso2,
                escape(c.name),
                f"{c.g_per_kwh:.0f}",
                str(c.year),
                f"{c.generation_twh:g}",
            )
        out.print(table)
    if listing.cloud_regions:
        sources = dict.fromkeys(r.source for r in listing.cloud_regions)
        table = Table(
            title="Cloud regions (--cloud, $GENWATT_CLOUD)",
            caption=f"Source: {'; '.join(sources)} (the provider's figures; no year stated).",
            caption_justify="left",
        )
        for column in ("region", "country", "place", "g CO2e/kWh"):
            table.add_column(column, justify="right" if column[0] == "g" else "left")
        for r in listing.cloud_regions:
            table.add_row(r.key, escape(r.country), escape(r.place), f"{r.g_per_kwh:.0f}")
        out.print(table)
    if not listing.countries and not listing.cloud_regions:
        out.print(f"No country or cloud region matches {escape(repr(match))}.")
