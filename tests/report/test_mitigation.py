"""The "Cutting the energy" section: comparisons read back, their frontier, figure and table."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from genwatt.meter.result import WindowResult
from genwatt.report import build_report
from genwatt.report.mitigation import (
    PSNR_CAP_DB,
    comparisons,
    mitigation_section,
    pareto_data,
    pareto_front,
)
from genwatt.report.mitigation_table import mitigation_html
from genwatt.report.tables import leaderboard_html, other_runs_html
from genwatt.store.records import RunRecord
from genwatt.store.store import ResultsStore

NEWER = "mitigate-wan-20240101T000000"
OLDER = "mitigate-sd-tiny-20231201T000000"
FRONT = ["unmitigated", "fbcache-0.1", "magcache-0.2", "semantic-reuse"]


def _stored(path: Path, runs: list[RunRecord], synth: Any) -> list[RunRecord]:
    synth.write_store(path, runs)
    with ResultsStore(path) as store:
        return store.runs()


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory, synth: Any) -> Any:
    """The synthetic sweeps, then two comparisons (the newer estimated, the older measured
    with no adherence and no failure), built into one report."""
    runs = [
        *synth.runs(),
        *synth.mitigation_runs(sweep=NEWER),
        *synth.mitigation_runs(
            "sd-tiny", OLDER, started_at=1.7e9, measured=True, adherence=False, failed=False
        ),
    ]
    records = _stored(tmp_path_factory.mktemp("mixed") / "s.db", runs, synth)
    return build_report(records, predictor=synth.FakePredictor())


def _section(html: str) -> str:
    match = re.search(r'<section id="mitigation">.*?</section>', html, flags=re.S)
    assert match, "no mitigation section"
    return match.group(0)


def _row(section: str, name: str) -> str:
    match = re.search(
        rf"<tr[^>]*><td><span class=\"gw-model\">{re.escape(name)}</span>.*?</tr>",
        section,
        flags=re.S,
    )
    assert match, name
    return match.group(0)


# ---------------------------------------------------------------------------- frontier


def test_pareto_front_keeps_only_points_nothing_beats_on_both_axes() -> None:
    points = [(1.0, 100.0), (2.0, 30.0), (1.5, 25.0), (3.0, 20.0), (3.0, 10.0), (0.8, 40.0)]
    # (1.5, 25) loses to (2, 30); (3, 10) to (3, 20); (0.8, 40) to (1, 100).
    assert pareto_front(points) == [0, 1, 3]
    assert pareto_front([(2.0, 30.0), (2.0, 30.0)]) == [0, 1]  # equal: neither is better
    assert pareto_front([(2.0, 30.0), (2.0, 31.0)]) == [1]  # same saving, better quality
    assert pareto_front([(5.0, 1.0)]) == [0]
    assert pareto_front([]) == []
    assert pareto_front([(math.inf, 5.0), (4.0, 5.0)]) == [0]


def test_comparisons_are_read_per_sweep_newest_first_reference_first(synth) -> None:
    runs = [
        *synth.mitigation_runs("sd-tiny", OLDER, started_at=1.7e9),
        *synth.mitigation_runs(sweep=NEWER),
        *synth.runs(),  # sweeps and commands are no comparisons
    ]
    found = comparisons(runs)
    assert [c.sweep for c in found] == [NEWER, OLDER]
    newest = found[0]
    assert newest.model == synth.WAN and newest.n_cases == 4
    assert newest.call == {"num_inference_steps": 20, "num_frames": 9}
    assert newest.rows[0].name == "unmitigated"
    assert newest.reference is not None and newest.reference.energy_per_case_j == 100.0
    fbcache = next(r for r in newest.rows if r.name == "fbcache-0.1")
    assert (fbcache.kind, fbcache.flops_ratio, fbcache.energy_ratio) == ("cache", 1.6, 1.25)
    assert (fbcache.psnr_db, fbcache.psnr_db_min, fbcache.share_good) == (38.0, 33.0, 1.0)
    assert fbcache.provenance == "estimated" and fbcache.cases == 4
    (failed,) = newest.failed
    assert failed.name == "taylorseer-3" and not failed.ok
    assert failed.error is not None and failed.error.startswith("RuntimeError: TaylorSeer")


def test_pareto_data_marks_the_frontier_and_puts_the_reference_off_scale(synth) -> None:
    (comparison,) = comparisons(synth.mitigation_runs())
    data = pareto_data(comparison)
    assert data is not None
    assert [p.name for p in data.front] == FRONT
    assert data.reference is not None
    assert (data.reference.saving, data.reference.psnr_db) == (1.0, PSNR_CAP_DB)
    assert data.reference_off_scale  # every strategy is far below the 100 dB cap
    assert data.failed == ("taylorseer-3",) and data.strategies == 6
    assert data.energy_ratios and not data.unplotted
    assert {p.kind for p in data.points} == {"reference", "cache", "baseline", "reuse"}


def test_a_strategy_that_ran_no_denoising_saved_infinitely(synth) -> None:
    runs = synth.mitigation_runs(failed=False)
    summary = runs[-1].extra["mitigation"]  # semantic-reuse served every case from cache
    summary.update(flops=0, flops_ratio=None)  # what as_dict writes for inf
    (comparison,) = comparisons(runs)
    reuse = next(r for r in comparison.rows if r.name == "semantic-reuse")
    assert reuse.flops_ratio == math.inf
    data = pareto_data(comparison)
    assert data is not None and data.front[-1].name == "semantic-reuse"
    html = mitigation_html(mitigation_section(runs), {})
    assert "∞ (−100%)" in html

    from genwatt.report.figures import to_svg
    from genwatt.report.mitigation_figure import draw_pareto

    svg = to_svg(draw_pareto(data), scope="t", label="t")
    assert "semantic-reuse (∞: ran no denoising)" in svg


def test_no_figure_when_every_strategy_failed(synth) -> None:
    runs = synth.mitigation_runs()
    kept = [r for r in runs if r.config_key in ("unmitigated", "taylorseer-3")]
    section = mitigation_section(kept)
    assert section.shown[0].pareto is None and section.figure_count == 0
    html = mitigation_html(section, {})
    assert "there is no figure" in html and "failed: RuntimeError" in html


def test_the_newest_comparisons_are_drawn_and_older_ones_listed(synth) -> None:
    runs = [
        run
        for day in range(5)
        for run in synth.mitigation_runs(
            sweep=f"mitigate-wan-2024010{day + 1}T000000", started_at=1.7e9 + day * 86400
        )
    ]
    section = mitigation_section(runs)
    assert [i.comparison.sweep for i in section.shown] == [
        "mitigate-wan-20240105T000000",
        "mitigate-wan-20240104T000000",
        "mitigate-wan-20240103T000000",
    ]
    assert [c.sweep for c in section.older] == [
        "mitigate-wan-20240102T000000",
        "mitigate-wan-20240101T000000",
    ]
    html = mitigation_html(section, {})
    assert "2 older comparisons" in html and "genwatt report --sweep" in html
    assert html.count('class="gw-table gw-mitigation"') == 3
    ids = re.findall(r'id="([^"]+)"', html)
    assert len(ids) == len(set(ids))  # each table numbers its own notes


# ------------------------------------------------------------------------------ report


def test_the_section_shows_a_figure_and_a_table_per_comparison(mixed) -> None:
    section = _section(mixed.html)
    assert "<h2>Cutting the energy</h2>" in section
    assert '<a href="#mitigation">Cutting the energy</a>' in mixed.html
    figures = re.findall(
        r'<figure class="gw-figure"[^>]*data-section="mitigation".*?</figure>', section, flags=re.S
    )
    assert len(figures) == 2
    newest = figures[0]  # the newest comparison comes first
    assert "<svg" in newest and "mitigate-wan" in newest
    for label in (*FRONT[1:], "pab-2", "fewer-steps-10"):
        assert f"<!-- {label} -->" in newest  # the labels, drawn as outlines
    assert "<!-- unmitigated: identical output, PSNR ∞ (off scale) -->" in newest
    assert "Pareto frontier" in newest and "energy estimated" in newest
    assert "taylorseer-3" not in re.sub(r"<figcaption>.*", "", newest, flags=re.S)
    caption = re.search(r"<figcaption>(.*?)</figcaption>", newest, flags=re.S).group(1)
    assert "FLOPs are the trustworthy measure of work" in caption
    assert "overhead of the hooks" in caption and "1 failed" in caption
    assert "energy saved, with its provenance, is in the table" in caption
    assert "off scale" in caption
    assert "energy measured" in figures[1]


def test_the_table_holds_each_strategy_and_the_failed_one(mixed) -> None:
    section = _section(mixed.html)
    newest = section[: section.index(OLDER)]
    reference = _row(newest, "unmitigated")
    assert "reference" in reference and "8 TFLOP" in reference
    assert '<span class="gw-value-estimated">27.8 mWh</span> per case' in reference
    fbcache = _row(newest, "fbcache-0.1")
    cells = re.findall(r"<td>(.*?)</td>", fbcache, flags=re.S)
    assert "◆ frontier" in cells[0] and cells[1] == "cache"
    assert cells[2].startswith("×1.6 (−38%)") and "5 TFLOP" in cells[2]
    assert '<span class="gw-value-estimated">×1.25 (−20%)</span>' in cells[3]
    assert "22.2 mWh per case" in cells[3]
    assert cells[4] == "×1.25 (−20%)"  # time
    assert cells[5:10] == ["38 dB", "33 dB", "100%", "0.97", "100%"]
    assert "gw-prov-estimated" in cells[10]
    assert "◆ frontier" not in _row(newest, "pab-2")
    assert "◆ frontier" not in _row(newest, "fewer-steps-10")
    failed = _row(newest, "taylorseer-3")
    assert 'colspan="9"' in failed
    assert "failed: RuntimeError: TaylorSeer does not fit &lt;WanModel&gt;" in failed
    order = [m for m in re.findall(r'gw-model">([^<]+)<', newest)]
    assert order == [
        "unmitigated",
        "semantic-reuse",
        "magcache-0.2",
        "fewer-steps-10",
        "fbcache-0.1",
        "pab-2",
        "taylorseer-3",
    ]
    older = section[section.index(OLDER) :]
    assert "gw-prov-measured" in older and "failed:" not in older
    assert "adherence is checked only when the prompts are captions" in older  # its note


def test_mitigation_runs_leave_the_other_sections_as_they_were(mixed, built) -> None:
    """The same store with and without comparisons: every older part is the same."""
    with_, without = mixed.content, built.content
    assert [s.series.label for s in with_.series] == [s.series.label for s in without.series]
    assert [[r.id for r in s.series.records] for s in with_.series] == [
        [r.id for r in s.series.records] for s in without.series
    ]
    assert leaderboard_html(with_.leaderboard) == leaderboard_html(without.leaderboard)
    assert with_.timelines == without.timelines
    assert other_runs_html(with_.other_runs, with_.other_runs_total, None) == other_runs_html(
        without.other_runs, without.other_runs_total, None
    )
    old = [f.rendered for f in mixed.figures if f.rendered.section != "mitigation"]
    assert old == [f.rendered for f in built.figures]  # same numbers, SVGs and captions
    assert with_.figure_count == without.figure_count + 2 == len(mixed.figures)
    assert with_.runs == without.runs + 13 and with_.failed == without.failed + 1
    names = [f.name for f in mixed.figures if f.rendered.section == "mitigation"]
    assert names == [f"12-mitigation-{NEWER.lower()}.png", f"13-mitigation-{OLDER.lower()}.png"]
    html = mixed.html
    assert html.index('id="timelines"') < html.index('id="mitigation"')
    assert html.index('id="mitigation"') < html.index('id="commands"')


def test_no_section_without_mitigation_runs(built) -> None:
    assert 'id="mitigation"' not in built.html
    assert "Cutting the energy" not in built.html
    assert not built.content.mitigation.shown


# ---------------------------------------------------------------- the stored shape itself


def test_what_genwatt_mitigate_stores_is_read_as_it_means(
    tmp_path: Path, estimated_window: Callable[[float], WindowResult]
) -> None:
    """A comparison saved by ``genwatt.mitigate.comparison.record`` itself (no model is run)."""
    pytest.importorskip("torch")
    from genwatt.mitigate.comparison.compare import Case, CaseResult, Comparison, StrategyResult
    from genwatt.mitigate.comparison.conventions import (
        COUNTED_RUN,
        GOOD_PSNR_DB,
        RUN_KIND,
        SEPARATE_PASS,
    )
    from genwatt.mitigate.comparison.conventions import PSNR_CAP_DB as CAP
    from genwatt.mitigate.comparison.record import load_mitigation_runs, save_comparison
    from genwatt.report import mitigation, mitigation_figure

    assert (mitigation.RUN_KIND, mitigation.PSNR_CAP_DB) == (RUN_KIND, CAP)
    assert mitigation_figure.GOOD_PSNR_DB == GOOD_PSNR_DB  # the figure's 30 dB line

    cases = [Case("a red circle", 0), Case("a blue square", 1)]
    baseline = StrategyResult("unmitigated", "baseline", "the pipeline as configured")
    baseline.cases = [
        CaseResult(c, 1000, 20, estimated_window(8.0), math.inf, 1.0, timing=SEPARATE_PASS,
                   timed_output_diff=0.0, counted_window=estimated_window(16.0))
        for c in cases
    ]  # fmt: skip
    cache = StrategyResult("fbcache-0.1", "cache", "first-block cache", baseline=baseline)
    cache.cases = [
        CaseResult(c, 400, 20, estimated_window(4.0), 32.0 + i, 0.9, timing=SEPARATE_PASS,
                   timed_output_diff=0.5 * i)
        for i, c in enumerate(cases)
    ]  # fmt: skip
    reuse = StrategyResult("semantic-reuse", "reuse", "served from cache", baseline=baseline)
    reuse.cases = [
        CaseResult(c, 0, 0, estimated_window(0.5), 20.0, 0.5, timing=COUNTED_RUN) for c in cases
    ]
    broken = StrategyResult("pab-2", "cache", "broken", error="TypeError: no", baseline=baseline)
    comparison = Comparison(
        "wan-tiny", {"num_inference_steps": 4}, cases, baseline, [cache, reuse, broken], 1.7e9
    )
    with ResultsStore(tmp_path / "m.db") as store:
        save_comparison(comparison, store, "mitigate-wan-tiny-x")
        stored = load_mitigation_runs(store)
        records = store.runs()

    (found,) = comparisons(records)
    by_name = {r.name: r for r in found.rows}
    for summary in stored:
        row = by_name[summary["name"]]
        assert (row.kind, row.ok, row.flops) == (summary["kind"], summary["ok"], summary["flops"])
        assert row.psnr_db == summary["psnr_db"] and row.energy_j == summary["energy_j"]
        assert row.energy_ratio == summary["energy_ratio"]
    assert found.model == "wan-tiny" and found.n_cases == 2
    assert found.call == {"num_inference_steps": 4}
    assert by_name["unmitigated"].psnr_db == CAP
    assert by_name["fbcache-0.1"].flops_ratio == 2.5 and by_name["fbcache-0.1"].psnr_db == 32.5
    assert by_name["semantic-reuse"].flops_ratio == math.inf  # stored as null
    assert by_name["pab-2"].error == "TypeError: no"
    assert by_name["unmitigated"].timing == by_name["fbcache-0.1"].timing == SEPARATE_PASS
    assert by_name["fbcache-0.1"].timed_output_matches is False  # its second case drifted
    reused = by_name["semantic-reuse"]
    assert (reused.timing, reused.ratio_baseline_timing) == (COUNTED_RUN, COUNTED_RUN)
    assert reused.energy_ratio == 16.0 / 0.5  # against the reference's counted runs
    html = build_report(records).html
    assert f"Seconds and joules: {SEPARATE_PASS}, unless a row says otherwise." in html
    section = _section(html)
    assert f"timed in: {COUNTED_RUN}; against the reference&#x27;s {COUNTED_RUN}" in (
        _row(section, "semantic-reuse")
    )
    assert "timed in:" not in _row(section, "fbcache-0.1")
    assert "output differed from its counted run" in _row(section, "fbcache-0.1")
    assert "output differed" not in _row(section, "semantic-reuse")
    assert "Cutting the energy" in html and "failed: TypeError: no" in html
    assert 'id="leaderboard"' not in html  # no generation stored: no placeholder section
    assert "Not in this report, for want of data: generations" in html


# ------------------------------------------------- no saving, and adherence part by part


def _exact_reuse_saving_nothing(synth: Any) -> list[RunRecord]:
    """The comparison, plus exact reuse on prompts that never repeat: every clip made
    afresh, so the reference's FLOPs and output (as ``StrategyResult.as_dict`` writes)."""
    runs = synth.mitigation_runs(failed=False)
    reuse = runs[-1]  # semantic-reuse: reshaped into an exact reuse that never hit
    summary = dict(reuse.extra["mitigation"])
    summary.update(name="reuse-exact", flops=runs[0].extra["mitigation"]["flops"], flops_ratio=1.0,
                   energy_ratio=0.98, latency_ratio=0.98, psnr_db=100.0, psnr_db_min=100.0,
                   share_psnr_at_least_30db=1.0, ssim=1.0, saves_work=False)  # fmt: skip
    extra = {**reuse.extra, "mitigation": summary}
    config = {**reuse.config, "strategy": "reuse-exact"}
    exact = RunRecord(
        **{**reuse.__dict__, "extra": extra, "config": config, "config_key": "reuse-exact"}
    )
    return [*runs, exact]


