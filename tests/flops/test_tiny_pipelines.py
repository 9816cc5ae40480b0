"""End to end: a whole tiny pipeline call, counted, against ``generation_flops``.

The meta tests check each component; this checks what the pipeline does around them:
how many steps its scheduler runs, whether guidance batches or repeats the denoiser,
which encoders see a negative prompt, how the VAE is called. The tiny models run the
real diffusers pipelines on the CPU in a fraction of a second; attention is counted
under the math SDPA backend. A prompt longer than every limit fills ``max_text_tokens``,
as the closed form assumes for Mochi.
"""

from __future__ import annotations

from typing import Any

import pytest

from genwatt.flops import generation_flops
from genwatt.models import (
    build_pipeline,
    build_text_model,
    generate_kwargs,
    get_model,
    list_models,
    pipeline_call_kwargs,
    resolve_params,
)

PROMPT = " ".join(["a red fox runs across a snowy field at sunrise"] * 40)
REL_TOL = 1e-5  # Mochi's rotary angles are one small product per call, not per sample

TINY_DIFFUSION = [s.name for s in list_models() if s.is_tiny and s.task != "text"]
VARIANTS: list[tuple[str, dict[str, Any], int]] = [
    *[(name, {}, 1) for name in TINY_DIFFUSION],
    ("wan-tiny", {"guidance": 1.0, "num_frames": 5}, 2),
    # genwatt's own model, untrained ("tiny" builds it as it is): frames asked one fewer.
    ("wan-reference", {}, 1),
    ("wan-reference", {"guidance": 1.0, "num_frames": 2, "steps": 7, "height": 48}, 2),
    ("sd-tiny", {"steps": 3, "height": 40}, 2),
    # the turbo models' settings on their shared tiny forms: one step, no CFG pass
    ("sd2-tiny", {"steps": 1, "guidance": 0.0}, 1),
    ("sdxl-tiny", {"steps": 1, "guidance": 0.0}, 2),
    ("mochi-tiny", {"num_frames": 7}, 2),
    ("cogvideox-tiny", {"num_frames": 13}, 1),
    ("hunyuanvideo-tiny", {"num_frames": 21, "height": 48}, 1),
]


def _counted(call: Any) -> float:
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    with (
        sdpa_kernel([SDPBackend.MATH]),
        FlopCounterMode(display=False) as counter,
        torch.no_grad(),
    ):
        call()
    return float(counter.get_total_flops())


@pytest.fixture(scope="module")
def pipes() -> dict[str, Any]:
    return {}


@pytest.mark.parametrize(
    ("name", "kwargs", "batch"),
    VARIANTS,
    ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(VARIANTS)],
)
def test_a_tiny_pipeline_call_counts_like_generation_flops(
    pipes: dict[str, Any], name: str, kwargs: dict[str, Any], batch: int
) -> None:
    import torch

    spec = get_model(name)
    params = resolve_params(spec, **kwargs)
    if name not in pipes:
        pipes[name] = build_pipeline(spec, "tiny", "cpu")
    prompt = PROMPT if batch == 1 else [PROMPT] * batch
    call = pipeline_call_kwargs(spec, params, prompt, torch.Generator().manual_seed(0))
    counted = _counted(lambda: pipes[name](**call))
    expected = generation_flops(spec, params, batch_size=batch).total
    assert expected == pytest.approx(counted, rel=REL_TOL)


@pytest.mark.parametrize("name", ["qwen2-tiny", "llama-tiny"])
def test_a_tiny_language_model_generate_counts_like_generation_flops(name: str) -> None:
    spec = get_model(name)
    params = resolve_params(spec, max_text_tokens=20, max_new_tokens=7)
    model, tokenizer = build_text_model(spec, "tiny", "cpu")
    for batch in (1, 2):
        # Truncation cuts the long prompt to exactly max_text_tokens.
        kwargs = generate_kwargs(spec, params, [PROMPT] * batch, tokenizer)
        assert kwargs["input_ids"].shape == (batch, params.max_text_tokens)
        counted = _counted(lambda kwargs=kwargs: model.generate(**kwargs))
        g = generation_flops(spec, params, batch_size=batch)
        assert g.total == pytest.approx(counted, rel=REL_TOL)
