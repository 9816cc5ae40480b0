"""How much the meter slows the code it measures, and what one window costs.

Overhead: a fixed CPU-bound pure-Python workload (about 1.5 s) runs alternately
unmeasured (A) and inside a meter window with the power timeline on, sampled every
100 ms (B), in this one process: A B A B ... so that drift in clock speed or machine
load hits both alike. Each pair gives a ratio B / A; the overhead is the median ratio
minus one, and the spread is the range and interquartile range of the ratios. Target:
under 1 %. B's time includes opening and closing its window. Two clocks are compared:
wall time (what a user waits) and the process's CPU time, every thread included. On a
shared machine other programs disturb both by far more than 1 %, so the sampling
thread's own CPU time is reported as well: the part of the overhead no noise can hide.

Window cost: the time of one ``begin`` + ``end`` (and of one ``with meter.window``),
in microseconds, with another window already open (the sampler thread running, as in
a pipeline whose steps are each a window) and alone (which also starts and stops the
sampler thread).

    .venv/bin/python benchmarks/meter_overhead.py [--repeats 7] [--json result.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from genwatt.meter.meter import Meter


def workload(n: int) -> int:
    """Pure-Python integer arithmetic: holds the GIL, like a tokenizer or a scheduler."""
    acc = 0
    for i in range(n):
        acc = (acc + i * i) % 1_000_003
    return acc


def calibrate(target_s: float) -> int:
    """Iterations of ``workload`` that take about ``target_s`` seconds here."""
    n = 200_000
    while True:
        start = time.perf_counter()
        workload(n)
        took = time.perf_counter() - start
        if took > 0.2:
            return max(1, int(n * target_s / took))
        n *= 2


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and process CPU seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def spread(ratios: list[float]) -> dict[str, float]:
    q1, q3 = (
        statistics.quantiles(ratios, n=4, method="inclusive")[::2]
        if len(ratios) > 1
        else (ratios[0], ratios[0])
    )
    median = statistics.median(ratios)
    return {
        "median_ratio": median,
        "overhead_pct": (median - 1) * 100,
        "min_ratio": min(ratios),
        "max_ratio": max(ratios),
        "q1_ratio": q1,
        "q3_ratio": q3,
    }


def sampler_cpu_s() -> float:
    """CPU seconds used so far by the meter's sampling thread (0 when none runs)."""
    return sum(
        time.clock_gettime(time.pthread_getcpuclockid(t.ident))
        for t in threading.enumerate()
        if t.name == "genwatt-sampler" and t.ident is not None
    )


def overhead(repeats: int, work_s: float, period_s: float) -> dict[str, Any]:
    n = calibrate(work_s)
    meter = Meter(timeline=True, sample_period_s=period_s)
    samples: list[int] = []
    sampler_s: list[float] = []

    def metered() -> None:
        with meter.window("workload") as w:
            workload(n)
            sampler_s.append(sampler_cpu_s())  # the thread lives as long as the window
        timeline = w.result.timeline if w.result else None
        samples.append(len(timeline.t_s) if timeline else 0)

    try:
        timed(lambda: workload(n))  # warm-up of both paths, not recorded
        timed(metered)
        samples.clear()
        sampler_s.clear()
        plain, measured = [], []
        for _ in range(repeats):
            plain.append(timed(lambda: workload(n)))
            measured.append(timed(metered))
        domains = [f"{d.name} ({d.source})" for d in meter.domains]
    finally:
        meter.close()
    wall = [b[0] / a[0] for a, b in zip(plain, measured, strict=True)]
    cpu = [b[1] / a[1] for a, b in zip(plain, measured, strict=True)]
    # Noise from other programs only ever adds time: the fastest run of each arm is
    # the least disturbed, and their ratio a second, steadier estimate.
    best = {
        "wall": min(b[0] for b in measured) / min(a[0] for a in plain),
        "cpu": min(b[1] for b in measured) / min(a[1] for a in plain),
    }
    return {
        "iterations": n,
        "repeats": repeats,
        "sample_period_s": period_s,
        "domains": domains,
        "plain_wall_s": [a[0] for a in plain],
        "measured_wall_s": [b[0] for b in measured],
        "plain_cpu_s": [a[1] for a in plain],
        "measured_cpu_s": [b[1] for b in measured],
        "timeline_samples": samples,
        "sampler_cpu_s": sampler_s,
        # The sampler thread's own CPU per second of workload: the part of the overhead
        # that noise from other programs cannot hide.
        "sampler_cpu_pct": sum(sampler_s) / sum(b[0] for b in measured) * 100,
        "wall_ratios": wall,
        "cpu_ratios": cpu,
        "wall": {**spread(wall), "best_of_ratio": best["wall"]},
        "cpu": {**spread(cpu), "best_of_ratio": best["cpu"]},
    }


def per_call_us(fn: Callable[[], object], calls: int, batches: int = 5) -> float:
    """Median over batches of the mean time of one call, in microseconds."""
    fn()
    means = []
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        means.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(means)


