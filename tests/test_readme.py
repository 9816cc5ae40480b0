"""Every example in README.md runs as written, offline, on this CPU machine.

The fenced Python blocks run one by one in a subprocess, in a temporary folder with
``GENWATT_STORE`` pointing into it; none may hide work behind a ``...`` placeholder.
The quick-start commands (the fenced bash blocks) run in the order the README gives
them, in one temporary folder whose ``./genwatt.db`` is the store, so that ``genwatt
results`` and ``genwatt report`` read what ``genwatt measure`` stored. A command too
slow or needing hardware this machine lacks is listed in ``SKIPPED`` with the reason;
its ``--help`` must still work, and where it can plan without running (``--dry-run``)
its plan must too. A new README command is run unless it is added to ``SKIPPED``.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from genwatt.predict.video_energy_budget import find_reference_dir

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

# A quick-start command that is not run here, and why.
SLOW = "minutes of CPU generating with wan-reference; tests/mitigate cover the strategies"
SKIPPED = {
    "make demo": "builds .venv and installs genwatt: the environment this test runs in",
    "make test": "runs the whole test suite, this file included",
    "genwatt bench": "96 tiny generations (~20 s of CPU); tests/cli/test_bench_cli.py runs it",
    "genwatt bench --model wan2.1-t2v-1.3b --weights random --device cuda --dtype bfloat16": (
        "needs a CUDA GPU for the real-size WAN"
    ),
    "genwatt sweep examples/wan_tiny_sweep.yaml": (
        "24 tiny generations (~11 s of CPU); tests/cli/test_bench_cli.py runs sweeps"
    ),
    "genwatt bench --model wan-reference --weights pretrained": "17 generations of 30 steps",
    "genwatt sweep examples/wan_tiny_sweep.yaml --executor ray": (
        "24 fresh Ray workers (~90 s of CPU); tests/run/test_ray_executor.py runs the "
        "executor from the command line, a killed driver and a resume included"
    ),
    "genwatt suite": (
        "46 tiny configurations (~65 s of CPU); tests/cli/test_suite_cli.py runs every task"
    ),
    "genwatt suite --protocol ai-energy-score --weights random --device cuda --tasks "
    "text-generation --models openai-community/gpt2": "needs a CUDA GPU",
    "genwatt mitigate": SLOW,
    "genwatt mitigate --strategies magcache:0.1,genwatt-adaptive,fewer-steps:15 --json": SLOW,
    "genwatt mitigate --strategies genwatt-adaptive-3x,fewer-steps:10": SLOW,
}

# Exit codes other than 0 that a command documents, and why they are right here.
EXPECTED_EXIT = {
    "genwatt check-reference shared/reference/video_energy_budget/cross_model_h100.csv": (
        {0, 1},
        "exits 1 when it flags rows, as it does for rows of this published table",
    ),
    "genwatt calibrate --gpu h100-sxm --from genwatt.db": (
        {2},
        "the store holds CPU runs only: a one-line error asks for GPU runs first",
    ),
}

# Stand-ins for the user's own scripts that the quick start measures.
USER_SCRIPTS = {
    "my_script.py": "print(sum(i * i for i in range(100_000)))\n",
    "gen.py": "print('generated')\n",
}

PYTHON_TIMEOUT_S = 120  # the tiny pipeline takes seconds; a real-size call takes minutes
COMMAND_TIMEOUT_S = 60


def fenced_blocks(text: str, language: str) -> list[str]:
    """The bodies of the ```language fences in ``text``, in order."""
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def quickstart_commands(text: str) -> list[str]:
    """Every command line of the bash blocks, without its comment, in README order."""
    commands = []
    for block in fenced_blocks(text, "bash"):
        for line in block.splitlines():
            argv = shlex.split(line, comments=True)
            if argv:
                commands.append(shlex.join(argv))
    return commands


def placeholders(code: str) -> list[int]:
    """Lines where an example stands ``...`` in for code it should show."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(code))
        if isinstance(node, ast.Constant) and node.value is Ellipsis
    ]


def hermetic_env(store: Path) -> dict[str, str]:
    """No powercap tree, no GPU, no country from the developer's shell; this venv first
    on PATH so that ``genwatt`` and ``python`` are the ones under test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENWATT_")}
    env.update(
        {
            "GENWATT_STORE": str(store),
            "GENWATT_POWERCAP_ROOT": str(store.parent / "no-powercap"),
            "CUDA_VISIBLE_DEVICES": "",
            "HIP_VISIBLE_DEVICES": "",
            "COLUMNS": "200",
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        }
    )
    return env


def run(argv: list[str], cwd: Path, timeout_s: float) -> subprocess.CompletedProcess[str]:
    env = hermetic_env(cwd / "genwatt.db")
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
    )


TEXT = README.read_text()
PYTHON_BLOCKS = fenced_blocks(TEXT, "python")
COMMANDS = quickstart_commands(TEXT)
RUN = [c for c in COMMANDS if c not in SKIPPED]
SKIP = [c for c in COMMANDS if c in SKIPPED]


@dataclass(frozen=True)
class QuickStart:
    folder: Path
    results: dict[str, subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> QuickStart:
    """Runs every command not skipped, in README order, in one folder."""
    if not (Path(sys.executable).parent / "genwatt").exists():
        pytest.skip(f"no genwatt console script next to {sys.executable}")
    folder = tmp_path_factory.mktemp("quickstart")
    for name, body in USER_SCRIPTS.items():
        (folder / name).write_text(body)
    (folder / "examples").symlink_to(ROOT / "examples")
    reference = find_reference_dir()
    if reference is not None:
        (folder / "shared" / "reference").mkdir(parents=True)
        (folder / "shared" / "reference" / reference.name).symlink_to(reference)
    results = {}
    for command in RUN:
        if "shared/reference" in command and reference is None:
            continue
        results[command] = run(shlex.split(command), folder, COMMAND_TIMEOUT_S)
    return QuickStart(folder, results)


def test_readme_has_examples_and_every_skip_is_a_readme_command() -> None:
    assert len(PYTHON_BLOCKS) >= 2 and len(RUN) >= 10
    stale = sorted(set(SKIPPED) - set(COMMANDS))
    assert not stale, f"SKIPPED names commands the README no longer has: {stale}"


@pytest.mark.parametrize("command", RUN)
def test_quickstart_command_runs(quickstart: QuickStart, command: str) -> None:
    if command not in quickstart.results:
        pytest.skip("shared/reference was not found inside or beside the repository")
    result = quickstart.results[command]
    codes, why = EXPECTED_EXIT.get(command, ({0}, ""))
    assert result.returncode in codes, (
        f"{command} exited {result.returncode} ({why or 'expected 0'}):\n"
        f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    )
    assert "Traceback" not in result.stderr, result.stderr
    if result.returncode == 2:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr


def test_quickstart_files_are_where_the_readme_says(quickstart: QuickStart) -> None:
    """The commands' outputs land where they are documented to, from the store they name."""
    folder = quickstart.folder
    assert (folder / "genwatt.db").is_file()
    assert (folder / "runs.csv").read_text().count("\n") >= 3  # header + both measurements
    assert (folder / "report.html").is_file()


@pytest.mark.parametrize("command", SKIP)
def test_skipped_command_is_at_least_documented(command: str, tmp_path: Path) -> None:
    """A skipped genwatt command's --help works; make targets exist in the Makefile."""
    argv = shlex.split(command)
    if argv[0] == "make":
        makefile = (ROOT / "Makefile").read_text()
        assert re.search(rf"^{argv[1]}:", makefile, flags=re.MULTILINE), SKIPPED[command]
        return
    result = run([argv[0], argv[1], "--help"], tmp_path, COMMAND_TIMEOUT_S)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


@pytest.mark.parametrize("command", [c for c in SKIP if c.split()[1:2] in (["bench"], ["sweep"])])
def test_skipped_run_plans_with_dry_run(command: str, tmp_path: Path) -> None:
    """What a skipped bench or sweep would run is still checked: its plan, offline."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    result = run([*shlex.split(command), "--dry-run"], tmp_path, COMMAND_TIMEOUT_S)
    assert result.returncode == 0, f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    assert not (tmp_path / "genwatt.db").exists()


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_python_example_runs_as_written(index: int, tmp_path: Path) -> None:
    code = PYTHON_BLOCKS[index]
    lines = placeholders(code)
    assert not lines, f"README Python example {index + 1} has `...` placeholders (lines {lines})"
    script = tmp_path / f"readme_example_{index + 1}.py"
    script.write_text(code)
    result = run([sys.executable, str(script)], tmp_path, PYTHON_TIMEOUT_S)
    assert result.returncode == 0, f"{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
