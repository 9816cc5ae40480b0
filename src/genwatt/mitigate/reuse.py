"""Reuse of earlier generations: hand back a stored clip, or restart from a stored latent.

Why: a service sees the same and nearly the same prompts again and again, and the
cheapest denoising step is the one not run. Two strategies share one persistent store:

* ``ExactPromptReuse``: the same prompt (case and whitespace aside) with the same model
  and settings returns the stored clip; the denoiser does not run at all.
* ``SemanticReuse``: approximate caching after NIRVANA (Agarwal et al. 2024,
  "Approximate Caching for Efficiently Serving Text-to-Image Diffusion Models"). The
  prompt is embedded (``genwatt.mitigate.embedding``) and compared with stored prompts
  of the same model and settings. A near-duplicate returns the stored clip; a similar
  one restarts denoising from the stored generation's latent after ``K`` of ``N`` steps,
  so only ``N - K`` steps run, now conditioned on the new prompt; anything else is
  generated in full and stored. Early steps fix the layout, late steps the details, so
  the more similar the prompt, the later ``K`` may be (``restart_step``).

Restarting ``WanPipeline`` at step ``K``: it has no ``denoising_start`` argument, so the
stored latent goes in as ``latents=`` and the scheduler is made to start at ``K``
(``start_at_step``): its ``set_timesteps`` is wrapped to keep ``timesteps[K:]`` *and*
``sigmas[K:]``. Why not the full sigmas plus ``set_begin_index(K)``: ``WanPipeline``
calls ``set_begin_index(0)`` right after ``set_timesteps``, undoing the offset; UniPC's
``lower_order_final`` counts the steps left as ``len(timesteps) - step_index``; and the
pipeline's cache context reads ``sigmas[i]`` by loop position. With both cut, UniPC runs
as a fresh sampler started at ``sigma_K``. That is not bit-exact against the
uninterrupted run even for the same prompt, since the multistep solver restarts without
its history (one first-order step, no corrector on the stored latent): on the reference
model the largest pixel change is a few percent of the range (the test bounds it at
5 %), and trained-model clips stay 45 to 65 dB PSNR from the uninterrupted ones.

Storage is ``ReuseStore``: one SQLite file, bounded, LRU-evicted, safe for concurrent
processes; its docstring has the format.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import sqlite3
import time
import unicodedata
import weakref
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from genwatt.errors import ConfigError, StoreError
from genwatt.mitigate.strategy import Strategy, run_pipeline
from genwatt.store.schema import Migration, migrate, read_version
from genwatt.store.store import default_store_path

if TYPE_CHECKING:
    from diffusers import DiffusionPipeline

    from genwatt.mitigate.embedding import Embedder

ENV_VAR = "GENWATT_REUSE_STORE"
DEFAULT_FILENAME = "genwatt-reuse.db"
DEFAULT_MAX_BYTES = 1 << 30
DEFAULT_BUSY_TIMEOUT_S = 30.0
#: Marks the file as a genwatt reuse store ("GWRU") in the SQLite header.
APPLICATION_ID = 0x47575255

#: Where latents are kept, as shares of the steps: a tenth to a half, as NIRVANA skips
#: 5 to 25 of 50 steps.
DEFAULT_RESTART_FRACTIONS: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5)
DEFAULT_RETURN_THRESHOLD = 0.98
DEFAULT_RESTART_THRESHOLD = 0.80

#: Call arguments reuse cannot key on or must own: tensors, generators, our callback.
UNSUPPORTED_CALL_KEYS = frozenset(
    {
        "prompt",
        "prompt_embeds",
        "negative_prompt_embeds",
        "latents",
        "generator",
        "callback_on_step_end",
        "callback_on_step_end_tensor_inputs",
        "output_type",
        "return_dict",
    }
)

VideoDtype = Literal["float32", "float16", "uint8"]
HitKind = Literal["miss", "exact", "return", "restart"]

# --------------------------------------------------------------------------- keys


def normalise_prompt(prompt: str) -> str:
    """The form prompts are matched exactly in: NFKC, case-folded, whitespace collapsed.

    Why these and no more: a text encoder may see case, but a user asking twice for
    "A red circle" and "a red  circle" wants the same clip. Punctuation and word order
    are left alone; near-misses of that kind are for ``SemanticReuse``.
    """
    return " ".join(unicodedata.normalize("NFKC", prompt).casefold().split())


def generation_settings(call: Mapping[str, Any]) -> dict[str, Any]:
    """The call without the prompt and seed: what must match for an output to be reused.

    Raises ``ConfigError`` for arguments reuse cannot honour (pre-made latents or
    embeddings, a caller's own callback) and for values that are not plain JSON data.
    """
    unsupported = sorted(UNSUPPORTED_CALL_KEYS & set(call))
    if unsupported:
        raise ConfigError(
            f"reuse strategies cannot take the call argument(s) {unsupported}; pass the "
            "prompt and seed to generate() and leave latents, embeddings and callbacks out"
        )
    if "num_inference_steps" not in call:
        raise ConfigError("reuse needs num_inference_steps in the call (restarts count steps)")
    settings = dict(call)
    try:
        json.dumps(settings, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"reuse keys stored outputs on the call's settings, which must be plain JSON "
            f"values (numbers, strings, lists): {exc}"
        ) from exc
    return settings


def settings_key(model: str, settings: Mapping[str, Any]) -> str:
    """A digest of the model identity and the settings; equal digests may share outputs."""
    text = json.dumps({"model": model, "settings": dict(settings)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def model_identity(pipe: DiffusionPipeline) -> str:
    """Pipeline class, its source, the scheduler's config and a fingerprint of the weights.

    Why a fingerprint: two pipelines of one class and path can hold different weights
    (the reference model untrained and trained; a fine-tune), and must never share
    outputs. Hashing every weight would cost seconds on a real model, so this hashes each
    parameter's name, shape, dtype and first 16 values: any retraining changes them.
    """
    import torch

    digest = hashlib.sha256()
    for name, component in sorted(pipe.components.items()):
        if not isinstance(component, torch.nn.Module):
            continue
        digest.update(name.encode())
        for param_name, param in component.named_parameters():
            digest.update(f"{param_name}{tuple(param.shape)}{param.dtype}".encode())
            if param.device.type != "meta":  # offloaded weights have no values here
                head = param.detach().reshape(-1)[:16].to("cpu", torch.float32).numpy()
                digest.update(head.tobytes())
    scheduler = getattr(pipe, "scheduler", None)
    scheduler_config = dict(getattr(scheduler, "config", {}) or {})
    return json.dumps(
        {
            "pipeline": type(pipe).__name__,
            "source": str(getattr(pipe, "name_or_path", "") or ""),
            "scheduler": type(scheduler).__name__,
            "scheduler_config": scheduler_config,
            "weights": digest.hexdigest()[:32],
        },
        sort_keys=True,
        default=str,
    )


# ------------------------------------------------------------------------- store


def default_reuse_path() -> Path:
    """``$GENWATT_REUSE_STORE`` when set, else ``genwatt-reuse.db`` beside the results store."""
    configured = os.environ.get(ENV_VAR, "").strip()
    if configured:
        return Path(configured).expanduser().absolute()
    return default_store_path().with_name(DEFAULT_FILENAME)


_V1 = Migration(
    version=1,
    description="stored generations, their prompt embeddings and intermediate latents",
    statements=(
        f"PRAGMA application_id = {APPLICATION_ID}",
        """
        CREATE TABLE entries (
            id           INTEGER PRIMARY KEY,
            settings_key TEXT    NOT NULL,  -- sha256 of model identity + settings
            model        TEXT    NOT NULL,  -- JSON, model_identity()
            settings     TEXT    NOT NULL,  -- JSON, the call without prompt and seed
            prompt       TEXT    NOT NULL,  -- as given
            prompt_norm  TEXT    NOT NULL,  -- normalise_prompt(prompt)
            seed         INTEGER,
            steps        INTEGER NOT NULL,  -- num_inference_steps of the generation
            embedder     TEXT,              -- embedder identity, NULL if not embedded
            embedding    BLOB,              -- float32 little-endian, unit length
            video        BLOB    NOT NULL,  -- numpy .npy, zlib-compressed
            size_bytes   INTEGER NOT NULL,  -- bytes of video, latents and embedding
            created_at   REAL    NOT NULL,  -- Unix time
            last_used_at REAL    NOT NULL,  -- Unix time of the insert or the latest hit
            hits         INTEGER NOT NULL DEFAULT 0,
            source_id    INTEGER            -- entry a restart began from (may be gone)
        )
        """,
        "CREATE INDEX entries_exact ON entries (settings_key, prompt_norm)",
        "CREATE INDEX entries_lru ON entries (last_used_at, id)",
        """
        CREATE TABLE latents (
            entry_id INTEGER NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
            step     INTEGER NOT NULL,  -- latent after this many of the entry's steps
            data     BLOB    NOT NULL,  -- numpy .npy, zlib-compressed
            PRIMARY KEY (entry_id, step)
        )
        """,
    ),
)
_MIGRATIONS = (_V1,)
SCHEMA_VERSION = len(_MIGRATIONS)


@dataclass(frozen=True)
class NewEntry:
    """One generation to store; ``latents`` maps completed step counts to latents."""

    settings_key: str
    model: str
    settings: Mapping[str, Any]
    prompt: str
    steps: int
    video: np.ndarray
    seed: int | None = None
    latents: Mapping[int, np.ndarray] = field(default_factory=dict)
    embedder: str | None = None
    embedding: np.ndarray | None = None
    source_id: int | None = None


@dataclass(frozen=True)
class EntryInfo:
    """A stored generation without its arrays (fetch them with ``video``/``latent``)."""

    id: int
    settings_key: str
    prompt: str
    prompt_norm: str
    seed: int | None
    steps: int
    latent_steps: tuple[int, ...]
    embedder: str | None
    size_bytes: int
    created_at: float
    last_used_at: float
    hits: int
    source_id: int | None


@dataclass(frozen=True)
class Match:
    """The stored entry nearest to a prompt, and how near (cosine similarity)."""

    entry: EntryInfo
    similarity: float


def _pack(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return zlib.compress(buffer.getvalue(), 1)


def _unpack(blob: bytes) -> np.ndarray:
    return np.load(io.BytesIO(zlib.decompress(blob)), allow_pickle=False)


class ReuseStore:
    """Stored generations in one SQLite file (WAL), bounded in bytes and entries.

    Format (schema version 1, ``PRAGMA application_id`` "GWRU"): table ``entries`` holds
    per generation the settings key (sha256 of the model identity and the call without
    prompt and seed), the model identity and settings as JSON for inspection, the prompt
    as given and normalised, the seed, the step count, the prompt embedding (float32
    bytes) with the embedder's identity, the final clip (``.npy`` bytes, zlib level 1),
    its size, times and hit count. Table ``latents`` holds, per entry, the latent after
    ``step`` of its steps (``.npy`` bytes, zlib), from which a similar prompt may restart.

    Bound and eviction: ``size_bytes`` counts the compressed video, latents and embedding.
    After each insert, least-recently-used entries (oldest ``last_used_at``: created or
    last hit) are deleted until the store holds at most ``max_bytes`` and at most
    ``max_entries`` (``None``: no limit on that axis). Why LRU: repeated prompts in a
    service cluster in time (a trending prompt, one user iterating on an idea), which is
    the locality LRU keeps; it needs one timestamp per entry, updated on a hit, and
    never scans the store. NIRVANA's own policy also weighs how many steps an entry
    saves, which matters when entries differ in value; here every entry holds the same
    latents. An entry larger than ``max_bytes`` on its own is not stored. The file does
    not shrink after deletes (SQLite reuses the free pages), so it stays near the bound.

    Concurrency as in ``ResultsStore``: WAL lets readers and one writer work together, a
    busy timeout queues writers, and an insert with its evictions is one
    ``BEGIN IMMEDIATE`` transaction. An entry may vanish between a lookup and a fetch
    (another process evicted it); ``video`` and ``latent`` then return ``None``. One
    store object per thread; ``clock`` is for tests.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        max_bytes: int | None = DEFAULT_MAX_BYTES,
        max_entries: int | None = None,
        video_dtype: VideoDtype = "float32",
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_bytes is not None and max_bytes < 1:
            raise ConfigError(f"max_bytes must be positive (or None for no limit); got {max_bytes}")
        if max_entries is not None and max_entries < 1:
            raise ConfigError(
                f"max_entries must be at least 1 (or None for no limit); got {max_entries}"
            )
        if video_dtype not in ("float32", "float16", "uint8"):
            raise ConfigError(
                f"video_dtype must be 'float32' (exact), 'float16' or 'uint8'; got {video_dtype!r}"
            )
        self.path = Path(path).expanduser().absolute() if path is not None else default_reuse_path()
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.video_dtype = video_dtype
        self._clock = clock
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the folder for the reuse store {self.path}: {exc}; "
                f"pick another path (or ${ENV_VAR})"
            ) from exc
        self._conn = self._connect(busy_timeout_s)

    def _connect(self, busy_timeout_s: float) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the reuse store {self.path}: {exc}") from exc
        try:
            conn.row_factory = sqlite3.Row
            self._check_file(conn)
            _enable_wal(conn, time.monotonic() + busy_timeout_s)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn, _MIGRATIONS)
        except StoreError:
            conn.close()
            raise
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(
                f"cannot open the reuse store {self.path}: {exc}; if another program holds "
                "it locked, wait for it or pick another path"
            ) from exc
        return conn

    def _check_file(self, conn: sqlite3.Connection) -> None:
        """Refuse, without writing, a file that is not a reuse store this genwatt reads."""
        try:
            conn.execute("BEGIN")
            try:
                version = read_version(conn)
                app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
                tables = conn.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                ).fetchone()[0]
            finally:
                conn.execute("COMMIT")
        except sqlite3.OperationalError:
            raise
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path} is not a genwatt reuse store ({exc}); pick another path"
            ) from exc
        if app_id not in (0, APPLICATION_ID) or (version == 0 and tables):
            raise StoreError(
                f"{self.path} is an SQLite database but not a genwatt reuse store; pick "
                f"another path (the results store is a different file)"
            )
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the reuse store {self.path} was written by a newer genwatt (schema "
                f"{version}, this one knows {SCHEMA_VERSION}); upgrade or use another path"
            )

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ReuseStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ReuseStore({str(self.path)!r})"

    # -- writing ---------------------------------------------------------------------

    def add(self, entry: NewEntry) -> int | None:
        """Store a generation, then evict to the bound; its id, or ``None`` if too big."""
        video = _pack(_encode_video(entry.video, self.video_dtype))
        latents = [(int(step), _pack(np.asarray(lat))) for step, lat in entry.latents.items()]
        embedding = None
        if entry.embedding is not None:
            embedding = np.asarray(entry.embedding, dtype="<f4").reshape(-1).tobytes()
        size = len(video) + sum(len(blob) for _, blob in latents) + len(embedding or b"")
        if self.max_bytes is not None and size > self.max_bytes:
            return None
        now = self._clock()
        conn = self._conn
        self._begin_write()
        try:
            cursor = conn.execute(
                """
                INSERT INTO entries (settings_key, model, settings, prompt, prompt_norm, seed,
                                     steps, embedder, embedding, video, size_bytes,
                                     created_at, last_used_at, hits, source_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
                """,
                (
                    entry.settings_key,
                    entry.model,
                    json.dumps(dict(entry.settings), sort_keys=True),
                    entry.prompt,
                    normalise_prompt(entry.prompt),
                    entry.seed,
                    int(entry.steps),
                    entry.embedder if embedding is not None else None,
                    embedding,
                    video,
                    size,
                    now,
                    now,
                    entry.source_id,
                ),
            )
            entry_id = int(cursor.lastrowid or 0)
            conn.executemany(
                "INSERT INTO latents (entry_id, step, data) VALUES (?, ?, ?)",
                [(entry_id, step, blob) for step, blob in latents],
            )
            self._evict(keep=entry_id)
            conn.execute("COMMIT")
        except BaseException as exc:
            conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"cannot write to the reuse store {self.path}: {exc}") from exc
            raise
        return entry_id

    def touch(self, entry_id: int) -> bool:
        """Record a hit: one more use, most recently used now. False if it is gone."""
        try:
            cursor = self._conn.execute(
                "UPDATE entries SET hits = hits + 1, last_used_at = ? WHERE id = ?",
                (self._clock(), entry_id),
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to the reuse store {self.path}: {exc}") from exc
        return cursor.rowcount > 0

    def clear(self) -> None:
        """Delete every entry (a comparison that must start cold)."""
        self._begin_write()
        try:
            self._conn.execute("DELETE FROM latents")
            self._conn.execute("DELETE FROM entries")
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def _begin_write(self) -> None:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(
                f"the reuse store {self.path} stayed locked by another writer: {exc}; "
                "retry, or give each process its own store"
            ) from exc

    def _evict(self, *, keep: int) -> None:
        """Delete least-recently-used entries (never ``keep``) until within the bound."""
        count, total = self._conn.execute(
            "SELECT count(*), coalesce(sum(size_bytes), 0) FROM entries"
        ).fetchone()
        if self._within(count, total):
            return
        victims = self._conn.execute(
            "SELECT id, size_bytes FROM entries WHERE id != ? ORDER BY last_used_at, id",
            (keep,),
        ).fetchall()
        for victim in victims:
            if self._within(count, total):
                break
            self._conn.execute("DELETE FROM entries WHERE id = ?", (victim["id"],))
            count -= 1
            total -= victim["size_bytes"]

    def _within(self, count: int, total: int) -> bool:
        return (self.max_entries is None or count <= self.max_entries) and (
            self.max_bytes is None or total <= self.max_bytes
        )

    # -- reading ---------------------------------------------------------------------

    def find_exact(
        self, settings_key: str, prompt: str, *, seed: int | None = None
    ) -> EntryInfo | None:
        """The most recently used entry with these settings and this normalised prompt.

        ``seed`` given: only an entry generated with that seed matches.
        """
        query = "SELECT * FROM entries WHERE settings_key = ? AND prompt_norm = ?"
        params: list[Any] = [settings_key, normalise_prompt(prompt)]
        if seed is not None:
            query += " AND seed = ?"
            params.append(seed)
        row = self._read(query + " ORDER BY last_used_at DESC, id DESC LIMIT 1", params)
        return self._info(row[0]) if row else None

    def nearest(
        self,
        settings_key: str,
        embedder: str,
        embedding: np.ndarray,
        *,
        seed: int | None = None,
    ) -> Match | None:
        """The embedded entry with these settings whose prompt is most similar (cosine).

        Only embeddings of the same ``embedder`` identity are compared. Reads every
        candidate embedding (1.5 kB each for MiniLM): a linear scan is milliseconds for
        thousands of entries, far below one denoising step.
        """
        query = (
            "SELECT id, embedding FROM entries WHERE settings_key = ? AND embedder = ? "
            "AND embedding IS NOT NULL"
        )
        params: list[Any] = [settings_key, embedder]
        if seed is not None:
            query += " AND seed = ?"
            params.append(seed)
        rows = self._read(query + " ORDER BY id DESC", params)
        query_vec = np.asarray(embedding, dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(query_vec))
        if not rows or norm == 0.0:
            return None
        query_vec = query_vec / norm
        vectors = [np.frombuffer(r["embedding"], dtype="<f4") for r in rows]
        usable = [(r, v) for r, v in zip(rows, vectors, strict=True) if v.size == query_vec.size]
        if not usable:
            return None
        matrix = np.stack([v for _, v in usable])
        similarities = matrix @ query_vec
        best = int(np.argmax(similarities))  # first maximum: the newest entry on a tie
        info = self.info(int(usable[best][0]["id"]))
        if info is None:
            return None
        return Match(info, float(min(similarities[best], 1.0)))

    def info(self, entry_id: int) -> EntryInfo | None:
        """The entry's metadata, or ``None`` if it is not (or no longer) stored."""
        rows = self._read("SELECT * FROM entries WHERE id = ?", [entry_id])
        return self._info(rows[0]) if rows else None

    def video(self, entry_id: int) -> np.ndarray | None:
        """The entry's clip as float32 in ``[0, 1]``; ``None`` if it is gone."""
        rows = self._read("SELECT video FROM entries WHERE id = ?", [entry_id])
        return _decode_video(_unpack(rows[0]["video"])) if rows else None

    def latent(self, entry_id: int, step: int) -> np.ndarray | None:
        """The entry's latent after ``step`` steps; ``None`` if not stored."""
        rows = self._read(
            "SELECT data FROM latents WHERE entry_id = ? AND step = ?", [entry_id, step]
        )
        return _unpack(rows[0]["data"]) if rows else None

    def entries(self) -> list[EntryInfo]:
        """Every entry, least recently used first (the eviction order)."""
        return [
            self._info(r) for r in self._read("SELECT * FROM entries ORDER BY last_used_at, id")
        ]

    def total_bytes(self) -> int:
        """The sum of the entries' ``size_bytes`` (what ``max_bytes`` bounds)."""
        return int(self._read("SELECT coalesce(sum(size_bytes), 0) AS n FROM entries")[0]["n"])

    def __len__(self) -> int:
        return int(self._read("SELECT count(*) AS n FROM entries")[0]["n"])

    def _read(self, query: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        try:
            return self._conn.execute(query, list(params)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the reuse store {self.path}: {exc}") from exc

    def _info(self, row: sqlite3.Row) -> EntryInfo:
        steps = self._read("SELECT step FROM latents WHERE entry_id = ? ORDER BY step", [row["id"]])
        return EntryInfo(
            id=int(row["id"]),
            settings_key=row["settings_key"],
            prompt=row["prompt"],
            prompt_norm=row["prompt_norm"],
            seed=row["seed"],
            steps=int(row["steps"]),
            latent_steps=tuple(int(s["step"]) for s in steps),
            embedder=row["embedder"],
            size_bytes=int(row["size_bytes"]),
            created_at=float(row["created_at"]),
            last_used_at=float(row["last_used_at"]),
            hits=int(row["hits"]),
            source_id=row["source_id"],
        )


def _encode_video(video: np.ndarray, dtype: VideoDtype) -> np.ndarray:
    video = np.asarray(video, dtype=np.float32)
    if dtype == "uint8":
        return np.round(np.clip(video, 0.0, 1.0) * 255.0).astype(np.uint8)
    return video.astype(dtype)


def _decode_video(stored: np.ndarray) -> np.ndarray:
    if stored.dtype == np.uint8:
        return stored.astype(np.float32) / 255.0
    return stored.astype(np.float32)


def _enable_wal(conn: sqlite3.Connection, deadline: float) -> None:
    """Switch to WAL unless already there; retry while another opener holds the lock."""
    if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        return
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


# --------------------------------------------------------------------- restarting


def capture_steps(steps: int, fractions: Sequence[float]) -> tuple[int, ...]:
    """Step counts after which latents are kept: ``f * steps`` rounded, within 1..steps-1."""
    return tuple(sorted({k for f in fractions if 0 < (k := _step_at(f, steps)) < steps}))


def restart_step(
    similarity: float,
    *,
    steps: int,
    restart_threshold: float,
    return_threshold: float = 1.0,
    fractions: Sequence[float] = DEFAULT_RESTART_FRACTIONS,
) -> int:
    """How many of ``steps`` to skip when restarting from a prompt this similar.

    The mapping: similarity moves linearly from ``restart_threshold`` (the smallest
    fraction in ``fractions``) to ``return_threshold`` (the largest); the chosen fraction
    is the largest in ``fractions`` not above that point, and ``K = f * steps`` rounded.
    With the defaults (0.80 to 0.98 over 0.1 .. 0.5) a similarity of 0.80 skips 10 % of
    the steps, 0.845 20 %, 0.89 30 %, 0.935 40 % and 0.98 50 %. Why monotone: the early
    steps set the composition, which similar prompts share; the more similar the prompt,
    the more of the trajectory can be shared before the new prompt takes over.
    """
    fractions = _validated_fractions(fractions)
    if steps < 2:
        raise ConfigError(f"a restart needs at least 2 steps; got {steps}")
    low, high = fractions[0], fractions[-1]
    span = return_threshold - restart_threshold
    position = 1.0 if span <= 0 else (similarity - restart_threshold) / span
    target = low + min(max(position, 0.0), 1.0) * (high - low)
    chosen = max(f for f in fractions if f <= target + 1e-9)
    return min(max(_step_at(chosen, steps), 1), steps - 1)


@contextmanager
def start_at_step(scheduler: Any, step: int) -> Iterator[None]:
    """Make the next sampling run on ``scheduler`` begin after ``step`` steps.

    Wraps ``set_timesteps`` (an instance attribute, removed again on exit, also on error)
    so that it keeps ``timesteps[step:]`` and ``sigmas[step:]``; see the module doc for
    why both. Fits schedulers that make one model call per step and keep one sigma per
    timestep plus the final one; UniPC, which WAN uses, is the one tested. Anything else
    raises ``ConfigError`` rather than sampling with misaligned sigmas.
    """
    if step < 1:
        raise ConfigError(f"a restart must skip at least one step; got {step}")
    if getattr(scheduler, "order", 1) != 1:
        raise ConfigError(
            f"{type(scheduler).__name__} runs several model calls per step; reuse can only "
            "restart multistep schedulers such as UniPC or DPM-Solver++"
        )
    original = scheduler.set_timesteps
    shadowed = "set_timesteps" in vars(scheduler)

    def set_timesteps(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        timesteps, sigmas = scheduler.timesteps, getattr(scheduler, "sigmas", None)
        if sigmas is None or len(sigmas) != len(timesteps) + 1:
            raise ConfigError(
                f"{type(scheduler).__name__} does not keep one sigma per timestep plus the "
                "final one; reuse cannot restart it"
            )
        if step >= len(timesteps):
            raise ConfigError(f"cannot restart after {step} of {len(timesteps)} steps")
        scheduler.timesteps = timesteps[step:]
        scheduler.sigmas = sigmas[step:]
        scheduler.num_inference_steps = len(scheduler.timesteps)

    scheduler.set_timesteps = set_timesteps
    try:
        yield
    finally:
        if shadowed:
            scheduler.set_timesteps = original
        else:
            del scheduler.set_timesteps


def _step_at(fraction: float, steps: int) -> int:
    """``fraction * steps`` rounded half up (``round`` would send 7.5 to 8 but 22.5 to 22)."""
    return math.floor(fraction * steps + 0.5)


def _validated_fractions(fractions: Sequence[float]) -> tuple[float, ...]:
    values = tuple(sorted({float(f) for f in fractions}))
    if not values or values[0] <= 0 or values[-1] >= 1:
        raise ConfigError(
            f"restart fractions must be a non-empty list of values strictly between 0 and "
            f"1 (shares of the steps to skip); got {list(fractions)}"
        )
    return values


# --------------------------------------------------------------------- strategies


@dataclass(frozen=True)
class ReuseDecision:
    """What a reuse strategy did for one call, for the runner's hit statistics.

    ``kind``: ``miss`` (generated in full), ``exact`` (same normalised prompt, stored
    clip), ``return`` (similar prompt, stored clip) or ``restart`` (denoised from the
    matched entry's latent after ``restart_step`` of ``steps``). ``similarity`` is that of
    the nearest stored prompt (``None`` when none was compared), ``stored_id`` the entry
    this call added (``None`` on a hit, or when the store refused it).
    """

    kind: HitKind
    steps: int
    similarity: float | None = None
    restart_step: int | None = None
    matched_id: int | None = None
    matched_prompt: str | None = None
    stored_id: int | None = None

    @property
    def reused(self) -> bool:
        """Anything other than a full generation."""
        return self.kind != "miss"

    @property
    def denoised_share(self) -> float:
        """The share of the denoising steps this call ran (1 on a miss, 0 on a return)."""
        if self.kind == "miss":
            return 1.0
        if self.kind == "restart" and self.restart_step is not None:
            return (self.steps - self.restart_step) / self.steps
        return 0.0


class _Reuse(Strategy):
    """What both reuse strategies share: the store, the keys, generating and storing."""

    kind = "reuse"

    def __init__(
        self,
        store: ReuseStore | str | os.PathLike[str] | None = None,
        *,
        model_id: str | None = None,
        match_seed: bool = False,
        capture_fractions: Sequence[float] = DEFAULT_RESTART_FRACTIONS,
    ) -> None:
        self._store = store if isinstance(store, ReuseStore) else None
        self._store_path = None if isinstance(store, ReuseStore) else store
        self.model_id = model_id
        self.match_seed = match_seed
        self.capture_fractions = _validated_fractions(capture_fractions)
        self.last_decision: ReuseDecision | None = None
        self._identities: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()

    @property
    def store(self) -> ReuseStore:
        """The reuse store, opened on first use (``default_reuse_path()`` if none given)."""
        if self._store is None:
            self._store = ReuseStore(self._store_path)
        return self._store

    def close(self) -> None:
        """Close the store if this strategy opened it."""
        if self._store is not None and self._store_path is not None:
            self._store.close()
            self._store = None

    def _key(
        self, pipe: DiffusionPipeline, call: Mapping[str, Any]
    ) -> tuple[str, str, dict[str, Any]]:
        settings = generation_settings(call)
        model = self.model_id
        if model is None:
            model = self._identities.get(pipe)
            if model is None:
                model = self._identities[pipe] = model_identity(pipe)
        return settings_key(model, settings), model, settings

    def _seed_filter(self, seed: int) -> int | None:
        return seed if self.match_seed else None

    def _exact(self, key: str, prompt: str, seed: int, steps: int) -> np.ndarray | None:
        """The stored clip for this exact prompt, recording the hit; else ``None``."""
        hit = self.store.find_exact(key, prompt, seed=self._seed_filter(seed))
        video = self.store.video(hit.id) if hit is not None else None
        if hit is None or video is None:
            return None
        self.store.touch(hit.id)
        self.last_decision = ReuseDecision(
            "exact", steps, similarity=1.0, matched_id=hit.id, matched_prompt=hit.prompt
        )
        return video

    def _generate(
        self,
        pipe: DiffusionPipeline,
        prompt: str,
        *,
        seed: int,
        call: Mapping[str, Any],
        start: int = 0,
        latent: np.ndarray | None = None,
    ) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """Run the pipeline (from ``latent`` after ``start`` steps); clip and latents."""
        import torch

        wanted = set(capture_steps(int(call["num_inference_steps"]), self.capture_fractions))
        captured: dict[int, np.ndarray] = {}

        def capture(_pipe: Any, index: int, _t: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            done = start + index + 1
            if done in wanted:
                captured[done] = tensors["latents"].detach().to("cpu", torch.float32).numpy()
            return {}

        full_call = {
            **call,
            "callback_on_step_end": capture,
            "callback_on_step_end_tensor_inputs": ["latents"],
        }
        if latent is None:
            return run_pipeline(pipe, prompt, seed=seed, call=full_call), captured
        full_call["latents"] = torch.from_numpy(np.array(latent, dtype=np.float32))
        with start_at_step(pipe.scheduler, start):
            video = run_pipeline(pipe, prompt, seed=seed, call=full_call)
        return video, captured

    def _store_new(
        self,
        key: str,
        model: str,
        settings: Mapping[str, Any],
        prompt: str,
        seed: int,
        video: np.ndarray,
        latents: Mapping[int, np.ndarray],
        *,
        embedder: str | None = None,
        embedding: np.ndarray | None = None,
        source_id: int | None = None,
    ) -> int | None:
        return self.store.add(
            NewEntry(
                settings_key=key,
                model=model,
                settings=settings,
                prompt=prompt,
                seed=seed,
                steps=int(settings["num_inference_steps"]),
                video=video,
                latents=latents,
                embedder=embedder,
                embedding=embedding,
                source_id=source_id,
            )
        )


class ExactPromptReuse(_Reuse):
    """Return the stored clip of the same prompt and settings; else generate and store.

    ``store``: a ``ReuseStore`` or a path (default ``default_reuse_path()``).
    ``model_id``: the model's identity in keys (default ``model_identity(pipe)``).
    ``match_seed``: also require the same seed (default: any seed's clip is reused, as a
    service would). ``capture_fractions``: where to keep latents, so that a
    ``SemanticReuse`` sharing the store can restart from this strategy's generations.
    """

    name = "reuse-exact"
    description = "return the stored clip of an identical earlier prompt"

    def generate(
        self, pipe: DiffusionPipeline, prompt: str, *, seed: int, call: Mapping[str, Any]
    ) -> np.ndarray:
        self.last_decision = None  # a call that fails leaves no stale decision behind
        call = self.call_kwargs(call)
        key, model, settings = self._key(pipe, call)
        steps = int(settings["num_inference_steps"])
        video = self._exact(key, prompt, seed, steps)
        if video is not None:
            return video
        video, latents = self._generate(pipe, prompt, seed=seed, call=call)
        stored = self._store_new(key, model, settings, prompt, seed, video, latents)
        self.last_decision = ReuseDecision("miss", steps, stored_id=stored)
        return video


class SemanticReuse(_Reuse):
    """Reuse the generation of the most similar earlier prompt (NIRVANA-style).

    Per call: an exact match (normalised prompt) returns its clip; otherwise the prompt is
    embedded and the nearest stored prompt with the same settings is found. Cosine
    similarity ``>= return_threshold`` returns its clip; ``>= restart_threshold``
    restarts from its latent after ``restart_step(similarity)`` steps (the largest stored
    step not above it; none stored: a miss); below, a full generation. Misses are stored
    with their embedding; restarted generations too (``store_restarts``), with the latents
    they ran through. A threshold of ``None`` switches that tier off.

    Defaults, measured with all-MiniLM-L6-v2 on the toy captions ("a red circle moves
    left"): rewordings score 0.87 to 1.0 ("... left." 0.98, "the ..." 0.97, "... moving to
    the left" 0.95, "red circle going left" 0.89); another direction 0.87 to 0.97, as
    MiniLM barely tells "left" from "right" (0.95); another colour 0.62 to 0.84, another
    shape 0.67 to 0.82, two changes at most 0.81. Since rewordings and a changed
    direction overlap, only near-verbatim prompts (0.98, above every changed direction)
    return a stored clip; a restart re-runs the late steps under the new prompt, a
    return does not. 0.80 admits rewordings and one changed attribute at 10 to 40 %
    skipped steps; on the trained reference model a restart from another colour's
    latent still showed the new colour every time with up to 30 % skipped.
    """

    name = "reuse-semantic"
    description = "reuse or restart from the most similar earlier prompt's generation"

    def __init__(
        self,
        store: ReuseStore | str | os.PathLike[str] | None = None,
        *,
        embedder: Embedder | None = None,
        return_threshold: float | None = DEFAULT_RETURN_THRESHOLD,
        restart_threshold: float | None = DEFAULT_RESTART_THRESHOLD,
        restart_fractions: Sequence[float] = DEFAULT_RESTART_FRACTIONS,
        store_restarts: bool = True,
        model_id: str | None = None,
        match_seed: bool = False,
    ) -> None:
        super().__init__(
            store, model_id=model_id, match_seed=match_seed, capture_fractions=restart_fractions
        )
        for label, value in (("return", return_threshold), ("restart", restart_threshold)):
            if value is not None and not (0.0 < value <= 1.0 and math.isfinite(value)):
                raise ConfigError(
                    f"{label}_threshold must be a cosine similarity in (0, 1], or None to "
                    f"switch that tier off; got {value}"
                )
        if (
            return_threshold is not None
            and restart_threshold is not None
            and restart_threshold > return_threshold
        ):
            raise ConfigError(
                f"restart_threshold ({restart_threshold}) must not exceed return_threshold "
                f"({return_threshold}): a prompt similar enough to return a clip is similar "
                "enough to restart from it"
            )
        self.return_threshold = return_threshold
        self.restart_threshold = restart_threshold
        self.store_restarts = store_restarts
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        """The prompt embedder; all-MiniLM-L6-v2, loaded on first use, unless one was given."""
        if self._embedder is None:
            from genwatt.mitigate.embedding import PromptEmbedder

            self._embedder = PromptEmbedder()
        return self._embedder

    def restart_step(self, similarity: float, steps: int) -> int:
        """``restart_step`` with this strategy's thresholds and fractions."""
        if self.restart_threshold is None:
            raise ConfigError("restarts are switched off (restart_threshold=None)")
        return restart_step(
            similarity,
            steps=steps,
            restart_threshold=self.restart_threshold,
            return_threshold=self.return_threshold if self.return_threshold is not None else 1.0,
            fractions=self.capture_fractions,
        )

    def generate(
        self, pipe: DiffusionPipeline, prompt: str, *, seed: int, call: Mapping[str, Any]
    ) -> np.ndarray:
        self.last_decision = None  # a call that fails leaves no stale decision behind
        call = self.call_kwargs(call)
        key, model, settings = self._key(pipe, call)
        steps = int(settings["num_inference_steps"])
        video = self._exact(key, prompt, seed, steps)
        if video is not None:
            return video
        embedder = self.embedder
        identity = embedder.identity
        embedding = np.asarray(embedder.embed([prompt])[0], dtype=np.float32)
        match = self.store.nearest(key, identity, embedding, seed=self._seed_filter(seed))
        similarity = match.similarity if match is not None else None

        if match is not None and _reaches(similarity, self.return_threshold):
            video = self.store.video(match.entry.id)
            if video is not None:
                self.store.touch(match.entry.id)
                self.last_decision = ReuseDecision(
                    "return",
                    steps,
                    similarity=similarity,
                    matched_id=match.entry.id,
                    matched_prompt=match.entry.prompt,
                )
                return video

        if match is not None and _reaches(similarity, self.restart_threshold):
            wanted = self.restart_step(float(similarity or 0.0), steps)
            usable = [s for s in match.entry.latent_steps if s <= wanted]
            latent = self.store.latent(match.entry.id, max(usable)) if usable else None
            if latent is not None:
                start = max(usable)
                self.store.touch(match.entry.id)
                video, latents = self._generate(
                    pipe, prompt, seed=seed, call=call, start=start, latent=latent
                )
                stored = None
                if self.store_restarts:
                    stored = self._store_new(
                        key,
                        model,
                        settings,
                        prompt,
                        seed,
                        video,
                        latents,
                        embedder=identity,
                        embedding=embedding,
                        source_id=match.entry.id,
                    )
                self.last_decision = ReuseDecision(
                    "restart",
                    steps,
                    similarity=similarity,
                    restart_step=start,
                    matched_id=match.entry.id,
                    matched_prompt=match.entry.prompt,
                    stored_id=stored,
                )
                return video

        video, latents = self._generate(pipe, prompt, seed=seed, call=call)
        stored = self._store_new(
            key,
            model,
            settings,
            prompt,
            seed,
            video,
            latents,
            embedder=identity,
            embedding=embedding,
        )
        self.last_decision = ReuseDecision("miss", steps, similarity=similarity, stored_id=stored)
        return video


def _reaches(similarity: float | None, threshold: float | None) -> bool:
    """``similarity >= threshold`` up to float32 rounding (a prompt's own dot is 0.9999999)."""
    return similarity is not None and threshold is not None and similarity >= threshold - 1e-6
