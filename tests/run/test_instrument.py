"""genwatt.instrument on the real diffusers pipelines of every tiny video/image family,
and on small fakes for what those do not exercise (no callback, nesting, warnings).
Families outside the registry are in ``pipelines/``."""

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
from genwatt.run.instrument import InstrumentationWarning, instrument

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


# ------------------------------------------------------------------ fakes, no diffusers


class FakeScheduler:
    """What a diffusers scheduler offers the loop: ``set_timesteps`` and ``step``."""

    def set_timesteps(self, steps: int) -> None:
        self.timesteps = list(range(steps))

    def step(self, noise: torch.Tensor, _t: int, latents: torch.Tensor) -> torch.Tensor:
        return latents - 0.1 * noise


class FakeVae(torch.nn.Module):
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        return 2 * latents


class TwoBranchPipe:
    """A pipeline with no step callback that runs the conditional and unconditional
    branches as two denoiser forwards, after an optional ControlNet-like network."""

    def __init__(self) -> None:
        torch.manual_seed(0)
        self.controlnet = torch.nn.Linear(4, 4)
        self.unet = torch.nn.Linear(4, 4)
        self.vae = FakeVae()
        self.scheduler = FakeScheduler()

    def __call__(self, steps: int = 3, control: bool = False) -> torch.Tensor:
        self.scheduler.set_timesteps(steps)
        x = torch.ones(1, 4)
        with torch.no_grad():
            for t in self.scheduler.timesteps:
                residual = self.controlnet(x) if control else 0
                cond, uncond = self.unet(x + residual), self.unet(x)
                x = self.scheduler.step(cond - uncond, t, x)
            return self.vae.decode(x)


def test_without_a_callback_the_scheduler_step_ends_each_step(cpu_meter: Meter) -> None:
    pipe = TwoBranchPipe()
    inst = instrument(pipe, cpu_meter)
    out = inst(steps=3)
    record = inst.last
    assert torch.equal(out, pipe(steps=3))
    assert record.step_boundaries == "scheduler"
    assert [s.name for s in record.breakdown.steps] == ["step:0", "step:1", "step:2"]
    assert [w.name for w in record.breakdown.forwards] == ["forward:cond", "forward:uncond"] * 3
    assert set(record.breakdown.phases) == {DENOISE, VAE_DECODE}
    assert record.unattached == []


def test_an_auxiliary_network_is_a_sub_phase_inside_its_step(cpu_meter: Meter) -> None:
    inst = instrument(TwoBranchPipe(), cpu_meter)
    inst(steps=2, control=True)
    record = inst.last
    parts = [w for w in record.windows if w.name == "part:controlnet"]
    assert [w.parent for w in parts] == ["step:0", "step:1"]
    assert list(record.breakdown.subphases) == ["controlnet"]
    assert [w.name for w in record.breakdown.forwards] == ["forward:cond", "forward:uncond"] * 2


def test_without_forward_windows_the_controlnet_is_still_a_sub_phase(cpu_meter: Meter) -> None:
    inst = instrument(TwoBranchPipe(), cpu_meter, per_forward=False)
    inst(steps=2, control=True)
    assert not inst.last.breakdown.forwards
    assert [w.parent for w in inst.last.windows if w.name == "part:controlnet"] == [
        "step:0",
        "step:1",
    ]


def attached(pipe: TwoBranchPipe) -> dict[str, object]:
    return {
        "decode": vars(pipe.vae).get("decode"),
        "step": vars(pipe.scheduler).get("step"),
        "hooks": [
            (len(m._forward_pre_hooks), len(m._forward_hooks)) for m in (pipe.unet, pipe.controlnet)
        ],
    }


@pytest.mark.parametrize("first_detached", ["inner", "outer"])
def test_nested_instrumentations_and_a_user_wrapper_survive_detach(
    cpu_meter: Meter, first_detached: str
) -> None:
    pipe = TwoBranchPipe()
    pipe.vae.decode = lambda latents: FakeVae.decode(pipe.vae, latents)  # the user's own
    before = attached(pipe)
    inner, outer = instrument(pipe, cpu_meter), instrument(pipe, cpu_meter)
    gone, kept = (inner, outer) if first_detached == "inner" else (outer, inner)
    gone.detach()
    kept(steps=2)
    assert set(kept.last.breakdown.phases) == {DENOISE, VAE_DECODE}
    assert len(kept.last.breakdown.steps) == 2
    kept.detach()
    assert attached(pipe) == before
    assert attached(pipe)["decode"] is before["decode"]


def test_a_pipeline_with_nothing_to_hook_warns_and_says_what(cpu_meter: Meter) -> None:
    class NoModels:
        def __call__(self) -> int:
            return 1

    with pytest.warns(InstrumentationWarning, match="denoiser"):
        inst = instrument(NoModels(), cpu_meter)
    inst()
    assert inst.last.unattached and "denoiser" in inst.last.unattached[0]


def test_a_call_that_records_no_step_warns_and_names_the_denoiser(cpu_meter: Meter) -> None:
    inst = instrument(TwoBranchPipe(), cpu_meter)
    with pytest.warns(InstrumentationWarning, match="no denoising step"):
        inst(steps=0)
    assert "unet" in inst.last.unattached[0] and not inst.last.breakdown.steps


def test_without_callback_or_scheduler_every_forward_is_a_step_and_it_says_so(
    cpu_meter: Meter,
) -> None:
    class Bare:
        def __init__(self) -> None:
            self.unet = torch.nn.Linear(4, 4)

        def __call__(self, steps: int) -> None:
            with torch.no_grad():
                for _ in range(steps):
                    self.unet(torch.ones(1, 4))

    with pytest.warns(InstrumentationWarning, match="scheduler"):
        inst = instrument(Bare(), cpu_meter)
    inst(steps=3)
    assert inst.last.step_boundaries == "forward"
    assert len(inst.last.breakdown.steps) == 3
