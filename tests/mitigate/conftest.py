"""Fixtures the mitigation tests share: the reference pipeline and a FLOP-counted run.

Random weights and 8 steps keep the tests fast; quality is judged on the trained model
(``benchmarks/mitigation.py``), not here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from genwatt.mitigate.comparison.work import count_denoising
from genwatt.mitigate.strategy import Strategy
from genwatt.models.reference.architecture import DEFAULTS
from genwatt.models.reference.pipeline import build_pipeline

STEPS = 8
PROMPT = "a red circle moves left"

Counted = Callable[..., tuple[np.ndarray, int]]


@pytest.fixture(scope="module")
def pipe() -> Iterator[Any]:
    """The reference pipeline on one thread: its tensors are too small to gain from more."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield build_pipeline(seed=0)
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def call() -> dict[str, Any]:
    """The reference model's sampling call, shortened to ``STEPS`` steps."""
    return dict(DEFAULTS.call_kwargs(), num_inference_steps=STEPS)


def _counted(
    pipe: Any, strategy: Strategy, call: dict[str, Any], prompt: str = PROMPT
) -> tuple[np.ndarray, int]:
    with count_denoising(pipe) as work:
        out = strategy.generate(pipe, prompt, seed=0, call=call)
    return out, work.flops


@pytest.fixture(scope="session")
def counted() -> Counted:
    """``counted(pipe, strategy, call)``: the clip and the denoising FLOPs it took."""
    return _counted


@pytest.fixture(scope="module")
def baseline(pipe: Any, call: dict[str, Any]) -> tuple[np.ndarray, int]:
    """The unmitigated clip and its FLOPs, for every strategy to be compared with."""
    return _counted(pipe, Strategy(), call)
