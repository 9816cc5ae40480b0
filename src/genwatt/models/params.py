"""Generation parameters, checked and resolved before anything runs.

A sweep should fail on its first line, not an hour in when the pipeline meets a height it
cannot take. And a measurement must record what actually ran: when a pipeline turns a
request for 50 frames into 49, the stored frame count has to be 49. So the rules here
copy the installed diffusers pipelines (``check_inputs``, the frame arithmetic in
``__call__``, the VAE's decode), and every change to a request leaves a note. The tests
hold them to what the pipelines really produce.

``ResolvedParams`` is the one form a setting takes from the moment it is checked: a sweep
plan resolves each configuration once and carries the object to the pipeline call
(``pipeline_call_kwargs``, ``generate_kwargs``), so nothing downstream resolves again
from a flattened copy, and ``genwatt bench``, ``genwatt sweep`` and ``genwatt
mitigate`` check a request by the same rules.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from genwatt.errors import ConfigError
from genwatt.models.spec import ModelSpec, SizeRule, Task

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedTokenizerBase


REQUESTED = "requested_"  # the prefix of the fields that keep what was asked for


@dataclass(frozen=True)
class ResolvedParams:
    """What was asked for (``requested_*``, None = use the default) and what will run.

    ``num_frames`` is the number of frames the pipeline produces, ``latent_frames`` the
    number the denoiser sees. ``denoiser_passes_per_step`` is 2 under classifier-free
    guidance (cond + uncond; batched or in two calls, see ``ModelSpec.cfg_batched``).
    ``batch_size`` is how many outputs one call generates from the same prompt.
    The ``requested_*`` fields are ``resolve_params``'s keyword arguments, one each.
    """

    model: str
    task: Task
    height: int | None
    width: int | None
    num_frames: int | None
    steps: int | None
    guidance: float | None
    max_text_tokens: int
    max_new_tokens: int | None
    latent_frames: int | None
    denoiser_passes_per_step: int
    batch_size: int = 1
    requested_num_frames: int | None = None
    requested_height: int | None = None
    requested_width: int | None = None
    requested_steps: int | None = None
    requested_guidance: float | None = None
    requested_max_text_tokens: int | None = None
    requested_max_new_tokens: int | None = None
    requested_batch_size: int | None = None
    notes: tuple[str, ...] = ()

    @classmethod
    def parameter_names(cls) -> tuple[str, ...]:
        """The settings a request may name: ``resolve_params``'s keyword arguments."""
        return tuple(
            f.name.removeprefix(REQUESTED) for f in fields(cls) if f.name.startswith(REQUESTED)
        )

    def requested_settings(self) -> dict[str, Any]:
        """What the request named, by parameter name; settings left to the default are absent."""
        return {
            name: value
            for name in self.parameter_names()
            if (value := getattr(self, REQUESTED + name)) is not None
        }

    def effective_settings(self) -> dict[str, Any]:
        """The settings that run, as the store keeps them in a run's config."""
        return {
            "num_frames": self.num_frames,
            "latent_frames": self.latent_frames,
            "height": self.height,
            "width": self.width,
            "steps": self.steps,
            "guidance": self.guidance,
            "max_text_tokens": self.max_text_tokens,
            "max_new_tokens": self.max_new_tokens,
            "batch_size": self.batch_size,
        }

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _int(spec: ModelSpec, name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            value = int(value)
        else:
            raise ConfigError(f"{name} for {spec.name} must be a whole number, got {value!r}.")
    if value < minimum:
        raise ConfigError(f"{name} for {spec.name} must be at least {minimum}, got {value}.")
    return int(value)


def _reject(spec: ModelSpec, names: dict[str, Any], why: str) -> None:
    given = [name for name, value in names.items() if value is not None]
    if given:
        raise ConfigError(f"{spec.name} {why}; remove {', '.join(given)}.")


def _size(spec: ModelSpec, name: str, value: Any, rule: SizeRule) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value <= 0:
        raise ConfigError(
            f"{name} for {spec.name} must be a positive multiple of {rule.multiple_px} pixels, "
            f"got {value!r}."
        )
    size = _int(spec, name, value)
    m = rule.multiple_px
    too_big = rule.max_px is not None and size > rule.max_px
    if size % m == 0 and not too_big:
        return size
    if too_big:
        raise ConfigError(
            f"{name} {size} is too large for {spec.name}: at most {rule.max_px} px "
            f"({rule.reason}). Use {rule.max_px} or less, in multiples of {m}."
        )
    lower, upper = size // m * m, size // m * m + m
    nearest = f"{lower} or {upper}" if lower > 0 else f"{upper}"
    raise ConfigError(
        f"{name} {size} is not accepted by {spec.name}: it must be a multiple of {m} px "
        f"({rule.reason}). Nearest valid: {nearest}."
    )


def _frames(spec: ModelSpec, requested: int, notes: list[str]) -> tuple[int, int]:
    """(frames produced, latent frames) for a requested count, as the pipeline computes it."""
    rule = spec.frame_rule
    assert rule is not None
    t = rule.temporal_factor
    if rule.rounding in ("exact", "pipeline_adds_one"):
        # pipeline_adds_one: pipeline_call_kwargs asks for one frame fewer, so the
        # request is exactly what runs (see FrameRule).
        if rule.max_frames is not None and requested > rule.max_frames:
            raise ConfigError(
                f"num_frames {requested} is too many for {spec.name}: {rule.reason}. "
                f"Use at most {rule.max_frames}."
            )
        return requested, requested
    if rule.rounding == "pipeline_rounds":
        frames = requested
        if requested % t != 1:
            frames = max(requested // t * t + 1, 1)
            notes.append(
                f"num_frames {requested} is not {t}k+1; {spec.pipeline_class} rounds it to "
                f"{frames} ({requested} // {t} * {t} + 1)."
            )
        return frames, (frames - 1) // t + 1
    latent = (requested - 1) // t + 1
    frames = rule.frames_from_latent(latent)
    if frames != requested:
        notes.append(
            f"num_frames {requested} gives ({requested} - 1) // {t} + 1 = {latent} latent "
            f"frames in {spec.pipeline_class}, which decode to {frames} frames."
        )
    return frames, latent


def _text_tokens(spec: ModelSpec, max_text_tokens: int | None) -> int:
    default = spec.defaults.max_text_tokens
    if max_text_tokens is None:
        return default
    tokens = _int(spec, "max_text_tokens", max_text_tokens)
    if spec.text_tokens_fixed and tokens != default:
        raise ConfigError(
            f"{spec.name} always encodes prompts as {default} tokens; "
            f"max_text_tokens cannot be {tokens}. Leave it unset."
        )
    if tokens > spec.max_text_tokens_limit:
        raise ConfigError(
            f"max_text_tokens {tokens} is more than {spec.name} takes "
            f"(at most {spec.max_text_tokens_limit})."
        )
    return tokens


def _guidance(spec: ModelSpec, guidance: Any, notes: list[str]) -> float:
    if (
        isinstance(guidance, bool)
        or not isinstance(guidance, numbers.Real)
        or not math.isfinite(guidance)
        or guidance < 0
    ):
        raise ConfigError(
            f"guidance for {spec.name} must be a finite number >= 0, got {guidance!r}."
        )
    value = float(guidance)
    if spec.guidance_kind == "none" and value not in (0.0, 1.0):
        notes.append(f"{spec.name} is guidance-distilled and ignores guidance {value:g}.")
    return value


def _steps(spec: ModelSpec, steps: Any) -> int:
    value = _int(spec, "steps", steps)
    if value < spec.min_steps:
        raise ConfigError(
            f"{spec.name} needs at least {spec.min_steps} steps: {spec.pipeline_class}'s "
            f"sigma schedule divides by zero at {value}."
        )
    return value


def resolve_params(
    spec: ModelSpec,
    height: int | None = None,
    width: int | None = None,
    num_frames: int | None = None,
    steps: int | None = None,
    guidance: float | None = None,
    max_text_tokens: int | None = None,
    max_new_tokens: int | None = None,
    batch_size: int | None = None,
) -> ResolvedParams:
    """Check a request against the model and fill in the authors' defaults.

    Raises ConfigError for anything the pipeline would reject or crash on, naming the
    values that would work. Frame counts are rounded exactly as the pipeline rounds them,
    with a note in ``notes``. ``max_text_tokens`` is the prompt length the text encoder
    sees (diffusion) or the prompt's truncation length (text); ``max_new_tokens`` is for
    text models only. ``batch_size`` (default 1) is the outputs per call.
    """
    d = spec.defaults
    requested = {
        "requested_num_frames": num_frames,
        "requested_height": height,
        "requested_width": width,
        "requested_steps": steps,
        "requested_guidance": guidance,
        "requested_max_text_tokens": max_text_tokens,
        "requested_max_new_tokens": max_new_tokens,
        "requested_batch_size": batch_size,
    }
    batch = _int(spec, "batch_size", 1 if batch_size is None else batch_size)
    if spec.task == "text":
        pixels = {"height": height, "width": width, "num_frames": num_frames}
        _reject(
            spec,
            {**pixels, "steps": steps, "guidance": guidance},
            "generates text and takes no image, video or diffusion settings",
        )
        return ResolvedParams(
            model=spec.name,
            task=spec.task,
            height=None,
            width=None,
            num_frames=None,
            steps=None,
            guidance=None,
            max_text_tokens=_text_tokens(spec, max_text_tokens),
            max_new_tokens=_int(
                spec,
                "max_new_tokens",
                d.max_new_tokens if max_new_tokens is None else max_new_tokens,
            ),
            latent_frames=None,
            denoiser_passes_per_step=1,
            batch_size=batch,
            **requested,
        )

    _reject(spec, {"max_new_tokens": max_new_tokens}, "is a diffusion model")
    if spec.task == "t2i":
        _reject(spec, {"num_frames": num_frames}, "makes single images, not videos")
    assert spec.size_rule is not None
    notes: list[str] = []
    g = _guidance(spec, d.guidance if guidance is None else guidance, notes)
    frames = latent_frames = None
    if spec.task == "t2v":
        requested_frames = d.num_frames if num_frames is None else num_frames
        frames, latent_frames = _frames(spec, _int(spec, "num_frames", requested_frames), notes)
    return ResolvedParams(
        model=spec.name,
        task=spec.task,
        height=_size(spec, "height", d.height if height is None else height, spec.size_rule),
        width=_size(spec, "width", d.width if width is None else width, spec.size_rule),
        num_frames=frames,
        steps=_steps(spec, d.steps if steps is None else steps),
        guidance=g,
        max_text_tokens=_text_tokens(spec, max_text_tokens),
        max_new_tokens=None,
        latent_frames=latent_frames,
        denoiser_passes_per_step=2 if spec.guidance_kind == "cfg" and g > 1.0 else 1,
        batch_size=batch,
        notes=tuple(notes),
        **requested,
    )


def _same_model(spec: ModelSpec, params: ResolvedParams) -> None:
    if params.model != spec.name:
        raise ConfigError(
            f"These parameters were resolved for {params.model}, not {spec.name}; "
            f"call resolve_params({spec.name!r} spec, ...) first."
        )


def _batched(prompt: str | list[str], params: ResolvedParams) -> str | list[str]:
    """A single prompt as ``params.batch_size`` copies (as it is for a batch of one);
    a list of prompts as given."""
    if isinstance(prompt, str) and params.batch_size > 1:
        return [prompt] * params.batch_size
    return prompt


def pipeline_call_kwargs(
    spec: ModelSpec,
    params: ResolvedParams,
    prompt: str | list[str],
    generator: torch.Generator | None = None,
    *,
    negative_prompt: str | list[str] | None = None,
    output_type: str = "np",
) -> dict[str, Any]:
    """Keyword arguments for ``pipe(**kwargs)``: our parameter names in the family's terms.

    ``num_frames`` is the request that makes the pipeline produce ``params.num_frames``
    (one fewer for a ``pipeline_adds_one`` frame rule; the same for every other).
    ``output_type="np"`` decodes with the VAE and skips PIL conversion; ``"latent"``
    skips the VAE decode altogether. A single prompt is repeated ``params.batch_size``
    times. The sizes come first, then steps, guidance and text length: the order in
    which a comparison's settings are shown.
    """
    _same_model(spec, params)
    if spec.task == "text":
        raise ConfigError(f"{spec.name} is a text model; use generate_kwargs for model.generate.")
    kwargs: dict[str, Any] = {
        "prompt": _batched(prompt, params),
        "height": params.height,
        "width": params.width,
    }
    if spec.task == "t2v":
        assert spec.frame_rule is not None and params.num_frames is not None
        kwargs["num_frames"] = spec.frame_rule.pipeline_request(params.num_frames)
    kwargs["num_inference_steps"] = params.steps
    kwargs["guidance_scale"] = params.guidance
    if spec.takes_max_sequence_length:
        kwargs["max_sequence_length"] = params.max_text_tokens
    kwargs["generator"] = generator
    kwargs["output_type"] = output_type
    if negative_prompt is not None:
        kwargs["negative_prompt"] = negative_prompt
    return kwargs


def generate_kwargs(
    spec: ModelSpec,
    params: ResolvedParams,
    prompt: str | list[str],
    tokenizer: PreTrainedTokenizerBase,
    *,
    device: torch.device | str | None = None,
) -> dict[str, Any]:
    """Keyword arguments for ``model.generate(**kwargs)`` of a text model.

    The prompt is truncated to ``max_text_tokens``; decoding is greedy and runs exactly
    ``max_new_tokens`` steps (``min_new_tokens`` equals it), so that a measurement's
    token count does not depend on when the model happens to stop. A single prompt is
    repeated ``params.batch_size`` times.
    """
    _same_model(spec, params)
    if spec.task != "text":
        raise ConfigError(f"{spec.name} is a {spec.task} model; use pipeline_call_kwargs.")
    batched = _batched(prompt, params)
    encoded = tokenizer(
        [batched] if isinstance(batched, str) else list(batched),
        truncation=True,
        max_length=params.max_text_tokens,
        padding=True,
        return_tensors="pt",
    )
    if device is not None:
        encoded = encoded.to(device)
    return {
        "input_ids": encoded["input_ids"],
        "attention_mask": encoded["attention_mask"],
        "max_new_tokens": params.max_new_tokens,
        "min_new_tokens": params.max_new_tokens,
        "do_sample": False,
        "pad_token_id": tokenizer.pad_token_id,
    }
