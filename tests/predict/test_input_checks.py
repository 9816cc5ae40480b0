"""Inputs a prediction refuses (non-finite numbers, unreadable CSVs) and the ranges it
warns about (far outside the calibration's data)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from genwatt.errors import ConfigError
from genwatt.predict.calibration import calibration_for
from genwatt.predict.observations import float_or_none, from_csv
from genwatt.predict.predictor import predict
from genwatt.predict.sweep import predict_sweep

WAN = "wan2.1-t2v-1.3b"


@pytest.mark.parametrize("guidance", [math.nan, math.inf, -math.inf])
def test_non_finite_guidance_is_refused(guidance: float) -> None:
    with pytest.raises(ConfigError, match="guidance must be a finite number"):
        predict(WAN, guidance=guidance)


def test_csv_cells_nan_is_missing_but_inf_and_text_are_errors(tmp_path: Path) -> None:
    assert float_or_none("nan") is None and float_or_none("") is None
    assert float_or_none("2.5") == 2.5
    with pytest.raises(ConfigError, match="latency must be a finite number"):
        float_or_none("inf", "latency")
    with pytest.raises(ConfigError, match="latency must be a number, got 'fast'"):
        float_or_none("fast", "latency")
    path = tmp_path / "m.csv"
    path.write_text("num_frames,height,width,steps,duration_s,energy_gpu_j\ninf,480,832,50,1,2\n")
    with pytest.raises(ConfigError, match="num_frames must be a finite number"):
        from_csv(path, model=WAN)


def test_a_non_utf8_csv_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(b"model,steps\nwan\xe9,50\n")
    with pytest.raises(ConfigError, match=r"m\.csv is not UTF-8 text: byte 15 is 0xe9"):
        from_csv(path)


def test_far_outside_the_calibrated_range_is_an_extrapolation_not_a_refusal() -> None:
    inside = predict(WAN, num_frames=81, height=480, width=832, steps=50).to_dict()
    assert inside["warnings"] == [] and inside["extrapolation"] is False
    far = predict(WAN, num_frames=2001, steps=2).to_dict()
    assert far["extrapolation"] is True and far["energy_gpu_j"] > 0
    assert "frames 2,001 is 16.5x the largest calibrated (121): an extrapolation" in far["warnings"]
    assert any(w.startswith("steps 2 is below the smallest calibrated") for w in far["warnings"])
    assert far["calibration"]["data_ranges"]["num_frames"] == [1, 121]


def test_a_transferred_calibration_keeps_the_range_of_its_data() -> None:
    transferred = calibration_for("a100")
    assert transferred.observations == [] and transferred.fitted is False
    assert transferred.data_ranges() == calibration_for("h100-sxm").data_ranges()
    assert predict(WAN, "a100", num_frames=2001).to_dict()["extrapolation"] is True


def test_a_predicted_sweep_lists_its_extrapolations_once() -> None:
    result = predict_sweep(WAN, "h100-sxm", [("num_frames", [81, 161, 241])]).to_dict()
    assert [r["extrapolation"] for r in result["rows"]] == [False, True, True]
    assert sum(w.startswith("frames 161") for w in result["warnings"]) == 1
