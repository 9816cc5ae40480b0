"""A full disk, a read-only store, a folder or a device as store: each says its real cause."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from genwatt.errors import StoreError
from genwatt.store import ResultsStore
from genwatt.store import handle as handle_module


def _fill_up(store: ResultsStore) -> None:
    """Cap the file at its current size: the next write finds the "disk" full."""
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")


def test_a_full_disk_mid_write_is_one_clear_error(store, make_record):
    store.add(make_record())
    _fill_up(store)
    big = make_record(extra={"blob": "x" * 200_000})
    with pytest.raises(StoreError) as info:
        store.add(big)
    message = str(info.value)
    assert "cannot write to the results store" in message
    assert "the disk is full" in message and "free some space" in message
    assert "no transaction is active" not in message and "locked" not in message
    assert store.count() == 1  # the stored run is intact
    store._conn.execute("PRAGMA max_page_count = 1073741823")
    assert store.add(big) > 0  # and the store works again once there is room


def test_check_writable_reports_a_full_store_without_changing_it(store, make_record):
    store.add(make_record())
    _fill_up(store)
    with pytest.raises(StoreError, match="the disk is full"):
        store.check_writable()
    tables = store._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    assert "genwatt_write_probe" not in {row[0] for row in tables}


def test_check_writable_passes_on_a_writable_store_and_leaves_no_trace(store):
    store.check_writable()
    tables = store._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    assert {row[0] for row in tables} == {"runs", "windows", "window_domains"}
    assert not store._conn.in_transaction


@pytest.mark.parametrize("create", [True, False])
def test_a_folder_as_store_says_so(tmp_path, create):
    with pytest.raises(StoreError, match="it is a folder, not a file; pick another --store"):
        ResultsStore(tmp_path, create=create)


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="no /dev/null on this system")
@pytest.mark.parametrize("create", [True, False])
def test_dev_null_as_store_says_so(create):
    with pytest.raises(StoreError) as info:
        ResultsStore("/dev/null", create=create)
    message = str(info.value)
    assert "not a regular file" in message
    assert "rollback" not in message and "locked" not in message


def test_a_locked_store_says_locked(tmp_path, make_record):
    path = tmp_path / "locked.db"
    ResultsStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with ResultsStore(path) as store, pytest.raises(StoreError) as info:
            store._conn.execute("PRAGMA busy_timeout = 0")
            store.add(make_record())
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "another program holds it locked" in str(info.value)


def _read_only_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make SQLite answer as it does for a store in a read-only folder or mount.

    Root ignores file permissions, so tests cannot rely on chmod: a plain (read-write)
    connect fails with the error SQLite gives there (SQLITE_READONLY_DIRECTORY, seen on
    a real read-only folder); read-only URIs reach the real file, as they would there.
    """
    real_connect = sqlite3.connect

    def connect(database, *args, uri=False, **kwargs):
        if not uri:
            error = sqlite3.OperationalError("attempt to write a readonly database")
            error.sqlite_errorname = "SQLITE_READONLY_DIRECTORY"
            raise error
        return real_connect(database, *args, uri=uri, **kwargs)

    monkeypatch.setattr(handle_module.sqlite3, "connect", connect)


def test_a_store_in_a_read_only_folder_is_read_and_refuses_writes(
    tmp_path, make_record, monkeypatch
):
    path = tmp_path / "ro.db"
    with ResultsStore(path) as store:
        store.add(make_record())
    _read_only_folder(monkeypatch)
    with ResultsStore(path, create=False) as reader:
        assert reader.read_only
        assert [r.kind for r in reader.runs()] == ["bench"]
        with pytest.raises(StoreError, match=r"folder .* is read-only"):
            reader.add(make_record())
        with pytest.raises(StoreError, match=r"folder .* is read-only"):
            reader.check_writable()
    # A command that writes is told at once, with the cause.
    with pytest.raises(StoreError, match=r"cannot open the results store .*read-only"):
        ResultsStore(path)


def test_a_read_only_store_file_refuses_writes_with_the_cause(tmp_path, make_record):
    # SQLite opens a file it may not write read-only, silently; a ro URI does the same.
    path = tmp_path / "ro.db"
    with ResultsStore(path) as store:
        store.add(make_record())
    with ResultsStore(path) as store:
        store._conn.close()
        store._conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None)
        store._conn.row_factory = sqlite3.Row
        assert len(store.runs()) == 1
        for write in (store.check_writable, lambda: store.add(make_record())):
            with pytest.raises(StoreError, match="it is read-only") as info:
                write()
            assert "no transaction is active" not in str(info.value)


_READ_AS_NOBODY = """
import sys
from genwatt.store import ResultsStore
with ResultsStore(sys.argv[1], create=False) as store:
    print(store.read_only, len(store.runs()))
try:
    ResultsStore(sys.argv[1])
except Exception as exc:
    print(type(exc).__name__, exc)
"""


def test_a_really_read_only_folder_as_an_unprivileged_user(make_record):
    """The real thing: a store in a folder this user may not write (WAL mode, no -shm)."""
    as_user: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("root ignores permissions and setpriv is missing to drop them")
        as_user = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    folder = Path(tempfile.mkdtemp(prefix="genwatt-ro-"))
    try:
        path = folder / "ro.db"
        with ResultsStore(path) as store:
            store.add(make_record())
        assert not Path(f"{path}-shm").exists()  # the last close removed it
        path.chmod(0o444)
        folder.chmod(0o555)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        done = subprocess.run(
            [*as_user, sys.executable, "-c", _READ_AS_NOBODY, str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd=folder,
        )
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "True 1"
    assert lines[1].startswith("StoreError") and "read-only" in lines[1]
