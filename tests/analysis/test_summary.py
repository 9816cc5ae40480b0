"""Configuration summaries keep the grid their runs stored, for the CO2e of the headline."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from genwatt.analysis.summary import summarize_runs
from genwatt.carbon.setting import CarbonSetting
from genwatt.store.records import RunRecord


@pytest.fixture
def run(estimated_run: Callable[..., RunRecord]) -> Callable[[dict], RunRecord]:
    """A wan-tiny sweep run whose ``extra`` is the given dict."""
    return lambda extra: estimated_run(
        {"model": "wan-tiny", "num_frames": 5}, config_key="k", extra=extra
    )


def test_the_stored_carbon_setting_is_kept(run) -> None:
    stored = CarbonSetting.resolve("FR", 1.2).to_dict()
    (summary,) = summarize_runs([run({}), run({"carbon": stored})])
    assert summary.carbon == CarbonSetting.from_dict(stored)
    assert summary.to_dict()["country"] == "FRA"


def test_a_legacy_country_is_looked_up_and_an_unknown_one_is_reported(run) -> None:
    (legacy,) = summarize_runs([run({"country": "FRA", "pue": 1.2})])
    assert legacy.carbon is not None and legacy.carbon.intensity.name == "France"
    (unknown,) = summarize_runs([run({"country": "XXX"})])
    assert unknown.carbon is None and "XXX" in (unknown.carbon_error or "")


def test_no_stored_setting_is_none_not_a_guess(run) -> None:
    (summary,) = summarize_runs([run({})])
    assert (summary.carbon, summary.carbon_error) == (None, None)