def window_costs(calls: int) -> dict[str, float]:
    costs: dict[str, float] = {}
    for label, sources in (("discovered sources", None), ("no sources", [])):
        meter = Meter(sources, sample_period_s=0.1)
        try:

            def begin_end(meter: Meter = meter) -> None:
                meter.begin("step")
                meter.end("step")

            def with_window(meter: Meter = meter) -> None:
                with meter.window("step"):
                    pass

            costs[f"read_j, {label}"] = per_call_us(meter.read_j, calls)
            costs[f"begin+end alone, {label}"] = per_call_us(begin_end, max(1, calls // 10))
            with meter.window("outer"):
                costs[f"begin+end nested, {label}"] = per_call_us(begin_end, calls)
                costs[f"with window nested, {label}"] = per_call_us(with_window, calls)
            meter.results.clear()
        finally:
            meter.close()
    return costs


def tick_cost_us(ticks: int = 2000) -> float:
    """The work of one sampling tick (poll every source, record a timeline sample), run
    on the calling thread: its share of the sampling period is the overhead's floor,
    free of GIL hand-offs and of other programs on the machine."""
    meter = Meter(timeline=True)
    stop = threading.Event()
    meter.begin("tick")
    try:
        start = time.perf_counter()
        for _ in range(ticks):
            for source in meter.sources:
                source.poll()
            meter._record_sample(stop)  # the sampler thread's own body
        return (time.perf_counter() - start) / ticks * 1e6
    finally:
        meter.end("tick")
        meter.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="pairs of A/B runs (default 7)")
    parser.add_argument("--work-s", type=float, default=1.5, help="seconds per workload run")
    parser.add_argument("--period-s", type=float, default=0.1, help="sampling period")
    parser.add_argument("--window-calls", type=int, default=2000, help="windows per batch")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)

    result = overhead(args.repeats, args.work_s, args.period_s)
    costs = window_costs(args.window_calls)
    tick_us = tick_cost_us()
    result["tick_cost_us"] = tick_us
    result["tick_share_pct"] = tick_us / (args.period_s * 1e6) * 100

    print(f"meter overhead on a CPU-bound workload ({platform.processor() or platform.machine()})")
    print(f"domains: {', '.join(result['domains'])}")
    print(
        f"timeline every {result['sample_period_s'] * 1e3:.0f} ms, "
        f"{result['iterations']:,} iterations, {result['repeats']} pairs, interleaved A B A B"
    )
    print()
    header = (
        "pair",
        "A wall s",
        "B wall s",
        "wall B/A",
        "A cpu s",
        "B cpu s",
        "cpu B/A",
        "samples",
    )
    print("  ".join(f"{h:>9}" for h in header))
    rows = zip(
        result["plain_wall_s"],
        result["measured_wall_s"],
        result["wall_ratios"],
        result["plain_cpu_s"],
        result["measured_cpu_s"],
        result["cpu_ratios"],
        result["timeline_samples"],
        strict=True,
    )
    for i, (aw, bw, rw, ac, bc, rc, k) in enumerate(rows):
        cells = (f"{i}", f"{aw:.4f}", f"{bw:.4f}", f"{rw:.4f}", f"{ac:.4f}", f"{bc:.4f}")
        print("  ".join(f"{c:>9}" for c in cells) + f"  {rc:>9.4f}  {k:>9}")
    print()
    for clock in ("wall", "cpu"):
        r = result[clock]
        print(
            f"{clock:>4}: median ratio {r['median_ratio']:.4f}, overhead "
            f"{r['overhead_pct']:+.2f} % (range {(r['min_ratio'] - 1) * 100:+.2f} % to "
            f"{(r['max_ratio'] - 1) * 100:+.2f} %, IQR {(r['q1_ratio'] - 1) * 100:+.2f} % to "
            f"{(r['q3_ratio'] - 1) * 100:+.2f} %); fastest B / fastest A "
            f"{(r['best_of_ratio'] - 1) * 100:+.2f} %"
        )
    print(
        f"one sampling tick: {tick_us:.0f} us = {result['tick_share_pct']:.3f} % of the "
        f"{args.period_s * 1e3:.0f} ms period (work only, no GIL hand-off)"
    )
    print(
        f"sampler thread CPU: {sum(result['sampler_cpu_s']) * 1e3:.0f} ms over "
        f"{sum(result['measured_wall_s']):.1f} s of measured workload = "
        f"{result['sampler_cpu_pct']:.2f} % of one core "
        f"(~{sum(result['sampler_cpu_s']) / max(1, sum(result['timeline_samples'])) * 1e6:.0f} us "
        "per sample)"
    )
    print("target: overhead < 1 %")
    print()
    print(f"{'cost of one call':<42} {'us':>9}")
    for label, us in costs.items():
        print(f"{label:<42} {us:>9.1f}")

    if args.json:
        payload = {
            "benchmark": "meter_overhead",
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "overhead": result,
            "call_cost_us": costs,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