def test_a_strategy_that_saved_nothing_is_no_frontier_point(synth) -> None:
    runs = _exact_reuse_saving_nothing(synth)
    (comparison,) = comparisons(runs)
    exact = next(r for r in comparison.rows if r.name == "reuse-exact")
    assert exact.saves_work is False
    data = pareto_data(comparison)
    assert data is not None and data.no_saving == ("reuse-exact",)
    assert "reuse-exact" not in {p.name for p in data.points}
    assert [p.name for p in data.front] == FRONT  # unchanged by a strategy that saved nothing
    html = mitigation_html(mitigation_section(runs), {})
    row = _row(html, "reuse-exact")
    assert "no saving on this prompt set" in row and "◆ frontier" not in row
    assert "◆ frontier" in _row(html, "fbcache-0.1")

    from genwatt.report.figures import to_svg
    from genwatt.report.mitigation_figure import draw_pareto

    svg = to_svg(draw_pareto(data), scope="t", label="t")
    assert "<!-- not drawn, no saving on this prompt set: reuse-exact -->" in svg
    assert "<!-- reuse-exact -->" not in svg


def test_adherence_shows_each_part_beside_all_three(synth) -> None:
    runs = synth.mitigation_runs(failed=False)
    parts = {"colour": 1.0, "direction": 1.0, "shape": 1 / 6, "all_three": 1 / 6, "clips": 6}
    runs[0].extra["mitigation"]["adherence"] = parts  # as StrategyResult.as_dict writes it
    earlier = runs[1].extra["mitigation"]  # as runs stored before the parts were kept
    earlier.update(adherence=0.5, adherence_rates={"colour_rate": 0.75, "direction_rate": 1.0,
                   "shape_rate": 0.5, "overall_rate": 0.5, "n_videos": 4.0})  # fmt: skip
    (comparison,) = comparisons(runs)
    reference, first = comparison.rows[0], comparison.rows[1]
    assert reference.adherence is not None and reference.adherence.all_three == 1 / 6
    assert reference.adherence.parts == {"colour": 1.0, "direction": 1.0, "shape": 1 / 6}
    assert first.adherence is not None and first.adherence.parts == {
        "colour": 0.75, "direction": 1.0, "shape": 0.5
    }  # fmt: skip
    html = mitigation_html(mitigation_section(runs), {})
    assert "Adherence: all three" in html
    cells = re.findall(r"<td>(.*?)</td>", _row(html, "unmitigated"), flags=re.S)
    assert cells[-2].startswith("17%")
    assert "colour 100% · direction 100% · shape 17%" in cells[-2]
    assert "colour 75% · direction 100% · shape 50%" in _row(html, first.name)
    only_number = re.findall(r"<td>(.*?)</td>", _row(html, "pab-2"), flags=re.S)
    assert only_number[-2] == "100%"  # an overall number alone is shown as it was


