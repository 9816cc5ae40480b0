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
