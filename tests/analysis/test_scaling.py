import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genwatt.analysis.scaling import fit_power_law


def grid_rows(kf: float, kp: float, ks: float, noise: float = 0.0, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    return [
        {
            "num_frames": f,
            "pixels": p,
            "steps": s,
            "energy_j": 2.0 * f**kf * p**kp * s**ks * (1 + rng.uniform(-noise, noise)),
        }
        for f, p, s in itertools.product([5, 9, 17, 33], [1024, 2048, 4096], [2, 4, 8])
    ]


@settings(max_examples=25, deadline=None)
@given(kf=st.floats(0.2, 2.5), kp=st.floats(0.2, 2.5), ks=st.floats(0.5, 1.5))
def test_exact_power_laws_are_recovered(kf: float, kp: float, ks: float) -> None:
    fit = fit_power_law(grid_rows(kf, kp, ks), "energy_j")
    assert fit.exponents["num_frames"].value == pytest.approx(kf, abs=1e-6)
    assert fit.exponents["pixels"].value == pytest.approx(kp, abs=1e-6)
    assert fit.exponents["steps"].value == pytest.approx(ks, abs=1e-6)
    assert fit.r_squared == pytest.approx(1.0)


def test_noisy_data_gives_an_interval_around_the_truth() -> None:
    fit = fit_power_law(grid_rows(1.5, 1.8, 1.0, noise=0.05), "energy_j")
    for name, truth in (("num_frames", 1.5), ("pixels", 1.8), ("steps", 1.0)):
        e = fit.exponents[name]
        assert e.ci_low < truth < e.ci_high
        assert e.ci_high - e.ci_low < 0.2


def test_a_constant_variable_is_left_out() -> None:
    rows = [r for r in grid_rows(1.0, 1.0, 1.0) if r["steps"] == 4]
    fit = fit_power_law(rows, "energy_j")
    assert set(fit.exponents) == {"num_frames", "pixels"}
    assert fit.exponents["num_frames"].levels == 4


def test_no_varying_variable_says_so() -> None:
    fit = fit_power_law([{"num_frames": 5, "pixels": 4, "steps": 2, "energy_j": 1.0}], "energy_j")
    assert fit.exponents == {} and "no variable varies" in fit.note


def test_two_points_give_a_slope_and_say_the_interval_needs_three() -> None:
    rows = [{"num_frames": 5, "energy_j": 5.0}, {"num_frames": 10, "energy_j": 20.0}]
    fit = fit_power_law(rows, "energy_j")
    exponent = fit.exponents["num_frames"]
    assert exponent.value == pytest.approx(2.0)
    assert (exponent.ci_low, exponent.ci_high) == (None, None)  # never -inf to inf
    assert not exponent.has_ci and exponent.to_dict()["ci95"] is None
    assert fit.note == "CI needs ≥3 points (have 2)"


def test_no_more_points_than_varying_settings_fits_nothing() -> None:
    rows = [
        {"num_frames": 5, "steps": 2, "energy_j": 5.0},
        {"num_frames": 10, "steps": 4, "energy_j": 20.0},
    ]
    fit = fit_power_law(rows, "energy_j")
    assert fit.exponents == {}  # two points cannot separate two exponents
    assert fit.note == "2 varying settings need ≥3 configurations to fit (have 2)"
