"""``genwatt mitigate`` end to end, through the installed console script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genwatt.mitigate.record import load_mitigation_runs
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
    with ResultsStore(store) as results:
        stored = load_mitigation_runs(results)
    assert {r["name"] for r in stored} == {"unmitigated", *rows}
