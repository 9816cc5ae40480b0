"""``genwatt measure`` end to end: the real console script metering real commands."""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import json
import os
import pty
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from genwatt.carbon import WORLD, grid_intensity
from genwatt.cli import measure as measure_cli
from genwatt.cli.measure import MeasureOptions
from genwatt.run.command import OUTLIVED_FLAG
from genwatt.store import ResultsStore

PY = sys.executable
BUSY = "import time\nprint('from the child')\nwhile time.process_time() < 0.2: pass\n"


def measure_json(genwatt, *args: str) -> tuple[dict, str, int]:
    done = genwatt("measure", "--json", *args)
    return json.loads(done.stdout), done.stderr, done.returncode


def test_measure_json_report(genwatt) -> None:
    report, stderr, code = measure_json(genwatt, "--no-store", "--", PY, "-c", BUSY)
    assert code == 0
    assert "from the child" in stderr  # the command's stdout must not spoil the JSON
    assert report["exit_code"] == 0
    assert 0.2 <= report["duration_s"] < 10
    assert set(report["energy_j"]) == {"cpu:0", "dram:0"}
    assert report["provenance"] == {"cpu:0": "estimated", "dram:0": "estimated"}
    # The child burnt at least 0.2 s of CPU: at least that many thread-seconds of power.
    watts_per_thread = report["assumptions"]["cpu:0"]["watts_per_thread"]
    assert report["energy_j"]["cpu:0"] >= 0.2 * watts_per_thread
    # DRAM is charged for the memory the command holds, at most all of it.
    dram_w = psutil.virtual_memory().total / 1e9 * 0.375
    assert 0 < report["energy_j"]["dram:0"] <= dram_w * report["duration_s"] * 1.02
    total_j = sum(report["energy_j"].values())
    assert report["energy_wh_total"] == pytest.approx(total_j / 3600, rel=1e-12)
    assert report["co2e_g"] == pytest.approx(total_j / 3.6e6 * WORLD.g_per_kwh, rel=1e-12)
    assert report["carbon"]["intensity"]["is_default"] is True
    assert "run_id" not in report
    assert {m["source"] for m in report["missing_counters"]} >= {"nvml", "rapl"}


def test_measure_timeline(genwatt) -> None:
    code = "import time; time.sleep(0.45)"
    report, _, _ = measure_json(genwatt, "--no-store", "--timeline", "--", PY, "-c", code)
    timeline = report["timeline"]
    assert 2 <= len(timeline["t_s"]) <= 6  # one sample per 100 ms
    dram_w = psutil.virtual_memory().total / 1e9 * 0.375
    assert all(0 < power_w <= dram_w * 1.02 for power_w in timeline["power_w"]["dram:0"])


@pytest.mark.parametrize(
    ("code", "exit_code"),
    [
        ("import sys; sys.exit(3)", 3),
        ("import os, signal; os.kill(os.getpid(), signal.SIGTERM)", 128 + signal.SIGTERM),
    ],
)
def test_genwatt_exits_with_the_command_exit_code(genwatt, code: str, exit_code: int) -> None:
    report, _, returncode = measure_json(genwatt, "--no-store", "--", PY, "-c", code)
    assert returncode == exit_code
    assert report["exit_code"] == exit_code
    assert report["energy_j"]["dram:0"] > 0


def test_country_changes_the_co2e(genwatt) -> None:
    report, _, _ = measure_json(genwatt, "--no-store", "--country", "FR", "--", PY, "-c", "pass")
    france = grid_intensity("FR")
    assert report["carbon"]["intensity"]["iso3"] == "FRA"
    assert report["carbon"]["intensity"]["is_default"] is False
    total_j = sum(report["energy_j"].values())
    assert report["co2e_g"] == pytest.approx(total_j / 3.6e6 * france.g_per_kwh, rel=1e-12)
    assert france.g_per_kwh != WORLD.g_per_kwh


