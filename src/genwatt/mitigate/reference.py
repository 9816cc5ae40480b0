"""genwatt's own small text-to-video reference model: the real WAN code path, trained here.

Why: a mitigation strategy (step caching, reuse) is only judged fairly on a model whose
denoising trajectory has structure, and random weights have none. So genwatt trains a
miniature WAN on its synthetic captioned videos (``genwatt.mitigate.synthetic``) and
ships the weights inside the package. Every part is the real diffusers/transformers
class, sampled through the real ``WanPipeline``:

* ``WanTransformer3DModel``: 4 layers of 4 heads x 64, patch (1, 2, 2), 48 in/out channels;
* ``UMT5EncoderModel``: 2 layers, d_model 64, frozen at its seeded initialisation (see
  ``genwatt.mitigate.train`` for why), as WAN keeps its UMT5 frozen;
* a word-level tokenizer over the caption vocabulary (built in code);
* ``PatchCodec``: an exact 4x4 pixel-patch latent codec in place of the VAE (see there);
* ``UniPCMultistepScheduler`` on flow sigmas, the scheduler WAN2.1 ships, shift 3.

Sampling defaults: 32x32 pixels, 3 frames (request 2: ``WanPipeline`` rounds ``num_frames``
up to ``k * scale_factor_temporal + 1``, which with no temporal compression is ``n + 1``),
30 steps, guidance 5 run as WAN runs it (separate conditional and unconditional calls).

Why objects move 4 px per frame, half a transformer token: with the codec's 4 px patches
and the transformer's 2x2 latent patches, one token covers 8x8 pixels. Attention with
rotary (RoPE) positions scores *where* a key sits, but the value it passes on carries no
position. When the object stepped one whole token per frame (the first design), each
frame showed it cut into tokens exactly as the last, one token further along, so which
way it had gone was only in *which* neighbour a head had read, and the sign had to be
learnt as a caption-dependent rotation of queries: the model found the axis but tossed
a coin for the sign. At half a token per frame the object sits differently inside the
tokens of consecutive frames, so a token's content next to the previous frame's content
at the same place says which way it went: the sign becomes a content feature, learnt
like the colour (``docs/mitigation.md`` has the measurements). Three frames keep the
path (8 px) plus the 8 px object inside 32 px with 16 px of freedom for the start, so
the model cannot place objects by absolute position. Why the transformer is 256 wide,
not 128: see ``TRANSFORMER`` in ``genwatt.models.families.reference``. How well it follows
its captions is measured (``reference_quality``) and stored with the weights.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genwatt.errors import ConfigError
from genwatt.mitigate.synthetic import COLOURS, DIRECTIONS, SHAPES
from genwatt.models.families import reference as registered

if TYPE_CHECKING:
    from diffusers import WanPipeline
    from transformers import PreTrainedTokenizerFast

NAME = "wan-reference"
WEIGHTS_FILE = "wan-reference.safetensors"
CARD_FILE = "wan-reference.json"
# The architecture is plain data in the model registry, which must import without numpy;
# this module builds from the same dicts, so the registry and the trained model agree.
MAX_TEXT_TOKENS = registered.MAX_TEXT_TOKENS
PATCH_PX = registered.PATCH_PX
#: Object motion in the training clips, pixels per frame: one latent pixel, half a
#: transformer token (the module doc says why not a whole one).
MOTION_PX = 4

TRANSFORMER_CONFIG: dict[str, Any] = registered.TRANSFORMER

SPECIAL_TOKENS = ("<pad>", "</s>", "<unk>")
VOCABULARY: tuple[str, ...] = (*SPECIAL_TOKENS, "a", *COLOURS, *SHAPES, "moves", *DIRECTIONS)

TEXT_ENCODER_CONFIG: dict[str, Any] = registered.TEXT_ENCODER
if TEXT_ENCODER_CONFIG["vocab_size"] != len(VOCABULARY):  # the registry states it as a number
    raise ImportError(
        f"wan-reference text encoder has {TEXT_ENCODER_CONFIG['vocab_size']} embeddings but "
        f"the caption vocabulary has {len(VOCABULARY)} words; update the registry spec"
    )

SCHEDULER_CONFIG: dict[str, Any] = registered.SCHEDULER


@dataclass(frozen=True)
class SamplingDefaults:
    """How the reference model is sampled unless a caller says otherwise."""

    height: int = 32
    width: int = 32
    frames: int = 3
    steps: int = 30
    guidance: float = 5.0

    def call_kwargs(self) -> dict[str, Any]:
        """``WanPipeline.__call__`` arguments; asks for ``frames - 1`` (see module doc)."""
        return {
            "height": self.height,
            "width": self.width,
            "num_frames": self.frames - 1,
            "num_inference_steps": self.steps,
            "guidance_scale": self.guidance,
            "max_sequence_length": MAX_TEXT_TOKENS,
        }


DEFAULTS = SamplingDefaults()


def build_tokenizer() -> PreTrainedTokenizerFast:
    """Word-level tokenizer over the caption words; appends ``</s>`` like T5's."""
    from tokenizers import AddedToken, Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    ids = {token: i for i, token in enumerate(VOCABULARY)}
    core = Tokenizer(WordLevel(vocab=ids, unk_token="<unk>"))
    core.normalizer = normalizers.Lowercase()
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    core.add_special_tokens([AddedToken(t, special=True) for t in SPECIAL_TOKENS])
    core.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", ids["</s>"])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        model_max_length=MAX_TEXT_TOKENS,
        padding_side="right",
        unk_token="<unk>",
        pad_token="<pad>",
        eos_token="</s>",
    )


