"""The Ray executor on a real local Ray cluster (one per test session, see conftest).

Fake configuration jobs (``ray_fakes.py``) make the cluster's failures happen on cue:
a worker that dies once, one that always dies, one that raises out of memory, a node
removed while its tasks run. The sweep tests run the real tiny WAN sweep through the
runner and the command line.
"""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from genwatt.run.executor import RECORD_KEY
from genwatt.run.executor_choice import make_executor
from genwatt.run.ray_executor import INFRA_FAILED, RayExecutor, RayOptions
from genwatt.store.records import FailureKind, RunStatus
from genwatt.store.store import ResultsStore

pytestmark = pytest.mark.slow


def _run(jobs, tmp_path: Path, **options):
    """Run ``jobs`` on the executor into a fresh store; return the store's runs."""
    store_path = tmp_path / "ray.db"
    with ResultsStore(store_path) as store:
        placement = RayExecutor(RayOptions(**options)).run(
            jobs, lambda job, record: store.add(record)
        )
        runs = store.runs()
    return placement, {r.config_key: r for r in runs}, runs


def test_every_job_is_stored_once_with_where_it_ran(ray_fakes, tmp_path: Path) -> None:
    jobs = [ray_fakes.FakeJob(f"c{i}", "ok", str(tmp_path)) for i in range(8)]
    placement, by_key, runs = _run(jobs, tmp_path, gpus_per_config=1)
    assert len(runs) == 8 and set(by_key) == {f"c{i}" for i in range(8)}
    assert placement.jobs == 8 and len(placement.nodes) == 1
    for record in runs:
        assert record.ok
        where = record.extra[RECORD_KEY]
        assert where["attempts"] == 1 and len(where["gpu_ids"]) == 1
        assert where["node_id"] in placement.nodes
    # No two tasks held the same GPU at once.
    spans: dict[str, list[tuple[float, float]]] = {}
    for record in runs:
        where = record.extra[RECORD_KEY]
        spans.setdefault(where["gpu_ids"][0], []).append((where["started"], where["finished"]))
    assert set(spans) <= {"0", "1"}
    for intervals in spans.values():
        intervals.sort()
        for (_, end), (start, _) in itertools.pairwise(intervals):
            assert start >= end


def test_a_worker_that_dies_is_retried_and_stored_once(ray_fakes, tmp_path: Path) -> None:
    jobs = [
        ray_fakes.FakeJob("steady", "ok", str(tmp_path)),
        ray_fakes.FakeJob("crashy", "die_once", str(tmp_path)),
    ]
    placement, by_key, runs = _run(jobs, tmp_path)
    assert len(runs) == 2
    assert by_key["crashy"].ok and by_key["crashy"].extra[RECORD_KEY]["attempts"] == 2
    assert by_key["steady"].extra[RECORD_KEY]["attempts"] == 1
    assert len(ray_fakes.attempts_of(tmp_path, "crashy")) == 2
    assert placement.retried == 1


def test_an_out_of_memory_error_is_a_result_not_retried(ray_fakes, tmp_path: Path) -> None:
    jobs = [
        ray_fakes.FakeJob("big", "raise_oom", str(tmp_path)),
        ray_fakes.FakeJob("small", "ok", str(tmp_path)),
    ]
    _, by_key, runs = _run(jobs, tmp_path)
    assert len(runs) == 2 and by_key["small"].ok
    failed = by_key["big"]
    assert failed.status == RunStatus.FAILED and "out of memory" in failed.error
    assert failed.failure_kind == FailureKind.CONFIG and not failed.retryable
    assert failed.extra[RECORD_KEY]["attempts"] == 1
    assert len(ray_fakes.attempts_of(tmp_path, "big")) == 1


def test_a_job_whose_every_attempt_dies_is_stored_infra_failed(ray_fakes, tmp_path: Path) -> None:
    jobs = [ray_fakes.FakeJob("doomed", "die_always", str(tmp_path))]
    placement, by_key, _ = _run(jobs, tmp_path, max_retries=1)
    record = by_key["doomed"]
    assert record.status == RunStatus.FAILED and record.retryable  # a resume runs it again
    assert record.error.startswith(INFRA_FAILED)
    assert record.extra[INFRA_FAILED] is True and record.extra[RECORD_KEY]["attempts"] == 2
    assert placement.infra_failed == 1


def test_a_removed_node_has_its_jobs_retried_elsewhere(
    ray_cluster, ray_fakes, tmp_path: Path
) -> None:
    import threading

    import ray

    alive = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
    gpus_before = ray.cluster_resources().get("GPU", 0)
    node = ray_cluster.add_node(num_cpus=2, num_gpus=2)
    ray_cluster.wait_for_nodes()
    (doomed,) = {n["NodeID"] for n in ray.nodes() if n["Alive"]} - alive
    # Registered is not yet schedulable: wait until the scheduler counts the new GPUs,
    # or every job could start on the head node and nothing would be removed mid-run.
    deadline = time.monotonic() + 30
    while ray.cluster_resources().get("GPU", 0) < gpus_before + 2:
        assert time.monotonic() < deadline, "the added node's GPUs never became schedulable"
        time.sleep(0.05)
    jobs = [ray_fakes.FakeJob(f"n{i}", "ok", str(tmp_path), seconds=4.0) for i in range(4)]

    def remove_when_busy() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(p.name.endswith(doomed) for p in tmp_path.glob("n*.*")):
                ray_cluster.remove_node(node, allow_graceful=False)
                return
            time.sleep(0.05)

    remover = threading.Thread(target=remove_when_busy)
    remover.start()
    try:
        placement, by_key, runs = _run(jobs, tmp_path, gpus_per_config=1)
    finally:
        remover.join()
    assert len(runs) == 4 and all(r.ok for r in runs)
    moved = [k for k in by_key if ray_fakes.attempts_of(tmp_path, k)[0] == doomed]
    assert moved, "some job must have started on the removed node"
    for key in moved:
        assert by_key[key].extra[RECORD_KEY]["attempts"] == 2
        assert by_key[key].extra[RECORD_KEY]["node_id"] != doomed
    assert placement.retried == len(moved)


