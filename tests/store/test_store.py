"""ResultsStore: paths, round-trips, filters, sweeps, atomicity."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from genwatt.errors import StoreError
from genwatt.meter.result import WindowResult
from genwatt.store import DuplicateRunError, ResultsStore, RunRecord, RunStatus, default_store_path


def test_default_path_is_genwatt_db_in_the_working_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("GENWATT_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    assert default_store_path() == tmp_path / "genwatt.db"


def test_env_var_overrides_the_default_path(monkeypatch, tmp_path, make_record):
    target = tmp_path / "elsewhere" / "mine.db"
    monkeypatch.setenv("GENWATT_STORE", str(target))
    assert default_store_path() == target
    with ResultsStore() as store:
        store.add(make_record())
    assert target.is_file()  # the missing folder was created


def test_store_is_in_wal_mode_with_current_schema(store):
    assert store.journal_mode == "wal"
    with sqlite3.connect(store.path) as raw:  # seen from outside, too
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == store.schema_version == 2


def test_run_and_windows_round_trip_exactly(store, make_record):
    record = make_record(error=None, sweep="s1", config_key="steps=4", repeat=2)
    run_id = store.add(record)
    loaded = store.get_run(run_id)
    assert loaded.id == run_id
    assert loaded.windows == record.windows  # every field, timeline and enums included
    assert [w.to_dict() for w in loaded.windows] == [w.to_dict() for w in record.windows]
    assert loaded.config == record.config
    assert loaded.environment == record.environment
    assert loaded.extra == record.extra
    assert (loaded.sweep, loaded.config_key, loaded.repeat) == ("s1", "steps=4", 2)
    assert loaded.status is RunStatus.OK
    assert loaded == RunRecord(**{**record.__dict__, "id": run_id})


def test_domain_with_provenance_but_no_figure_survives(store, make_record):
    run_id = store.add(make_record())
    run = store.get_run(run_id).window("run")
    assert run is not None
    assert "dram:0" not in run.energy_j
    assert run.provenance["dram:0"] == "measured"
    assert run.errors == {"dram:0": "RAPL counter vanished"}


def test_failed_run_without_windows_is_kept_with_its_error(store, make_record):
    run_id = store.add(make_record(status="failed", error="CUDA OOM", windows=[]))
    loaded = store.get_run(run_id)
    assert loaded.status == "failed"
    assert loaded.error == "CUDA OOM"
    assert loaded.windows == []
    assert loaded.total_energy_j is None


def test_empty_environment_is_filled_with_this_machine(store, monkeypatch, make_record):
    monkeypatch.setattr("genwatt.store.store.current_environment", lambda: {"host": "probed-here"})
    run_id = store.add(make_record(environment={}))
    assert store.get_run(run_id).environment == {"host": "probed-here"}


def test_get_missing_run_raises_store_error(store):
    with pytest.raises(StoreError, match="no run 42"):
        store.get_run(42)


def test_runs_filters_and_limit(store, make_record):
    ids = [
        store.add(make_record(kind="bench")),
        store.add(make_record(kind="measure", status="failed", error="exit 1")),
        store.add(make_record(kind="sweep", sweep="a", config_key="k1")),
        store.add(make_record(kind="sweep", sweep="a", config_key="k2", status="failed")),
        store.add(make_record(kind="sweep", sweep="b", config_key="k1")),
    ]
    assert [r.id for r in store.runs()] == ids
    assert [r.id for r in store.runs(kind="sweep")] == ids[2:]
    assert [r.id for r in store.runs(sweep="a")] == ids[2:4]
    assert [r.id for r in store.runs(status="failed")] == [ids[1], ids[3]]
    assert [r.id for r in store.runs(kind="sweep", status=RunStatus.OK)] == [ids[2], ids[4]]
    assert [r.id for r in store.runs(limit=2)] == ids[3:]  # most recent, oldest first
    assert store.count() == 5
    assert store.count(kind="sweep", sweep="a") == 2
    assert all(len(r.windows) == 2 for r in store.runs())


def test_completed_lists_ok_and_failed_points_of_one_sweep(store, make_record):
    store.add(make_record(sweep="s", config_key="a", repeat=0))
    store.add(make_record(sweep="s", config_key="a", repeat=1, status="failed", error="x"))
    store.add(make_record(sweep="s", config_key="b", repeat=0))
    store.add(make_record(sweep="other", config_key="a", repeat=5))
    assert store.completed("s") == {("a", 0), ("a", 1), ("b", 0)}
    assert store.completed("missing") == set()


def test_duplicate_sweep_point_raises_and_stores_nothing(store, make_record):
    first = store.add(make_record(sweep="s", config_key="a", repeat=0))
    with pytest.raises(
        DuplicateRunError, match=r"sweep 's' already has config 'a' repeat 0"
    ) as info:
        store.add(make_record(sweep="s", config_key="a", repeat=0))
    assert info.value.existing_id == first
    assert store.count() == 1
    # Outside a sweep, identical runs are fine (NULLs never collide).
    store.add(make_record())
    store.add(make_record())
    assert store.count() == 3


def test_invalid_records_are_rejected_before_sql(store, make_record):
    with pytest.raises(ValueError, match="status"):
        store.add(make_record(status="done"))
    with pytest.raises(ValueError, match="config_key"):
        store.add(make_record(sweep="s"))
    with pytest.raises(StoreError, match="config"):
        store.add(make_record(config={"fn": object()}))
    assert store.count() == 0


def test_path_like_and_numpy_values_are_stored_as_json(store, make_record):
    import numpy as np

    run_id = store.add(make_record(config={"out": Path("/tmp/x"), "guidance": np.float32(7.5)}))
    assert store.get_run(run_id).config == {"out": "/tmp/x", "guidance": 7.5}


def test_failure_mid_transaction_leaves_no_half_run(store, make_record):
    # A trigger makes the database itself fail after the run row and its first window
    # are already inserted, inside add's transaction.
    store._conn.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON windows WHEN NEW.name = 'denoise' "
        "BEGIN SELECT RAISE(ABORT, 'boom'); END"
    )
    with pytest.raises(StoreError, match="boom"):
        store.add(make_record())
    counts = [
        store._conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("runs", "windows", "window_domains")
    ]
    assert counts == [0, 0, 0]
    store._conn.execute("DROP TRIGGER boom")
    assert store.add(make_record()) > 0  # the store is still usable


_KILLED_WRITER = """
import sys, time
import genwatt.store.store as store_module
from genwatt.store import ResultsStore, RunRecord