def test_the_report_judges_no_saving_as_the_comparison_does() -> None:
    pytest.importorskip("torch")
    from genwatt.mitigate.comparison.conventions import MIN_WORK_SAVED
    from genwatt.report import mitigation

    assert mitigation.MIN_WORK_SAVED == MIN_WORK_SAVED


def test_comparisons_stored_with_the_earlier_timing_label_read_as_counted_runs() -> None:
    """Earlier versions labelled the counted run "instrumented run"; it reads as today's."""
    from genwatt.mitigate.comparison.conventions import COUNTED_RUN, SEPARATE_PASS
    from genwatt.report.mitigation import strategy_row

    earlier = "instrumented run (includes FLOP counter overhead)"
    record = RunRecord(
        kind="mitigation",
        started_at=1.7e9,
        duration_s=1.0,
        config={"strategy": "reuse-exact", "strategy_kind": "reuse", "n_cases": 1},
        extra={
            "mitigation": {
                "name": "reuse-exact",
                "kind": "reuse",
                "ok": True,
                "timing": earlier,
                "ratio_baseline_timing": SEPARATE_PASS,
            }
        },
    )
    row = strategy_row(record)
    assert (row.timing, row.ratio_baseline_timing) == (COUNTED_RUN, SEPARATE_PASS)