def test_local_executor_options_need_ray() -> None:
    from genwatt.errors import ConfigError

    assert make_executor("local") is None
    with pytest.raises(ConfigError, match="--executor ray"):
        make_executor("local", max_parallel=2)
    with pytest.raises(ConfigError, match="must be one of"):
        make_executor("dask")
    with pytest.raises(ConfigError, match="max-parallel"):
        RayOptions(max_parallel=0)


SPEC = (
    "name: ray-tiny\nmodel: wan-tiny\nweights: tiny\nguidance: 5.0\nrepeats: 1\nwarmup: 0\n"
    "grid: {num_frames: [5, 9], height: [32], width: [32, 48], steps: [1, 2]}\n"
)


def _sweep_command(spec: Path, store: Path, *options: str) -> list[str]:
    """``genwatt sweep SPEC --executor ray`` into ``store``, JSON out, plus ``options``."""
    return [
        sys.executable,
        "-m",
        "genwatt.cli.app",
        "sweep",
        str(spec),
        "--store",
        str(store),
        "--json",
        "--no-report",
        "--executor",
        "ray",
        *options,
    ]


def test_a_killed_driver_resumes_to_exactly_the_planned_runs(ray_cluster, tmp_path: Path) -> None:
    spec = tmp_path / "sweep.yaml"
    spec.write_text(SPEC)
    store = tmp_path / "kill.db"
    command = _sweep_command(
        spec, store, "--ray-address", ray_cluster.address, "--gpus-per-config", "1"
    )
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline, stored = time.monotonic() + 240, 0
    while time.monotonic() < deadline and stored < 2 and child.poll() is None:
        time.sleep(0.1)
        if store.exists():
            with ResultsStore(store) as results:
                stored = results.count(sweep="ray-tiny")
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert 2 <= stored < 8, "the driver must be killed part-way"
    with ResultsStore(store) as results:
        before = {(r.config_key, r.repeat): r.id for r in results.runs(sweep="ray-tiny")}
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr[-2000:]
    report = json.loads(finished.stdout)
    assert report["placement"]["executor"] == "ray" and report["placement"]["nodes"] >= 1
    with ResultsStore(store) as results:
        runs = results.runs(sweep="ray-tiny")
    assert len(runs) == 8 and len({(r.config_key, r.repeat) for r in runs}) == 8
    after = {(r.config_key, r.repeat): r.id for r in runs}
    assert all(after[point] == run_id for point, run_id in before.items())  # none run twice
    assert all(r.ok and r.extra[RECORD_KEY]["kind"] == "ray" for r in runs)
    assert report["ran"] == 8 - len(before) and report["skipped"] == len(before)


def test_a_suite_runs_on_the_cluster_and_resumes(ray_cluster, tmp_path: Path) -> None:
    from genwatt.run.suite.execute import run_suite

    store = tmp_path / "suite.db"
    executor = RayExecutor(RayOptions(gpus_per_config=1))
    outcome, _ = run_suite(tasks=["text-classification"], store=store, queries=3, executor=executor)
    assert outcome.failed == 0 and outcome.ran >= 2
    assert outcome.placement is not None and outcome.placement.jobs == outcome.ran
    with ResultsStore(store) as results:
        runs = results.runs(sweep=outcome.suite)
    assert len(runs) == outcome.ran and all(r.ok for r in runs)
    for record in runs:
        assert record.extra[RECORD_KEY]["attempts"] == 1
        assert record.extra["queries_run"] == 3 and record.windows  # measured in the worker
    again, _ = run_suite(tasks=["text-classification"], store=store, queries=3, executor=executor)
    assert again.ran == 0 and again.skipped == outcome.ran


def test_the_command_line_starts_ray_itself_without_an_address(tmp_path: Path) -> None:
    spec = tmp_path / "two.yaml"
    spec.write_text(
        "name: ray-two\nmodel: wan-tiny\nweights: tiny\nguidance: 5.0\nrepeats: 1\nwarmup: 0\n"
        "height: 32\nwidth: 32\ngrid: {num_frames: [5], steps: [1, 2]}\n"
    )
    store = tmp_path / "two.db"
    command = _sweep_command(spec, store, "--max-parallel", "2")
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["ran"] == 2 and report["placement"]["jobs"] == 2
    with ResultsStore(store) as results:
        assert [r.extra[RECORD_KEY]["kind"] for r in results.runs(sweep="ray-two")] == ["ray"] * 2


def test_ray_options_without_ray_executor_are_one_clear_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "genwatt.cli.app",
            "sweep",
            "examples/wan_tiny_sweep.yaml",
            "--max-parallel",
            "4",
            "--store",
            str(tmp_path / "x.db"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["error: --max-parallel: only with --executor ray"]


def test_jobs_no_node_could_run_are_refused_not_queued_for_ever(ray_fakes, tmp_path: Path) -> None:
    from genwatt.errors import ConfigError

    jobs = [ray_fakes.FakeJob("huge", "ok", str(tmp_path))]
    with pytest.raises(ConfigError, match="needs 4 GPU"):
        _run(jobs, tmp_path, gpus_per_config=4)
