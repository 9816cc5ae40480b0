"""What a registered model is: its parts, their real configs, and how the authors run it.

A ``ModelSpec`` is plain data and imports nothing heavy, so listing models and checking
parameters never pulls in torch. Everything that builds a module reads these fields;
nothing about an architecture is hidden in builder code. The FLOP counter reads the
same configs, which is why each one cites the file its numbers come from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from genwatt.errors import ConfigError
from genwatt.models.tokenizer import TokenizerKind

Task = Literal["t2v", "t2i", "text"]
Weights = Literal["pretrained", "random", "tiny"]
WEIGHTS: tuple[Weights, ...] = ("pretrained", "random", "tiny")

Role = Literal["denoiser", "vae", "text_encoder", "adapter", "lm"]


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only view, so that a spec cannot be edited through a config it hands out."""
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class ComponentSpec:
    """One ``nn.Module`` of a pipeline, described well enough to build it from nothing.

    ``config`` holds the constructor keyword arguments: for a diffusers or genwatt class,
    those of the class itself; for a transformers class, those of ``config_class``.
    ``library="genwatt"`` is for genwatt's own modules (the reference model's pixel-patch
    codec), which no third-party namespace exports: ``module`` says where the class is.
    """

    name: str  # the pipeline attribute: "transformer", "unet", "vae", "text_encoder_2"...
    role: Role
    library: Literal["diffusers", "transformers", "genwatt"]
    class_name: str
    config: Mapping[str, Any] = field(hash=False)
    source: str  # where the numbers in ``config`` come from
    config_class: str | None = None  # transformers only, e.g. "UMT5Config"
    params: int | None = None  # exact parameter count of ``config``; a test rebuilds it
    published_params: float | None = None  # the size the authors state, e.g. 1.3e9
    published_source: str = ""
    torch_dtype: str | None = None  # overrides the model's dtype (WAN runs its VAE in fp32)
    repo_id: str | None = None  # loaded from its own repo (AnimateDiff's motion adapter)
    module: str | None = None  # genwatt only: the module defining ``class_name``

    def __post_init__(self) -> None:
        object.__setattr__(self, "config", _frozen(self.config))
        if self.library == "transformers" and self.config_class is None:
            raise ValueError(f"component {self.name!r}: transformers classes need config_class")
        if (self.library == "genwatt") != (self.module is not None):
            raise ValueError(
                f"component {self.name!r}: genwatt classes need module (where the class "
                "lives); diffusers and transformers classes take none"
            )


@dataclass(frozen=True)
class TokenizerSpec:
    """A pipeline's tokenizer slot; built in code by ``genwatt.models.tokenizer``."""

    name: str  # "tokenizer", "tokenizer_2", "tokenizer_3"
    kind: TokenizerKind
    model_max_length: int
    pad_token: str | None = None  # SDXL's OpenCLIP tokenizer pads with "!"
    padding_side: Literal["left", "right"] | None = None  # None: the kind's own side
    # "module:function" returning the tokenizer, for a trained model whose embedding
    # table only fits its own vocabulary (the reference model); ``kind`` then only
    # describes its special tokens.
    factory: str | None = None


@dataclass(frozen=True)
class SchedulerSpec:
    """The scheduler the authors ship, as class name and constructor arguments."""

    class_name: str
    config: Mapping[str, Any] = field(hash=False)
    source: str
    # The authors replace the repo's scheduler at load time (AnimateDiff's model card
    # swaps in a DDIM scheduler); the pretrained path must then do the same.
    replaces_pretrained: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "config", _frozen(self.config))


@dataclass(frozen=True)
class SizeRule:
    """Which heights and widths the pipeline accepts: multiples of ``multiple_px``."""

    multiple_px: int
    max_px: int | None = None  # a learned positional table caps the size (SD3)
    reason: str = ""


@dataclass(frozen=True)
class FrameRule:
    """How the pipeline turns a requested frame count into the frames it produces.

    ``pipeline_rounds``: the pipeline itself rounds to ``k * temporal_factor + 1``
    (``num_frames // t * t + 1``, as WanPipeline does) and warns.
    ``latent_floor``: the pipeline takes ``L = (n - 1) // t + 1`` latent frames and the
    VAE decodes them to ``(L - 1) * t + 1`` frames.
    ``cogvideox_decode``: ``L`` as above, but the CogVideoX VAE decodes latents two at a
    time (the first batch takes an odd leftover) and each batch doubles twice in time:
    ``4L - 3`` frames when ``L`` is odd, ``4L`` when it is even.
    ``exact``: no temporal compression; ``max_frames`` caps it (AnimateDiff's motion
    modules have a 32-entry positional table).
    ``pipeline_adds_one``: no temporal compression, but the pipeline still applies the
    ``k * t + 1`` rounding of ``pipeline_rounds`` with ``t = 1`` (WanPipeline with a
    codec that does not compress time), which turns every request ``n`` into ``n + 1``
    frames: ``num_frames % 1 != 1`` always holds. genwatt therefore asks it for ``n - 1``
    to get ``n`` (``pipeline_request``), so that a requested count is what runs.
    ``reason`` says where ``max_frames`` comes from.
    """

    temporal_factor: int
    rounding: Literal[
        "pipeline_rounds", "latent_floor", "cogvideox_decode", "exact", "pipeline_adds_one"
    ]
    max_frames: int | None = None
    reason: str = ""

    def frames_from_latent(self, latent_frames: int) -> int:
        """Frames the VAE decodes from ``latent_frames``."""
        t = self.temporal_factor
        if self.rounding in ("exact", "pipeline_adds_one"):
            return latent_frames
        if self.rounding == "cogvideox_decode" and latent_frames > 1:
            return t * latent_frames - (t - 1 if latent_frames % 2 else 0)
        return (latent_frames - 1) * t + 1

    def pipeline_request(self, frames: int) -> int:
        """The ``num_frames`` to pass the pipeline so that it makes ``frames`` frames.

        ``frames`` must already be resolved (``resolve_params``); for every rule but
        ``pipeline_adds_one`` the pipeline keeps a resolved count as it is.
        """
        return frames - 1 if self.rounding == "pipeline_adds_one" else frames


