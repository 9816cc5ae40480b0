"""ResultsStore: runs and their measurement windows in one SQLite file.

Why SQLite in WAL mode: a sweep writes one run at a time for hours, often from several
processes (one per GPU), and a report reads while it does. WAL lets readers and one
writer proceed together; the busy timeout makes concurrent writers queue instead of
failing. Each run and all its windows go in ONE ``BEGIN IMMEDIATE`` transaction, so a
process killed mid-write leaves either the whole run or nothing.

``synchronous=NORMAL``: in WAL mode a commit survives the process being killed; only
an OS crash or power cut can lose the last few commits (never corrupt the file), which
for benchmark results is the right trade against an fsync per run.

A store object holds one connection and is meant for one thread of one process: open
a store per process (never share one across ``fork``).
"""

from __future__ import annotations

import enum
import json
import math
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genwatt.errors import StoreError, StoreSchemaTooNewError
from genwatt.meter.result import WindowResult
from genwatt.store import schema
from genwatt.store.environment import current_environment
from genwatt.store.handle import SQLiteHandle
from genwatt.store.records import FailureKind, RunRecord, RunStatus
from genwatt.store.sqlite_errors import rollback, sqlite_cause

ENV_VAR = "GENWATT_STORE"
DEFAULT_FILENAME = "genwatt.db"
DEFAULT_BUSY_TIMEOUT_S = 30.0

# SQLite's default limit on host parameters is 32766 since 3.32; stay well below.
_IN_CHUNK = 500
# Position of the extra JSON in ``add``'s run parameters (see ``_insert``'s columns).
_EXTRA_PARAM = 8
# ``check_writable`` writes (and rolls back) about one stored run's worth of bytes.
_PROBE_BYTES = 64 * 1024
_ELSEWHERE = "pick another --store"


class DuplicateRunError(StoreError):
    """A run with this (sweep, config_key, repeat) is already stored.

    ``ResultsStore.add`` raises this rather than silently returning the existing id,
    because a duplicate means the caller's bookkeeping is off (a resumed sweep should
    have skipped the pair after checking ``ResultsStore.completed``) or another process
    runs the same sweep into the same store.
    """

    def __init__(self, message: str, existing_id: int | None) -> None:
        super().__init__(message)
        self.existing_id = existing_id


def default_store_path() -> Path:
    """``$GENWATT_STORE`` when set (and not empty), else ``./genwatt.db``; absolute."""
    configured = os.environ.get(ENV_VAR, "").strip()
    path = Path(configured).expanduser() if configured else Path(DEFAULT_FILENAME)
    return path.absolute()


