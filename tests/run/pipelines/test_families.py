"""genwatt.instrument on diffusers families outside the registry (builders in conftest.py).

Each family is checked for what a correct instrumentation must give on any pipeline:
one step window per scheduler step (per stage), the phases its parts run, sub-phases
for auxiliary networks inside the steps, an output bitwise equal to the uninstrumented
call, nothing reported unattached, and a pipeline exactly as before after ``detach``.

``other`` (the call's energy outside every phase) must stay under 20 %. On these tiny
CPU runs it is real work, not a miss: input checks, latents and timesteps set-up, image
post-processing and the pipeline's own Python, a fixed cost per call that a real model's
steps dwarf; the builders run enough steps to keep it near 5-17 %. A phase that fails to
attach puts its whole share there instead (a missed denoiser: 55-90 % of the call).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest
import torch

from genwatt.meter.meter import Meter
from genwatt.meter.phases import STEP_PREFIX, SUBPHASE_PREFIX, step_stage
from genwatt.run.instrument import instrument

OTHER_BOUND = 0.20


def arrays(output: Any) -> list[Any]:
    """The tensors and arrays of a pipeline output, in order."""
    values = output.values() if hasattr(output, "values") else [output]
    found: list[Any] = []
    for value in values:
        if isinstance(value, list | tuple):
            found.extend(arrays(list(value)) if value else [])
        elif isinstance(value, torch.Tensor | np.ndarray):
            found.append(value)
    return found


def bitwise_equal(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    return isinstance(b, np.ndarray) and np.array_equal(a, b)


def attached_state(pipe: Any) -> dict[str, Any]:
    """What instrumenting may change: each object's instance attribute names, the
    callables among them (wrappers), and every module's forward hooks."""
    objects = {"pipe": pipe}
    objects.update({k: v for k, v in vars(pipe).items() if hasattr(v, "components")})
    objects.update({k: v for k, v in pipe.components.items() if hasattr(v, "__dict__")})
    state: dict[str, Any] = {}
    for label, obj in objects.items():
        own = vars(obj)
        state[label] = sorted(own)
        for name, value in own.items():
            if callable(value) and not isinstance(value, torch.nn.Module | type):
                state[f"{label}.{name}"] = value
        if isinstance(obj, torch.nn.Module):
            for module in obj.modules():
                for hooks in ("_forward_pre_hooks", "_forward_hooks"):
                    state.setdefault(f"{label}:{hooks}", []).extend(getattr(module, hooks).items())
    return state


def assert_same_state(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert before.keys() == after.keys()
    for key, value in before.items():
        if isinstance(value, list):
            assert value == after[key], key
        else:
            assert after[key] is value, key


@pytest.mark.slow
def test_family_is_measured_phase_by_phase(family, cpu_time_meter: Meter) -> None:
    reference = family.pipe(**family.make_kwargs())  # also warms the pipeline up
    before = attached_state(family.pipe)

    inst = instrument(family.pipe, cpu_time_meter)
    output = inst(**family.make_kwargs())
    record = inst.last
    parts = record.breakdown

    assert record.unattached == []
    assert record.step_boundaries == family.step_boundaries
    steps = Counter(step_stage(s) for s in parts.steps)
    assert dict(steps) == family.steps
    assert set(parts.phases) == family.phases
    assert set(parts.subphases) == family.subphases
    assert set(parts.stages) == (set(family.steps) if len(family.steps) > 1 else set())
    step_names = {s.name for s in parts.steps}
    for window in record.windows:
        if window.name.startswith(SUBPHASE_PREFIX):  # a ControlNet runs inside a step
            assert window.parent in step_names
    assert parts.adds_up
    total = parts.total.total_energy_j
    assert 0.0 <= parts.other.total_energy_j < OTHER_BOUND * total
    for name, stage in parts.stages.items():
        inside = [s for s in parts.steps if step_stage(s) == name]
        assert stage.total_energy_j == pytest.approx(sum(s.total_energy_j for s in inside))

    produced, expected = arrays(output), arrays(reference)
    assert produced and len(produced) == len(expected)
    assert all(bitwise_equal(a, b) for a, b in zip(produced, expected, strict=True))

    inst.detach()
    assert_same_state(before, attached_state(family.pipe))


@pytest.mark.slow
def test_a_prior_and_a_decoder_count_their_steps_apart(build_family, cpu_meter: Meter) -> None:
    """A prior and a decoder in one call: each stage counts its own steps from 0."""
    family = build_family("kandinsky2.2-combined")
    inst = instrument(family.pipe, cpu_meter)
    inst(**family.make_kwargs())
    names = [s.name for s in inst.last.breakdown.steps]
    prior = [f"{STEP_PREFIX}prior:{i}" for i in range(family.steps["prior"])]
    decoder = [f"{STEP_PREFIX}{i}" for i in range(family.steps["main"])]
    assert names == prior + decoder
