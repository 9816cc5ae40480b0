"""Each stored configuration as a service: a year at a daily volume of queries.

``genwatt report --daily-volume N`` adds a table: for every configuration of the stored
suite and sweep runs (a model at its settings on one machine), its stored energy per
query times N a day for a year, with the spread between its runs, CO2e on the grid the
runs were stored with (or the one asked for), the households it equals and its share of
that country's yearly electricity. The figures come from ``genwatt.predict.query_energy``
and ``genwatt.predict.footprint``, the same as ``genwatt footprint --from-store``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from genwatt import formatting as fmt
from genwatt.carbon.equivalents import US_HOUSEHOLD_CITATION
from genwatt.errors import ConfigError
from genwatt.predict.footprint import (
    Footprint,
    carbon_for,
    count_text,
    energy_text,
    footprint,
    share_text,
)
from genwatt.predict.query_energy import RunQueryEnergy, measured_query_energy, run_query_energy
from genwatt.report.series import hardware_of
from genwatt.report.tables import badge, e
from genwatt.store.records import RunRecord

MAX_ROWS = 30  # configurations shown; the rest are counted


@dataclass(frozen=True)
class FootprintRow:
    """One stored configuration (``model`` at ``configuration`` on ``hardware``) as a
    service of the section's daily volume, for a year."""

    model: str
    configuration: str
    hardware: str
    footprint: Footprint


@dataclass(frozen=True)
class FootprintSection:
    """The rows at ``daily_volume`` queries a day; empty when no volume was asked for."""

    daily_volume: float | None = None
    rows: tuple[FootprintRow, ...] = ()
    more: int = 0  # configurations beyond MAX_ROWS, left out


def footprint_section(
    records: Sequence[RunRecord],
    daily_volume: float | None,
    *,
    country: str | None = None,
    pue: float | None = None,
    cloud: str | None = None,
) -> FootprintSection:
    """A row per stored configuration at ``daily_volume`` queries a day; empty without
    a volume.

    Raises:
        ConfigError: ``daily_volume`` is not a finite number above zero.
    """
    if daily_volume is None:
        return FootprintSection()
    if not math.isfinite(daily_volume) or daily_volume <= 0:
        raise ConfigError(
            f"--daily-volume must be a number of queries a day above 0, got {daily_volume!r}"
        )
    groups: dict[tuple[str, str, str], list[RunQueryEnergy]] = {}
    for record in records:
        run = run_query_energy(record)
        if run is not None:
            key = (run.model, run.label, hardware_of(record.config, record.environment))
            groups.setdefault(key, []).append(run)
    rows = []
    for (model, label, hardware), runs in sorted(groups.items()):
        basis = measured_query_energy(runs)
        setting, origin = carbon_for(basis, country, pue, cloud)
        result = footprint(basis, daily_volume, "day", carbon=setting, grid_origin=origin)
        rows.append(FootprintRow(model, label, hardware, result))
    return FootprintSection(daily_volume, tuple(rows[:MAX_ROWS]), max(0, len(rows) - MAX_ROWS))


def _range(result: Footprint) -> str:
    low, high = result.energy_low_j, result.energy_high_j
    if low is None or high is None or low == high:
        return ""
    pue = result.carbon.pue
    return (
        f'<br><span class="gw-per-1000">runs: {e(energy_text(low * pue))} to '
        f"{e(energy_text(high * pue))}</span>"
    )


def _row(row: FootprintRow) -> str:
    result = row.footprint
    basis = result.basis
    value = f"gw-value-{e(basis.provenance)}"
    share = e(share_text(result.share)) if result.share is not None else fmt.DASH
    cells = (
        f'<span class="gw-model">{e(row.model)}</span><br>'
        f'<span class="gw-hardware">{e(row.configuration)}; {e(row.hardware)}</span>',
        f'<span class="{value}">{e(energy_text(basis.energy_j))}</span>',
        f'<span class="{value}">{e(energy_text(result.energy_facility_j))}</span>' + _range(result),
        e(fmt.mass_g(result.co2e.co2e_g)),
        e(result.relatable()),
        share,
        e(result.carbon.describe()),
        badge(basis.provenance),
    )
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def footprint_html(section: FootprintSection) -> str:
    """The section's table, or nothing when no daily volume was asked for."""
    if section.daily_volume is None:
        return ""
    volume = count_text(section.daily_volume)
    lead = (
        f'<p class="gw-small">At <strong>{e(volume)} queries a day</strong> for a year '
        f"({e(count_text(section.daily_volume * 365))} queries): each configuration's "
        "stored energy per query (the GPU's where its runs read one, else the whole "
        "machine's; measured or estimated as stored, never predicted) times that volume, "
        "after the PUE. Range: its lowest and highest run. Households: "
        f"{e(US_HOUSEHOLD_CITATION)}. `genwatt footprint --from-store` gives the same "
        "figures for any volume.</p>"
    )
    if not section.rows:
        return lead + (
            '<p class="gw-empty">No suite or sweep run with energy is stored to scale up.</p>'
        )
    head = (
        "Model and configuration",
        "Per query",
        "A year",
        "CO2e a year",
        "≈",
        "Share of generation",
        "Grid",
        "Provenance",
    )
    header = "".join(f'<th scope="col">{e(h)}</th>' for h in head)
    more = (
        f'<p class="gw-small">… and {section.more} more configurations, left out.</p>'
        if section.more
        else ""
    )
    return (
        f'{lead}<div class="gw-table-wrap"><table class="gw-table gw-footprint"><thead><tr>'
        f"{header}</tr></thead><tbody>{''.join(_row(r) for r in section.rows)}</tbody>"
        f"</table></div>{more}"
    )
