"""What a FLOP count says: one forward split into parts, and a whole generation.

Every figure is in FLOPs = 2 x multiply-accumulates, the convention of
``torch.utils.flop_counter.FlopCounterMode``: matrix products and convolutions only.
Norms, activations, softmax, rotary embeddings, residual adds and scheduler arithmetic
are not in these numbers (see ``genwatt.flops`` for why and how much that leaves out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The parts a forward is split into. They are disjoint and add up to ``total``.
ATTENTION_SCORES = "attention_scores"  # QK^T and AV of self/joint attention: ~ tokens^2
ATTENTION_PROJECTIONS = "attention_projections"  # q, k, v, out projections of self-attention
CROSS_ATTENTION_SCORES = "cross_attention_scores"  # QK^T and AV against text: ~ tokens x text
CROSS_ATTENTION_PROJECTIONS = "cross_attention_projections"  # q, k, v, out of cross-attention
MLP = "mlp"  # feed-forward layers (in single-stream blocks: their MLP share of the fused linears)
CONDITIONING = "conditioning"  # timestep, guidance, pooled and caption embedders; modulation
PATCH_EMBED_AND_HEAD = "patch_embed_and_head"  # patchify in, unpatchify projection out
CONV = "conv"  # convolutions of UNets and VAEs
OTHER = "other"  # the rest: UNet transformer proj_in/out, rotary tables, LM head, poolers

PARTS: tuple[str, ...] = (
    ATTENTION_SCORES,
    ATTENTION_PROJECTIONS,
    CROSS_ATTENTION_SCORES,
    CROSS_ATTENTION_PROJECTIONS,
    MLP,
    CONDITIONING,
    PATCH_EMBED_AND_HEAD,
    CONV,
    OTHER,
)


@dataclass(frozen=True)
class ForwardFlops:
    """One forward of one component for one sample (one prompt, one latent).

    ``tokens`` is the sequence the component attends over: video/image tokens for a
    denoiser (text tokens excluded), text tokens for an encoder or a language model,
    latent pixels for a VAE decoder.
    """

    total: float
    by_part: dict[str, float]
    tokens: int

    @property
    def attention_share(self) -> float:
        """Share of the score and value products (self and cross), the part that grows
        with the square of the sequence: what fused attention kernels speed up."""
        scores = self.by_part.get(ATTENTION_SCORES, 0.0)
        scores += self.by_part.get(CROSS_ATTENTION_SCORES, 0.0)
        return scores / self.total if self.total else 0.0

    def scaled(self, factor: float) -> ForwardFlops:
        """The same forward ``factor`` times (a batch, or a number of calls)."""
        return ForwardFlops(
            self.total * factor, {k: v * factor for k, v in self.by_part.items()}, self.tokens
        )

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "by_part": dict(self.by_part), "tokens": self.tokens}


@dataclass(frozen=True)
class GenerationFlops:
    """FLOPs of one generation call (``batch_size`` prompts), phase by phase.

    Diffusion: ``text_encoder`` is every encoder call the pipeline makes (the negative
    prompt's too, where it encodes one); ``denoise`` is ``steps`` times the passes per
    step times the batch; ``vae_decode`` decodes the batch. Text generation:
    ``text_encoder`` and ``vae_decode`` are 0, ``prefill`` is the prompt's forward
    (``prefill_forward`` per sequence), ``decode`` the forwards of the
    ``max_new_tokens - 1`` further tokens; the repeated phase is the decode, so
    ``denoise`` equals ``decode``, ``steps`` counts decode forwards and
    ``denoiser_forward`` is their mean. In every case but Mochi's guided one (its
    unconditional pass is a little cheaper), ``denoise`` is exactly
    ``batch_size x steps x passes_per_step x denoiser_forward.total``.
    """

    text_encoder: float
    denoise: float
    vae_decode: float
    total: float
    denoiser_forward: ForwardFlops
    passes_per_step: int
    steps: int
    text_encoder_forwards: dict[str, ForwardFlops] = field(default_factory=dict)
    vae_decoder: ForwardFlops | None = None
    prefill: float = 0.0
    decode: float = 0.0
    prefill_forward: ForwardFlops | None = None
    batch_size: int = 1
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the phase totals first (what the CLI prints), then the detail."""
        return {
            "text_encoder": self.text_encoder,
            "denoise": self.denoise,
            "vae_decode": self.vae_decode,
            "total": self.total,
            "prefill": self.prefill,
            "decode": self.decode,
            "steps": self.steps,
            "passes_per_step": self.passes_per_step,
            "batch_size": self.batch_size,
            "denoiser_forward": self.denoiser_forward.to_dict(),
            "attention_share": self.denoiser_forward.attention_share,
            "text_encoder_forwards": {
                k: v.to_dict() for k, v in self.text_encoder_forwards.items()
            },
            "vae_decoder": None if self.vae_decoder is None else self.vae_decoder.to_dict(),
            "prefill_forward": (
                None if self.prefill_forward is None else self.prefill_forward.to_dict()
            ),
            "notes": list(self.notes),
        }
