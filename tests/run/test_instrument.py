"""genwatt.instrument on the real diffusers pipelines of every tiny video/image family."""

from __future__ import annotations

import pytest
import torch

from genwatt.meter.meter import Meter
from genwatt.meter.phases import DENOISE, TEXT_ENCODE, VAE_DECODE
from genwatt.models import (
    build_pipeline,
    get_model,
    list_models,
    pipeline_call_kwargs,
    resolve_params,
)
from genwatt.run.instrument import instrument

DIFFUSION_TINY = [m.name for m in list_models() if m.is_tiny and m.task != "text"]


def call(name: str, inst, steps: int = 3, **params) -> None:
    spec = get_model(name)
    resolved = resolve_params(spec, steps=steps, **params)
    inst(
        **pipeline_call_kwargs(
            spec, resolved, "a red circle moves left", torch.Generator().manual_seed(0)
        )
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", DIFFUSION_TINY)
def test_phases_add_up_and_every_step_is_a_window(name: str, cpu_meter: Meter) -> None:
    pipe = build_pipeline(get_model(name), "tiny")
    inst = instrument(pipe, cpu_meter)
    call(name, inst, steps=3)
    record = inst.last
    parts = record.breakdown
    assert record.step_boundaries == "callback"
    assert set(parts.phases) == {TEXT_ENCODE, DENOISE, VAE_DECODE}
    # Some schedulers run more timesteps than asked (PNDM adds one): count what ran.
    executed = len(pipe.scheduler.timesteps)
    assert executed >= 3
    assert [s.name for s in parts.steps] == [f"step:{i}" for i in range(executed)]
    assert parts.adds_up
    for domain, total in parts.total.energy_j.items():
        inside = sum(w.energy_j[domain] for w in parts.phases.values())
        assert inside <= total * 1.02
        # "other" (latents set-up, post-processing) is real but small
        assert parts.other.energy_j[domain] == pytest.approx(total - inside)
    assert sum(w.duration_s for w in parts.phases.values()) <= parts.total.duration_s
    assert parts.other.duration_s < 0.5 * parts.total.duration_s
    assert parts.forwards, "each denoiser forward is its own window"


@pytest.mark.slow
def test_wan_runs_cond_and_uncond_as_two_forwards_per_step(cpu_meter: Meter) -> None:
    inst = instrument(build_pipeline(get_model("wan-tiny"), "tiny"), cpu_meter)
    call("wan-tiny", inst, steps=2, guidance=5.0)
    names = [w.name for w in inst.last.breakdown.forwards]
    assert names == ["forward:cond", "forward:uncond"] * 2
    call("wan-tiny", inst, steps=2, guidance=1.0)  # no guidance: one forward per step
    assert [w.name for w in inst.last.breakdown.forwards] == ["forward:all"] * 2


@pytest.mark.slow
def test_user_callback_is_chained_and_detach_restores(cpu_meter: Meter) -> None:
    pipe = build_pipeline(get_model("wan-tiny"), "tiny")
    original_decode = pipe.vae.decode
    seen: list[int] = []

    def user_callback(_pipe, step, _t, kwargs):
        seen.append(step)
        return kwargs

    inst = instrument(pipe, cpu_meter)
    spec = get_model("wan-tiny")
    kwargs = pipeline_call_kwargs(spec, resolve_params(spec, steps=2), "a cat", None)
    inst(**kwargs, callback_on_step_end=user_callback)
    assert seen == [0, 1]
    assert len(inst.last.breakdown.steps) == 2
    inst.detach()
    assert pipe.vae.decode == original_decode
    assert not pipe.transformer._forward_pre_hooks and not pipe.transformer._forward_hooks


@pytest.mark.slow
def test_a_failing_forward_leaves_no_window_open(cpu_meter: Meter) -> None:
    pipe = build_pipeline(get_model("wan-tiny"), "tiny")
    inst = instrument(pipe, cpu_meter)
    calls = {"n": 0}

    def explode(_module, _args, _kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("boom in step 1")

    handle = pipe.transformer.register_forward_pre_hook(explode, with_kwargs=True)
    with pytest.raises(RuntimeError, match="boom"):
        call("wan-tiny", inst, steps=3)
    handle.remove()
    call("wan-tiny", inst, steps=2)  # the meter is usable again: no stale window names
    assert len(inst.last.breakdown.steps) == 2
