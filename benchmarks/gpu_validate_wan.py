"""Validate genwatt's GPU measurement against "Video Killed the Energy Budget" (H100).

Runs WAN2.1-T2V-1.3B with random weights (compute, hence latency and energy, does not
depend on weight values) at points the paper measured, through genwatt's own runner
with NVML's energy counter, and compares GPU energy and latency with
shared/reference/video_energy_budget/wan21_1.3b_sweep_points_h100.csv (and the 832x480
point quoted in shared/reference/README.md). Writes a markdown table and JSON.

The paper used diffusers with UniPC (flow_shift 5), transformer in bf16, VAE in fp32,
guidance 5, one warm-up; so does this script (the registry's WAN spec). Differences to
expect: the paper's CodeCarbon tracker integrated 1 s power samples around several runs
at once; genwatt reads the energy counter around each generation.

Run on a lent H100 (device tool), from the repository root, with diffusers carried as
wheels if the machine lacks them (see the device README), e.g.:

    python3 -m pip install -q -e . && \\
    PYTHONUNBUFFERED=1 python3 benchmarks/gpu_validate_wan.py --points quick --out $OUT

Never part of the test suite: it needs a GPU and minutes per point.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[1] / "shared/reference/video_energy_budget"
REFERENCE_FALLBACK = Path(__file__).resolve().parents[2] / "shared/reference/video_energy_budget"
# From shared/reference/README.md: the resolution sweep's 832x480 point (81 frames, 50 steps).
EXTRA_POINTS = [
    {
        "sweep": "resolution",
        "num_frames": 81,
        "height": 480,
        "width": 832,
        "steps": 50,
        "duration_s": None,
        "energy_gpu_wh": 19.2,
    }
]
QUICK = {("frames", 19), ("frames", 52), ("steps", 14), ("resolution", 81)}


def reference_points(folder: Path | None = None) -> list[dict]:
    """The paper's WAN-1.3B points; ``folder`` defaults to shared/ in or beside the repo.

    shared/ does not travel to a lent GPU machine: copy the folder into a carried path
    of the repository and pass it with --reference.
    """
    folder = folder or (REFERENCE if REFERENCE.exists() else REFERENCE_FALLBACK)
    with (folder / "wan21_1.3b_sweep_points_h100.csv").open() as handle:
        rows = [
            {
                "sweep": r["sweep"],
                "num_frames": int(r["num_frames"]),
                "height": int(r["height"]),
                "width": int(r["width"]),
                "steps": int(r["steps"]),
                "duration_s": float(r["duration_s"]),
                "energy_gpu_wh": float(r["energy_gpu_kwh"]) * 1000.0,
            }
            for r in csv.DictReader(handle)
        ]
    return rows + EXTRA_POINTS


def point_id(p: dict) -> tuple[str, int]:
    return (p["sweep"], p["num_frames"] if p["sweep"] != "steps" else p["steps"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", choices=["quick", "paper"], default="quick")
    parser.add_argument("--out", type=Path, default=Path("gpu_validation"))
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--model", default="wan2.1-t2v-1.3b")
    parser.add_argument("--reference", type=Path, default=None, help="video_energy_budget folder")
    args = parser.parse_args()

    from genwatt.run.sweep_report import run_sweep
    from genwatt.run.sweep_spec import Grid, SweepSpec

    points = reference_points(args.reference)
    if args.points == "quick":
        points = [p for p in points if point_id(p) in QUICK]
    args.out.mkdir(parents=True, exist_ok=True)
    store = args.store or args.out / "gpu_validation.db"
    rows = []
    for p in points:
        spec = SweepSpec(
            model=args.model,
            weights="random",
            device="cuda",
            dtype="bfloat16",
            grid=Grid(
                num_frames=[p["num_frames"]],
                height=[p["height"]],
                width=[p["width"]],
                steps=[p["steps"]],
            ),
            guidance=5.0,
            warmup=1,
            repeats=1,
        )
        report = run_sweep(spec, store=store, sweep=f"validate-{args.model}")
        summary = report.summaries[0]
        record_gpu_wh = None
        if summary.runs:
            from genwatt.store.store import ResultsStore

            with ResultsStore(store) as results:
                runs = [
                    r
                    for r in results.runs(sweep=f"validate-{args.model}")
                    if r.config_key == summary.key and r.ok
                ]
            gpu_j = [r.main_window.energy_j.get("gpu:0") for r in runs]
            record_gpu_wh = sum(gpu_j) / len(gpu_j) / 3600.0 if all(gpu_j) else None
        rows.append(
            {
                **p,
                "measured_latency_s": summary.mean_latency_s if summary.runs else None,
                "measured_gpu_wh": record_gpu_wh,
                "provenance": str(summary.provenance),
                "error": summary.errors[0] if summary.errors else None,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    (args.out / "gpu_validation.json").write_text(json.dumps(rows, indent=2))
    lines = [
        "| sweep | frames | size | steps | paper s | genwatt s | paper GPU Wh "
        "| genwatt GPU Wh | ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = (r["measured_gpu_wh"] / r["energy_gpu_wh"]) if r["measured_gpu_wh"] else None
        lines.append(
            f"| {r['sweep']} | {r['num_frames']} | {r['width']}x{r['height']} | {r['steps']} | "
            f"{r['duration_s'] or '-'} | {r['measured_latency_s'] or '-'} | "
            f"{r['energy_gpu_wh']:.2f} | "
            f"{r['measured_gpu_wh'] or '-'} | {f'{ratio:.2f}' if ratio else '-'} |"
        )
    (args.out / "gpu_validation.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