@dataclass(frozen=True)
class Defaults:
    """The generation settings the authors use (model card or pipeline defaults)."""

    height: int | None = None
    width: int | None = None
    num_frames: int | None = None
    steps: int | None = None
    guidance: float | None = None
    max_text_tokens: int = 77
    max_new_tokens: int | None = None  # text models only
    # Frames per second of the exported clip (video models), for per-second-of-video
    # figures; the authors' own figure, cited beside each value.
    fps: float | None = None
    source: str = ""


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: a real checkpoint, the tiny form of a family, or genwatt's own
    trained reference model (its weights in the package, ``pretrained_loader``).

    ``guidance_kind`` says what guidance costs: ``cfg`` runs the denoiser on a
    conditional and an unconditional input when guidance > 1; ``embedded`` feeds the
    scale in as an input (FLUX.1-dev, HunyuanVideo) and runs once; ``none`` ignores it.
    """

    name: str
    repo_id: str | None
    task: Task
    family: str
    components: tuple[ComponentSpec, ...]
    defaults: Defaults
    torch_dtype: str
    tiny_name: str
    pipeline_class: str | None = None  # None for text models
    tokenizers: tuple[TokenizerSpec, ...] = ()
    scheduler: SchedulerSpec | None = None
    size_rule: SizeRule | None = None
    frame_rule: FrameRule | None = None
    guidance_kind: Literal["cfg", "embedded", "none"] = "cfg"
    cfg_batched: bool = True  # cond and uncond in one batch-2 call, or two calls (WAN)
    max_text_tokens_limit: int = 77
    min_steps: int = 1  # Mochi's and LTX's sigma schedules divide by zero at one step
    text_tokens_fixed: bool = False  # CLIP-only pipelines always pad to 77
    takes_max_sequence_length: bool = True  # the pipeline call has max_sequence_length
    pipeline_kwargs: Mapping[str, Any] = field(default_factory=dict, hash=False)
    pipeline_repo_id: str | None = None  # where the pipeline lives, if not at repo_id
    aliases: tuple[str, ...] = ()
    default_weights: Weights = "pretrained"
    published_params: float | None = None  # the headline size, e.g. 1.3e9 for "1.3B"
    notes: str = ""
    # "module:function" returning the pipeline with weights that ship inside genwatt
    # (the reference model): ``pretrained`` then calls it and never touches the Hub.
    pretrained_loader: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "pipeline_kwargs", _frozen(self.pipeline_kwargs))
        names = [c.name for c in self.components]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate component names {names}")
        if self.default_weights not in WEIGHTS:
            raise ValueError(f"{self.name}: default_weights must be one of {WEIGHTS}")

    @property
    def is_tiny(self) -> bool:
        return self.default_weights == "tiny"

    @property
    def has_pretrained(self) -> bool:
        """Whether ``pretrained`` weights exist: on the Hub, or shipped with genwatt."""
        return self.repo_id is not None or self.pretrained_loader is not None

    @property
    def component_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.components)

    def component(self, name: str) -> ComponentSpec:
        """The component called ``name``; a ConfigError lists the ones there are."""
        for comp in self.components:
            if comp.name == name:
                return comp
        raise ConfigError(
            f"{self.name} has no component {name!r}; it has {', '.join(self.component_names)}."
        )

    @property
    def denoiser(self) -> ComponentSpec:
        """The network run once per step (or the language model of a text model)."""
        for comp in self.components:
            if comp.role in ("denoiser", "lm"):
                return comp
        raise ValueError(f"{self.name} has no denoiser")

    @property
    def text_encoders(self) -> tuple[ComponentSpec, ...]:
        return tuple(c for c in self.components if c.role == "text_encoder")

    @property
    def denoiser_params(self) -> int | None:
        """Parameters of the network run every step: AnimateDiff's UNet plus its adapter."""
        parts = [c.params for c in self.components if c.role in ("denoiser", "lm", "adapter")]
        return None if None in parts else sum(p for p in parts if p is not None)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready description: what ``genwatt models --json`` prints."""
        d = self.defaults
        return {
            "name": self.name,
            "repo_id": self.repo_id,
            "task": self.task,
            "family": self.family,
            "pipeline_class": self.pipeline_class,
            "denoiser_class": self.denoiser.class_name,
            "denoiser_params": self.denoiser_params,
            "published_params": self.published_params,
            "torch_dtype": self.torch_dtype,
            "default_weights": self.default_weights,
            "tiny_name": self.tiny_name,
            "pretrained_loader": self.pretrained_loader,
            "aliases": list(self.aliases),
            "defaults": {
                "height": d.height,
                "width": d.width,
                "num_frames": d.num_frames,
                "steps": d.steps,
                "guidance": d.guidance,
                "max_text_tokens": d.max_text_tokens,
                "max_new_tokens": d.max_new_tokens,
            },
            "components": {
                c.name: {"class": c.class_name, "params": c.params, "source": c.source}
                for c in self.components
            },
        }