def _json_default(value: Any) -> Any:
    """Encode the few non-JSON types a config or assumption plausibly holds."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if hasattr(value, "tolist"):  # numpy scalars and arrays, without importing numpy
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _dumps(value: Any, what: str) -> str:
    try:
        return json.dumps(value, default=_json_default, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise StoreError(
            f"cannot store {what}: {exc}. Keep configs, extras and assumptions to JSON "
            "types (str, int, float, bool, None, lists, dicts)."
        ) from exc


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


@dataclass(frozen=True)
class _WindowRows:
    """A window flattened into the parameters of its INSERTs, prepared before locking."""

    window: tuple[Any, ...]
    domains: list[tuple[str, float | None, str | None, str | None]]


def _window_rows(window: WindowResult, ordinal: int) -> _WindowRows:
    what = f"window {window.name!r}"
    params = (
        ordinal,
        window.name,
        window.parent,
        float(window.started_at),
        float(window.duration_s),
        _dumps(window.flags, f"{what} flags"),
        _dumps(window.errors, f"{what} errors"),
        _dumps(window.assumptions, f"{what} assumptions"),
        None
        if window.idle_subtracted_w is None
        else _dumps(window.idle_subtracted_w, f"{what} idle power"),
        None if window.timeline is None else _dumps(window.timeline.to_dict(), f"{what} timeline"),
    )
    domains = list(dict.fromkeys([*window.energy_j, *window.provenance, *window.method]))
    rows = []
    for domain in domains:
        provenance = window.provenance.get(domain)
        method = window.method.get(domain)
        rows.append(
            (
                domain,
                None if domain not in window.energy_j else float(window.energy_j[domain]),
                None if provenance is None else str(provenance),
                None if method is None else str(method),
            )
        )
    return _WindowRows(window=params, domains=rows)


def _window_from_rows(row: sqlite3.Row, domains: list[sqlite3.Row]) -> WindowResult:
    timeline = _loads(row["timeline"])
    return WindowResult.from_dict(
        {
            "name": row["name"],
            "started_at": row["started_at"],
            "duration_s": row["duration_s"],
            "energy_j": {d["domain"]: d["energy_j"] for d in domains if d["energy_j"] is not None},
            "provenance": {d["domain"]: d["provenance"] for d in domains if d["provenance"]},
            "method": {d["domain"]: d["method"] for d in domains if d["method"]},
            "flags": _loads(row["flags"]),
            "errors": _loads(row["errors"]),
            "assumptions": _loads(row["assumptions"]),
            "parent": row["parent"],
            "idle_subtracted_w": _loads(row["idle_subtracted_w"]),
            "timeline": timeline,
        }
    )


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _IN_CHUNK):
        yield ids[start : start + _IN_CHUNK]


class ResultsStore(SQLiteHandle):
    """Runs and their windows in an SQLite file (WAL mode), schema-versioned.

    ``path=None`` uses ``default_store_path()``. With ``create=False`` a missing file
    raises ``StoreError`` instead of being created (for commands that only read). A
    store written by a newer genwatt raises ``StoreSchemaTooNewError`` and is left
    byte-for-byte untouched; an older one is migrated forward on open. A reader
    (``create=False``) opens a file it may not write (read-only file, folder or mount)
    read-only: ``read_only`` is then True, reads work and writes raise ``StoreError``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        create: bool = True,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    ) -> None:
        self.path = Path(path).expanduser().absolute() if path is not None else default_store_path()
        if not self.path.exists():
            if not create:
                raise StoreError(
                    f"no results store at {self.path}: run `genwatt measure` or "
                    f"`genwatt bench` first, or point --store (or ${ENV_VAR}) at an "
                    "existing one"
                )
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the folder for the results store {self.path}: {exc}; "
                    f"pick another --store (or ${ENV_VAR})"
                ) from exc
        self._conn = self._connect(busy_timeout_s, read_only_ok=not create)

    # -- opening ---------------------------------------------------------------------

    def _connect(self, busy_timeout_s: float, *, read_only_ok: bool) -> sqlite3.Connection:
        return self._open(
            busy_timeout_s,
            check=self._check_version,
            migrate=schema.migrate,
            what="the results store",
            elsewhere=_ELSEWHERE,
            read_only_ok=read_only_ok,
        )

    def _check_version(self, conn: sqlite3.Connection) -> None:
        """Refuse, without writing a byte, any file this genwatt cannot safely use."""
        version, app_id, has_tables = self._read_header(
            conn, what="results store", elsewhere=_ELSEWHERE
        )
        if version > schema.SCHEMA_VERSION:
            raise StoreSchemaTooNewError(
                f"the results store {self.path} was written by a newer genwatt "
                f"(schema {version}, this one knows {schema.SCHEMA_VERSION}): "
                "upgrade genwatt or use another --store"
            )
        foreign_app = app_id not in (0, schema.APPLICATION_ID)
        if foreign_app or (version == 0 and has_tables):
            raise StoreError(
                f"{self.path} is an SQLite database but not a genwatt results store; "
                "pick another --store"
            )

    @property
    def schema_version(self) -> int:
        return schema.read_version(self._conn)

    @property
    def journal_mode(self) -> str:
        return str(self._conn.execute("PRAGMA journal_mode").fetchone()[0])

    # -- writing ---------------------------------------------------------------------

    def check_writable(self) -> None:
        """Raise ``StoreError`` with the real cause if a run could not be stored now.

        For commands that would otherwise find out only after minutes of work: a write
        of about one run's size, in a transaction that is rolled back, so the store is
        left as it was. It catches a read-only file, folder or mount, a store another
        program keeps locked, and a store at its size limit; a disk that fills up later
        still fails the write of that run, with the same clear error.
        """
        self._refuse_if_read_only()
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("CREATE TABLE genwatt_write_probe (x BLOB)")
                conn.execute(
                    "INSERT INTO genwatt_write_probe VALUES (zeroblob(?))", (_PROBE_BYTES,)
                )
            finally:
                rollback(conn)
        except sqlite3.Error as exc:
            raise self._write_error(exc) from exc

    def _refuse_if_read_only(self) -> None:
        if self.read_only:
            raise StoreError(
                f"cannot write to the results store {self.path}: {self.read_only_cause}"
            )

    def _write_error(self, exc: sqlite3.Error) -> StoreError:
        cause = sqlite_cause(exc, self.path, _ELSEWHERE)
        return StoreError(f"cannot write to the results store {self.path}: {cause}")

    def add(self, record: RunRecord) -> int:
        """Store a run and all its windows atomically; return the new run id.

        An empty ``record.environment`` is filled with this process's environment
        (``current_environment()``), so that no run is stored without one. A run whose
        ``(sweep, config_key, repeat)`` is already stored raises ``DuplicateRunError``
        (check ``completed(sweep)`` first), unless the stored one is a retryable failure
        (``RunRecord.retryable``): the new run replaces it, and keeps its error and start
        time under ``extra["earlier_attempts"]``. ``record.id`` is ignored: ids are the
        store's to assign.
        """
        _validate(record)
        self._refuse_if_read_only()
        environment = record.environment or current_environment()
        run_params = (
            record.kind,
            str(RunStatus(record.status)),
            record.error,
            float(record.started_at),
            float(record.duration_s),
            _dumps(record.config, "the run's config"),
            _dumps(environment, "the run's environment"),
            record.genwatt_version,
            _dumps(record.extra, "the run's extra data"),
            record.sweep,
            record.config_key,
            record.repeat,
            None if record.failure_kind is None else str(FailureKind(record.failure_kind)),
        )
        windows = [_window_rows(w, i) for i, w in enumerate(record.windows)]
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._write_error(exc) from exc
        try:
            run_params = self._replace_retryable(record, run_params)
            run_id = self._insert(run_params, windows)
            conn.execute("COMMIT")
        except BaseException as exc:
            rollback(conn)
            if isinstance(exc, sqlite3.IntegrityError) and record.sweep is not None:
                existing = self._find(record.sweep, record.config_key, record.repeat)
                if existing is not None:
                    raise DuplicateRunError(
                        f"sweep {record.sweep!r} already has config {record.config_key!r} "
                        f"repeat {record.repeat} (run {existing}) in {self.path}",
                        existing,
                    ) from exc
            if isinstance(exc, sqlite3.Error):
                raise self._write_error(exc) from exc
            raise
        return run_id

    def _replace_retryable(self, record: RunRecord, run_params: tuple[Any, ...]) -> tuple[Any, ...]:
        """Inside ``add``'s transaction: delete a retryable failure stored at the record's
        sweep point (its windows go with it) and return the parameters with its error
        and start time added to ``extra["earlier_attempts"]``, so nothing is lost."""
        if record.sweep is None:
            return run_params
        conn = self._conn
        row = conn.execute(
            "SELECT id, error, started_at, extra FROM runs WHERE sweep = ? AND config_key = ? "
            "AND repeat = ? AND status = 'failed' AND failure_kind = 'infrastructure'",
            (record.sweep, record.config_key, record.repeat),
        ).fetchone()
        if row is None:
            return run_params
        conn.execute("DELETE FROM runs WHERE id = ?", (row["id"],))
        earlier = (_loads(row["extra"]) or {}).get("earlier_attempts", [])
        attempt = {"error": row["error"], "started_at": row["started_at"]}
        extra = {**record.extra, "earlier_attempts": [*earlier, attempt]}
        params = list(run_params)
        params[_EXTRA_PARAM] = _dumps(extra, "the run's extra data")
        return tuple(params)

    def _insert(self, run_params: tuple[Any, ...], windows: list[_WindowRows]) -> int:
        conn = self._conn
        cursor = conn.execute(
            """
            INSERT INTO runs (kind, status, error, started_at, duration_s, config,
                              environment, genwatt_version, extra, sweep, config_key,
                              repeat, failure_kind, stored_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (*run_params, time.time()),
        )
        run_id = int(cursor.lastrowid or 0)
        for rows in windows:
            _insert_window(conn, run_id, rows)
        return run_id

    def _find(self, sweep: str, config_key: str | None, repeat: int) -> int | None:
        row = self._conn.execute(
            "SELECT id FROM runs WHERE sweep = ? AND config_key = ? AND repeat = ?",
            (sweep, config_key, repeat),
        ).fetchone()
        return None if row is None else int(row["id"])

    # -- reading ---------------------------------------------------------------------

    def get_run(self, run_id: int) -> RunRecord:
        """The run with this id, windows included; ``StoreError`` if there is none."""
        found = self._select("WHERE id = ?", (run_id,))
        if not found:
            raise StoreError(
                f"no run {run_id} in {self.path}; `genwatt results` lists the stored runs"
            )
        return found[0]

    def runs(
        self,
        kind: str | None = None,
        sweep: str | None = None,
        status: str | None = None,
        *,
        limit: int | None = None,
    ) -> list[RunRecord]:
        """Stored runs matching every filter given, oldest first, windows included.

        ``limit`` keeps only the most recent N (still returned oldest first).
        """
        where, params = _filters(kind, sweep, status)
        if limit is not None and limit > 0:
            where = f"WHERE id IN (SELECT id FROM runs {where} ORDER BY id DESC LIMIT ?)"
            params = (*params, limit)
        return self._select(where, params)

    def count(
        self, kind: str | None = None, sweep: str | None = None, status: str | None = None
    ) -> int:
        where, params = _filters(kind, sweep, status)
        with self._reading():
            row = self._conn.execute(f"SELECT count(*) FROM runs {where}", params).fetchone()
        return int(row[0])

    def completed(self, sweep: str) -> set[tuple[str, int]]:
        """The (config_key, repeat) pairs of ``sweep`` a resume must not run again: ok
        runs and failed ones, except retryable failures (``RunRecord.retryable``)."""
        with self._reading():
            rows = self._conn.execute(
                "SELECT config_key, repeat FROM runs WHERE sweep = ? AND NOT ("
                "status = 'failed' AND failure_kind IS 'infrastructure')",
                (sweep,),
            ).fetchall()
        return {(row["config_key"], int(row["repeat"])) for row in rows}

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """SQLite errors while reading become one ``StoreError`` line with the cause."""
        try:
            yield
        except sqlite3.Error as exc:
            cause = sqlite_cause(exc, self.path, _ELSEWHERE)
            raise StoreError(f"cannot read the results store {self.path}: {cause}") from exc

    def _select(self, where: str, params: Iterable[Any]) -> list[RunRecord]:
        conn = self._conn
        with self._reading():
            conn.execute("BEGIN")  # one snapshot for runs and their windows
            try:
                run_rows = conn.execute(f"SELECT * FROM runs {where} ORDER BY id", tuple(params))
                run_rows = run_rows.fetchall()
                windows = self._windows_of([int(r["id"]) for r in run_rows])
            finally:
                rollback(conn)  # a read: nothing to keep, and no error to mask
        return [_record_from_row(row, windows.get(int(row["id"]), [])) for row in run_rows]

    def _windows_of(self, run_ids: list[int]) -> dict[int, list[WindowResult]]:
        conn = self._conn
        result: dict[int, list[WindowResult]] = {}
        for chunk in _chunks(run_ids):
            marks = ",".join("?" * len(chunk))
            domains: dict[int, list[sqlite3.Row]] = {}
            for row in conn.execute(
                f"""
                SELECT d.* FROM window_domains AS d JOIN windows AS w ON w.id = d.window_id
                WHERE w.run_id IN ({marks}) ORDER BY d.rowid
                """,
                chunk,
            ):
                domains.setdefault(int(row["window_id"]), []).append(row)
            for row in conn.execute(
                f"SELECT * FROM windows WHERE run_id IN ({marks}) ORDER BY run_id, ordinal",
                chunk,
            ):
                window = _window_from_rows(row, domains.get(int(row["id"]), []))
                result.setdefault(int(row["run_id"]), []).append(window)
        return result


def _insert_window(conn: sqlite3.Connection, run_id: int, rows: _WindowRows) -> None:
    cursor = conn.execute(
        """
        INSERT INTO windows (run_id, ordinal, name, parent, started_at, duration_s, flags,
                             errors, assumptions, idle_subtracted_w, timeline)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (run_id, *rows.window),
    )
    window_id = cursor.lastrowid
    conn.executemany(
        "INSERT INTO window_domains (window_id, domain, energy_j, provenance, method) "
        "VALUES (?, ?, ?, ?, ?)",
        [(window_id, *domain) for domain in rows.domains],
    )


