"""What a generation asks of the hardware, in the few numbers the latency model reads.

Why a separate layer between the FLOP counter and the model: the model is fitted on
one set of measurements and applied to others, so it must see every workload through
the same small set of features: per pipeline call (a *stage*; LTX-Video's two-pass
recipe has two), the text encoder's FLOPs, the denoiser's FLOPs per forward split into
the attention-score part (quadratic in tokens, run by flash-attention kernels) and the
rest (dense matmuls and convolutions), the token count, how many forwards and how many
separate denoiser calls there are, and the VAE decoder's FLOPs and precision.

The FLOPs come from ``genwatt.flops`` (closed form, no torch) when a workload is built
from a registered model; a ``Stage`` can also be made by hand, which is how the model
arithmetic is tested.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from genwatt.errors import ConfigError
from genwatt.flops import generation_flops
from genwatt.models import get_model, resolve_params
from genwatt.models.params import ResolvedParams
from genwatt.models.spec import ModelSpec
from genwatt.numbers import finite_or_none
from genwatt.predict.hardware import HardwareProfile, Precision

# The denoiser parts (keys of ForwardFlops.by_part) that run in attention kernels and
# grow with the square of the sequence; everything else is a dense matmul or conv.
ATTENTION_PARTS = ("attention_scores", "cross_attention_scores")
CONV_PART = "conv"  # the denoiser's convolutions (``ForwardFlops.by_part``)


@dataclass(frozen=True)
class Stage:
    """One pipeline call's compute. FLOPs are totals over the batch (2 x MACs)."""

    name: str
    text_encoder_flops: float
    attention_flops_per_forward: float
    dense_flops_per_forward: float
    tokens: int  # sequence length of the denoiser's self-attention
    forwards: int  # denoiser passes: steps x (2 under classifier-free guidance)
    calls: int  # separate denoiser calls: ``forwards`` or ``steps`` when CFG is batched
    steps: int
    vae_decode_flops: float
    denoiser_precision: Precision = "bf16"
    text_encoder_precision: Precision = "bf16"
    vae_precision: Precision = "bf16"
    # The part of ``dense_flops_per_forward`` in convolutions (a UNet's), and the rate
    # they run at (None: the denoiser's). In FP32 it differs: cuDNN runs convolutions on
    # the TF32 tensor cores, while matmuls stay on the FP32 units.
    conv_flops_per_forward: float = 0.0
    conv_precision: Precision | None = None

    def dense_seconds_at_peak(self, hardware: HardwareProfile) -> float:
        """The dense layers' seconds over every forward at their precisions' datasheet
        peaks (the fitted efficiency divides it)."""
        conv = min(self.conv_flops_per_forward, self.dense_flops_per_forward)
        rest = self.dense_flops_per_forward - conv
        conv_peak = hardware.peak_flops(self.conv_precision or self.denoiser_precision)
        rest_s = rest / hardware.peak_flops(self.denoiser_precision)
        return self.forwards * (rest_s + (conv / conv_peak if conv else 0.0))

    @property
    def denoise_flops(self) -> float:
        return self.forwards * (self.attention_flops_per_forward + self.dense_flops_per_forward)

    @property
    def total_flops(self) -> float:
        return self.text_encoder_flops + self.denoise_flops + self.vae_decode_flops

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Stage:
        return cls(**dict(data))


