"""The three operations the counter sees, written once: linear, attention, convolution.

Each family module describes its network as a list of these calls on a ``Tally``; the
arithmetic (2 FLOPs per multiply-accumulate, biases free) lives only here, so it matches
``FlopCounterMode`` by construction.
"""

from __future__ import annotations

from collections import defaultdict

from genwatt.flops.result import PARTS, ForwardFlops

# Width of the sinusoidal timestep features diffusers' ``Timesteps(256)`` hands to the
# first linear of ``TimestepEmbedding`` (PixArt, MMDiT and HunyuanVideo alike).
TIMESTEP_CHANNELS = 256


class Tally:
    """FLOPs accumulated by part, for one sample."""

    def __init__(self) -> None:
        self.parts: defaultdict[str, float] = defaultdict(float)

    def add(self, part: str, flops: float) -> None:
        if part not in PARTS:
            raise ValueError(f"unknown FLOP part {part!r}")
        self.parts[part] += flops

    def linear(self, part: str, tokens: float, d_in: int, d_out: int) -> None:
        """``nn.Linear(d_in, d_out)`` on ``tokens`` rows (addmm: 2 * m * k * n)."""
        self.add(part, 2.0 * tokens * d_in * d_out)

    def attention(self, part: str, q_tokens: float, kv_tokens: float, width: int) -> None:
        """QK^T and AV over all heads; ``width`` = heads x head_dim: 2 x (2 * q * kv * d)."""
        self.add(part, 4.0 * q_tokens * kv_tokens * width)

    def conv(
        self, part: str, out_positions: float, c_in: int, c_out: int, kernel: int, groups: int = 1
    ) -> None:
        """A convolution producing ``out_positions`` outputs per channel; ``kernel`` is
        the product of the kernel's sizes (9 for 3x3, 27 for 3x3x3)."""
        self.add(part, 2.0 * out_positions * c_out * (c_in // groups) * kernel)

    def feed_forward(
        self, part: str, tokens: float, dim: int, inner: int, *, gated: bool = False, out: int = 0
    ) -> None:
        """Two linears, ``dim -> inner -> out`` (out defaults to dim). GEGLU and SwiGLU
        project to ``2 * inner`` first and multiply the halves (``gated``)."""
        self.linear(part, tokens, dim, inner * (2 if gated else 1))
        self.linear(part, tokens, inner, out or dim)

    def embedder(
        self, part: str, d_in: int, hidden: int, d_out: int = 0, tokens: float = 1
    ) -> None:
        """The two-linear embedders diffusers uses everywhere (``TimestepEmbedding``,
        ``PixArtAlphaTextProjection``): ``d_in -> hidden -> d_out``."""
        self.linear(part, tokens, d_in, hidden)
        self.linear(part, tokens, hidden, d_out or hidden)

    def merge(self, other: Tally, times: float = 1.0) -> None:
        for part, flops in other.parts.items():
            self.parts[part] += flops * times

    def result(self, tokens: int) -> ForwardFlops:
        by_part = {p: self.parts[p] for p in PARTS if self.parts.get(p)}
        return ForwardFlops(sum(by_part.values()), by_part, tokens)
