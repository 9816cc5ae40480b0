"""``genwatt mitigate`` end to end, through the installed console script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genwatt.mitigate.record import load_mitigation_runs
from genwatt.mitigate.timing import INSTRUMENTED_RUN, SEPARATE_PASS
from genwatt.store.store import ResultsStore


def test_list_names_every_kind(genwatt) -> None:
    result = genwatt("mitigate", "--list")
    assert result.returncode == 0, result.stderr
    for name in ("magcache", "genwatt-adaptive", "reuse-semantic", "fewer-steps"):
        assert name in result.stdout


def test_unknown_strategy_is_a_clear_error(genwatt) -> None:
    result = genwatt("mitigate", "--strategies", "warp-drive")
    assert result.returncode != 0
    assert "unknown strategy 'warp-drive'" in result.stderr + result.stdout


def test_unknown_timing_fails_before_the_model_loads(genwatt) -> None:
    result = genwatt("mitigate", "--timing", "sometimes", "--model", "no-such-model")
    assert result.returncode != 0
    assert "timing must be one of separate, instrumented" in result.stderr + result.stdout


@pytest.mark.slow
def test_json_reports_each_strategy_and_stores_the_comparison(genwatt, tmp_path: Path) -> None:
    store = tmp_path / "m.db"
    result = genwatt(
        "mitigate",
        "--strategies",
        "fewer-steps:2,no-guidance,reuse-exact",
        "--steps",
        "4",
        "--prompts",
        "1",
        "--seeds",
        "0,1",
        "--store",
        str(store),
        "--reuse-store",
        str(tmp_path / "reuse.db"),
        "--json",
        timeout_s=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["model"] == "wan-reference" and report["n_cases"] == 2
    rows = {row["name"]: row for row in report["strategies"]}
    assert set(rows) == {"fewer-steps-2", "no-guidance", "reuse-exact"}
    assert rows["fewer-steps-2"]["flops_ratio"] == pytest.approx(2.0)
    assert rows["fewer-steps-2"]["kind"] == "baseline"
    assert rows["reuse-exact"]["kind"] == "reuse"
    for row in rows.values():
        assert row["energy_provenance"] == "estimated"
        assert 0.0 <= row["adherence"] <= 1.0
    # Timed apart from the FLOP counter, except reuse, which cannot run a case twice.
    assert report["timing_mode"] == "separate"
    assert report["baseline"]["timing"] == SEPARATE_PASS
    assert rows["reuse-exact"]["timing"] == INSTRUMENTED_RUN
    assert rows["reuse-exact"]["ratio_baseline_timing"] == INSTRUMENTED_RUN
    assert rows["reuse-exact"]["timed_output_matches"] is None
    for name in ("fewer-steps-2", "no-guidance"):
        assert rows[name]["timing"] == rows[name]["ratio_baseline_timing"] == SEPARATE_PASS
        assert rows[name]["timed_output_matches"] is True
    with ResultsStore(store) as results:
        stored = load_mitigation_runs(results)
    assert {r["name"] for r in stored} == {"unmitigated", *rows}
