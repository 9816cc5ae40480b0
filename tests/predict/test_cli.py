"""The predict, gpus, calibrate and check-reference commands, end to end."""

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from genwatt.predict import video_energy_budget
from genwatt.predict.model import ModelParams
from genwatt.predict.predictor import predict

WAN_ARGS = (
    "--model", "wan2.1-t2v-1.3b", "--gpu", "h100-sxm",
    "--frames", "81", "--height", "480", "--width", "832", "--steps", "50",
)  # fmt: skip


@pytest.mark.slow
def test_predict_json_answers_fast_without_torch(genwatt) -> None:
    # The console script's full start-up, as a user meets it.
    started = time.perf_counter()
    result = genwatt("predict", *WAN_ARGS, "--json")
    elapsed_s = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    assert elapsed_s < 2.0, f"genwatt predict took {elapsed_s:.2f} s"
    data = json.loads(result.stdout)
    assert {"text_encoder", "denoise", "vae_decode", "total"} <= set(data["flops"])
    assert data["provenance"] == "predicted"
    for key in ("latency_s", "energy_gpu_wh", "energy_floor_wh"):
        assert data[key] > 0
    assert data["energy_floor_wh"] <= data["energy_gpu_wh"]
    calibration = data["calibration"]
    assert calibration["fitted"] is True
    assert "video_energy_budget" in calibration["source"]
    cv = calibration["cross_validated_error"]
    assert cv["latency_mape_pct"] > 0 and cv["energy_gpu_mape_pct"] > 0
    # The paper measured 19.2 Wh for this configuration (shared/reference/README.md).
    assert data["energy_gpu_wh"] == pytest.approx(19.2, rel=0.15)


@pytest.mark.slow
def test_predict_path_never_imports_torch(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from genwatt.cli.app import app\n"
        f"r = CliRunner().invoke(app, ['predict', *{list(WAN_ARGS)!r}, '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.strip() == "[]"


def test_other_gpus_are_marked_uncalibrated(genwatt) -> None:
    result = genwatt("predict", *WAN_ARGS[:2], "--gpu", "a100-sxm-80gb", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["calibration"]["fitted"] is False
    assert data["calibration"]["source"].startswith("uncalibrated")
    assert data["calibration"]["cross_validated_error"] is None
    h100 = json.loads(genwatt("predict", *WAN_ARGS[:2], "--json").stdout)
    assert data["latency_s"] > 2 * h100["latency_s"]  # a third of the H100's peak


def test_human_output_and_user_errors(genwatt) -> None:
    result = genwatt("predict", *WAN_ARGS)
    assert result.returncode == 0, result.stderr
    assert "predicted" in result.stdout and "floor" in result.stdout
    bad = genwatt("predict", "--model", "wan2.1-t2v-1.3b", "--gpu", "h100-sxn")
    assert bad.returncode == 2 and "Did you mean" in bad.stderr
    bad = genwatt("predict", "--model", "wan2.1-t2v-1.3b", "--height", "481")
    assert bad.returncode == 2 and "multiple of 16" in bad.stderr
    bad = genwatt("predict", "--model", "wan2.1-t2v-1.3b", "--sweep", "frames=9:1:4")
    assert bad.returncode == 2 and "STOP" in bad.stderr


def test_sweep_reports_the_scaling_exponent(genwatt) -> None:
    result = genwatt(
        "predict", "--model", "wan2.1-t2v-1.3b", "--sweep", "frames=17:161:16", "--json"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [r["num_frames"] for r in data["rows"]] == list(range(17, 162, 16))
    exponent = data["energy_fit"]["exponents"]["num_frames"]["value"]
    assert 1.0 < exponent < 2.0  # attention makes it super-linear, not fully quadratic
    table = genwatt("predict", "--model", "wan2.1-t2v-1.3b", "--sweep", "steps=10,20,40")
    assert table.returncode == 0, table.stderr
    assert "steps" in table.stdout and "∝" in table.stdout


def test_gpus_lists_profiles_with_citations(genwatt) -> None:
    result = genwatt("gpus", "--json")
    assert result.returncode == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["h100-sxm"]["calibrated"] is True
    assert all(r["citation"] for r in rows.values())
    assert genwatt("gpus").returncode == 0


def test_calibrate_from_a_csv_reports_cross_validated_error(genwatt, tmp_path: Path) -> None:
    """Measurements made up from known parameters: calibrate must find them again."""
    truth = ModelParams(
        attention_efficiency=0.3,
        dense_efficiency=0.5,
        aux_efficiency=0.1,
        fixed_overhead_s=2.0,
        denoise_power_frac=0.9,
        aux_power_frac=0.6,
    )
    from genwatt.predict.calibration import Calibration
    from genwatt.predict.model import get_form

    synthetic = Calibration("a100-sxm-80gb", get_form("attention-split"), truth, True, "truth")
    path = tmp_path / "runs.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["num_frames", "height", "width", "steps", "duration_s", "energy_gpu_j"])
        for frames, steps, h, w in [
            (9, 30, 480, 832), (33, 30, 480, 832), (81, 30, 480, 832), (81, 10, 480, 832),
            (81, 50, 480, 832), (17, 30, 720, 1280), (49, 20, 720, 1280), (5, 30, 480, 832),
        ]:  # fmt: skip
            p = predict(
                "wan2.1-t2v-1.3b", "a100-sxm-80gb", num_frames=frames, steps=steps,
                height=h, width=w, calibration=synthetic,
            )  # fmt: skip
            writer.writerow([frames, h, w, steps, p.latency_s, p.energy_gpu_j])
    out = tmp_path / "a100.json"
    result = genwatt(
        "calibrate", "--gpu", "a100-sxm-80gb", "--from", str(path),
        "--model", "wan2.1-t2v-1.3b", "--form", "attention-split", "--out", str(out), "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["cross_validation"]["latency_mape_pct"] < 1.0
    assert data["params"]["denoise_power_frac"] == pytest.approx(0.9, rel=0.01)
    predicted = genwatt("predict", *WAN_ARGS[:2], "--gpu", "a100-sxm-80gb",
                        "--calibration", str(out), "--json")  # fmt: skip
    assert json.loads(predicted.stdout)["calibration"]["fitted"] is True
    missing = genwatt("calibrate", "--gpu", "a100", "--from", str(path))
    assert missing.returncode == 2 and "--model" in missing.stderr


def test_check_reference_flags_the_wan_rows(genwatt, video_reference: Path) -> None:
    result = genwatt(
        "check-reference", str(video_reference / video_energy_budget.CROSS_MODEL_FILE), "--json"
    )
    assert result.returncode == 1, result.stderr  # rows flagged
    groups = {g["model"]: g for g in json.loads(result.stdout)["groups"]}
    flagged = {m for m, g in groups.items() if g["flagged"]}
    assert flagged == set(video_energy_budget.MISLABELLED)