original = store_module._insert_window
def stall(conn, run_id, rows):
    original(conn, run_id, rows)
    print("mid-write", flush=True)
    time.sleep(60)
store_module._insert_window = stall

store = ResultsStore(sys.argv[1])
store.add(RunRecord(kind="bench", started_at=1.0, duration_s=1.0, environment={"h": 1},
                    windows=__import__("pickle").loads(bytes.fromhex(sys.argv[2]))))
"""


def test_process_killed_mid_write_leaves_no_half_run(tmp_path, make_record, make_windows):
    import pickle

    path = tmp_path / "killed.db"
    ResultsStore(path).close()
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(path), pickle.dumps(make_windows()).hex()],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "mid-write"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=10)
    with ResultsStore(path) as store:
        assert store.count() == 0
        assert store._conn.execute("SELECT count(*) FROM windows").fetchone()[0] == 0
        run_id = store.add(make_record())  # the lock died with the writer
        assert store.get_run(run_id).windows == make_windows()


def test_missing_store_is_not_created_when_create_is_false(tmp_path):
    path = tmp_path / "absent.db"
    with pytest.raises(StoreError, match="no results store at"):
        ResultsStore(path, create=False)
    assert not path.exists()


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are not the results you are looking for\n" * 20)
    with pytest.raises(StoreError, match="not a genwatt results store"):
        ResultsStore(path)


def test_another_apps_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE things (x)")
    raw.close()
    with pytest.raises(StoreError, match="not a genwatt results store"):
        ResultsStore(path)


def test_record_main_window_prefers_run_then_longest_top_level(make_record, make_windows):
    windows = make_windows()
    record = make_record(windows=windows)
    assert record.main_window is windows[0]
    assert record.total_energy_j == pytest.approx(1234.5 + 210.25)
    assert record.energy_wh_total == pytest.approx((1234.5 + 210.25) / 3600)

    def window(name: str, duration_s: float, energy_j: float, parent: str | None = None):
        return WindowResult(
            name=name,
            started_at=0.0,
            duration_s=duration_s,
            energy_j={"gpu:0": energy_j},
            provenance={"gpu:0": "measured"},
            method={"gpu:0": "counter"},
            parent=parent,
        )

    others = [
        window("load", 2.0, 10.0),
        window("inner", 99.0, 500.0, parent="generate"),
        window("generate", 8.0, 300.0),
        window("generate-2", 8.0, 301.0),
    ]
    record = make_record(windows=others)
    assert record.main_window is others[2]  # longest top-level; the first of a tie
    assert record.total_energy_j == 300.0
    assert record.window("generate-2") is others[3]
    assert record.window("absent") is None


def test_completed_leaves_out_retryable_failures(store, make_record):
    store.add(make_record(sweep="s", config_key="a", repeat=0))
    store.add(
        make_record(
            sweep="s",
            config_key="b",
            repeat=0,
            status="failed",
            error="WindowError: a window named 'step:1' is already open",
            failure_kind="infrastructure",
            windows=[],
        )
    )
    store.add(
        make_record(
            sweep="s", config_key="c", repeat=0, status="failed", error="OOM", failure_kind="config"
        )
    )
    assert store.completed("s") == {("a", 0), ("c", 0)}
    assert [r.retryable for r in store.runs(sweep="s")] == [False, True, False]


def test_a_retry_replaces_the_retryable_failure_and_keeps_its_error(store, make_record):
    failed = dict(sweep="s", config_key="b", repeat=0, status="failed", windows=[])
    store.add(
        make_record(**failed, error="SourceReadError: NVML lost", failure_kind="infrastructure")
    )
    store.add(make_record(sweep="s", config_key="b", repeat=0, extra={"k": 1}))
    (run,) = store.runs(sweep="s")
    assert run.ok and run.extra["k"] == 1
    assert run.extra["earlier_attempts"] == [
        {"error": "SourceReadError: NVML lost", "started_at": 1_700_000_000.0}
    ]
    assert store.completed("s") == {("b", 0)}
    # A genuine failure is not replaced: storing the point again is a duplicate.
    store.add(make_record(**{**failed, "config_key": "c"}, error="OOM", failure_kind="config"))
    with pytest.raises(DuplicateRunError):
        store.add(make_record(sweep="s", config_key="c", repeat=0))


def test_failure_kind_is_checked_before_sql(store, make_record):
    with pytest.raises(ValueError, match="ok run has no failure_kind"):
        store.add(make_record(failure_kind="config"))
    with pytest.raises(ValueError, match="failure_kind must be one of"):
        store.add(make_record(status="failed", failure_kind="cosmic rays"))
    assert store.count() == 0
