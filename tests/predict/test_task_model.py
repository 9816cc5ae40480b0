"""The task model on hand-made hardware where the answer is known, and its monotonicity.

A profile with round numbers (1 PFLOP/s bf16, 100 TFLOP/s fp32, 1 TB/s, 500 W) and
phases built by hand: a memory-bound decode, a launch-bound tiny encoder, a
compute-bound large forward. Then the physics the model must respect: more tokens, a
bigger batch or a bigger image never cost less per call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genwatt.predict.hardware import HardwareProfile
from genwatt.predict.task_model import (
    HOST_PHASE,
    PREPROCESS_PHASE,
    TaskModelParams,
    estimate_task,
    host_kind_of,
    phase_times,
    precision_of,
)

HW = HardwareProfile(
    name="test-gpu",
    display_name="a round-numbers GPU",
    kind="gpu",
    peak_bf16_flops=1e15,
    peak_fp32_flops=1e14,
    peak_tf32_flops=5e14,
    memory_bandwidth_bps=1e12,
    memory_gb=80,
    tdp_w=500.0,
    citation="made up for the tests",
)

# Every fixed cost off, efficiencies 1: what is left is the roofline itself.
PURE = TaskModelParams(
    compute_efficiency=1.0,
    memory_efficiency=1.0,
    kernel_s=0.0,
    step_s=0.0,
    call_s=0.0,
    host_text_s=0.0,
    host_image_s=0.0,
    host_audio_s=0.0,
    host_pixel_s=0.0,
    idle_power_frac=0.2,
    busy_power_frac=0.8,
    host_power_w=50.0,
)


@dataclass(frozen=True)
class Phase:
    """A stand-in for ``genwatt.flops.task_compute.PassCompute``."""

    flops: float = 0.0
    weight_bytes: float = 0.0
    activation_bytes: float = 0.0
    kv_bytes: float = 0.0
    kernels: float = 0.0
    forwards: float = 1.0


@dataclass(frozen=True)
class Compute:
    """A stand-in for ``genwatt.flops.task_compute.TaskCompute``."""

    phases: dict[str, Phase] = field(default_factory=dict)
    dtype: str = "bfloat16"


def test_memory_bound_decode_takes_bytes_over_bandwidth() -> None:
    # 7 GB of weights read 9 times, a few GFLOPs: 63 ms at 1 TB/s, compute 0.1 ms.
    decode = Phase(flops=1e11, weight_bytes=9 * 7e9, kv_bytes=1e8, forwards=9)
    est = estimate_task(Compute({"decode": decode}), HW, PURE)
    assert est.latency_by_phase_s["decode"] == pytest.approx((9 * 7e9 + 1e8) / 1e12)
    assert est.bound_by_phase["decode"] == "memory"
    # Busy the whole time: the GPU draws its busy power.
    assert est.busy_fraction == pytest.approx(1.0)
    assert est.mean_gpu_power_w == pytest.approx(0.8 * 500)


def test_memory_efficiency_divides_the_bandwidth() -> None:
    decode = Phase(weight_bytes=1e10)
    half = estimate_task(Compute({"decode": decode}), HW, TaskModelParams(memory_efficiency=0.5))
    assert half.busy_s == pytest.approx(1e10 / 0.5e12)


def test_launch_bound_tiny_encoder_takes_kernels_times_launch_time() -> None:
    # 200 kernels of a 4 MB encoder: 4 us of memory, 2 ms of launches.
    params = TaskModelParams(kernel_s=1e-5, host_text_s=0.0, call_s=0.0)
    tiny = Phase(flops=1e9, weight_bytes=4e6, activation_bytes=1e5, kernels=200)
    est = estimate_task(Compute({"forward": tiny}), HW, params)
    assert est.latency_s == pytest.approx(200 * 1e-5, rel=0.01)
    assert est.bound_by_phase["forward"] == "launch"
    # Waiting on launches, the GPU sits near its idle power.
    idle_w = params.idle_power_frac * HW.tdp_w
    assert est.mean_gpu_power_w == pytest.approx(idle_w, rel=0.02)
    assert est.busy_fraction < 0.01


def test_compute_bound_large_forward_takes_flops_over_peak() -> None:
    # 50 TFLOP in bf16 at 1 PFLOP/s x 0.5: 100 ms; 2 GB moved: 2 ms.
    big = Phase(flops=5e13, weight_bytes=2e9, kernels=500)
    params = TaskModelParams(compute_efficiency=0.5, kernel_s=1e-6)
    est = estimate_task(Compute({"forward": big}), HW, params)
    t = est.latency_by_phase_s["forward"]
    assert t == pytest.approx(5e13 / 0.5e15 + 500 * 1e-6)
    assert est.bound_by_phase["forward"] == "compute"


def test_fp32_runs_at_the_cuda_core_rate_and_half_precision_on_tensor_cores() -> None:
    big = Phase(flops=1e13)
    fp32 = estimate_task(Compute({"forward": big}, "float32"), HW, PURE)
    fp16 = estimate_task(Compute({"forward": big}, "float16"), HW, PURE)
    tf32 = estimate_task(Compute({"forward": big}, "tf32"), HW, PURE)
    assert fp32.busy_s == pytest.approx(1e13 / 1e14)
    assert fp16.busy_s == pytest.approx(1e13 / 1e15)
    assert tf32.busy_s == pytest.approx(1e13 / 5e14)
    assert precision_of("torch.bfloat16") == "bf16"
    with pytest.raises(ValueError):
        precision_of("int8")


def test_energy_is_idle_over_latency_plus_busy_extra() -> None:
    params = TaskModelParams(kernel_s=1e-5, host_text_s=2e-3, call_s=1e-3)
    phases = {"prefill": Phase(flops=1e12, kernels=300), "decode": Phase(weight_bytes=5e9)}
    est = estimate_task(Compute(phases), HW, params)
    idle_w, busy_w = 0.15 * 500, 0.8 * 500
    expected = idle_w * est.latency_s + (busy_w - idle_w) * est.busy_s
    assert est.energy_gpu_j == pytest.approx(expected)
    assert sum(est.energy_by_phase_j.values()) == pytest.approx(est.energy_gpu_j)
    assert sum(est.latency_by_phase_s.values()) == pytest.approx(est.latency_s)
    # The host phase: host time per query and the per-call overhead, at idle power.
    assert est.latency_by_phase_s[HOST_PHASE] == pytest.approx(3e-3)
    assert est.energy_by_phase_j[HOST_PHASE] == pytest.approx(idle_w * 3e-3)
    # Whole machine: the host's power over the whole latency on top.
    assert est.energy_machine_j == pytest.approx(est.energy_gpu_j + 42.5 * est.latency_s)
    assert est.provenance == "predicted"


def test_steps_cost_only_in_the_phases_of_generate() -> None:
    params = TaskModelParams(kernel_s=0.0, step_s=1e-3)
    for name, expected in (("forward", 0.0), ("encode", 0.0), ("prefill", 1e-3), ("decode", 9e-3)):
        phase = Phase(forwards=9 if name == "decode" else 1)
        assert phase_times(name, phase, HW, params, "bf16").launch_s == pytest.approx(expected)


def test_floor_is_flops_at_peak_bf16_and_tdp() -> None:
    est = estimate_task(Compute({"forward": Phase(flops=2e12)}, "float32"), HW, PURE)
    assert est.floor_j == pytest.approx(2e12 / (1e15 / 500))
    assert est.floor_j < est.energy_gpu_j


def test_host_time_by_input_kind_and_pixels() -> None:
    params = replace_params(host_text_s=1e-3, host_image_s=5e-3, host_pixel_s=1e-8)
    text = estimate_task(Compute(), HW, params, host_kind="text")
    image = estimate_task(Compute(), HW, params, host_kind="image", image_pixels=1e6)
    assert text.latency_s == pytest.approx(1e-3)
    assert image.latency_s == pytest.approx(5e-3 + 1e-2)
    assert host_kind_of("question-context") == "text"
    assert host_kind_of("image") == "image"
    with pytest.raises(ValueError):
        host_kind_of("smell")


def test_batch_shares_launches_and_scales_host_time() -> None:
    params = TaskModelParams(kernel_s=1e-5, host_text_s=1e-3, call_s=2e-3)

    def call(batch: int) -> Compute:
        return Compute({"forward": Phase(flops=1e9 * batch, weight_bytes=4e8, kernels=150)})

    one = estimate_task(call(1), HW, params, batch=1)
    eight = estimate_task(call(8), HW, params, batch=8)
    assert eight.latency_s > one.latency_s
    assert eight.latency_s_per_query < one.latency_s_per_query
    assert eight.energy_gpu_j_per_query < one.energy_gpu_j_per_query
    assert eight.latency_by_phase_s[HOST_PHASE] == pytest.approx(8 * 1e-3 + 2e-3)
    with pytest.raises(ValueError):
        estimate_task(call(1), HW, params, batch=0)


def replace_params(**changes: float) -> TaskModelParams:
    values = {**PURE.to_dict(), **changes}
    return TaskModelParams.from_dict(values)


def test_params_round_trip_and_ignore_unknown_keys() -> None:
    params = TaskModelParams(kernel_s=3e-5)
    assert TaskModelParams.from_dict({**params.to_dict(), "other": 1}) == params


scale = st.floats(min_value=1.0, max_value=100.0)


@settings(max_examples=60, deadline=None)
@given(
    flops=st.floats(min_value=1e6, max_value=1e14),
    moved=st.floats(min_value=1e3, max_value=1e11),
    kernels=st.integers(min_value=1, max_value=10_000),
    factor=scale,
    which=st.sampled_from(["flops", "weight_bytes", "kernels", "forwards"]),
)
def test_more_work_never_costs_less(
    flops: float, moved: float, kernels: int, factor: float, which: str
) -> None:
    params = TaskModelParams()
    base = Phase(flops=flops, weight_bytes=moved, kernels=kernels, forwards=3)
    more = Phase(**{**vars(base), which: getattr(base, which) * factor})
    a = estimate_task(Compute({"decode": base}), HW, params)
    b = estimate_task(Compute({"decode": more}), HW, params)
    assert b.latency_s >= a.latency_s * (1 - 1e-12)
    assert b.energy_gpu_j >= a.energy_gpu_j * (1 - 1e-12)
    assert math.isfinite(b.energy_machine_j)


@pytest.mark.slow
def test_real_compute_is_monotone_in_tokens_batch_and_image_size() -> None:
    """On counted compute (genwatt.flops.task_compute): GPT-2 with a longer prompt or more
    new tokens, DistilBERT with a bigger batch, DETR with a bigger image."""
    from genwatt.flops.task_compute import task_compute
    from genwatt.models.tasks.registry import get_task_model
    from genwatt.predict.task_calibration import image_pixels

    params = TaskModelParams()
    gpt2 = get_task_model("gpt2")

    def latency(spec: object, task: str, batch: int = 1, **kw: object) -> float:
        compute = task_compute(spec, task, batch=batch, **kw)  # type: ignore[arg-type]
        kind = "image" if "image_hw" in kw else "text"
        return estimate_task(
            compute,
            HW,
            params,
            batch=batch,
            host_kind=kind,
            image_pixels=image_pixels(compute.inputs),
        ).latency_s

    assert latency(gpt2, "text-generation", input_tokens=400) > latency(
        gpt2, "text-generation", input_tokens=20
    )
    assert latency(gpt2, "text-generation", new_tokens=40) > latency(
        gpt2, "text-generation", new_tokens=10
    )
    bert = get_task_model("distilbert-sst2")
    assert latency(bert, "text-classification", batch=16) > latency(bert, "text-classification")
    detr = get_task_model("detr-resnet-50")
    assert latency(detr, "object-detection", image_hw=(800, 1200)) > latency(
        detr, "object-detection", image_hw=(300, 400)
    )


def test_a_harness_changes_host_time_and_adds_preprocessing_at_rest_power() -> None:
    phases = {"forward": Phase(kernels=100)}
    params = TaskModelParams(host_text_s=0.003)
    base = estimate_task(Compute(phases), HW, params)
    changed = estimate_task(
        Compute(phases), HW, params, host_delta_s=0.002, rest_s=0.005, rest_power_w=50.0
    )
    assert changed.latency_by_phase_s[HOST_PHASE] == pytest.approx(
        base.latency_by_phase_s[HOST_PHASE] + 0.002
    )
    assert changed.latency_by_phase_s[PREPROCESS_PHASE] == pytest.approx(0.005)
    assert changed.energy_by_phase_j[PREPROCESS_PHASE] == pytest.approx(50.0 * 0.005)
    assert changed.latency_s == pytest.approx(sum(changed.latency_by_phase_s.values()))
    assert changed.energy_gpu_j == pytest.approx(sum(changed.energy_by_phase_j.values()))
    # A harness that does less on the host than a pipeline never makes host time negative.
    less = estimate_task(Compute(phases), HW, params, host_delta_s=-1.0)
    assert less.latency_by_phase_s[HOST_PHASE] == 0.0
    assert PREPROCESS_PHASE not in less.latency_by_phase_s
    with pytest.raises(ValueError):
        estimate_task(Compute(phases), HW, params, rest_s=-1.0)
