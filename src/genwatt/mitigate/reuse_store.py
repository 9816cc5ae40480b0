"""The reuse store: earlier generations, their prompt embeddings and latents, in SQLite.

Why its own file: the store is shared by both reuse strategies (``genwatt.mitigate.reuse``)
and by separate processes, and it owns the rules for when two generations may be swapped
for each other: the keys. A stored output may serve a new call only when the model's
identity (class, source, scheduler and a fingerprint of the weights) and every call
argument other than prompt and seed are equal (``settings_key``); the prompt itself is
matched exactly after ``normalise_prompt``, or by embedding similarity (``nearest``).

One SQLite file, bounded in bytes and entries, LRU-evicted, safe for concurrent
processes; ``ReuseStore``'s docstring has the format.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import time
import unicodedata
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from genwatt.errors import ConfigError, StoreError
from genwatt.store.handle import SQLiteHandle
from genwatt.store.schema import Migration, migrate
from genwatt.store.sqlite_errors import rollback, sqlite_cause
from genwatt.store.store import default_store_path

if TYPE_CHECKING:
    from diffusers import DiffusionPipeline


ENV_VAR = "GENWATT_REUSE_STORE"
DEFAULT_FILENAME = "genwatt-reuse.db"
DEFAULT_MAX_BYTES = 1 << 30
DEFAULT_BUSY_TIMEOUT_S = 30.0
#: Marks the file as a genwatt reuse store ("GWRU") in the SQLite header.
APPLICATION_ID = 0x47575255

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
# Why: a column stored after a large blob is reached only by walking the blob's overflow
# pages, so with clips inside ``entries`` every ``sum(size_bytes)`` (each insert's bound
# check) and every eviction scan read the whole store: about 100 ms per insert at 300 MB.
# Clips move to a table of their own; ``entries.video`` stays (an empty blob) because
# dropping a column needs SQLite 3.35 and rebuilding the table would fire the latents'
# ON DELETE CASCADE.
_V2 = Migration(
    version=2,
    description="clips in their own table, so that scans of entries stay small",
    statements=(
        """
        CREATE TABLE videos (
            entry_id INTEGER PRIMARY KEY REFERENCES entries (id) ON DELETE CASCADE,
            data     BLOB    NOT NULL  -- numpy .npy, zlib-compressed
        )
        """,
        "INSERT INTO videos (entry_id, data) SELECT id, video FROM entries",
        "UPDATE entries SET video = x''",
    ),
)
_MIGRATIONS = (_V1, _V2)
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


class ReuseStore(SQLiteHandle):
    """Stored generations in one SQLite file (WAL), bounded in bytes and entries.

    Format (schema version 2, ``PRAGMA application_id`` "GWRU"): table ``entries`` holds
    per generation the settings key (sha256 of the model identity and the call without
    prompt and seed), the model identity and settings as JSON for inspection, the prompt
    as given and normalised, the seed, the step count, the prompt embedding (float32
    bytes) with the embedder's identity, its size, times and hit count (its ``video``
    column is empty since version 2). Table ``videos`` holds each entry's final clip
    (``.npy`` bytes, zlib level 1), apart so that scans of ``entries`` stay small. Table
    ``latents`` holds, per entry, the latent after ``step`` of its steps (``.npy`` bytes,
    zlib), from which a similar prompt may restart.

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
        return self._open(
            busy_timeout_s,
            check=self._check_file,
            migrate=lambda conn: migrate(conn, _MIGRATIONS),
            what="the reuse store",
            elsewhere="pick another path",
        )

    def _check_file(self, conn: sqlite3.Connection) -> None:
        """Refuse, without writing, a file that is not a reuse store this genwatt reads."""
        version, app_id, tables = self._read_header(
            conn, what="reuse store", elsewhere="pick another path"
        )
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
                    b"",  # the clip goes to ``videos`` (schema version 2)
                    size,
                    now,
                    now,
                    entry.source_id,
                ),
            )
            entry_id = int(cursor.lastrowid or 0)
            conn.execute("INSERT INTO videos (entry_id, data) VALUES (?, ?)", (entry_id, video))
            conn.executemany(
                "INSERT INTO latents (entry_id, step, data) VALUES (?, ?, ?)",
                [(entry_id, step, blob) for step, blob in latents],
            )
            self._evict(keep=entry_id)
            conn.execute("COMMIT")
        except BaseException as exc:
            rollback(conn)
            if isinstance(exc, sqlite3.Error):
                raise StoreError(
                    f"cannot write to the reuse store {self.path}: "
                    f"{sqlite_cause(exc, self.path, 'give the reuse store another path')}"
                ) from exc
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
            raise StoreError(
                f"cannot write to the reuse store {self.path}: "
                f"{sqlite_cause(exc, self.path, 'give the reuse store another path')}"
            ) from exc
        return cursor.rowcount > 0

    def clear(self) -> None:
        """Delete every entry (a comparison that must start cold)."""
        self._begin_write()
        try:
            self._conn.execute("DELETE FROM latents")
            self._conn.execute("DELETE FROM videos")
            self._conn.execute("DELETE FROM entries")
            self._conn.execute("COMMIT")
        except BaseException:
            rollback(self._conn)
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
        rows = self._read("SELECT data FROM videos WHERE entry_id = ?", [entry_id])
        return _decode_video(_unpack(rows[0]["data"])) if rows else None

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
