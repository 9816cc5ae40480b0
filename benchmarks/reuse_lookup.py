"""How long the reuse store takes to find a prompt's nearest stored neighbour.

``ReuseStore.nearest`` reads every candidate embedding of the same settings and takes
one matrix product (a linear scan). This measures whether that needs an index: stores
of 100 to 20,000 entries (384-dim embeddings, MiniLM's width; tiny clips, since the clip
is not read by a lookup) get 25 timed ``nearest`` and ``find_exact`` calls each, after
one untimed warm-up, and the median and 90th percentile are reported in milliseconds.

For scale: the store is bounded in bytes (1 GiB by default), and one stored clip of a
real model is large (81 frames at 480x832 as float32 is about 390 MB; even the 3-frame
32 px reference clip with its latents is tens of kB), so a store rarely holds more than
thousands of entries, while one denoising step of a real model takes seconds.

With ``--clip-kb N`` every entry stores an incompressible clip of N kB. That measures
what grows with the stored bytes rather than the entry count: the bound check each
insert runs (the sum of the entries' sizes) and the insert itself. Schema version 1
kept clips inside the ``entries`` rows, so the bound check walked every clip's overflow
pages; version 2 keeps them apart.

    .venv/bin/python benchmarks/reuse_lookup.py [--sizes 100 1000 5000 20000] [--json F]
    .venv/bin/python benchmarks/reuse_lookup.py --sizes 100 200 400 --clip-kb 768
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genwatt.mitigate.reuse_store import SCHEMA_VERSION, NewEntry, ReuseStore

EMBEDDING_DIM = 384
SETTINGS_KEY = "bench"
EMBEDDER = "bench-embedder"


def _clip(clip_kb: int, rng: np.random.Generator) -> np.ndarray:
    """A clip that stores as ``clip_kb`` kB: random 8-bit values, which zlib cannot shrink."""
    if clip_kb <= 0:
        return np.zeros((1, 4, 4, 3), dtype=np.float32)
    return rng.random((1, 1, clip_kb * 1024 // 3, 3), dtype=np.float32)


def _fill(store: ReuseStore, numbers: range, rng: np.random.Generator, clip_kb: int) -> None:
    """Add one entry per number, prompted "prompt number N"."""
    video = _clip(clip_kb, rng)
    for i in numbers:
        store.add(
            NewEntry(
                settings_key=SETTINGS_KEY,
                model="bench",
                settings={},
                prompt=f"prompt number {i}",
                steps=30,
                video=video,
                seed=0,
                embedder=EMBEDDER,
                embedding=rng.standard_normal(EMBEDDING_DIM).astype(np.float32),
            )
        )


def _timings_ms(call: Callable[[], object], repeats: int) -> dict[str, float]:
    call()  # warm-up: SQLite's page cache, numpy's first allocation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 3),
        "p90_ms": round(times[int(0.9 * (len(times) - 1))], 3),
    }


def measure(
    sizes: Sequence[int], repeats: int, *, clip_kb: int = 0, seed: int = 0
) -> list[dict[str, Any]]:
    """Lookup times for a store of each size, grown in one file from the smallest."""
    rng = np.random.default_rng(seed)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        store = ReuseStore(Path(folder) / "reuse.db", max_bytes=None, video_dtype="uint8")
        try:
            filled = 0
            for size in sorted(sizes):
                added = size - filled
                started = time.perf_counter()
                _fill(store, range(filled, size), rng, clip_kb)
                insert_ms = 1000 * (time.perf_counter() - started) / max(1, added)
                filled = size
                query = rng.standard_normal(EMBEDDING_DIM).astype(np.float32)
                nearest = _timings_ms(
                    lambda q=query: store.nearest(SETTINGS_KEY, EMBEDDER, q), repeats
                )
                exact = _timings_ms(
                    lambda p=f"prompt number {size // 2}": store.find_exact(SETTINGS_KEY, p),
                    repeats,
                )
                # What every insert runs before it may evict: the sum of the entries' sizes.
                bound_check = _timings_ms(store.total_bytes, repeats)
                rows.append(
                    {
                        "entries": size,
                        "stored_mb": round(store.total_bytes() / 1e6, 1),
                        "nearest": nearest,
                        "find_exact": exact,
                        "bound_check": bound_check,
                        "insert_ms_mean": round(insert_ms, 3),
                    }
                )
                print(
                    f"{size:>6} entries: nearest {nearest['median_ms']:.2f} ms "
                    f"(p90 {nearest['p90_ms']:.2f}), exact {exact['median_ms']:.2f} ms, "
                    f"bound check {bound_check['median_ms']:.2f} ms, insert {insert_ms:.2f} ms",
                    flush=True,
                )
        finally:
            store.close()
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000, 20000])
    parser.add_argument("--repeats", type=int, default=25)
    parser.add_argument(
        "--clip-kb", type=int, default=0, help="stored size of each clip (0: a 4x4 pixel clip)"
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    if min(args.sizes) < 1 or args.repeats < 1 or args.clip_kb < 0:
        parser.error("sizes and repeats must be positive, clip-kb at least 0")
    result = {
        "command": "python benchmarks/reuse_lookup.py " + " ".join(argv or sys.argv[1:]),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "reuse_store_schema": SCHEMA_VERSION,
        "embedding_dim": EMBEDDING_DIM,
        "repeats": args.repeats,
        "clip_kb": args.clip_kb,
        "rows": measure(args.sizes, args.repeats, clip_kb=args.clip_kb),
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
