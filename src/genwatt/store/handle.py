"""What genwatt's SQLite files share: how they are opened, closed and used in ``with``.

Both the results store (``ResultsStore``) and the reuse store (``ReuseStore``) hold one
connection to one file in WAL mode. Each checks that a file is its own and migrates its
own schema; opening, pragmas, error wording and closing are the same and live here.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

from genwatt.errors import StoreError
from genwatt.store.schema import read_version
from genwatt.store.sqlite_errors import (
    error_name,
    is_read_only,
    not_a_file,
    rollback,
    sqlite_cause,
)

Step = Callable[[sqlite3.Connection], None]


class SQLiteHandle:
    """A class holding ``self._conn`` to the SQLite file at ``self.path``.

    ``read_only`` is True when the file could only be opened for reading (a read-only
    file, folder or mount): reads work, writes raise ``StoreError`` with
    ``read_only_cause``.
    """

    path: Path
    _conn: sqlite3.Connection
    read_only: bool = False
    read_only_cause: str | None = None  # why writing is refused, when ``read_only``

    def _open(
        self,
        busy_timeout_s: float,
        *,
        check: Step,
        migrate: Step,
        what: str,
        elsewhere: str,
        read_only_ok: bool = False,
    ) -> sqlite3.Connection:
        """Connect, ``check`` the file before anything writes to it (the WAL switch
        included), switch to WAL, set the pragmas, ``migrate``. Every SQLite error becomes
        a ``StoreError`` naming ``what``, the path and the real cause, with ``elsewhere``
        as the way out. With ``read_only_ok`` (callers that only read), a file that
        refuses writes is opened read-only instead (see ``_open_read_only``)."""
        reason = not_a_file(self.path)
        if reason is not None:
            raise StoreError(f"cannot open {what} {self.path}: {reason}; {elsewhere}")
        deadline = time.monotonic() + busy_timeout_s
        try:
            conn = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None)
            return _prepare(conn, check, lambda c: _make_writable(c, deadline, migrate))
        except sqlite3.Error as exc:
            if not (read_only_ok and is_read_only(exc)):
                raise StoreError(
                    f"cannot open {what} {self.path}: {sqlite_cause(exc, self.path, elsewhere)}"
                ) from exc
            refused = exc
        conn = self._open_read_only(busy_timeout_s, check)
        if conn is None:
            raise StoreError(
                f"cannot open {what} {self.path}: {sqlite_cause(refused, self.path, elsewhere)}"
            ) from refused
        if read_version(conn) == 0:
            conn.close()
            raise StoreError(
                f"{self.path} is empty and read-only, so it holds no {what}; {elsewhere}"
            )
        self.read_only = True
        self.read_only_cause = sqlite_cause(refused, self.path, elsewhere)
        return conn

    def _open_read_only(self, busy_timeout_s: float, check: Step) -> sqlite3.Connection | None:
        """The file opened for reading only, or None if SQLite cannot read it either.

        ``mode=ro`` first: it still sees other processes' writes, but in WAL mode it
        needs the ``-shm`` file, which a read-only folder may not let it create. Then
        ``immutable=1``, which reads the file as it is on disk: right for a read-only
        mount, where no process can write it through this path.
        """
        for query in ("mode=ro", "mode=ro&immutable=1"):
            uri = f"{self.path.as_uri()}?{query}"
            try:
                conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout_s, isolation_level=None)
                return _prepare(conn, check, lambda c: None)
            except sqlite3.Error:
                continue
        return None

    def _read_header(
        self, conn: sqlite3.Connection, *, what: str, elsewhere: str
    ) -> tuple[int, int, bool]:
        """The file's schema version, application id and whether it has any table, read in
        one snapshot (another process may be migrating it now) without writing a byte.
        A file that is no database at all becomes a ``StoreError``; a locked or
        unreadable one raises SQLite's own error, for ``_open`` to report."""
        try:
            conn.execute("BEGIN")
            try:
                version = read_version(conn)
                app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
                tables = conn.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                ).fetchone()[0]
            finally:
                rollback(conn)  # a read: nothing to keep, and no error to mask
        except sqlite3.DatabaseError as exc:
            if not error_name(exc).startswith("SQLITE_NOTADB"):
                raise
            raise StoreError(f"{self.path} is not a genwatt {what} ({exc}); {elsewhere}") from exc
        return version, app_id, bool(tables)

    def close(self) -> None:
        """Close the connection; the object is unusable afterwards."""
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"


def _prepare(conn: sqlite3.Connection, check: Step, finish: Step) -> sqlite3.Connection:
    """``check`` the file, then ``finish`` it (WAL and migrations when writable); the
    connection is closed if either fails."""
    try:
        conn.row_factory = sqlite3.Row
        check(conn)
        conn.execute("PRAGMA foreign_keys = ON")
        finish(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _make_writable(conn: sqlite3.Connection, deadline: float, migrate: Step) -> None:
    enable_wal(conn, deadline)
    conn.execute("PRAGMA synchronous = NORMAL")
    migrate(conn)


def enable_wal(conn: sqlite3.Connection, deadline: float) -> None:
    """Switch the file to WAL (a lasting property of the file) unless it already is.

    The switch needs an exclusive lock and SQLite reports "database is locked" at once,
    without waiting, when another process holds the file (two writers creating one
    store together); so retry until the busy timeout. A file system without shared
    memory (some network mounts) refuses WAL: the store then keeps SQLite's rollback
    journal, which is slower for concurrent writers but equally safe.
    """
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