def _filters(
    kind: str | None, sweep: str | None, status: str | None
) -> tuple[str, tuple[Any, ...]]:
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (("kind", kind), ("sweep", sweep), ("status", status)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(str(value))
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)


def _record_from_row(row: sqlite3.Row, windows: list[WindowResult]) -> RunRecord:
    return RunRecord(
        id=int(row["id"]),
        kind=row["kind"],
        status=RunStatus(row["status"]),
        started_at=row["started_at"],
        duration_s=row["duration_s"],
        config=_loads(row["config"]),
        windows=windows,
        environment=_loads(row["environment"]),
        error=row["error"],
        failure_kind=_failure_kind(row),
        sweep=row["sweep"],
        config_key=row["config_key"],
        repeat=int(row["repeat"]),
        extra=_loads(row["extra"]),
        genwatt_version=row["genwatt_version"],
    )


def _validate(record: RunRecord) -> None:
    """Catch a malformed record (a bug in the caller) before it reaches SQL."""
    if record.status not in set(RunStatus):
        raise ValueError(
            f"run status must be one of {[str(s) for s in RunStatus]}, not {record.status!r}"
        )
    if record.sweep is not None and record.config_key is None:
        raise ValueError("a run in a sweep needs a config_key")
    if record.failure_kind is not None:
        if record.ok:
            raise ValueError("an ok run has no failure_kind")
        if record.failure_kind not in set(FailureKind):
            raise ValueError(
                f"failure_kind must be one of {[str(k) for k in FailureKind]}, "
                f"not {record.failure_kind!r}"
            )
    if record.repeat < 0:
        raise ValueError(f"repeat must be >= 0, not {record.repeat}")
    for name, value in (("started_at", record.started_at), ("duration_s", record.duration_s)):
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number of seconds, not {value!r}")


def _failure_kind(row: sqlite3.Row) -> FailureKind | None:
    # A store from before schema 2, opened read-only (so not migrated), lacks the column.
    value = row["failure_kind"] if "failure_kind" in row.keys() else None  # noqa: SIM118 (Row's `in` tests values)
    return None if value is None else FailureKind(value)
