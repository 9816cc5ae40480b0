"""Decoder-only language models (Llama 3, Qwen2): prefill and per-token decode.

``generate`` runs one forward over the prompt (the prefill, which also yields the first
new token) and then one forward per further token against the KV cache. It asks for
the logits of the last position only (``logits_to_keep=1``), so the vocabulary
projection costs one row per forward. Decode forwards are cheap in FLOPs and bound by
memory traffic, which is why energy per decode token is not FLOP-proportional.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genwatt.flops.result import OTHER, ForwardFlops
from genwatt.flops.tally import Tally
from genwatt.flops.text_encoders import llama_layers


def _head(t: Tally, config: Mapping[str, Any], forwards: int = 1) -> None:
    """lm_head on the last position of each forward."""
    t.linear(OTHER, forwards, config["hidden_size"], config["vocab_size"])


def prefill(config: Mapping[str, Any], prompt_tokens: int) -> ForwardFlops:
    """The prompt's forward for one sequence."""
    t = Tally()
    llama_layers(t, config, prompt_tokens, prompt_tokens)
    _head(t, config)
    return t.result(prompt_tokens)


def decode_step(config: Mapping[str, Any], context_tokens: int) -> ForwardFlops:
    """One new token attending over ``context_tokens`` (the cache plus itself)."""
    t = Tally()
    llama_layers(t, config, 1, context_tokens)
    _head(t, config)
    return t.result(1)


def decode(config: Mapping[str, Any], prompt_tokens: int, new_tokens: int) -> ForwardFlops:
    """All ``new_tokens - 1`` decode forwards of one sequence, summed in closed form:
    the k-th attends over ``prompt_tokens + k`` positions."""
    steps = max(new_tokens - 1, 0)
    if steps == 0:
        return ForwardFlops(0.0, {}, 0)
    # Linear parts are the same every step; attention grows by one position a step,
    # so the average context is prompt + (steps + 1) / 2.
    mean_context = prompt_tokens + (steps + 1) / 2
    t = Tally()
    llama_layers(t, config, steps, mean_context)
    _head(t, config, steps)
    return t.result(steps)
