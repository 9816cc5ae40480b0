"""The reuse store: its keys, bounds, eviction, persistence and file checks."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from genwatt.errors import ConfigError, StoreError
from genwatt.mitigate.reuse_store import (
    NewEntry,
    ReuseStore,
    default_reuse_path,
    generation_settings,
    model_identity,
    normalise_prompt,
    settings_key,
)

PROMPT = "a red circle moves left"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


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


def test_a_version_1_store_is_migrated_with_its_clips_and_latents(tmp_path: Path) -> None:
    """Version 1 kept clips inside ``entries``; version 2 moves them to ``videos``."""
    from genwatt.mitigate import reuse_store
    from genwatt.store.schema import migrate

    path = tmp_path / "v1.db"
    video = np.random.default_rng(4).random((2, 4, 4, 3), dtype=np.float32)
    latent = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        assert migrate(conn, reuse_store._MIGRATIONS[:1]) == 1
        conn.execute(
            "INSERT INTO entries (settings_key, model, settings, prompt, prompt_norm, seed, "
            "steps, video, size_bytes, created_at, last_used_at) "
            "VALUES ('k', 'm', '{}', ?, ?, 3, 4, ?, 10, 1.0, 1.0)",
            (PROMPT, PROMPT, reuse_store._pack(video)),
        )
        conn.execute(
            "INSERT INTO latents (entry_id, step, data) VALUES (1, 2, ?)",
            (reuse_store._pack(latent),),
        )
    with ReuseStore(path) as store:
        (entry,) = store.entries()
        assert (entry.prompt, entry.seed, entry.latent_steps) == (PROMPT, 3, (2,))
        np.testing.assert_array_equal(store.video(entry.id), video)
        np.testing.assert_array_equal(store.latent(entry.id, 2), latent)
        added = store.add(NewEntry("k", "m", {}, "a blue square", 4, video))
        np.testing.assert_array_equal(store.video(added), video)
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (2,)
        assert conn.execute("SELECT max(length(video)) FROM entries").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM videos").fetchone() == (2,)


def test_evicted_entries_take_their_clips_with_them(tmp_path: Path) -> None:
    video = np.zeros((1, 2, 2, 3), dtype=np.float32)
    with ReuseStore(tmp_path / "r.db", max_entries=1) as store:
        store.add(NewEntry("k", "m", {}, "one", 4, video))
        kept = store.add(NewEntry("k", "m", {}, "two", 4, video))
    with closing(sqlite3.connect(tmp_path / "r.db")) as conn:
        assert conn.execute("SELECT entry_id FROM videos").fetchall() == [(kept,)]
