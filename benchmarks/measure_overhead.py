"""What ``genwatt measure`` adds to the command it wraps: start-up, meter, report.

A command runs alternately bare (A) and as ``genwatt measure --no-store -- CMD`` (B),
both as fresh processes started from this one: A B A B ... so that drift in machine
load hits both alike. The overhead per command is the median of B - A over the pairs
(seconds, what a user waits for in addition), and the ratio the median of B / A. The
default command, ``true``, does nothing: its overhead is genwatt's whole fixed cost
(interpreter start, imports, meter start and stop, the report). ``--store`` measures
with the results store (opened and checked before the command, written after it) in
a temporary folder instead of ``--no-store``.

    .venv/bin/python benchmarks/measure_overhead.py [--pairs 21] [--store] [-- CMD ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

GENWATT = Path(sys.executable).with_name("genwatt")


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU time of one run of ``command`` (seconds); a failure stops the
    benchmark. CPU time is the noise-robust one on a machine shared with others."""
    cpu0, start = _children_cpu_s(), time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, check=False)
    elapsed_s, cpu_s = time.perf_counter() - start, _children_cpu_s() - cpu0
    if done.returncode != 0:
        sys.exit(f"{command} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed_s, cpu_s


def measure_pairs(
    command: list[str], pairs: int, store: Path | None, pycache: Path
) -> dict[str, Any]:
    """Interleaved bare and measured runs; the medians and spreads of their difference.

    Bytecode is cached in ``pycache`` (and written even where the environment says not
    to), as for an installed genwatt: otherwise every run would compile its sources.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    storing = ["--store", str(store)] if store is not None else ["--no-store"]
    wrapped = [str(GENWATT), "measure", "--json", *storing, "--", *command]
    run_once(command, env)  # warm the page cache for both
    run_once(wrapped, env)
    bare, measured = [], []
    for _ in range(pairs):
        bare.append(run_once(command, env))
        measured.append(run_once(wrapped, env))
    bare_s, measured_s = [w for w, _ in bare], [w for w, _ in measured]
    cpu_overhead_s = [b[1] - a[1] for a, b in zip(bare, measured, strict=True)]
    overhead_s = sorted(b - a for a, b in zip(bare_s, measured_s, strict=True))
    ratios = sorted(b / a for a, b in zip(bare_s, measured_s, strict=True))
    quartiles = statistics.quantiles(overhead_s, n=4)
    return {
        "command": command,
        "store": store is not None,
        "pairs": pairs,
        "bare_s_median": statistics.median(bare_s),
        "measured_s_median": statistics.median(measured_s),
        "overhead_s_median": statistics.median(overhead_s),
        "overhead_s_iqr": [quartiles[0], quartiles[2]],
        "overhead_s_range": [overhead_s[0], overhead_s[-1]],
        "ratio_median": statistics.median(ratios),
        "cpu_overhead_s_median": statistics.median(cpu_overhead_s),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=21, help="bare/measured pairs to time")
    parser.add_argument("--store", action="store_true", help="store each run (temp folder)")
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument("command", nargs="*", default=["true"], help="the command (after --)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "overhead.db" if args.store else None
        pycache = Path(folder) / "pycache"
        result = measure_pairs(args.command or ["true"], args.pairs, store, pycache)
    print(
        f"{' '.join(result['command'])}: bare {result['bare_s_median'] * 1e3:.1f} ms, "
        f"under genwatt measure ({'store' if args.store else 'no store'}) "
        f"{result['measured_s_median'] * 1e3:.1f} ms; overhead per command "
        f"{result['overhead_s_median'] * 1e3:.0f} ms median "
        f"(IQR {result['overhead_s_iqr'][0] * 1e3:.0f}-{result['overhead_s_iqr'][1] * 1e3:.0f} "
        f"ms, {result['pairs']} pairs), ratio {result['ratio_median']:.2f}x; "
        f"CPU time added {result['cpu_overhead_s_median'] * 1e3:.0f} ms median"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
