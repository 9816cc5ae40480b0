"""From the FLOP counter's numbers to the model's features, with a fake counter."""

from types import SimpleNamespace

import pytest

from genwatt.models import get_model
from genwatt.predict.generation_compute import Stage, Workload, precision_of, stage_from_flops


def fake_generation(*, steps: int, passes: int, batch: int = 1) -> SimpleNamespace:
    """What genwatt.flops.generation_flops returns, for a forward of 100 TFLOPs
    (60 of them self-attention scores, 10 cross-attention scores) over 30,000 tokens."""
    forward = SimpleNamespace(
        total=100e12,
        by_part={"attention_scores": 60e12, "mlp": 30e12, "cross_attention_scores": 10e12},
        tokens=30_000,
    )
    denoise = steps * passes * batch * forward.total
    return SimpleNamespace(
        text_encoder=2e12,
        denoise=denoise,
        vae_decode=50e12,
        total=2e12 + denoise + 50e12,
        denoiser_forward=forward,
        passes_per_step=passes,
        steps=steps,
    )


def test_stage_splits_attention_from_dense_and_counts_calls() -> None:
    wan = get_model("wan2.1-t2v-1.3b")  # CFG in two separate calls, VAE in fp32
    stage = stage_from_flops("generate", wan, fake_generation(steps=50, passes=2))
    # cross-attention score products run in the same attention kernels as self-attention
    assert stage.attention_flops_per_forward == pytest.approx(70e12)
    assert stage.dense_flops_per_forward == pytest.approx(30e12)
    assert stage.forwards == 100
    assert stage.calls == 100
    assert stage.tokens == 30_000
    assert stage.vae_precision == "tf32"
    assert stage.denoiser_precision == "bf16"
    assert stage.total_flops == pytest.approx(2e12 + 100 * 100e12 + 50e12)


def test_batched_cfg_is_one_call_per_step_and_batch_scales_forwards() -> None:
    cog = get_model("cogvideox-5b")  # cond and uncond in one batch-2 call
    stage = stage_from_flops("generate", cog, fake_generation(steps=10, passes=2, batch=3))
    assert stage.calls == 10
    assert stage.forwards == 20
    assert stage.attention_flops_per_forward == pytest.approx(3 * 70e12)


def test_refinement_pass_runs_fewer_steps_and_may_skip_the_decode() -> None:
    ltx = get_model("ltx-video")
    generation = fake_generation(steps=10, passes=2)
    stage = stage_from_flops("refine", ltx, generation, steps=4, decode=False)
    assert stage.forwards == 8
    assert stage.vae_decode_flops == 0.0
    assert stage.denoise_flops == pytest.approx(8 * 100e12)


def test_workload_sums_stages_and_round_trips() -> None:
    a = Stage("a", 1.0, 2.0, 3.0, 10, 2, 2, 1, 4.0)
    b = Stage("b", 10.0, 20.0, 30.0, 10, 1, 1, 1, 0.0)
    w = Workload("m", (a, b), {"steps": 1})
    assert w.flops == {
        "text_encoder": 11.0,
        "denoise": 2 * 5.0 + 50.0,
        "vae_decode": 4.0,
        "total": 11.0 + 60.0 + 4.0,
    }
    assert Workload.from_dict(w.to_dict()) == w


def test_precisions() -> None:
    assert precision_of("bfloat16") == "bf16"
    assert precision_of("float16") == "bf16"
    assert precision_of("float32") == "fp32"
    assert precision_of("float32", convolutional=True) == "tf32"


def test_the_reference_model_is_predicted_and_its_bench_plan_priced() -> None:
    """genwatt's own wan-reference has no measurements of its own: the shared
    calibration prices it like any WAN workload, its free codec decode included."""
    from genwatt.predict import predict
    from genwatt.run.bench_grid import bench_spec
    from genwatt.run.plan import plan_sweep
    from genwatt.run.plan_cost import plan_costs

    prediction = predict("wan-reference", "h100-sxm", num_frames=9)
    assert prediction.workload.config["num_frames"] == 9
    assert prediction.workload.config["latent_frames"] == 9  # no temporal compression
    assert prediction.workload.flops["vae_decode"] == 0
    assert prediction.latency_s > 0 and prediction.energy_gpu_j > 0
    (stage,) = prediction.workload.stages
    assert stage.denoiser_precision == "fp32" and stage.calls == 2 * 30  # WAN's two calls

    costs = plan_costs(plan_sweep(bench_spec("wan-reference")), "h100-sxm")
    assert costs and all(c.reason is None and c.energy_gpu_j for c in costs)
