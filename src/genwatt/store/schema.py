"""The results store's tables and the ordered migrations that build them.

The schema version lives in SQLite's ``PRAGMA user_version``. ``MIGRATIONS[i]`` takes a
store from version ``i`` to ``i + 1``; each step runs in its own ``BEGIN IMMEDIATE``
transaction together with the version bump, so a step either lands completely or not
at all, and two processes opening a fresh store at once cannot both apply it (the
second one re-reads the version under the write lock and finds nothing left to do).

To change the schema, append a step; never edit a released one, since stores in the
wild have already run it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from genwatt.store.sqlite_errors import rollback

# Marks a file as a genwatt store in the SQLite header ("GWAT"), so that `file` and
# sqlite tools can tell it apart from other databases.
APPLICATION_ID = 0x47574154


@dataclass(frozen=True)
class Migration:
    """One schema step: the statements that take the store to ``version``.

    Statements are run one by one with ``execute`` (not ``executescript``, which would
    commit the surrounding transaction first and break the step's atomicity).
    """

    version: int
    description: str
    statements: tuple[str, ...]


_V1 = Migration(
    version=1,
    description="runs, their windows, and one energy row per (window, domain)",
    statements=(
        f"PRAGMA application_id = {APPLICATION_ID}",
        """
        CREATE TABLE runs (
            id              INTEGER PRIMARY KEY,
            kind            TEXT    NOT NULL,
            status          TEXT    NOT NULL CHECK (status IN ('ok', 'failed')),
            error           TEXT,
            started_at      REAL    NOT NULL,  -- Unix time, seconds
            duration_s      REAL    NOT NULL,
            config          TEXT    NOT NULL,  -- JSON object
            environment     TEXT    NOT NULL,  -- JSON object
            genwatt_version TEXT    NOT NULL,
            extra           TEXT    NOT NULL,  -- JSON object
            sweep           TEXT,
            config_key      TEXT,
            repeat          INTEGER NOT NULL DEFAULT 0 CHECK (repeat >= 0),
            stored_at       REAL    NOT NULL,  -- Unix time the row was committed
            CHECK (sweep IS NULL OR config_key IS NOT NULL)
        )
        """,
        # NULLs are distinct in a UNIQUE index, so runs outside a sweep never collide.
        "CREATE UNIQUE INDEX runs_sweep_point ON runs (sweep, config_key, repeat)",
        "CREATE INDEX runs_kind ON runs (kind, id)",
        """
        CREATE TABLE windows (
            id                INTEGER PRIMARY KEY,
            run_id            INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            ordinal           INTEGER NOT NULL,  -- position in the run's window list
            name              TEXT    NOT NULL,
            parent            TEXT,
            started_at        REAL    NOT NULL,  -- Unix time, seconds
            duration_s        REAL    NOT NULL,
            flags             TEXT    NOT NULL,  -- JSON: domain -> [caveat, ...]
            errors            TEXT    NOT NULL,  -- JSON: domain -> message
            assumptions       TEXT    NOT NULL,  -- JSON: domain -> {parameter: value}
            idle_subtracted_w TEXT,              -- JSON: domain -> W, or NULL (gross)
            timeline          TEXT,              -- JSON PowerTimeline, or NULL
            UNIQUE (run_id, ordinal)
        )
        """,
        # A domain may have a provenance but no figure (it failed in this window), so
        # energy_j, provenance and method are each nullable; the row order (rowid)
        # keeps the window's domain order.
        """
        CREATE TABLE window_domains (
            window_id  INTEGER NOT NULL REFERENCES windows (id) ON DELETE CASCADE,
            domain     TEXT    NOT NULL,
            energy_j   REAL,
            provenance TEXT,
            method     TEXT,
            PRIMARY KEY (window_id, domain)
        )
        """,
    ),
)

# genwatt's own errors that a sweep stored as failed runs before failures were
# classified: none is the configuration's fault (a window left open by an interrupted
# run, a counter or the store failing), so v2 marks them for a resumed sweep to retry.
_INFRASTRUCTURE_ERRORS = (
    "WindowError",
    "SourceReadError",
    "SourceUnavailableError",
    "StoreError",
)

_V2 = Migration(
    version=2,
    description="failure_kind: whether a failed sweep run was the configuration's fault",
    statements=(
        """
        ALTER TABLE runs ADD COLUMN failure_kind TEXT
            CHECK (failure_kind IN ('config', 'infrastructure'))
        """,
        "UPDATE runs SET failure_kind = 'infrastructure' WHERE status = 'failed' "
        "AND sweep IS NOT NULL AND ("
        + " OR ".join(f"error LIKE '{name}: %'" for name in _INFRASTRUCTURE_ERRORS)
        + ")",
    ),
)

MIGRATIONS: tuple[Migration, ...] = (_V1, _V2)

SCHEMA_VERSION = len(MIGRATIONS)


def read_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, migrations: tuple[Migration, ...] = MIGRATIONS) -> int:
    """Apply every step the store lacks, in order; return the resulting version.

    ``conn`` must be in autocommit mode (``isolation_level=None``) so that the explicit
    transactions here are the only ones. A failing step is rolled back and re-raised,
    leaving the store at the last version that completed.
    """
    for expected, step in enumerate(migrations, start=1):
        if step.version != expected:
            raise ValueError(
                f"migration {step.description!r} is numbered {step.version}, "
                f"expected {expected}: migrations must be consecutive"
            )
    for step in migrations:
        if read_version(conn) >= step.version:  # cheap check without the write lock
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have applied this step while we waited for the lock.
            if read_version(conn) < step.version:
                for statement in step.statements:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {step.version:d}")
            conn.execute("COMMIT")
        except BaseException:
            rollback(conn)
            raise
    return read_version(conn)
