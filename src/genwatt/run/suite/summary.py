"""What a suite found, per task and model: Wh per 1,000 queries, phases, stars, quality.

Built from stored runs only, so ``genwatt suite --json`` and a later report read the
same figures. Whole-machine energy (every domain the meter read, as Power Hungry
Processing counted it) and GPU-only energy (AI Energy Score's score; None without a
GPU) are reported side by side, each with its provenance. Stars compare the models of
a task at the same batch size, on the protocol's basis (GPU energy where there is one,
else the whole machine's, said in ``basis``); under AI Energy Score text generation is
rated within size classes. ``multi_purpose_ratio`` is the median energy per query of a
task's multi-purpose models over the median of its task-specific ones.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from typing import Any

from genwatt.analysis.stars import linear_band_stars, log_band_stars, size_class
from genwatt.meter.aggregate import weakest_of
from genwatt.meter.phases import GENERATION, OTHER, breakdown
from genwatt.meter.result import Provenance, WindowResult
from genwatt.models.tasks.catalog import TASK_NAMES
from genwatt.store.records import RunRecord
from genwatt.units import j_to_wh

PER = 1000  # queries
MIN_MODELS = 2  # stars need a range: at least two models at the same batch size


def _is_gpu(domain: str) -> bool:
    return domain.startswith("gpu")


def _energy_j(window: WindowResult, gpu_only: bool) -> float | None:
    values = [v for d, v in window.energy_j.items() if _is_gpu(d) or not gpu_only]
    return sum(values) if values else None


def _provenance(window: WindowResult, gpu_only: bool) -> str | None:
    kind = weakest_of(p for d, p in window.provenance.items() if _is_gpu(d) or not gpu_only)
    return None if kind is None else str(Provenance(kind))


def _per_1000_wh(energy_j: float | None, queries: int) -> float | None:
    return None if energy_j is None or queries < 1 else j_to_wh(energy_j) * PER / queries


def _idle_net_j(run: RunRecord, total: WindowResult) -> float | None:
    idle = run.extra.get("idle")
    if not idle:
        return None
    power_w = idle.get("power_w", {})
    return sum(v - power_w.get(d, 0.0) * total.duration_s for d, v in total.energy_j.items())


def model_entry(run: RunRecord) -> dict[str, Any]:
    """One model's row: energies per 1,000 queries, phases, latency and quality."""
    c = run.config
    entry: dict[str, Any] = {
        "model": c["model"],
        "repo_id": c.get("repo_id"),
        "kind": c["kind"],
        "params": c.get("params"),
        "batch_size": c["batch_size"],
        "weights": c["weights"],
        "status": str(run.status),
        "queries": run.extra.get("queries_run", c["queries"]),
    }
    if not run.ok or not run.windows:
        entry.update(
            energy_wh_per_1000=None,
            gpu_energy_wh_per_1000=None,
            energy_provenance=None,
            latency_s_per_query=None,
            phases={},
            stars=None,
            quality=None,
            error=run.error,
        )
        return entry
    n = entry["queries"]
    parts = breakdown(run.windows)
    total = parts.total
    phases = {**parts.phases, OTHER: parts.other}
    machine_j = _energy_j(total, gpu_only=False)
    gpu_j = _energy_j(total, gpu_only=True)
    quality = run.extra.get("quality") or {}
    correct = quality.get("correct")
    entry.update(
        energy_wh_per_1000=_per_1000_wh(machine_j, n),
        gpu_energy_wh_per_1000=_per_1000_wh(gpu_j, n),
        energy_provenance=_provenance(total, gpu_only=False),
        gpu_energy_provenance=_provenance(total, gpu_only=True),
        energy_wh_per_1000_net_of_idle=_per_1000_wh(_idle_net_j(run, total), n),
        latency_s_per_query=total.duration_s / n,
        phases={
            name: {
                "energy_wh_per_1000": _per_1000_wh(_energy_j(w, gpu_only=False), n),
                "gpu_energy_wh_per_1000": _per_1000_wh(_energy_j(w, gpu_only=True), n),
            }
            for name, w in phases.items()
        },
        phases_add_up=parts.adds_up,
        stars=None,
        quality=(
            {
                **quality,
                "energy_wh_per_correct": (
                    j_to_wh(machine_j) / correct if correct and machine_j is not None else None
                ),
            }
            if "metric" in quality
            else None
        ),
        quality_note=quality.get("reason"),
    )
    return entry


