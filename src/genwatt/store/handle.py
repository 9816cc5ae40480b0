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

Step = Callable[[sqlite3.Connection], None]


class SQLiteHandle:
    """A class holding ``self._conn`` to the SQLite file at ``self.path``."""

    path: Path
    _conn: sqlite3.Connection

    def _open(
        self, busy_timeout_s: float, *, check: Step, migrate: Step, what: str, elsewhere: str
    ) -> sqlite3.Connection:
        """Connect, ``check`` the file before anything writes to it (the WAL switch
        included), switch to WAL, set the pragmas, ``migrate``. Every SQLite error becomes
        a ``StoreError`` naming ``what`` and the path, with ``elsewhere`` as the way out."""
        try:
            conn = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(
                f"cannot open {what} {self.path}: {exc}; check the path and its "
                f"permissions, or {elsewhere}"
            ) from exc
        try:
            conn.row_factory = sqlite3.Row
            check(conn)
            enable_wal(conn, time.monotonic() + busy_timeout_s)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn)
        except StoreError:
            conn.close()
            raise
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(
                f"cannot open {what} {self.path}: {exc}; if another program holds it "
                f"locked, wait for it or {elsewhere}"
            ) from exc
        return conn

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
                conn.execute("COMMIT")
        except sqlite3.OperationalError:
            raise
        except sqlite3.DatabaseError as exc:  # "file is not a database"
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