class _FrameRoundingNotice(logging.Filter):
    """Drops ``WanPipeline``'s notice that it rounds ``num_frames`` up by one.

    With no temporal compression it fires on every call, and genwatt asks for ``n - 1``
    frames on purpose (see the module doc). Other WAN models' notices (divisible by 4)
    pass through.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "has to be divisible by 1." not in record.getMessage()


def _quiet_frame_rounding() -> None:
    logger = logging.getLogger("diffusers.pipelines.wan.pipeline_wan")
    if not any(isinstance(f, _FrameRoundingNotice) for f in logger.filters):
        logger.addFilter(_FrameRoundingNotice())


def build_pipeline(
    *,
    seed: int = 0,
    latents_mean: list[float] | None = None,
    latents_std: list[float] | None = None,
) -> WanPipeline:
    """The reference pipeline with random weights drawn from ``seed`` (float32, CPU)."""
    import torch
    from diffusers import UniPCMultistepScheduler, WanPipeline, WanTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    from genwatt.mitigate.codec import PatchCodec

    torch.manual_seed(seed)
    transformer = WanTransformer3DModel(**TRANSFORMER_CONFIG)
    text_encoder = UMT5EncoderModel(UMT5Config(**TEXT_ENCODER_CONFIG))
    codec = PatchCodec(
        patch_px=PATCH_PX,
        z_dim=3 * PATCH_PX * PATCH_PX,
        latents_mean=latents_mean,
        latents_std=latents_std,
    )
    pipe = WanPipeline(
        tokenizer=build_tokenizer(),
        text_encoder=text_encoder,
        transformer=transformer,
        vae=codec,
        scheduler=UniPCMultistepScheduler(**SCHEDULER_CONFIG),
    )
    pipe.set_progress_bar_config(disable=True)
    _quiet_frame_rounding()
    return pipe


def _package_file(name: str) -> Path:
    return Path(str(resources.files("genwatt.mitigate") / "weights" / name))


def trained_card() -> dict[str, Any]:
    """The training record shipped with the weights: command, seed, time, quality."""
    path = _package_file(CARD_FILE)
    if not path.is_file():
        raise ConfigError(f"the {NAME} training record {path} is missing; reinstall genwatt")
    return json.loads(path.read_text())


def save_trained(pipe: WanPipeline, directory: Path, card: dict[str, Any]) -> Path:
    """Write the trainable weights (float16) and the codec statistics beside the card."""
    import torch
    from safetensors.torch import save_file

    tensors = {
        **{f"transformer.{k}": v for k, v in pipe.transformer.state_dict().items()},
        **{f"text_encoder.{k}": v for k, v in pipe.text_encoder.state_dict().items()},
    }
    # float16 halves the file; the weights are small-magnitude and train in float32.
    tensors = {k: v.detach().to(torch.float16).contiguous() for k, v in tensors.items()}
    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / WEIGHTS_FILE
    save_file(tensors, str(weights))
    full_card = {
        **card,
        "latents_mean": list(pipe.vae.config.latents_mean),
        "latents_std": list(pipe.vae.config.latents_std),
    }
    (directory / CARD_FILE).write_text(json.dumps(full_card, indent=2) + "\n")
    return weights


def load_trained(directory: Path | None = None) -> WanPipeline:
    """The trained reference pipeline from the package (or ``directory``), float32 on CPU."""
    import torch
    from safetensors.torch import load_file

    weights = (directory / WEIGHTS_FILE) if directory else _package_file(WEIGHTS_FILE)
    card_path = (directory / CARD_FILE) if directory else _package_file(CARD_FILE)
    if not weights.is_file() or not card_path.is_file():
        raise ConfigError(
            f"no trained {NAME} weights at {weights}; train them with "
            "`python -m genwatt.mitigate.train` or reinstall genwatt"
        )
    card = json.loads(card_path.read_text())
    pipe = build_pipeline(latents_mean=card["latents_mean"], latents_std=card["latents_std"])
    state = load_file(str(weights))
    for part in ("transformer", "text_encoder"):
        prefix = f"{part}."
        sub = {
            k[len(prefix) :]: v.to(torch.float32) for k, v in state.items() if k.startswith(prefix)
        }
        getattr(pipe, part).load_state_dict(sub, strict=True)
    return pipe
