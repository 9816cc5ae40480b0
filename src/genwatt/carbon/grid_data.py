"""Grid carbon intensity per country: one public source, one year, cited here.

Source
    Ember, "Yearly Electricity Data" (2024 release), with major processing by Our
    World in Data: chart "Carbon intensity of electricity generation", in grams of
    CO2-equivalent per kilowatt-hour, for the year 2023.
    https://ourworldindata.org/grapher/carbon-intensity-electricity
    https://ember-energy.org/data/yearly-electricity-data/

What the figures mean
    Lifecycle emissions (construction, fuel supply and combustion; IPCC AR5 median
    factors per technology) divided by the electricity *generated* in the country.
    Imports and exports are not counted, so a small, well-connected grid that imports
    much of its power (Luxembourg, Switzerland, Denmark, the Baltics) may consume
    electricity cleaner or dirtier than it generates.

How exact they are
    The values were transcribed by hand, not downloaded, and rounded to whole grams
    per kWh. Ember revises past years with each release, so the current chart may
    differ by a few per cent for most countries, and by more for a few whose mix
    changed sharply (hydro droughts, new nuclear). They are good for an order of
    magnitude and for ranking grids; before quoting one country's figure in a
    publication, check it against the chart above and correct the row here.
"""

from __future__ import annotations

from typing import NamedTuple

SOURCE = (
    "Ember, Yearly Electricity Data; processed by Our World in Data, "
    '"Carbon intensity of electricity generation" (gCO2e/kWh, lifecycle)'
)
YEAR = 2023
URL = "https://ourworldindata.org/grapher/carbon-intensity-electricity"

# The same source's figure for the whole world in the same year; used when no country
# is given, so that an unlocated result is neither flattering nor alarming.
WORLD_G_PER_KWH = 480.0


class CountryRow(NamedTuple):
    """One row of the table: ISO 3166 codes, an English name, gCO2e per kWh generated."""

    iso3: str
    iso2: str
    name: str
    g_per_kwh: float


# Grouped by region for the reader; order carries no meaning.
COUNTRIES: tuple[CountryRow, ...] = (
    # North and South America
    CountryRow("USA", "US", "United States", 369.0),
    CountryRow("CAN", "CA", "Canada", 170.0),
    CountryRow("MEX", "MX", "Mexico", 423.0),
    CountryRow("BRA", "BR", "Brazil", 98.0),
    CountryRow("ARG", "AR", "Argentina", 354.0),
    CountryRow("CHL", "CL", "Chile", 291.0),
    # Western Europe
    CountryRow("GBR", "GB", "United Kingdom", 238.0),
    CountryRow("IRL", "IE", "Ireland", 282.0),
    CountryRow("FRA", "FR", "France", 56.0),
    CountryRow("DEU", "DE", "Germany", 381.0),
    CountryRow("NLD", "NL", "Netherlands", 268.0),
    CountryRow("BEL", "BE", "Belgium", 138.0),
    CountryRow("LUX", "LU", "Luxembourg", 105.0),
    CountryRow("CHE", "CH", "Switzerland", 35.0),
    CountryRow("AUT", "AT", "Austria", 85.0),
    # Nordics
    CountryRow("DNK", "DK", "Denmark", 151.0),
    CountryRow("SWE", "SE", "Sweden", 41.0),
    CountryRow("NOR", "NO", "Norway", 30.0),
    CountryRow("FIN", "FI", "Finland", 79.0),
    CountryRow("ISL", "IS", "Iceland", 28.0),
    # Southern Europe
    CountryRow("ESP", "ES", "Spain", 174.0),
    CountryRow("PRT", "PT", "Portugal", 165.0),
    CountryRow("ITA", "IT", "Italy", 331.0),
    CountryRow("GRC", "GR", "Greece", 336.0),
    # Central and Eastern Europe
    CountryRow("POL", "PL", "Poland", 662.0),
    CountryRow("CZE", "CZ", "Czechia", 449.0),
    CountryRow("SVK", "SK", "Slovakia", 117.0),
    CountryRow("HUN", "HU", "Hungary", 204.0),
    CountryRow("ROU", "RO", "Romania", 241.0),
    CountryRow("EST", "EE", "Estonia", 417.0),
    CountryRow("LTU", "LT", "Lithuania", 160.0),
    CountryRow("RUS", "RU", "Russia", 441.0),
    CountryRow("TUR", "TR", "Turkey", 464.0),
    # Middle East and Africa
    CountryRow("ISR", "IL", "Israel", 520.0),
    CountryRow("SAU", "SA", "Saudi Arabia", 696.0),
    CountryRow("ARE", "AE", "United Arab Emirates", 376.0),
    CountryRow("ZAF", "ZA", "South Africa", 708.0),
    # Asia
    CountryRow("IND", "IN", "India", 713.0),
    CountryRow("CHN", "CN", "China", 582.0),
    CountryRow("JPN", "JP", "Japan", 485.0),
    CountryRow("KOR", "KR", "South Korea", 430.0),
    CountryRow("TWN", "TW", "Taiwan", 560.0),
    CountryRow("SGP", "SG", "Singapore", 471.0),
    CountryRow("MYS", "MY", "Malaysia", 606.0),
    CountryRow("VNM", "VN", "Vietnam", 473.0),
    CountryRow("PHL", "PH", "Philippines", 610.0),
    CountryRow("IDN", "ID", "Indonesia", 676.0),
    # Oceania
    CountryRow("AUS", "AU", "Australia", 502.0),
    CountryRow("NZL", "NZ", "New Zealand", 112.0),
)
