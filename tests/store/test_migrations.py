"""Schema versions: fresh stores, forward migration, atomic steps, refusing newer stores."""

from __future__ import annotations

import sqlite3

import pytest

from genwatt.errors import StoreSchemaTooNewError
from genwatt.store import SCHEMA_VERSION, ResultsStore
from genwatt.store.schema import APPLICATION_ID, MIGRATIONS, Migration, migrate, read_version


def _autocommit(path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_migrations_are_numbered_consecutively_from_one():
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert len(MIGRATIONS) == SCHEMA_VERSION


def test_fresh_store_gets_every_table_and_is_marked_as_genwatt(tmp_path):
    path = tmp_path / "fresh.db"
    ResultsStore(path).close()
    conn = _autocommit(path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"runs", "windows", "window_domains"} <= tables
    assert read_version(conn) == SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()


def test_reopening_does_not_reapply_migrations(tmp_path, make_record):
    path = tmp_path / "again.db"
    with ResultsStore(path) as store:
        run_id = store.add(make_record())
    with ResultsStore(path) as store:  # would fail with "table runs already exists"
        assert store.schema_version == SCHEMA_VERSION
        assert store.get_run(run_id).kind == "bench"


def test_steps_apply_in_order_and_bump_the_version(tmp_path):
    steps = (
        Migration(1, "a", ("CREATE TABLE a (x INTEGER)",)),
        Migration(2, "b", ("ALTER TABLE a ADD COLUMN y TEXT", "INSERT INTO a VALUES (1, 'y')")),
    )
    conn = _autocommit(tmp_path / "steps.db")
    assert migrate(conn, steps[:1]) == 1
    assert migrate(conn, steps) == 2  # only step 2 runs now
    assert conn.execute("SELECT x, y FROM a").fetchall() == [(1, "y")]
    assert migrate(conn, steps) == 2  # idempotent
    conn.close()


def test_a_failing_step_is_rolled_back_entirely(tmp_path):
    steps = (
        Migration(1, "a", ("CREATE TABLE a (x INTEGER)",)),
        Migration(2, "half", ("CREATE TABLE b (x INTEGER)", "INSERT INTO missing VALUES (1)")),
    )
    conn = _autocommit(tmp_path / "half.db")
    with pytest.raises(sqlite3.OperationalError, match="missing"):
        migrate(conn, steps)
    assert read_version(conn) == 1
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"a"}  # table b, created by the failed step, is gone
    conn.close()


def test_misnumbered_migrations_are_a_bug(tmp_path):
    conn = _autocommit(tmp_path / "bad.db")
    with pytest.raises(ValueError, match="consecutive"):
        migrate(conn, (Migration(2, "skips one", ()),))
    conn.close()


def test_store_from_a_newer_genwatt_is_refused_and_left_byte_identical(tmp_path, make_record):
    path = tmp_path / "future.db"
    with ResultsStore(path) as store:
        store.add(make_record())
    conn = _autocommit(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()  # the last connection checkpoints the WAL into the main file
    before = path.read_bytes()
    files_before = sorted(p.name for p in tmp_path.iterdir())

    with pytest.raises(StoreSchemaTooNewError) as info:
        ResultsStore(path)

    message = str(info.value)
    assert f"written by a newer genwatt (schema {SCHEMA_VERSION + 1}, " in message
    assert f"this one knows {SCHEMA_VERSION}): upgrade genwatt or use another --store" in message
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == files_before


def test_newer_store_in_rollback_journal_mode_is_not_switched_to_wal(tmp_path):
    # Switching to WAL rewrites header bytes; a refused store must not get even that.
    path = tmp_path / "future-delete-mode.db"
    conn = _autocommit(path)
    conn.execute("CREATE TABLE runs (id INTEGER)")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreSchemaTooNewError, match=f"schema {SCHEMA_VERSION + 5}"):
        ResultsStore(path)
    assert path.read_bytes() == before


def test_v2_marks_genwatt_own_failures_of_old_sweeps_retryable(tmp_path):
    # A v1 store with what the interrupt bug left behind: runs failed on a stale window.
    path = tmp_path / "v1.db"
    conn = _autocommit(path)
    migrate(conn, MIGRATIONS[:1])
    rows = [
        ("ok", None, "a"),
        ("failed", "WindowError: a window named 'step:1' is already open; end it first", "b"),
        ("failed", "RuntimeError: CUDA out of memory", "c"),
    ]
    for status, error, key in rows:
        conn.execute(
            "INSERT INTO runs (kind, status, error, started_at, duration_s, config, environment,"
            " genwatt_version, extra, sweep, config_key, repeat, stored_at)"
            " VALUES ('sweep', ?, ?, 1.0, 1.0, '{}', '{}', '0', '{}', 's', ?, 0, 1.0)",
            (status, error, key),
        )
    conn.close()
    with ResultsStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION >= 2
        kinds = {r.config_key: r.failure_kind for r in store.runs()}
        assert kinds == {"a": None, "b": "infrastructure", "c": None}
        assert store.completed("s") == {("a", 0), ("c", 0)}  # b runs again on resume


def test_a_v1_store_opened_read_only_is_read_without_migrating(tmp_path, monkeypatch):
    from genwatt.store import handle

    path = tmp_path / "v1.db"
    conn = _autocommit(path)
    migrate(conn, MIGRATIONS[:1])
    conn.execute(
        "INSERT INTO runs (kind, status, started_at, duration_s, config, environment,"
        " genwatt_version, extra, stored_at) VALUES ('m', 'ok', 1, 1, '{}', '{}', '0', '{}', 1)"
    )
    conn.close()
    real_connect = sqlite3.connect

    def read_only_folder(database, *args, uri=False, **kwargs):
        if not uri:
            error = sqlite3.OperationalError("attempt to write a readonly database")
            error.sqlite_errorname = "SQLITE_READONLY_DIRECTORY"
            raise error
        return real_connect(database, *args, uri=uri, **kwargs)

    monkeypatch.setattr(handle.sqlite3, "connect", read_only_folder)
    with ResultsStore(path, create=False) as store:
        assert store.read_only and store.schema_version == 1
        assert [r.failure_kind for r in store.runs()] == [None]
