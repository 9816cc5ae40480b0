"""What a diffusers pipeline is made of, read from what the pipeline declares.

``instrument`` must attach to any pipeline, whatever its components are called. So the
parts are found from diffusers' own declarations, never from a list of names:

- the registered components (``pipe.components``), each given a role by its class:
  a transformers model whose main input is ``input_ids`` is a text encoder, one whose
  main input is ``pixel_values`` an image encoder; a model with a ``decode`` method is
  an autoencoder (``vae``, Kandinsky's ``movq``, Stable Cascade's ``vqgan``: the part
  that maps latents to pixels after the loop); every other torch module (UNets,
  transformers, Kandinsky's ``prior``, ControlNets, adapters) is a *loop model*, one
  that may run inside a denoising step;
- the schedulers (components with ``step`` and ``set_timesteps``): each one that steps
  marks the end of a step of its own *stage*, so a prior and a decoder run in one call
  (Kandinsky's combined pipelines, cascades) report their steps separately;
- ``model_cpu_offload_seq``, diffusers' declared order of the models, which orders
  the parts here the way the pipeline runs them.

Which loop model is the denoiser and which an auxiliary network (ControlNet) is not
declared anywhere, so it is decided while the pipeline runs (``instrument.py``): the
loop model that runs last before the scheduler steps is the denoiser.

A pipeline-like object without ``components`` (a test double, a hand-written loop) is
read from its public attributes instead.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Literal

from genwatt.meter.phases import MAIN_STAGE

Role = Literal["text_encoder", "image_encoder", "autoencoder", "loop_model", "model"]

# transformers models name their main input; these two say what a model encodes.
_ENCODER_INPUTS: dict[str, Role] = {"input_ids": "text_encoder", "pixel_values": "image_encoder"}


@dataclass(frozen=True)
class Part:
    """One model component: its registered name, the module, and its role."""

    name: str
    module: Any
    role: Role


@dataclass(frozen=True)
class SchedulerPart:
    """A scheduler component and the label of the stage whose steps it ends."""

    name: str
    scheduler: Any
    stage: str


@dataclass(frozen=True)
class PipelineParts:
    """Every model and scheduler of a pipeline, models in the pipeline's own order."""

    models: tuple[Part, ...]
    schedulers: tuple[SchedulerPart, ...]

    def with_role(self, role: Role) -> list[Part]:
        return [p for p in self.models if p.role == role]


def find_parts(pipe: Any) -> PipelineParts:
    """The models and schedulers ``pipe`` registers; a module registered under two
    names (a combined pipeline's sub-pipelines share theirs) is listed once."""
    components = _components(pipe)
    order = offload_order(pipe)
    rank = {name: i for i, name in enumerate(order)}
    names = sorted(components, key=lambda n: (rank.get(n, len(rank)), list(components).index(n)))
    models: list[Part] = []
    schedulers: list[SchedulerPart] = []
    seen: set[int] = set()
    for name in names:
        value = components[name]
        if value is None or id(value) in seen:
            continue
        if is_scheduler(value):
            seen.add(id(value))
            schedulers.append(SchedulerPart(name, value, stage_label(name)))
        elif _is_module(value):
            seen.add(id(value))
            models.append(Part(name, value, role_of(value)))
    return PipelineParts(tuple(models), tuple(schedulers))


def sub_pipelines(pipe: Any) -> list[Any]:
    """The pipelines a combined pipeline runs (Kandinsky's ``prior_pipe`` and
    ``decoder_pipe``): attributes that are pipelines themselves."""
    return [
        value
        for value in vars(pipe).values()
        if value is not pipe and isinstance(getattr(value, "components", None), dict)
    ]


def offload_order(pipe: Any) -> list[str]:
    """The component names of ``model_cpu_offload_seq`` ("text_encoder->unet->vae")."""
    sequence = getattr(pipe, "model_cpu_offload_seq", None)
    if not isinstance(sequence, str):
        return []
    return [name.strip() for name in sequence.split("->") if name.strip()]


def role_of(module: Any) -> Role:
    """A module's role, from its class (see the module docstring)."""
    if _is_transformers_model(module):
        return _ENCODER_INPUTS.get(getattr(module, "main_input_name", ""), "model")
    if callable(getattr(module, "decode", None)):
        return "autoencoder"
    return "loop_model"


def is_scheduler(value: Any) -> bool:
    return callable(getattr(value, "step", None)) and callable(
        getattr(value, "set_timesteps", None)
    )


def stage_label(scheduler_name: str) -> str:
    """``scheduler`` -> ``main``; ``prior_scheduler`` -> ``prior``."""
    if scheduler_name == "scheduler":
        return MAIN_STAGE
    return scheduler_name.removesuffix("_scheduler").removesuffix("scheduler") or scheduler_name


def _components(pipe: Any) -> dict[str, Any]:
    declared = getattr(pipe, "components", None)
    if isinstance(declared, dict):
        return dict(declared)
    return {k: v for k, v in vars(pipe).items() if not k.startswith("_")}


def _is_module(value: Any) -> bool:
    return callable(getattr(value, "register_forward_pre_hook", None))


def _is_transformers_model(module: Any) -> bool:
    # Not imported here: if transformers was never imported, no module is one of its models.
    transformers = sys.modules.get("transformers")
    return transformers is not None and isinstance(module, transformers.PreTrainedModel)
