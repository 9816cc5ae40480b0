"""check-reference must find the WAN mislabel of the paper's cross-model table."""

from pathlib import Path

import pytest

from genwatt.predict import video_energy_budget
from genwatt.predict.check import check_csv
from genwatt.predict.fit import build_calibration
from genwatt.predict.hardware import get_profile


def _by_model(checks):
    return {c.model: c for c in checks}


def test_both_wan_rows_are_flagged_and_explained(video_reference: Path) -> None:
    checks = _by_model(check_csv(video_reference / video_energy_budget.CROSS_MODEL_FILE))
    for wan in video_energy_budget.MISLABELLED:
        c = checks[wan]
        assert c.flagged_rows == c.rows > 0, wan
        assert c.ratio > 2.5  # measured energy far above the stated 480x832/60 steps
        assert c.suggestion is not None
        assert (c.suggestion["height"], c.suggestion["width"]) == (720, 1280)
        assert c.suggestion["steps"] == 50
    for name, c in checks.items():
        if name not in video_energy_budget.MISLABELLED:
            assert not c.flagged, f"{name}: measured/predicted {c.ratio:.2f}"


def test_a_calibration_that_never_saw_the_table_flags_the_same_rows(
    video_reference: Path,
) -> None:
    """The shipped calibration saw the cross-model rows (corrected); one fitted on the WAN
    sweeps alone has no such help and must still single out the two WAN rows."""
    wan_only = [
        *video_energy_budget.sweep_observations(video_reference),
        *video_energy_budget.resolution_observations(),
    ]
    calibration = build_calibration(
        wan_only, get_profile("h100-sxm"), form="attention-split", source="sweeps"
    )
    checks = _by_model(
        check_csv(video_reference / video_energy_budget.CROSS_MODEL_FILE, calibration=calibration)
    )
    assert {m for m, c in checks.items() if c.flagged} >= set(video_energy_budget.MISLABELLED)
    for wan in video_energy_budget.MISLABELLED:
        assert checks[wan].flagged_rows == checks[wan].rows


def test_sweep_points_match_their_stated_settings(video_reference: Path) -> None:
    checks = check_csv(
        video_reference / video_energy_budget.SWEEP_FILE, model="wan2.1-t2v-1.3b", tolerance=0.25
    )
    assert checks and not any(c.flagged for c in checks)


def test_tolerance_must_be_positive(video_reference: Path) -> None:
    from genwatt.errors import ConfigError

    with pytest.raises(ConfigError, match="tolerance"):
        check_csv(
            video_reference / video_energy_budget.SWEEP_FILE, model="wan2.1-t2v-1.3b", tolerance=0
        )


def test_nearby_settings_come_from_published_checkpoints_only() -> None:
    """wan-reference shares the WAN family; its 32x32 is no size a WAN user would run."""
    from genwatt.predict.check import _candidates

    stated = {"height": 480, "width": 832, "steps": 50, "num_frames": 81}
    sizes = {(c["height"], c["width"]) for c in _candidates("wan2.1-t2v-1.3b", stated)}
    assert (720, 1280) in sizes
    assert (32, 32) not in sizes
