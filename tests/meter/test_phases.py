from collections.abc import Callable

import pytest

from genwatt.meter.phases import ADDITIVITY_TOLERANCE, breakdown
from genwatt.meter.result import WindowResult


@pytest.fixture
def w(estimated_window: Callable[..., WindowResult]) -> Callable[..., WindowResult]:
    """``w(name, energy_j, duration_s)``: a window estimated on cpu:0."""
    return lambda name, energy, duration=1.0: estimated_window(energy, name, duration_s=duration)


def test_breakdown_groups_steps_and_computes_other(w) -> None:
    windows = [
        w("generation", 100.0, 10.0),
        w("text_encode", 5.0),
        w("step:1", 30.0),
        w("forward:cond", 14.0),
        w("step:0", 40.0),
        w("vae_decode", 20.0),
    ]
    parts = breakdown(windows)
    assert [s.name for s in parts.steps] == ["step:0", "step:1"]
    assert parts.energy_j("denoise") == pytest.approx(70.0)
    assert parts.energy_j("other") == pytest.approx(5.0)
    assert parts.adds_up
    assert len(parts.forwards) == 1


def test_phases_exceeding_the_whole_beyond_tolerance_are_flagged(w) -> None:
    over = 100.0 * (1 + 2 * ADDITIVITY_TOLERANCE)
    parts = breakdown([w("generation", 100.0), w("step:0", over)])
    assert not parts.adds_up
    within = breakdown(
        [w("generation", 100.0), w("step:0", 100.0 * (1 + ADDITIVITY_TOLERANCE / 2))]
    )
    assert within.adds_up


def test_breakdown_requires_a_generation_window(w) -> None:
    with pytest.raises(ValueError, match="generation"):
        breakdown([w("step:0", 1.0)])
