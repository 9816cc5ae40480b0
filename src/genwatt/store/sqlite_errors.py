"""SQLite's failures in words a user can act on, and transactions that end cleanly.

SQLite reports a full disk, a read-only file, a folder given as a file and a lock held
by another program with distinct result codes (``sqlite_errorname`` since Python
3.11). Each becomes the cause and the way out of one ``StoreError`` line, so that a
full disk is never reported as a lock. On some errors SQLite has already rolled the
transaction back by itself; ending it again would raise over the real cause.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path


def rollback(conn: sqlite3.Connection) -> None:
    """Roll back the open transaction, if SQLite has not already done so.

    On some errors (disk full, I/O error) SQLite rolls the transaction back itself; a
    second ``ROLLBACK`` would then fail with "no transaction is active" and hide the
    real cause. The error being handled is the one worth reporting, so a failing
    rollback (the file went away) is not raised over it.
    """
    if not conn.in_transaction:
        return
    with contextlib.suppress(sqlite3.Error):  # the caller re-raises what made it roll back
        conn.execute("ROLLBACK")


def error_name(exc: sqlite3.Error) -> str:
    """SQLite's extended result code name (``SQLITE_FULL``...), or "" when unknown."""
    return str(getattr(exc, "sqlite_errorname", "") or "")


def is_read_only(exc: sqlite3.Error) -> bool:
    """The file, its folder or its mount refuses writes (reading may still work)."""
    return error_name(exc).startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN"))


def sqlite_cause(exc: sqlite3.Error, path: Path, elsewhere: str) -> str:
    """What went wrong with the SQLite file at ``path`` and what to do, in one line.

    ``elsewhere`` is the last way out ("pick another --store").
    """
    name, detail = error_name(exc), str(exc)
    if name == "SQLITE_FULL":
        return f"the disk is full ({detail}); free some space, or {elsewhere}"
    if name == "SQLITE_READONLY_DIRECTORY":
        return (
            f"its folder {path.parent} is read-only ({detail}); make the folder writable, "
            f"or {elsewhere}"
        )
    if name.startswith("SQLITE_READONLY"):
        return f"it is read-only ({detail}); make it writable, or {elsewhere}"
    if name.startswith("SQLITE_CANTOPEN"):
        return f"{_cannot_open(path)} ({detail}); {elsewhere}"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return f"another program holds it locked ({detail}); wait for it to finish, or {elsewhere}"
    if name.startswith("SQLITE_NOTADB"):
        return f"it is not an SQLite database ({detail}); {elsewhere}"
    if name.startswith("SQLITE_CORRUPT"):
        return f"the file is damaged ({detail}); restore it from a copy, or {elsewhere}"
    if name.startswith("SQLITE_IOERR"):
        return f"the disk failed to read or write it ({detail}); check the disk, or {elsewhere}"
    if name.startswith(("SQLITE_PERM", "SQLITE_AUTH")):
        return f"permission denied ({detail}); check its permissions, or {elsewhere}"
    return f"{detail}; {elsewhere}"


def _cannot_open(path: Path) -> str:
    if path.is_dir():
        return "it is a folder, not a file"
    if not path.parent.is_dir():
        return f"its folder {path.parent} does not exist"
    if path.exists() and not os.access(path, os.R_OK):
        return "this user may not read it"
    return f"SQLite cannot open it or its journal next to it in {path.parent}"


def not_a_file(path: Path) -> str | None:
    """Why ``path`` cannot hold an SQLite store, when it exists but is no regular file."""
    if not path.exists() or path.is_file():
        return None
    if path.is_dir():
        return "it is a folder, not a file"
    return "it is not a regular file (a device, a pipe or a socket)"
