"""What the Ray executor costs per configuration, against the local executor.

Runs the same tiny sweep twice into fresh stores, in one process after the other:
``genwatt sweep SPEC`` (the local executor: one process, one workload built once) and
``genwatt sweep SPEC --executor ray`` (a local Ray instance sized to this machine, one
fresh worker process per configuration). Prints and writes the wall times, the ratio,
and the extra seconds per configuration. Both commands are timed whole, start-up
included, as a user sees them.

On a machine with more cores than configurations in flight, Ray also runs
configurations side by side, which the local executor never does: the ratio is the
cost of isolation and placement net of that parallelism, on this machine. The
per-configuration overhead (mostly a fresh Python process importing torch and the
model's library, and building the model again) is what a real sweep pays once per
configuration, next to minutes of GPU time each.

    python benchmarks/ray_overhead.py [--spec examples/wan_tiny_sweep.yaml] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _timed_sweep(spec: Path, store: Path, extra: list[str]) -> tuple[float, int]:
    command = [
        sys.executable,
        "-m",
        "genwatt.cli.app",
        "sweep",
        str(spec),
        "--store",
        str(store),
        "--json",
        "--no-report",
        *extra,
    ]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout)
    return elapsed, int(report["ran"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=ROOT / "examples" / "wan_tiny_sweep.yaml")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "ray-overhead-cpu.json"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        local_s, local_runs = _timed_sweep(args.spec, Path(tmp) / "local.db", [])
        ray_s, ray_runs = _timed_sweep(args.spec, Path(tmp) / "ray.db", ["--executor", "ray"])
    if local_runs != ray_runs:
        raise SystemExit(f"the two sweeps stored {local_runs} and {ray_runs} runs")
    result = {
        "spec": str(args.spec.relative_to(ROOT) if args.spec.is_relative_to(ROOT) else args.spec),
        "configurations": local_runs,
        "local_s": round(local_s, 2),
        "ray_s": round(ray_s, 2),
        "ratio_ray_over_local": round(ray_s / local_s, 2),
        "overhead_s_per_configuration": round((ray_s - local_s) / local_runs, 2),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "command": "python benchmarks/ray_overhead.py",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
