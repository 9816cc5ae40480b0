"""The shared SQLite handle: both stores close on ``with`` exit and name their file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from genwatt.mitigate.reuse_store import ReuseStore
from genwatt.store import ResultsStore


@pytest.mark.parametrize("kind", [ResultsStore, ReuseStore])
def test_with_closes_and_repr_names_the_file(kind: type, tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    with kind(path) as handle:
        assert repr(handle) == f"{kind.__name__}({str(path)!r})"
        handle._conn.execute("SELECT 1")
    with pytest.raises(sqlite3.ProgrammingError):
        handle._conn.execute("SELECT 1")
