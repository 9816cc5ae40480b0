"""The model's arithmetic against numbers worked out by hand."""

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genwatt.predict.generation_compute import Stage, Workload
from genwatt.predict.hardware import HardwareProfile, get_profile
from genwatt.predict.model import (
    FORMS,
    ModelParams,
    attention_efficiency,
    estimate,
    floor_j,
    get_form,
)

# The ridge point (bf16 FLOP/s per byte/s) attention's N_half is stated at: the H100's.
_H100 = get_profile("h100-sxm")
REFERENCE_RIDGE = _H100.peak_bf16_flops / _H100.memory_bandwidth_bps

# A round-number GPU: 100 TFLOP/s bf16, 10 TFLOP/s fp32, 50 TF32, 500 W; its bandwidth
# puts its bf16 ridge point at the reference's, so that N_half applies as it stands.
GPU = HardwareProfile(
    name="test-gpu",
    display_name="Test GPU",
    kind="gpu",
    peak_bf16_flops=100e12,
    peak_fp32_flops=10e12,
    peak_tf32_flops=50e12,
    memory_bandwidth_bps=100e12 / REFERENCE_RIDGE,
    memory_gb=10,
    tdp_w=500,
    citation="made up for tests (2025)",
)

STAGE = Stage(
    name="generate",
    text_encoder_flops=10e12,
    attention_flops_per_forward=30e12,
    dense_flops_per_forward=20e12,
    tokens=10_000,
    forwards=20,  # 10 steps x CFG
    calls=20,
    steps=10,
    vae_decode_flops=25e12,
    vae_precision="tf32",
)
WORKLOAD = Workload("test-model", (STAGE,))

PARAMS = ModelParams(
    attention_efficiency=0.5,
    attention_half_tokens=10_000,  # at 10k tokens attention runs at 0.25
    dense_efficiency=0.4,
    aux_efficiency=0.5,
    call_overhead_s=0.01,
    fixed_overhead_s=2.0,
    denoise_power_frac=0.8,  # 400 W in dense layers
    attention_power_frac=0.9,  # 450 W in attention kernels
    aux_power_frac=0.5,  # 250 W
)


def test_latency_by_hand() -> None:
    est = estimate(WORKLOAD, GPU, PARAMS)
    t = est.latency_by_component_s
    assert t["text_encoder"] == pytest.approx(10e12 / (100e12 * 0.5))  # 0.2 s
    # attention: 20 x 30e12 / (100e12 x 0.25) = 24 s; dense: 20 x 20e12 / (100e12 x 0.4) = 10 s
    assert t["denoise"] == pytest.approx(24.0 + 10.0)
    assert t["vae_decode"] == pytest.approx(25e12 / (50e12 * 0.5))  # TF32 peak: 1 s
    assert t["overhead"] == pytest.approx(20 * 0.01 + 2.0)
    assert est.latency_s == pytest.approx(0.2 + 34.0 + 1.0 + 2.2)


def test_attention_s_ramp_follows_the_ridge_point_of_the_precision() -> None:
    """In FP32 the ridge point is a tenth of bf16's here (10 vs 100 TFLOP/s, one
    bandwidth): N_half shrinks by as much, 10,000 -> 1,000 tokens."""
    fp32 = Workload("test-model", (replace(STAGE, denoiser_precision="fp32"),))
    t = estimate(fp32, GPU, PARAMS).latency_by_component_s
    attention = 20 * 30e12 / (10e12 * 0.5 * 10_000 / (10_000 + 1_000))
    dense = 20 * 20e12 / (10e12 * 0.4)
    assert t["denoise"] == pytest.approx(attention + dense)


def test_energy_is_power_times_time_by_component() -> None:
    est = estimate(WORKLOAD, GPU, PARAMS)
    e = est.energy_by_component_j
    assert e["denoise"] == pytest.approx(450 * 24.0 + 400 * 10.0)
    assert e["text_encoder"] == pytest.approx(250 * 0.2)
    assert e["vae_decode"] == pytest.approx(250 * 1.0)
    assert e["overhead"] == pytest.approx(250 * 2.2)
    assert est.energy_j == pytest.approx(450 * 24 + 400 * 10 + 250 * 3.4)
    assert est.mean_power_w == pytest.approx(est.energy_j / est.latency_s)


def test_floor_is_flops_over_peak_per_watt() -> None:
    total = 10e12 + 20 * 50e12 + 25e12
    assert WORKLOAD.flops["total"] == pytest.approx(total)
    assert floor_j(total, GPU) == pytest.approx(total / (100e12 / 500))
    assert estimate(WORKLOAD, GPU, PARAMS).floor_j == pytest.approx(total * 500 / 100e12)


def test_attention_efficiency_rises_with_tokens_and_saturates() -> None:
    values = [attention_efficiency(n, PARAMS) for n in (1_000, 10_000, 100_000, 10_000_000)]
    assert values == sorted(values)
    assert values[1] == pytest.approx(0.25)
    assert values[-1] == pytest.approx(0.5, rel=1e-2)
    flat = ModelParams(attention_efficiency=0.3)
    assert attention_efficiency(10, flat) == attention_efficiency(1e6, flat) == 0.3


def test_forms_tie_parameters() -> None:
    single = get_form("single-efficiency")
    p = single.apply({"attention_efficiency": 0.3, "denoise_power_frac": 0.9})
    assert p.dense_efficiency == p.aux_efficiency == 0.3
    assert p.aux_power_frac == p.attention_power_frac == 0.9
    assert p.fixed_overhead_s == 0.0
    # Forms are nested: each frees at least as many parameters as the one before.
    sizes = [len(f.free) for f in FORMS]
    assert sizes == sorted(sizes)


@settings(max_examples=60, deadline=None)
@given(
    efficiency=st.floats(0.01, 1.0),
    power=st.floats(0.01, 1.0),
    half=st.floats(0, 1e5),
    overhead=st.floats(0, 10),
    tokens=st.integers(1, 200_000),
)
def test_floor_never_exceeds_the_prediction_when_power_covers_efficiency(
    efficiency: float, power: float, half: float, overhead: float, tokens: int
) -> None:
    """A GPU cannot beat peak FLOP/s per TDP watt: with power fraction >= efficiency
    (the physical regime), every prediction sits on or above the floor."""
    power = max(power, efficiency)
    params = ModelParams(
        attention_efficiency=efficiency,
        attention_half_tokens=half,
        dense_efficiency=efficiency,
        aux_efficiency=efficiency,
        fixed_overhead_s=overhead,
        denoise_power_frac=power,
        attention_power_frac=power,
        aux_power_frac=power,
    )
    stage = Stage("s", 1e12, 5e12, 5e12, tokens, 10, 10, 10, 2e12, vae_precision="fp32")
    est = estimate(Workload("m", (stage,)), GPU, params)
    assert est.floor_j <= est.energy_j * (1 + 1e-9)
