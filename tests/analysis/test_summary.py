"""Configuration summaries keep the grid their runs stored, for the CO2e of the headline."""

from __future__ import annotations

from genwatt.analysis.summary import summarize_runs
from genwatt.carbon.setting import CarbonSetting
from genwatt.meter.result import Method, Provenance, WindowResult
from genwatt.store.records import RunRecord


def _run(extra: dict) -> RunRecord:
    window = WindowResult(
        name="generation",
        started_at=1.7e9,
        duration_s=1.0,
        energy_j={"cpu:0": 2.0},
        provenance={"cpu:0": Provenance.ESTIMATED},
        method={"cpu:0": Method.ESTIMATE},
    )
    return RunRecord(
        kind="sweep",
        started_at=1.7e9,
        duration_s=1.0,
        config={"model": "wan-tiny", "num_frames": 5},
        windows=[window],
        config_key="k",
        extra=extra,
    )


def test_the_stored_carbon_setting_is_kept() -> None:
    stored = CarbonSetting.resolve("FR", 1.2).to_dict()
    (summary,) = summarize_runs([_run({}), _run({"carbon": stored})])
    assert summary.carbon == CarbonSetting.from_dict(stored)
    assert summary.to_dict()["country"] == "FRA"


def test_a_legacy_country_is_looked_up_and_an_unknown_one_is_reported() -> None:
    (legacy,) = summarize_runs([_run({"country": "FRA", "pue": 1.2})])
    assert legacy.carbon is not None and legacy.carbon.intensity.name == "France"
    (unknown,) = summarize_runs([_run({"country": "XXX"})])
    assert unknown.carbon is None and "XXX" in (unknown.carbon_error or "")


def test_no_stored_setting_is_none_not_a_guess() -> None:
    (summary,) = summarize_runs([_run({})])
    assert (summary.carbon, summary.carbon_error) == (None, None)
