"""Calibration recovers known parameters and reports honest cross-validated error."""

import math
import random

import pytest

from genwatt.errors import ConfigError
from genwatt.predict.calibration import Calibration
from genwatt.predict.fit import (
    build_calibration,
    cross_validate,
    fit,
    mape_pct,
    select_and_fit,
)
from genwatt.predict.generation_compute import Stage, Workload
from genwatt.predict.hardware import get_profile
from genwatt.predict.model import ModelParams, estimate, get_form
from genwatt.predict.observations import Observation

H100 = get_profile("h100-sxm")
TRUE = ModelParams(
    attention_efficiency=0.45,
    attention_half_tokens=8_000,
    dense_efficiency=0.6,
    aux_efficiency=0.2,
    fixed_overhead_s=3.0,
    denoise_power_frac=0.95,
    attention_power_frac=0.95,  # the forms below tie it to denoise_power_frac
    aux_power_frac=0.7,
)


# (width x layers, dense FLOPs per token): WAN-1.3B-like and WAN-14B-like.
ARCHS = {"small": (1536 * 30, 2.5e9), "large": (5120 * 40, 28e9)}


def video_workload(
    latent_frames: int, steps: int, tokens_per_frame: int = 3600, arch: str = "small"
) -> Workload:
    """A WAN-like workload: attention 4 N^2 d L, dense FLOPs proportional to tokens."""
    n = latent_frames * tokens_per_frame
    width_layers, dense_per_token = ARCHS[arch]
    stage = Stage(
        name="generate",
        text_encoder_flops=5e12,
        attention_flops_per_forward=4 * n * n * width_layers,
        dense_flops_per_forward=dense_per_token * n,
        tokens=n,
        forwards=2 * steps,
        calls=2 * steps,
        steps=steps,
        vae_decode_flops=4e12 * (4 * latent_frames - 3),
    )
    return Workload("synthetic", (stage,), {"latent_frames": latent_frames, "steps": steps})


def synthetic(
    params: ModelParams, noise: float = 0.0, seed: int = 0, *, two_archs: bool = False
) -> list[Observation]:
    rng = random.Random(seed)
    points = [(f, 50, "frames") for f in (1, 3, 5, 8, 13, 17, 21, 24)]
    points += [(13, s, "steps") for s in (3, 10, 25, 80, 150)]
    points += [(f, 50, "pixels") for f in (4, 9)]
    if two_archs:
        points += [(f, 50, "large") for f in (1, 2, 5, 13, 21)]
    out = []
    for frames, steps, group in points:
        w = video_workload(
            frames,
            steps,
            1560 if group == "pixels" else 3600,
            "large" if group == "large" else "small",
        )
        est = estimate(w, H100, params)
        out.append(
            Observation(
                label=f"{group} {frames}x{steps}",
                group=group,
                workload=w,
                latency_s=est.latency_s * (1 + rng.uniform(-noise, noise)),
                energy_gpu_j=est.energy_j * (1 + rng.uniform(-noise, noise)),
            )
        )
    return out


def test_fit_recovers_known_parameters_from_exact_data() -> None:
    # Two architectures: within one, a token-dependent attention efficiency N/(N+N_half)
    # adds time proportional to N, exactly like the dense layers, and cannot be told apart.
    observations = synthetic(TRUE, two_archs=True)
    got = fit(observations, H100, get_form("attention-tokens"))
    for name in get_form("attention-tokens").free:
        assert getattr(got, name) == pytest.approx(getattr(TRUE, name), rel=0.02), name


def test_noisy_data_gives_close_parameters_and_small_cv_error() -> None:
    observations = synthetic(TRUE, noise=0.02, seed=3, two_archs=True)
    got = fit(observations, H100, get_form("attention-tokens"))
    assert got.attention_efficiency == pytest.approx(TRUE.attention_efficiency, rel=0.15)
    assert got.denoise_power_frac == pytest.approx(TRUE.denoise_power_frac, rel=0.05)
    cv = cross_validate(observations, H100, get_form("attention-tokens"))
    assert cv.method == "leave-one-configuration-out"
    assert len(cv.points) == len(observations)
    assert cv.latency_mape_pct is not None and cv.latency_mape_pct < 5
    assert cv.energy_gpu_mape_pct is not None and cv.energy_gpu_mape_pct < 5


def test_selection_prefers_the_simplest_form_that_explains_the_data() -> None:
    simple = ModelParams(attention_efficiency=0.4, denoise_power_frac=0.9)
    simple = get_form("single-efficiency").apply(simple.to_dict())
    result = select_and_fit(synthetic(simple, noise=0.01), H100)
    assert result.form.name == "single-efficiency"
    # The richer truth needs a richer form; with one architecture, attention-split
    # already expresses it (see test_fit_recovers_known_parameters_from_exact_data).
    result = select_and_fit(synthetic(TRUE, noise=0.01), H100)
    assert result.form.name in ("attention-split", "attention-tokens", "attention-tokens-calls")
    assert result.cv.latency_mape_pct < 3
    assert set(result.candidates) >= {"single-efficiency", "attention-tokens"}


def test_leave_one_group_out_holds_out_whole_sweeps() -> None:
    observations = synthetic(TRUE, noise=0.01)
    cv = cross_validate(observations, H100, get_form("attention-tokens"), by=lambda o: o.group)
    assert cv.method == "leave-one-group-out"
    assert set(cv.by_group()) == {"frames", "steps", "pixels"}


def test_calibration_json_round_trip(tmp_path) -> None:
    observations = synthetic(TRUE, noise=0.01)
    calibration = build_calibration(observations, H100, form="attention-tokens", source="test")
    assert calibration.fitted
    assert calibration.cv is not None and calibration.cv["latency_mape_pct"] < 5
    path = tmp_path / "c.json"
    calibration.save(path)
    loaded = Calibration.load(path)
    assert loaded.params == calibration.params
    assert loaded.form.name == "attention-tokens"
    restored = [Observation.from_dict(o) for o in loaded.observations]
    assert restored[0].workload == observations[0].workload


def test_too_few_points_is_a_user_error() -> None:
    with pytest.raises(ConfigError, match="too few"):
        select_and_fit(synthetic(TRUE)[:2], H100)
    with pytest.raises(ConfigError):
        build_calibration(synthetic(TRUE), H100, form="no-such-form", source="x")


def test_mape() -> None:
    assert mape_pct([0.1, -0.3, None]) == pytest.approx(20.0)
    assert mape_pct([None]) is None
    assert math.isfinite(mape_pct([0.0]))


def test_the_fitting_arrays_agree_with_the_model() -> None:
    from genwatt.predict.fit import _Design

    observations = synthetic(TRUE, noise=0.05, two_archs=True)
    latency, energy = _Design.of(observations, H100).predict(TRUE)
    for obs, t, e in zip(observations, latency, energy, strict=True):
        est = estimate(obs.workload, H100, TRUE)
        assert t == pytest.approx(est.latency_s, rel=1e-12)
        assert e == pytest.approx(est.energy_j, rel=1e-12)