@dataclass(frozen=True)
class Workload:
    """A whole generation: its stages and the configuration they came from."""

    model: str
    stages: tuple[Stage, ...]
    config: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def flops(self) -> dict[str, float]:
        """FLOPs per component and in total, summed over stages."""
        text = sum(s.text_encoder_flops for s in self.stages)
        denoise = sum(s.denoise_flops for s in self.stages)
        vae = sum(s.vae_decode_flops for s in self.stages)
        return {
            "text_encoder": text,
            "denoise": denoise,
            "vae_decode": vae,
            "total": text + denoise + vae,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "stages": [s.to_dict() for s in self.stages],
            "config": dict(self.config),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Workload:
        return cls(
            model=data["model"],
            stages=tuple(Stage.from_dict(s) for s in data["stages"]),
            config=dict(data.get("config", {})),
            notes=tuple(data.get("notes", ())),
        )


def precision_of(dtype: str | None, *, convolutional: bool = False) -> Precision:
    """The peak a component of this dtype runs at.

    fp32 convolutions run on TF32 tensor cores (cuDNN's default in PyTorch); fp32
    matmuls do not (``torch.backends.cuda.matmul.allow_tf32`` defaults to False).
    """
    if dtype in (None, "bfloat16", "float16", "bf16", "fp16"):
        return "bf16"
    if dtype in ("float32", "fp32"):
        return "tf32" if convolutional else "fp32"
    raise ConfigError(f"unknown dtype {dtype!r}; use float32, bfloat16 or float16.")


def _component_dtype(spec: ModelSpec, role: str) -> str:
    for comp in spec.components:
        if comp.role == role and comp.torch_dtype:
            return comp.torch_dtype
    return spec.torch_dtype


def stage_from_flops(
    name: str,
    spec: ModelSpec,
    generation: Any,
    *,
    steps: int | None = None,
    decode: bool = True,
    dtype: str | None = None,
) -> Stage:
    """A ``Stage`` from a ``genwatt.flops.GenerationFlops``.

    ``steps`` overrides the number of denoising steps actually run (a refinement pass
    with ``denoise_strength`` runs fewer than it is asked for); ``decode=False`` drops
    the VAE decode (a pass that returns latents); ``dtype`` holds every component in one
    precision (a pipeline loaded with ``torch_dtype``), None each component's own.
    """
    forward = generation.denoiser_forward
    passes = int(generation.passes_per_step)
    planned_steps = int(generation.steps)
    run_steps = planned_steps if steps is None else steps
    forwards_planned = max(planned_steps * passes, 1)
    # Per-forward FLOPs over the whole batch: the counter's denoise total already holds
    # the batch, its forward may be per sample.
    per_forward = float(generation.denoise) / forwards_planned if planned_steps else 0.0
    batch_factor = per_forward / forward.total if forward.total else 0.0
    attention = batch_factor * sum(float(forward.by_part.get(p, 0.0)) for p in ATTENTION_PARTS)
    conv = batch_factor * float(forward.by_part.get(CONV_PART, 0.0))
    denoiser_dtype = dtype or _component_dtype(spec, "denoiser")
    calls_per_step = 1 if (spec.cfg_batched or passes == 1) else passes
    return Stage(
        name=name,
        text_encoder_flops=float(generation.text_encoder),
        attention_flops_per_forward=attention,
        dense_flops_per_forward=max(per_forward - attention, 0.0),
        tokens=int(forward.tokens),
        forwards=run_steps * passes,
        calls=run_steps * calls_per_step,
        steps=run_steps,
        vae_decode_flops=float(generation.vae_decode) if decode else 0.0,
        denoiser_precision=precision_of(denoiser_dtype),
        text_encoder_precision=precision_of(dtype or _component_dtype(spec, "text_encoder")),
        vae_precision=precision_of(dtype or _component_dtype(spec, "vae"), convolutional=True),
        conv_flops_per_forward=conv,
        conv_precision=precision_of(denoiser_dtype, convolutional=True) if conv else None,
    )


def config_of(params: ResolvedParams, batch_size: int) -> dict[str, Any]:
    """The resolved settings a prediction reports (what the pipeline will run)."""
    return {
        "num_frames": params.num_frames,
        "latent_frames": params.latent_frames,
        "height": params.height,
        "width": params.width,
        "steps": params.steps,
        "guidance": params.guidance,
        "max_text_tokens": params.max_text_tokens,
        "batch_size": batch_size,
        "denoiser_passes_per_step": params.denoiser_passes_per_step,
    }


def workload_for(
    model: str | ModelSpec,
    *,
    num_frames: int | None = None,
    height: int | None = None,
    width: int | None = None,
    steps: int | None = None,
    guidance: float | None = None,
    max_text_tokens: int | None = None,
    batch_size: int = 1,
    dtype: str | None = None,
) -> Workload:
    """The workload of one generation with a registered model (one pipeline call).

    Parameters are checked and rounded exactly as the pipeline would (the registry's
    ``resolve_params``); ``ConfigError`` names the values that would work. A guidance
    scale must be finite: NaN passes every bound and would predict an unguided run.
    ``dtype`` holds the whole pipeline in one precision (None: each component's own).
    """
    spec = get_model(model) if isinstance(model, str) else model
    if spec.task == "text":
        raise ConfigError(
            f"{spec.name} generates text; this predictor covers diffusion models (image "
            "and video): predict it with the task predictor (`genwatt predict --model "
            f"{spec.repo_id or spec.name}`, genwatt.predict.task_predictor.predict_task)."
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch size must be a whole number >= 1, got {batch_size!r}.")
    params = resolve_params(
        spec,
        height=height,
        width=width,
        num_frames=num_frames,
        steps=steps,
        guidance=finite_or_none(guidance, "guidance"),
        max_text_tokens=max_text_tokens,
    )
    if dtype is not None:
        precision_of(dtype)  # an unknown dtype fails here, before any counting
    stage = stage_from_flops(
        "generate", spec, generation_flops(spec, params, batch_size=batch_size), dtype=dtype
    )
    config = config_of(params, batch_size)
    if dtype is not None:
        config["dtype"] = dtype
    return Workload(spec.name, (stage,), config, params.notes)