def test_an_unknown_country_is_a_clear_error_before_anything_runs(genwatt, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w')"
    done = genwatt("measure", "--no-store", "--country", "XX", "--", PY, "-c", code)
    assert done.returncode == 2
    assert "error:" in done.stderr
    assert "No grid carbon intensity for country 'XX'" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr
    assert not marker.exists()


def test_a_command_that_does_not_exist(genwatt) -> None:
    done = genwatt("measure", "--no-store", "--", "genwatt-no-such-command")
    assert done.returncode == 2
    assert "command not found: genwatt-no-such-command" in done.stderr
    assert "Traceback" not in done.stderr


def test_store_keeps_the_run(genwatt, tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    report, _, code = measure_json(genwatt, "--store", str(db), "--", PY, "-c", "exit(4)")
    assert code == 4
    assert report["store"] == str(db)
    with ResultsStore(db) as store:
        (run,) = store.runs()
        assert store.runs(kind="measure") == [run]
    assert run.id == report["run_id"]
    assert run.kind == "measure" and run.status == "failed" and run.error == "exit code 4"
    assert run.extra["exit_code"] == 4
    assert run.extra["co2e_g"] == report["co2e_g"]
    assert run.config["command"].endswith("-c 'exit(4)'")
    (window,) = run.windows
    assert window.name == "run"
    assert window.energy_j == report["energy_j_gross"]
    assert window.duration_s == report["duration_s"]


def test_codecarbon_csv_gets_the_stored_runs_row(genwatt, tmp_path: Path) -> None:
    import pandas as pd

    from genwatt.store.codecarbon_csv import COLUMNS

    db, csv_path = tmp_path / "results.db", tmp_path / "out" / "emissions.csv"
    args = ("--store", str(db), "--country", "FR", "--codecarbon-csv", str(csv_path))
    report, _, code = measure_json(genwatt, *args, "--", PY, "-c", "pass")
    assert code == 0
    assert report["codecarbon_csv"] == str(csv_path)
    measure_json(genwatt, *args, "--", PY, "-c", "exit(3)")
    frame = pd.read_csv(csv_path)
    assert list(frame.columns) == list(COLUMNS)  # one header for both rows
    first = frame.iloc[0]
    assert first["genwatt_run_id"] == report["run_id"]
    assert first["genwatt_kind"] == "measure"
    assert first["energy_consumed"] == pytest.approx(report["energy_j_total"] / 3.6e6)
    assert first["emissions"] == pytest.approx(report["co2e_g"] / 1000)
    assert first["country_iso_code"] == "FRA"
    assert frame["genwatt_status"].tolist() == ["ok", "failed"]
    # The same runs exported from the store later are recognised, not written twice.
    again = genwatt("results", "--store", str(db), "--codecarbon-csv", str(csv_path))
    assert "wrote 0 runs" in again.stdout and "2 already in the file" in again.stdout


def test_codecarbon_csv_without_a_store_still_knows_the_machine(genwatt, tmp_path: Path) -> None:
    import pandas as pd

    csv_path = tmp_path / "emissions.csv"
    done = genwatt("measure", "--no-store", "--codecarbon-csv", str(csv_path), "--", "true")
    assert done.returncode == 0, done.stderr
    assert f"appended its row to {csv_path}" in " ".join(done.stderr.split())
    (row,) = pd.read_csv(csv_path).to_dict("records")
    assert pd.isna(row["genwatt_run_id"])
    assert row["python_version"] == sys.version.split()[0]  # the environment, probed


def test_a_codecarbon_csv_of_another_schema_is_refused_before_the_command_runs(
    genwatt, tmp_path: Path
) -> None:
    csv_path, marker = tmp_path / "emissions.csv", tmp_path / "ran"
    csv_path.write_text("a,b\n1,2\n")
    done = genwatt("measure", "--codecarbon-csv", str(csv_path), "--", *marker_command(marker))
    assert_refused(done, marker, "refusing to append", str(csv_path))
    assert csv_path.read_text() == "a,b\n1,2\n"


def test_human_report(genwatt) -> None:
    done = genwatt("measure", "--no-store", "--", PY, "-c", "print('child output')")
    assert done.returncode == 0
    assert done.stdout == "child output\n"  # the report goes to stderr
    assert "genwatt measure:" in done.stderr
    assert "estimated" in done.stderr and "exit code 0" in done.stderr


# ----------------------------------------------------- bad input: refused before the run


def marker_command(marker: Path) -> list[str]:
    """A tiny command that leaves ``marker`` behind: proof that it ran."""
    return [PY, "-c", f"open({str(marker)!r}, 'w').write('ran')"]


def assert_refused(done, marker: Path, *phrases: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error:")
    message = " ".join(done.stderr.split())
    for phrase in phrases:
        assert phrase in message
    assert not marker.exists(), "the command ran although genwatt refused"


@pytest.mark.parametrize(
    ("option", "value", "phrase"),
    [
        ("--idle-seconds", "inf", "--idle-seconds must be a finite number"),
        ("--idle-seconds", "nan", "--idle-seconds must be a finite number"),
        ("--idle-seconds", "-1", "--idle-seconds must be a finite number"),
        ("--pue", "nan", "PUE must be between 1 and 3"),
        ("--pue", "inf", "PUE must be between 1 and 3"),
        ("--pue", "0.5", "PUE must be between 1 and 3"),
    ],
)
def test_impossible_numbers_are_refused_before_the_command_runs(
    genwatt, tmp_path: Path, option: str, value: str, phrase: str
) -> None:
    marker = tmp_path / "ran"
    done = genwatt("measure", option, value, "--", *marker_command(marker))
    assert_refused(done, marker, phrase)
    assert not (tmp_path / "genwatt.db").exists()  # nor was the default store created


def corrupt_store(path: Path) -> None:
    path.write_bytes(b"this is no SQLite file, just some bytes" * 100)


def newer_store(path: Path) -> None:
    ResultsStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()


@pytest.mark.parametrize(
    ("make", "phrase"),
    [
        (corrupt_store, "is not a genwatt results store"),
        (newer_store, "was written by a newer genwatt (schema 99"),
        (Path.mkdir, "cannot open the results store"),
    ],
    ids=["corrupt", "newer-schema", "directory"],
)
def test_an_unusable_store_is_refused_before_the_command_runs(
    genwatt, tmp_path: Path, make, phrase: str
) -> None:
    db, marker = tmp_path / "results.db", tmp_path / "ran"
    make(db)
    before = b"" if db.is_dir() else db.read_bytes()
    done = genwatt("measure", "--store", str(db), "--", *marker_command(marker))
    assert_refused(done, marker, str(db), phrase)
    assert before == (b"" if db.is_dir() else db.read_bytes())


def run_main(args: list[str], prelude: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``genwatt ARGS`` in a fresh interpreter after ``prelude`` (patches that a
    subprocess cannot otherwise receive), as the console script runs it."""
    argv = ["genwatt", *args]
    code = f"{prelude}\nimport sys\nfrom genwatt.cli.app import main\nsys.argv = {argv!r}\nmain()\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENWATT_")}
    env.update({"GENWATT_POWERCAP_ROOT": str(cwd / "no-powercap"), "CUDA_VISIBLE_DEVICES": ""})
    return subprocess.run(
        [PY, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


# Every connection genwatt opens is read-only, as on a read-only file or mount; SQLite
# enforces it, so it holds for root too (chmod does not).
READ_ONLY_SQLITE = """
import sqlite3
_connect = sqlite3.connect
def _read_only(path, *args, **kwargs):
    return _connect(f"file:{path}?mode=ro", *args, uri=True, **kwargs)
sqlite3.connect = _read_only
"""


def test_a_read_only_store_is_refused_before_the_command_runs(tmp_path: Path) -> None:
    db, marker = tmp_path / "results.db", tmp_path / "ran"
    ResultsStore(db).close()
    done = run_main(
        ["measure", "--store", str(db), "--", *marker_command(marker)], READ_ONLY_SQLITE, tmp_path
    )
    assert_refused(done, marker, f"cannot write to the results store {db}")
    assert "readonly database" in " ".join(done.stderr.split())  # SQLite's own words


def test_an_immutable_store_file_is_refused_before_the_command_runs(
    genwatt, tmp_path: Path
) -> None:
    """A file the kernel will not let anyone write, root included (``chattr +i``)."""
    db, marker = tmp_path / "results.db", tmp_path / "ran"
    ResultsStore(db).close()
    if subprocess.run(["chattr", "+i", str(db)], capture_output=True, check=False).returncode:
        pytest.skip("chattr +i is not available here (needs root and a file system with it)")
    try:
        done = genwatt("measure", "--store", str(db), "--", *marker_command(marker))
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=True)
    assert_refused(done, marker, f"cannot write to the results store {db}")


FAILING_ADD = """
from genwatt.errors import StoreError
from genwatt.store.store import ResultsStore
def _add(self, record):
    raise StoreError("database or disk is full")
ResultsStore.add = _add
"""


@pytest.mark.parametrize(("code", "exit_code"), [("pass", 2), ("raise SystemExit(5)", 5)])
def test_a_store_failing_at_the_end_loses_no_measurement(
    tmp_path: Path, code: str, exit_code: int
) -> None:
    db = tmp_path / "results.db"
    args = ["measure", "--json", "--store", str(db), "--", PY, "-c", code]
    done = run_main(args, FAILING_ADD, tmp_path)
    assert done.returncode == exit_code
    report = json.loads(done.stdout)  # printed in full, before the error
    assert report["energy_j"]["dram:0"] > 0 and report["duration_s"] > 0
    assert report["store_error"] == "database or disk is full"
    assert "run_id" not in report
    assert done.stderr.strip().splitlines()[-1] == (
        "error: the measurement above was not stored: database or disk is full"
    )
    # The human report too: the table first, the error last.
    done = run_main([a for a in args if a != "--json"], FAILING_ADD, tmp_path)
    assert done.returncode == exit_code
    assert "genwatt measure:" in done.stderr and "dram:0" in done.stderr
    assert done.stderr.index("dram:0") < done.stderr.index("error: the measurement above")


# ------------------------------------------------------------------------- signals


CHILD_STOPPED_BY_SIGTERM = """
import os, signal, sys, time
from pathlib import Path
def stop(signum, frame):
    Path(sys.argv[2]).write_text("got SIGTERM")
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
signal.signal(signal.SIGTERM, stop)
Path(sys.argv[1]).write_text(str(os.getpid()))
time.sleep(60)
"""


def wait_for(path: Path, process: subprocess.Popen[str], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def test_sigterm_reaches_the_whole_command_and_the_run_is_stored(genwatt, tmp_path: Path) -> None:
    """SIGTERM to genwatt reaches a grandchild (the command's own process group), genwatt
    waits for it, stores the run and exits 143."""
    script, ready, marker = tmp_path / "child.py", tmp_path / "ready", tmp_path / "stopped"
    script.write_text(CHILD_STOPPED_BY_SIGTERM)
    db = tmp_path / "results.db"
    # A parent that dies of SIGTERM at once, so only the group signal reaches the child.
    child = [PY, str(script), str(ready), str(marker)]
    parent = f"import subprocess, sys; sys.exit(subprocess.call({child!r}))"
    process = subprocess.Popen(
        [str(genwatt.executable), "measure", "--json", "--store", str(db), "--", PY, "-c", parent],
        cwd=tmp_path,
        env=genwatt.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(ready, process)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert marker.read_text() == "got SIGTERM"
    report = json.loads(stdout)
    assert report["exit_code"] == 128 + signal.SIGTERM and report["signal"] == "SIGTERM"
    with ResultsStore(db) as store:
        (run,) = store.runs()
    assert run.id == report["run_id"]
    assert run.status == "failed" and run.extra["exit_code"] == 143
    assert run.extra["signal"] == "SIGTERM"
    assert "SIGTERM" in run.error
    (window,) = run.windows
    assert window.duration_s == report["duration_s"] > 0
    assert window.energy_j == report["energy_j_gross"] and window.energy_j["dram:0"] > 0


def test_processes_that_outlive_the_command_are_flagged(genwatt, tmp_path: Path) -> None:
    pid_file = tmp_path / "daemon.pid"
    daemon = (
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(30)"
    )
    code = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', {daemon!r}], stdout=subprocess.DEVNULL, "
        "stderr=subprocess.DEVNULL)\n"
    )
    code += f"while not __import__('os').path.exists({str(pid_file)!r}): time.sleep(0.01)\n"
    try:
        report, _, returncode = measure_json(genwatt, "--no-store", "--", PY, "-c", code)
    finally:
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
    assert returncode == 0
    for domain in report["energy_j"]:
        assert OUTLIVED_FLAG in report["flags"][domain]
    plain, _, _ = measure_json(genwatt, "--no-store", "--", PY, "-c", "pass")
    assert not any(OUTLIVED_FLAG in notes for notes in plain["flags"].values())


# ------------------------------------------------------------------------- start-up


HEAVY = ("torch", "diffusers", "matplotlib", "scipy", "pandas", "pydantic", "typer", "rich")

RECORD_IMPORTS_AT_START = f"""
import subprocess, sys
_init = subprocess.Popen.__init__
def _record(self, *args, **kwargs):
    loaded = sorted(m for m in {HEAVY!r} if m in sys.modules)
    print("loaded when the command started:", loaded, file=sys.stderr)
    _init(self, *args, **kwargs)
subprocess.Popen.__init__ = _record
"""


@pytest.mark.parametrize(
    "options",
    [[], ["--no-store"], ["--codecarbon-csv", "emissions.csv"]],
    ids=["store", "no-store", "codecarbon-csv"],
)
def test_nothing_heavy_is_imported_before_the_command_starts(
    tmp_path: Path, options: list[str]
) -> None:
    """Every measured command waits for genwatt's start-up: no plotting, no ML
    framework, and not even the CLI framework (typer builds pydantic validators)."""
    args = ["measure", *options, "--", "true"]
    done = run_main(args, RECORD_IMPORTS_AT_START, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "loaded when the command started: []" in done.stderr


def test_the_fast_command_line_knows_every_typer_option() -> None:
    """``parse_args`` (used before typer is imported) and the typer command agree on
    every option's spelling and default."""
    command = measure_cli.measure
    fields = {f.name: f.default for f in dataclasses.fields(MeasureOptions)}
    for name, parameter in inspect.signature(command).parameters.items():
        if name == "command":
            continue
        info = parameter.default
        (flag,) = info.param_decls
        assert info.default == fields[name], name
        spelled = measure_cli._SWITCHES.get(flag) or measure_cli._VALUES[flag][0]
        assert spelled == name
    assert len(inspect.signature(command).parameters) == len(fields)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--", "true"], MeasureOptions(["true"])),
        (["true", "--json"], MeasureOptions(["true", "--json"])),
        (
            ["--json", "--idle-seconds=0.5", "--country", "FR", "--pue", "1.2", "--", "ls", "-l"],
            MeasureOptions(["ls", "-l"], json_out=True, idle_seconds=0.5, country="FR", pue=1.2),
        ),
        (
            ["--no-store", "--timeline", "--store", "x.db", "sleep", "1"],
            MeasureOptions(["sleep", "1"], timeline=True, store=Path("x.db"), no_store=True),
        ),
        (
            ["--cloud", "gcp:europe-west1", "--", "true"],
            MeasureOptions(["true"], cloud="gcp:europe-west1"),
        ),
        (
            ["--codecarbon-csv", "emissions.csv", "--", "true"],
            MeasureOptions(["true"], codecarbon_csv=Path("emissions.csv")),
        ),
        (["--codecarbon-csv"], None),
        (["--cloud", "--json", "true"], None),
        (["--idle-seconds", "-1", "true"], MeasureOptions(["true"], idle_seconds=-1.0)),
        (["--help"], None),
        (["--json"], None),
        (
            [
                "--",
            ],
            None,
        ),
        (["--bogus", "true"], None),
        (["--pue", "high", "true"], None),
        (["--country", "--json", "true"], None),
        (["--store"], None),
        (["--json=yes", "true"], None),
    ],
)
def test_parse_args(args: list[str], expected: MeasureOptions | None) -> None:
    assert measure_cli.parse_args(args) == expected


def test_typer_still_handles_help_and_typos(genwatt) -> None:
    done = genwatt("measure", "--help")
    assert done.returncode == 0 and "--idle-seconds" in done.stdout
    done = genwatt("measure", "--pue", "high", "--", "true")
    assert done.returncode == 2 and "Traceback" not in done.stderr and "--pue" in done.stderr


@contextlib.contextmanager
def _on_a_terminal(genwatt, argv: list[str]) -> Iterator[tuple[int, int]]:
    """Run ``argv`` in a session of its own with a pty as its terminal; yield its pid
    and the pty's controller. A failed test leaves no process behind."""
    pid, terminal = pty.fork()
    if pid == 0:  # the child: a session of its own with the pty as its terminal
        os.chdir(genwatt.cwd)
        os.execve(argv[0], argv, genwatt.env)
    try:
        yield pid, terminal
    except BaseException:
        _kill_tree(pid)
        raise
    finally:
        os.close(terminal)


def _kill_tree(pid: int) -> None:
    """Kill a process and its descendants (a failed test must leave none behind)."""
    try:
        process = psutil.Process(pid)
        for child in [*process.children(recursive=True), process]:
            child.kill()
    except psutil.NoSuchProcess:
        pass
    os.waitpid(pid, 0)


TERMINAL_CHILD = """
import sys, time
from pathlib import Path
line = input()
Path(sys.argv[1]).write_text(line)
try:
    time.sleep(30)
except KeyboardInterrupt:
    Path(sys.argv[2]).write_text("interrupted")
    sys.exit(130)
"""


def test_at_a_terminal_the_command_reads_it_and_gets_ctrl_c(genwatt, tmp_path: Path) -> None:
    """In its own process group the command would be a background job of the terminal
    (stopped when it reads it, deaf to Ctrl-C); genwatt lends it the terminal."""
    line_file, marker = tmp_path / "line", tmp_path / "interrupted"
    argv = [str(genwatt.executable), "measure", "--no-store", "--", PY, "-c", TERMINAL_CHILD]
    with _on_a_terminal(genwatt, [*argv, str(line_file), str(marker)]) as (pid, terminal):
        os.write(terminal, b"typed at the terminal\n")
        deadline = time.monotonic() + 30
        while not line_file.exists():
            assert time.monotonic() < deadline, "the command never read the terminal"
            time.sleep(0.02)
        os.write(terminal, b"\x03")  # Ctrl-C
        output = b""
        while True:
            try:
                chunk = os.read(terminal, 4096)
            except OSError:  # EIO: every process holding the terminal is gone
                break
            if not chunk:
                break
            output += chunk
        _, status = os.waitpid(pid, 0)
    assert line_file.read_text() == "typed at the terminal"
    assert marker.read_text() == "interrupted"
    assert os.waitstatus_to_exitcode(status) == 130, output.decode(errors="replace")
    assert b"exit code 130" in output


def test_ctrl_z_stops_genwatt_with_the_command_and_fg_resumes_both(genwatt, tmp_path: Path) -> None:
    """Job control as without genwatt: Ctrl-Z gives the shell its prompt back (genwatt
    stops too), and resuming the job resumes the command, in the foreground."""
    ready, marker = tmp_path / "ready", tmp_path / "interrupted"
    code = (
        "import sys, time\nfrom pathlib import Path\nPath(sys.argv[1]).touch()\n"
        "try:\n    time.sleep(30)\nexcept KeyboardInterrupt:\n"
        "    Path(sys.argv[2]).touch()\n    sys.exit(130)\n"
    )
    argv = [str(genwatt.executable), "measure", "--no-store", "--", PY, "-c", code]
    with _on_a_terminal(genwatt, [*argv, str(ready), str(marker)]) as (pid, terminal):
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert time.monotonic() < deadline, "the command never started"
            time.sleep(0.02)
        os.write(terminal, b"\x1a")  # Ctrl-Z
        _, status = os.waitpid(pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status), "genwatt did not stop with the command"
        (command,) = psutil.Process(pid).children()
        assert command.status() == psutil.STATUS_STOPPED
        os.kill(pid, signal.SIGCONT)  # what the shell's `fg` sends
        deadline = time.monotonic() + 30
        while command.status() == psutil.STATUS_STOPPED:
            assert time.monotonic() < deadline, "the command was not resumed"
            time.sleep(0.02)
        os.write(terminal, b"\x03")  # and it has the terminal again: Ctrl-C reaches it
        _, status = os.waitpid(pid, 0)
    assert marker.exists()
    assert os.waitstatus_to_exitcode(status) == 130
