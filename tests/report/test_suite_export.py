"""The suite exported in the shape AI Energy Score publishes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genwatt.report import ReportError, write_report
from genwatt.report.suite_export import (
    GPU_SUMMARY_FILE,
    GPU_WH_FILE,
    INDEX_FILE,
    REPORT_FILE,
    SuiteExportError,
    domain_part,
    export_ai_energy_score,
    safe_name,
)
from genwatt.units import j_to_kwh, j_to_wh


def _per_1000(energy_j: float, queries: int = 8) -> float:
    return j_to_wh(energy_j) * 1000 / queries


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def exported(synth, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("aes") / "out"
    return export_ai_energy_score(synth.suite_runs(), folder)


def test_a_folder_per_task_and_model_and_the_other_batch_sizes_below(exported) -> None:
    root = exported.folder
    small = root / "text-classification" / "small"
    for name in (REPORT_FILE, GPU_WH_FILE, GPU_SUMMARY_FILE):
        assert (small / name).is_file()
        assert (small / "batch_size_4" / name).is_file()
        assert (small / "batch_size_16" / name).is_file()
    assert _json(small / REPORT_FILE)["genwatt"]["batch_size"] == 1
    assert _json(small / "batch_size_16" / REPORT_FILE)["genwatt"]["batch_size"] == 16
    assert exported.exported == 10 and exported.failed == 1
    index = _json(root / INDEX_FILE)
    assert len(index["entries"]) == 11
    (failed,) = [e for e in index["entries"] if e["status"] != "ok"]
    assert failed["model"] == "bart" and failed["path"] is None
    assert "out of memory" in failed["error"]
    assert not (root / "summarization").exists()  # no made-up files for a failure


def test_energy_per_phase_maps_domains_with_their_provenance(exported) -> None:
    report = _json(exported.folder / "text-classification" / "medium" / REPORT_FILE)
    # medium: 16 J GPU (measured), 16 J CPU side: 12 J package, 4 J DRAM (estimated)
    total = report["total"]["energy"]
    assert total["unit"] == "kWh"
    assert total["gpu"] == pytest.approx(j_to_kwh(16.0))
    assert total["cpu"] == pytest.approx(j_to_kwh(12.0))
    assert total["ram"] == pytest.approx(j_to_kwh(4.0))
    assert total["total"] == pytest.approx(j_to_kwh(32.0))
    assert "other" not in total
    assert total["provenance"] == {
        "cpu": "estimated",
        "ram": "estimated",
        "gpu": "measured",
        "total": "estimated",
    }
    forward = report["forward"]
    assert forward["energy"]["gpu"] == pytest.approx(j_to_kwh(8.0))
    assert forward["latency"] == {"unit": "s", "count": 8, "total": 1.0, "mean": 0.125}
    assert forward["throughput"] == {"unit": "queries/s", "value": 8.0}
    assert forward["efficiency"]["unit"] == "queries/kWh"
    assert forward["efficiency"]["value"] == pytest.approx(8 / j_to_kwh(16.0))
    phases = [k for k in report if k not in ("total", "genwatt")]
    assert set(phases) == {"preprocess", "forward", "postprocess", "other"}
    summed = sum(report[p]["energy"]["total"] for p in phases)
    assert summed == pytest.approx(total["total"])  # the phases add up


def test_the_gpu_files_are_per_1000_queries_and_add_up(exported) -> None:
    folder = exported.folder / "text-generation" / "gen-big"
    value = float((folder / GPU_WH_FILE).read_text())
    assert value == pytest.approx(_per_1000(512.0))
    summary = _json(folder / GPU_SUMMARY_FILE)
    assert summary["total"] == pytest.approx(value)
    assert summary["gpu_read"] is True and summary["provenance"] == "measured"
    assert summary["prefill_wh"] == pytest.approx(_per_1000(128.0))
    assert summary["decode_wh"] == pytest.approx(_per_1000(128.0))  # ten token windows
    assert summary["preprocess_wh"] == pytest.approx(_per_1000(64.0))
    parts = [v for k, v in summary.items() if k.endswith("_wh")]
    assert sum(parts) == pytest.approx(summary["total"])
    classifier = _json(exported.folder / "text-classification" / "small" / GPU_SUMMARY_FILE)
    assert classifier["prefill_wh"] is None and classifier["decode_wh"] is None
    assert classifier["forward_wh"] == pytest.approx(_per_1000(2.0))
    meta = _json(folder / REPORT_FILE)["genwatt"]
    assert meta["stars"]["size_class"] == "A" and meta["stars"]["ai_energy_score"] == 1
    assert meta["device"] == "cuda" and meta["hardware"] == "NVIDIA H100 80GB HBM3"


def test_without_a_gpu_no_gpu_figure_is_made_up(synth, tmp_path: Path) -> None:
    runs = [synth.suite_run("fill-mask", "bert-tiny", None, 4.0, weights="tiny")]
    result = export_ai_energy_score(runs, tmp_path)
    folder = tmp_path / "fill-mask" / "bert-tiny"
    text = (folder / GPU_WH_FILE).read_text()
    assert text.startswith("no GPU energy was read for this run (device cpu)")
    assert not any(ch.isdigit() for ch in text.replace("1,000", ""))  # no figure at all
    summary = _json(folder / GPU_SUMMARY_FILE)
    assert summary["gpu_read"] is False
    assert all(summary[k] is None for k in summary if k == "total" or k.endswith("_wh"))
    report = _json(folder / REPORT_FILE)
    assert report["total"]["energy"]["gpu"] is None
    assert report["total"]["energy"]["provenance"]["gpu"] is None
    assert report["total"]["energy"]["total"] == pytest.approx(j_to_kwh(4.0))
    assert any("miniatures" in note for note in report["genwatt"]["notes"])
    assert result.exported == 1


def test_groups_measured_differently_get_folders_of_their_own(synth, tmp_path: Path) -> None:
    runs = [
        synth.suite_run("fill-mask", "a", 1.0, 1.0),
        synth.suite_run("fill-mask", "a", 1.0, 1.0, protocol="ai-energy-score"),
    ]
    export_ai_energy_score(runs, tmp_path)
    reports = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob(REPORT_FILE))
    assert len(reports) == 2
    assert all(r.endswith("/fill-mask/a/benchmark_report.json") for r in reports)
    assert reports[0].split("/")[0] != reports[1].split("/")[0]


def test_names_cannot_steer_a_path() -> None:
    assert safe_name("google-bert/bert-base-uncased") == "google-bert__bert-base-uncased"
    assert safe_name("../../etc/passwd") == "__..__etc__passwd"
    assert "/" not in safe_name("a/../b") and not safe_name("..").startswith(".")
    assert safe_name("<script>") == "script-"


def test_domains_map_to_cpu_ram_gpu() -> None:
    assert [domain_part(d) for d in ("gpu:0", "gpu:3", "cpu:1", "dram:0", "npu:0")] == [
        "gpu",
        "gpu",
        "cpu",
        "ram",
        "other",
    ]


def test_an_export_needs_suite_runs(synth, tmp_path: Path) -> None:
    with pytest.raises(SuiteExportError, match="genwatt suite"):
        export_ai_energy_score(synth.runs(), tmp_path / "x")
    store = synth.write_store(tmp_path / "s.db", synth.runs())
    out = tmp_path / "r.html"
    with pytest.raises(ReportError, match="nothing to export"):
        write_report(store, out, ai_energy_score_dir=tmp_path / "x")
    assert not out.exists()  # refused before anything was written


def test_write_report_exports_beside_the_page(synth, tmp_path: Path) -> None:
    store = synth.write_store(tmp_path / "s.db", synth.suite_runs())
    result = write_report(
        store,
        tmp_path / "r.html",
        ai_energy_score_dir=tmp_path / "aes",
        predictor=synth.FakePredictor(),
    )
    assert result.export is not None and result.export.exported == 10
    assert (tmp_path / "aes" / INDEX_FILE).is_file()
    index = _json(tmp_path / "aes" / INDEX_FILE)
    assert {e["group"] for e in index["entries"]} == {
        "genwatt protocol · random weights · cuda: NVIDIA H100 80GB HBM3"
    }
    assert 'id="suite-leaderboard"' in result.path.read_text(encoding="utf-8")


@pytest.mark.slow
def test_suite_then_report_end_to_end(genwatt, tmp_path: Path) -> None:
    store = tmp_path / "suite.db"
    ran = genwatt(
        "suite",
        "--tasks",
        "text-classification,fill-mask",
        "--queries",
        "3",
        "--batch-sizes",
        "1,2",
        "--store",
        str(store),
        "--json",
    )
    assert ran.returncode == 0, ran.stderr
    out, aes, png = tmp_path / "r.html", tmp_path / "aes", tmp_path / "png"
    result = genwatt(
        "report",
        "--store",
        str(store),
        "-o",
        str(out),
        "--png",
        str(png),
        "--ai-energy-score-export",
        str(aes),
    )
    assert result.returncode == 0, result.stderr
    assert "wrote the AI Energy Score export of" in result.stdout
    html = out.read_text(encoding="utf-8")
    for section in ("suite-map", "suite-leaderboard", "suite-batch"):
        assert f'<section id="{section}">' in html
    assert "These are miniatures" in html
    assert sorted(p.name for p in png.iterdir())[0].startswith("01-suite-map-")
    index = _json(aes / INDEX_FILE)
    ok = [e for e in index["entries"] if e["status"] == "ok"]
    assert ok and all((aes / e["path"] / GPU_WH_FILE).is_file() for e in ok)
    first = ok[0]
    assert (aes / first["path"] / GPU_WH_FILE).read_text().startswith("no GPU energy was read")
    assert (aes / first["task"]).is_dir()
