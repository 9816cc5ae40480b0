"""The counted compute of every suite model's typical query, shipped with genwatt.

Counting a query on the meta device needs torch and transformers, seconds to import,
and up to two more seconds for a large model. A prediction at a task's typical query
(its anchor datasets' mean sizes, batch 1, the model's own precision or the one AI
Energy Score fixes) is what `genwatt predict --model M` and `--protocol` ask for most,
so those counts ship in ``typical_task_compute.json`` and answer without torch. Other
settings are counted and then cached on disk (``task_predictor.cached_compute``).

Regenerate after a change to ``genwatt.flops.task_compute`` (a test recounts a sample
and fails on drift):

    python -m genwatt.predict.typical_compute --write
"""

from __future__ import annotations

import argparse
import json
from functools import cache
from pathlib import Path
from typing import Any

from genwatt.flops.task_inputs import generation_settings
from genwatt.models.tasks.protocols import PROTOCOLS, Protocol, protocol_dtype
from genwatt.models.tasks.registry import list_task_models
from genwatt.models.tasks.spec import TaskModelSpec
from genwatt.models.tasks.workloads import has_own_workload

SHIPPED = Path(__file__).resolve().parent / "calibrations" / "tasks" / "typical_task_compute.json"


def compute_key(spec: TaskModelSpec, task: str, settings: dict[str, Any]) -> str:
    """The key a count is stored under, shipped or cached: model, task and settings."""
    return json.dumps([spec.repo_id, task, settings], sort_keys=True, default=str)


def protocol_beams(protocol: Protocol | None, spec: TaskModelSpec, task: str) -> int | None:
    """1 where ``protocol`` generates greedily and ``spec`` would otherwise search over
    beams on ``task``; None (the model's own) everywhere else. Only an override enters a
    count's settings, so counts without one keep their keys."""
    if protocol is None or not protocol.greedy:
        return None
    new_tokens, beams = generation_settings(spec, task)
    return 1 if new_tokens is not None and beams > 1 else None


def protocol_overrides(
    protocol: Protocol | None,
    spec: TaskModelSpec,
    task: str,
    *,
    sizes_given: bool,
    new_tokens_given: bool = False,
) -> dict[str, Any]:
    """What ``protocol`` changes in a count of ``spec`` on ``task`` beyond its precision:
    one beam where it generates greedily, its own generation length where it fixes one
    (unless the caller gave the length), and the datasets of its typical query where it
    draws ``task``'s queries from its own (unless the caller gave the sizes). Only
    overrides enter a count's settings, so other counts keep their keys."""
    overrides: dict[str, Any] = {}
    beams = protocol_beams(protocol, spec, task)
    if beams is not None:
        overrides["beams"] = beams
    if protocol is not None and not new_tokens_given:
        fixed = protocol.new_tokens_for(task)
        if fixed is not None and generation_settings(spec, task)[0] is not None:
            overrides["new_tokens"] = fixed
    if protocol is not None and not sizes_given and has_own_workload(protocol.name, task):
        overrides["workload"] = protocol.name
    return overrides


def typical_settings(spec: TaskModelSpec, task: str) -> list[dict[str, Any]]:
    """The settings of a typical query: batch 1, default sizes, and each precision (None:
    the model's own) and override a protocol may fix for ``spec`` on ``task``."""
    base = {"batch": 1, "input_tokens": None, "new_tokens": None, "image_hw": None, "audio_s": None}
    variants: list[dict[str, Any]] = [{**base, "dtype": None}]
    for protocol in PROTOCOLS.values():
        settings = {
            **base,
            "dtype": protocol_dtype(protocol, task, None),
            **protocol_overrides(protocol, spec, task, sizes_given=False),
        }
        if settings not in variants:
            variants.append(settings)
    return variants


@cache
def shipped_counts() -> dict[str, dict[str, Any]]:
    """Key -> ``TaskCompute.to_dict()`` of every shipped count (empty if none ship)."""
    try:
        return json.loads(SHIPPED.read_text())["counts"]
    except (OSError, ValueError, KeyError):
        return {}


def count_all() -> dict[str, dict[str, Any]]:
    """Every non-diffusion model's typical query on each of its tasks, counted now."""
    from genwatt.flops.task_compute import task_compute

    counts = {}
    for spec in list_task_models():
        if spec.is_diffusion:
            continue
        for task in spec.tasks:
            for settings in typical_settings(spec, task):
                counts[compute_key(spec, task, settings)] = task_compute(
                    spec, task, **settings
                ).to_dict()
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Count every suite model's typical query.")
    parser.add_argument("--write", action="store_true", help=f"write {SHIPPED.name}")
    args = parser.parse_args(argv)
    from genwatt.version import __version__

    counts = count_all()
    if args.write:
        SHIPPED.write_text(
            json.dumps({"genwatt_version": __version__, "counts": counts}, sort_keys=True)
        )
    print(f"{len(counts)} typical queries counted" + (f"; wrote {SHIPPED}" if args.write else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
