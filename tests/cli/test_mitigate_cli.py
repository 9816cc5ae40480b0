"""``genwatt mitigate`` end to end, through the installed console script."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from genwatt.cli import mitigate as mitigate_cli
from genwatt.cli.render_mitigation import print_mitigation
from genwatt.meter.result import WindowResult
from genwatt.mitigate.comparison import size as comparison_size
from genwatt.mitigate.comparison.compare import Case, CaseResult, Comparison, StrategyResult
from genwatt.mitigate.comparison.conventions import COUNTED_RUN, SEPARATE_PASS
from genwatt.mitigate.comparison.record import load_mitigation_runs
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


@pytest.mark.parametrize("steps", ["0", "-3"])
def test_steps_the_model_cannot_run_are_the_registrys_one_line_error(genwatt, steps) -> None:
    """--steps goes through resolve_params as in bench and sweep: exit 2, one line."""
    result = genwatt("mitigate", "--steps", steps, "--store", "unused.db")
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        result.stderr.strip() == f"error: steps for wan-reference must be at least 1, got {steps}."
    )
    assert not result.stdout


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
        # Issue 22: the parts side by side, not only their product (was one number).
        parts = row["adherence"]
        assert set(parts) == {"colour", "direction", "shape", "all_three", "clips"}
        assert all(0.0 <= parts[k] <= 1.0 for k in ("colour", "direction", "shape"))
        assert parts["all_three"] <= min(parts["colour"], parts["direction"], parts["shape"])
    assert rows["fewer-steps-2"]["saves_work"] is True
    # Timed apart from the FLOP counter, except reuse, which cannot run a case twice.
    assert report["timing_mode"] == "separate"
    assert report["baseline"]["timing"] == SEPARATE_PASS
    assert rows["reuse-exact"]["timing"] == COUNTED_RUN
    assert rows["reuse-exact"]["ratio_baseline_timing"] == COUNTED_RUN
    assert rows["reuse-exact"]["timed_output_matches"] is None
    for name in ("fewer-steps-2", "no-guidance"):
        assert rows[name]["timing"] == rows[name]["ratio_baseline_timing"] == SEPARATE_PASS
        assert rows[name]["timed_output_matches"] is True
    with ResultsStore(store) as results:
        stored = load_mitigation_runs(results)
    assert {r["name"] for r in stored} == {"unmitigated", *rows}


@pytest.mark.slow
def test_the_default_is_the_quick_set_and_says_how_long_first(genwatt, tmp_path: Path) -> None:
    result = genwatt(
        "mitigate", "--steps", "2", "--store", str(tmp_path / "m.db"), "--json", timeout_s=300
    )
    assert result.returncode == 0, result.stderr
    assert re.search(
        r"About \d+ (s|min) on this machine: 30 clips of up to 4 denoiser calls", (result.stderr)
    )
    assert "--full runs every default strategy on 6 prompts" in result.stderr
    report = json.loads(result.stdout)  # the estimate stays off stdout
    assert report["n_cases"] == comparison_size.QUICK_PROMPTS
    names = [row["name"].split("-")[0] for row in report["strategies"]]
    assert names == ["fewer", "no", "magcache", "genwatt"]


def test_the_help_states_the_plan_defaults() -> None:
    """The CLI writes the prompt counts out (no numpy at ``--help``); they must agree."""
    assert (mitigate_cli.QUICK_PROMPTS, mitigate_cli.FULL_PROMPTS) == (
        comparison_size.QUICK_PROMPTS,
        comparison_size.FULL_PROMPTS,
    )


# ------------------------------------------------------------------ the printed table


def _comparison(window: Callable[[float], WindowResult]) -> Comparison:
    """Long names and figures of every width, as a full comparison prints them."""
    cases = [Case(f"prompt {i}", 0) for i in range(6)]
    shape_once = [i == 0 for i in range(6)]  # shape right in 1 of 6 clips: 17 %
    baseline = StrategyResult("unmitigated", "baseline", "the pipeline")
    baseline.cases = [
        CaseResult(c, 3_000_000, 60, window(812.3), math.inf, 1.0,
                   adherence={"colour": True, "direction": True, "shape": shape_once[i]})
        for i, c in enumerate(cases)
    ]  # fmt: skip
    rows = (
        ("genwatt-adaptive-3x", "cache", 3_000_000 / 12.3456, 33.456),
        ("lower-resolution-0.5", "baseline", 740_000, 22.1),
        ("reuse-exact", "reuse", 3_000_000, 100.0),
        ("fastercache-2", "cache", 2_410_000, 41.9),
        ("fewer-steps-15", "baseline", 1_500_000, 31.2),
        ("no-guidance", "baseline", 1_500_000, 28.7),
        ("magcache-0.06", "cache", 1_200_000, 36.1),
    )
    strategies = []
    for name, kind, flops, psnr in rows:
        result = StrategyResult(name, kind, "x", baseline=baseline)
        result.cases = [
            CaseResult(c, int(flops), 30, window(812.3 * flops / 3e6 + 0.01), psnr, 0.98765,
                       adherence={"colour": True, "direction": i > 0, "shape": False})
            for i, c in enumerate(cases)
        ]  # fmt: skip
        strategies.append(result)
    strategies.append(
        StrategyResult("pab-2", "cache", "x", error="RuntimeError: no", baseline=baseline)
    )
    call = {"num_inference_steps": 30, "guidance_scale": 5.0}
    return Comparison("wan-reference", call, cases, baseline, strategies, 1.7e9)


def _printed(comparison: Comparison, width: int) -> str:
    out = Console(width=width, record=True, highlight=False)
    print_mitigation(comparison, notes=[], sweep="s", store=Path("m.db"), out=out)
    return out.export_text()


def test_no_figure_is_cut_in_a_120_column_terminal(estimated_window) -> None:
    comparison = _comparison(estimated_window)
    text = _printed(comparison, 120)
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 120
    for result in comparison.strategies:
        if not result.ok:
            continue
        assert f"{result.flops_ratio:.2f}x" in text
        assert f"{result.energy_ratio:.2f}x" in text
        assert f"{result.psnr_db_mean:.1f}" in text
        assert f"{result.ssim_mean:.3f}" in text
    assert "12.35x" in text and "0.988" in text and "33.5" in text


def test_adherence_parts_are_shown_side_by_side(estimated_window) -> None:
    text = _printed(_comparison(estimated_window), 120)
    header = next(line for line in text.splitlines() if "colour" in line)
    assert re.search(r"colour\s+direction\s+shape\s+all 3", header)
    reference = next(line for line in text.splitlines() if line.startswith("unmitigated"))
    # colour and direction always right, shape once in six: the product alone read 17 %.
    assert re.search(r"100%\s+100%\s+17%\s+17%$", reference.rstrip())
    assert "'all 3': share where all three do at once" in " ".join(text.split())


def test_a_strategy_that_saved_nothing_is_named_as_such(estimated_window) -> None:
    text = " ".join(_printed(_comparison(estimated_window), 120).split())
    assert "reuse-exact: no saving on this prompt set" in text
    assert "reuse saves only where prompts repeat" in text
    assert "magcache-0.06: no saving" not in text
