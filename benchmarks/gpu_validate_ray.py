"""Check the Ray executor on a real GPU: NVML energy per run, and the UUID mapping.

Runs a small tiny-WAN sweep on CUDA with ``--executor ray`` (a local Ray instance that
sees the machine's GPUs), then reads the store and checks, for every run:

- it ran as a Ray task on a GPU Ray assigned, and recorded that GPU's UUID;
- that UUID is a GPU NVML lists on this machine, and the run's GPU energy domain is the
  board with that UUID (its device string names it), read from NVML's counter
  (provenance ``measured``), with a positive figure;
- whether another process shared the GPU (``contaminated``).

Writes JSON to ``--out`` (a folder) and prints it. Run on a lent GPU machine from the
repository root, e.g.:

    python3 -m pip install -q -e '.[ray]' && \\
    PYTHONUNBUFFERED=1 python3 benchmarks/gpu_validate_ray.py --out $OUT

Never part of the test suite: it needs a GPU.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

SPEC = (
    "name: ray-gpu-check\nmodel: wan-tiny\nweights: tiny\ndevice: cuda\nguidance: 5.0\n"
    "repeats: 2\nwarmup: 1\ngrid: {num_frames: [5, 9], height: [32, 64], width: [64], "
    "steps: [4]}\n"
)


def nvml_uuids() -> list[str]:
    """Every GPU's UUID as NVML lists them; none where NVML cannot start (a CPU machine,
    where this script only checks its own flow)."""
    import pynvml

    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        print(f"NVML unavailable: {exc}", file=sys.stderr)
        return []
    try:
        found = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            uuid = pynvml.nvmlDeviceGetUUID(pynvml.nvmlDeviceGetHandleByIndex(index))
            found.append(uuid.decode() if isinstance(uuid, bytes) else str(uuid))
        return found
    finally:
        pynvml.nvmlShutdown()


def check_run(record, uuids: list[str]) -> dict:
    where = record.extra.get("executor", {})
    uuid = where.get("gpu_uuid")
    window = record.main_window
    gpu_domains = {
        name: {
            "energy_j": window.energy_j.get(name),
            "provenance": str(window.provenance.get(name)),
            "error": window.errors.get(name),
        }
        for name in (window.provenance if window is not None else {})
        if name.startswith("gpu")
    }
    devices = [d.get("device", "") for d in record.environment.get("gpus", [])]
    return {
        "config_key": record.config_key,
        "repeat": record.repeat,
        "ok": record.ok,
        "error": record.error,
        "attempts": where.get("attempts"),
        "ray_gpu_ids": where.get("gpu_ids"),
        "gpu_uuid": uuid,
        "uuid_known_to_nvml": uuid in uuids,
        "gpu_domains": gpu_domains,
        "measured_positive": any(
            d["provenance"] == "measured" and (d["energy_j"] or 0) > 0 for d in gpu_domains.values()
        ),
        "environment_gpus": devices,
        "contaminated": record.extra.get("contaminated"),
        "sharing": where.get("gpu_sharing"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path())
    args = parser.parse_args()
    from genwatt.store.store import ResultsStore

    uuids = nvml_uuids()
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "ray_gpu.yaml"
        spec.write_text(SPEC)
        store = Path(tmp) / "ray_gpu.db"
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
            "--executor",
            "ray",
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        report = json.loads(done.stdout) if done.returncode == 0 else None
        with ResultsStore(store) as results:
            runs = [check_run(r, uuids) for r in results.runs(sweep="ray-gpu-check")]
    result = {
        "command": " ".join(command[1:]),
        "returncode": done.returncode,
        "stderr_tail": done.stderr[-2000:],
        "nvml_uuids": uuids,
        "placement": report.get("placement") if report else None,
        "runs": runs,
        "all_measured": bool(runs) and all(r["measured_positive"] for r in runs),
        "all_uuids_known": bool(runs) and all(r["uuid_known_to_nvml"] for r in runs),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gpu-validate-ray.json").write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2, default=str))


if __name__ == "__main__":
    main()
