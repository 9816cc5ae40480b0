"""Several processes writing one store at once: every run lands, none twice.

Each writer is a fresh ``python -c`` process (no fork, no shared connection). They
wait on a go-file so that their writes truly overlap, and they open the store only
after it, so creating the store and switching it to WAL also race.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from genwatt.store import ResultsStore

_WRITER = """
import json, sys, time
from pathlib import Path
from genwatt.meter.result import WindowResult
from genwatt.store import DuplicateRunError, ResultsStore, RunRecord

path, go, worker, count, sweep = sys.argv[1:6]
go, count = Path(go), int(count)
print("ready", flush=True)
deadline = time.time() + 20
while not go.exists() and time.time() < deadline:
    time.sleep(0.005)
added = duplicates = 0
with ResultsStore(path) as store:
    for i in range(count):
        window = WindowResult(name="run", started_at=float(i), duration_s=0.5,
                              energy_j={"gpu:0": float(i)}, provenance={"gpu:0": "measured"},
                              method={"gpu:0": "counter"})
        key = f"k{i}" if sweep == "shared" else f"{worker}-k{i}"
        record = RunRecord(kind="sweep", started_at=float(i), duration_s=0.5,
                           windows=[window], environment={"worker": worker},
                           sweep=sweep, config_key=key, extra={"worker": worker})
        try:
            store.add(record)
            added += 1
        except DuplicateRunError:
            duplicates += 1
print(json.dumps({"added": added, "duplicates": duplicates}), flush=True)
"""


def _run_writers(path: Path, workers: int, count: int, sweep: str) -> list[dict[str, int]]:
    go = path.with_suffix(".go")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), str(go), f"w{n}", str(count), sweep],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(workers)
    ]
    for proc in procs:  # every writer has started Python and imported genwatt
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    go.touch()
    reports = []
    deadline = time.monotonic() + 60
    for proc in procs:
        out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        assert proc.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return reports


def test_concurrent_writers_all_succeed(tmp_path):
    path = tmp_path / "shared.db"  # does not exist yet: creation races too
    reports = _run_writers(path, workers=3, count=50, sweep="own")
    assert [r["added"] for r in reports] == [50, 50, 50]
    with ResultsStore(path) as store:
        assert store.journal_mode == "wal"
        runs = store.runs()
        assert len(runs) == 150
        for worker in ("w0", "w1", "w2"):
            mine = [r for r in runs if r.extra["worker"] == worker]
            assert sorted(r.config_key for r in mine) == sorted(f"{worker}-k{i}" for i in range(50))
            assert all(r.windows[0].energy_j["gpu:0"] == r.started_at for r in mine)


def test_concurrent_writers_of_the_same_points_store_each_once(tmp_path):
    path = tmp_path / "race.db"
    ResultsStore(path).close()
    reports = _run_writers(path, workers=2, count=40, sweep="shared")
    assert sum(r["added"] for r in reports) == 40
    assert sum(r["duplicates"] for r in reports) == 40
    with ResultsStore(path) as store:
        assert store.completed("shared") == {(f"k{i}", 0) for i in range(40)}
        assert store.count() == 40
