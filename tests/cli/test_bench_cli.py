"""``genwatt bench`` and ``genwatt sweep`` end to end, through the installed console script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genwatt.store.store import ResultsStore


@pytest.mark.slow
def test_bench_json_report_has_phases_provenance_and_fits(genwatt, tmp_path: Path) -> None:
    store = tmp_path / "b.db"
    result = genwatt(
        "bench",
        "--frames",
        "5,9",
        "--height",
        "32",
        "--width",
        "32,64",
        "--steps",
        "2,4",
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--store",
        str(store),
        "--json",
        timeout_s=180,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["model"] == "wan-tiny" and report["ran"] == 8 and report["failed"] == 0
    config = report["configs"][0]
    assert set(config["phases_j"]) == {"text_encode", "denoise", "vae_decode", "other"}
    assert config["provenance"] == "estimated"  # no counter on this machine, and it says so
    energy = report["scaling"]["energy"]["exponents"]
    assert set(energy) == {"num_frames", "pixels", "steps"}
    assert all(len(e["ci95"]) == 2 for e in energy.values())
    steps = report["scaling"]["denoise_energy"]["exponents"]["steps"]
    assert 0.3 < steps["value"] < 2.0  # denoising is linear in steps, up to timing noise
    with ResultsStore(store) as results:
        assert results.count(sweep=report["sweep"]) == 8


def test_bench_real_size_gpu_command_plans_without_running(genwatt) -> None:
    result = genwatt(
        "bench",
        "--model",
        "wan2.1-t2v-1.3b",
        "--weights",
        "random",
        "--device",
        "cuda",
        "--dry-run",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert {c["model"] for c in plan} == {"wan2.1-t2v-1.3b"}
    assert {c["weights"] for c in plan} == {"random"}
    assert max(c["num_frames"] for c in plan) == 81
    assert all((c["num_frames"] - 1) % 4 == 0 for c in plan)  # WAN runs 4k+1 frames
    assert {(c["height"], c["width"]) for c in plan} >= {(480, 832)}


def _refused_sweep(genwatt, tmp_path: Path, spec_yaml: str) -> str:
    """``genwatt sweep`` of ``spec_yaml`` into s.db, which must fail as a usage error (2);
    what it wrote to stderr."""
    spec = tmp_path / "s.yaml"
    spec.write_text(spec_yaml)
    result = genwatt("sweep", str(spec), "--store", str(tmp_path / "s.db"))
    assert result.returncode == 2
    return result.stderr


def test_sweep_bad_yaml_is_a_clear_error(genwatt, tmp_path: Path) -> None:
    stderr = _refused_sweep(genwatt, tmp_path, "model: wan-tiny\ngrid: {num_frame: [5]}\n")
    assert "num_frame" in stderr and "did you mean 'num_frames'" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "s.db").exists()


def test_sweep_invalid_size_runs_nothing(genwatt, tmp_path: Path) -> None:
    stderr = _refused_sweep(genwatt, tmp_path, "model: wan-tiny\nheight: 30\nwidth: 32\nsteps: 1\n")
    assert "height" in stderr and "nothing was run" in stderr


@pytest.mark.slow
def test_sweep_resumes_by_default_and_fresh_starts_over(genwatt, tmp_path: Path) -> None:
    spec = tmp_path / "tiny.yaml"
    spec.write_text("model: wan-tiny\nheight: 32\nwidth: 32\ngrid: {steps: [1, 2]}\n")
    store = str(tmp_path / "r.db")
    first = json.loads(
        genwatt("sweep", str(spec), "--store", store, "--json", timeout_s=120).stdout
    )
    again = json.loads(
        genwatt("sweep", str(spec), "--store", store, "--json", timeout_s=120).stdout
    )
    assert (first["ran"], again["ran"], again["skipped"]) == (2, 0, 2)
    assert first["sweep"] == again["sweep"] == "tiny"
    fresh = json.loads(
        genwatt("sweep", str(spec), "--store", store, "--fresh", "--json", timeout_s=120).stdout
    )
    assert fresh["ran"] == 2 and fresh["sweep"].startswith("tiny-")