def score_basis(entries: Sequence[dict[str, Any]], protocol: str) -> str:
    """What stars and rankings score: GPU energy where every entry has it (AI Energy
    Score's basis), else the whole machine's (Power Hungry Processing's, always)."""
    has_gpu = bool(entries) and all(e["gpu_energy_wh_per_1000"] is not None for e in entries)
    if protocol == "power-hungry-processing" or not has_gpu:
        return "machine"
    return "gpu"


def rate_task(task: str, entries: list[dict[str, Any]], protocol: str) -> None:
    """Fill in each ok entry's stars, within batch size (and size class for text
    generation, as AI Energy Score rates it); None where fewer than two models share
    the group."""
    ok = [e for e in entries if e["status"] == "ok" and e["energy_wh_per_1000"]]
    if not ok:
        return
    basis = score_basis(ok, protocol)
    key = "gpu_energy_wh_per_1000" if basis == "gpu" else "energy_wh_per_1000"
    groups: dict[tuple[int, str | None], list[dict[str, Any]]] = {}
    for e in ok:
        klass = size_class(e["params"]) if task == "text-generation" else None
        groups.setdefault((e["batch_size"], klass), []).append(e)
    for (_, klass), members in groups.items():
        if len(members) < MIN_MODELS:
            continue  # one model has nothing to be rated against
        values = [m[key] for m in members]
        low, high = min(values), max(values)
        for m in members:
            m["stars"] = {
                "ai_energy_score": linear_band_stars(m[key], low, high),
                "log_bands": log_band_stars(m[key], low, high),
                "basis": basis,
                "size_class": klass,
                "models_compared": len(members),
            }


def multi_purpose_ratio(entries: Iterable[dict[str, Any]]) -> float | None:
    """Median energy per query of the multi-purpose models over the task-specific ones'
    (batch size 1 where both ran it, else the smallest shared one); None without both."""
    ok = [e for e in entries if e["status"] == "ok" and e["energy_wh_per_1000"]]
    shared = sorted(
        {e["batch_size"] for e in ok if e["kind"] == "multi-purpose"}
        & {e["batch_size"] for e in ok if e["kind"] == "task-specific"}
    )
    if not shared:
        return None
    size = shared[0]
    general = [
        e["energy_wh_per_1000"]
        for e in ok
        if e["kind"] == "multi-purpose" and e["batch_size"] == size
    ]
    specific = [
        e["energy_wh_per_1000"]
        for e in ok
        if e["kind"] == "task-specific" and e["batch_size"] == size
    ]
    return statistics.median(general) / statistics.median(specific)


def suite_summary(runs: Sequence[RunRecord], protocol: str = "genwatt") -> dict[str, Any]:
    """The suite's JSON: ``{"tasks": [{"task", "models": [...], "multi_purpose_ratio"}]}``
    in the catalog's task order; the latest run of each configuration counts."""
    latest: dict[str, RunRecord] = {}
    for run in sorted(runs, key=lambda r: r.id or 0):
        if run.window(GENERATION) is not None or not run.ok:
            latest[run.config_key or str(run.id)] = run
    by_task: dict[str, list[dict[str, Any]]] = {}
    for run in latest.values():
        by_task.setdefault(run.config["task"], []).append(model_entry(run))
    tasks = []
    for task in sorted(by_task, key=lambda t: TASK_NAMES.index(t) if t in TASK_NAMES else 99):
        entries = by_task[task]
        rate_task(task, entries, protocol)
        tasks.append(
            {
                "task": task,
                "models": entries,
                "multi_purpose_ratio": multi_purpose_ratio(entries),
            }
        )
    return {"protocol": protocol, "tasks": tasks}
