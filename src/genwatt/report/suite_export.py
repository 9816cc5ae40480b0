"""The suite's results in the shape AI Energy Score publishes: a folder per task and model.

AI Energy Score (shared/reference/ai_energy_score_protocol.md, "Output files") writes,
per model and task, ``benchmark_report.json`` (per phase: energy ``{unit: "kWh", cpu,
ram, gpu, total}``, latency, throughput, efficiency), ``GPU_ENERGY_WH.txt`` (the score:
GPU Wh per 1,000 queries) and ``GPU_ENERGY_SUMMARY.json`` (``total``, ``preprocess_wh``,
``prefill_wh``, ``decode_wh``). ``export_ai_energy_score`` writes the same three files
from stored suite runs, so that a user can set their model beside the published ones:

    DIR/index.json                             every (task, model, batch size) exported
    DIR/<task>/<model>/benchmark_report.json   the smallest batch size stored (1 as a rule)
    DIR/<task>/<model>/GPU_ENERGY_WH.txt
    DIR/<task>/<model>/GPU_ENERGY_SUMMARY.json
    DIR/<task>/<model>/batch_size_<N>/...      the other batch sizes, if any

Model folders are named after the repo id with ``/`` as ``__``. When the runs hold
several groups measured differently (protocol, weights, device, machine), each group
gets a folder of its own above the tasks.

What differs from AI Energy Score, and is said in the files:

- Phases are genwatt's (``preprocess``, ``forward`` or ``encode``/``prefill``/``decode``,
  ``postprocess``, the diffusion phases, and ``other`` for what lies between them), plus
  ``total``, the whole measured call. They add up to ``total``. Energies in
  ``benchmark_report.json`` are over the queries that were measured (``count``); the
  GPU files are per 1,000 queries, scaled from them.
- Domains: ``gpu:*`` is ``gpu``, ``cpu:*`` is ``cpu``, ``dram:*`` is ``ram``; anything
  else the meter read is ``other`` and counts in ``total``. A domain that was not read
  is ``null``, never 0, and every figure has its provenance beside it.
- Without a GPU domain, ``GPU_ENERGY_WH.txt`` says that no GPU was read instead of a
  number, and the summary's figures are ``null``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genwatt.errors import GenwattError
from genwatt.meter.aggregate import weakest_of
from genwatt.meter.phases import DECODE, OTHER, PREFILL, PREPROCESS, breakdown
from genwatt.meter.result import Provenance, WindowResult
from genwatt.report.suite_section import MINIATURE_NOTE, SuiteGroup, suite_section
from genwatt.store.records import RunRecord
from genwatt.units import j_to_kwh
from genwatt.version import __version__

FORMAT = "genwatt-ai-energy-score-export"
FORMAT_VERSION = 1
REPORT_FILE = "benchmark_report.json"
GPU_WH_FILE = "GPU_ENERGY_WH.txt"
GPU_SUMMARY_FILE = "GPU_ENERGY_SUMMARY.json"
INDEX_FILE = "index.json"
TOTAL = "total"
PARTS = ("cpu", "ram", "gpu", "other")
_PART_OF_PREFIX = {"gpu": "gpu", "cpu": "cpu", "dram": "ram"}
# AI Energy Score's summary keys, always written (null where the task has no such phase).
SUMMARY_PHASES = (PREPROCESS, PREFILL, DECODE)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class SuiteExportError(GenwattError):
    """The export cannot be written: no suite run to export, or a folder not writable."""


@dataclass(frozen=True)
class SuiteExport:
    """What ``export_ai_energy_score`` wrote."""

    folder: Path
    exported: int  # (task, model, batch size) folders
    failed: int  # configurations that failed, listed in the index only
    paths: list[Path] = field(default_factory=list)


def domain_part(domain: str) -> str:
    """``gpu:0`` -> ``gpu``, ``cpu:1`` -> ``cpu``, ``dram:0`` -> ``ram``; else ``other``."""
    return _PART_OF_PREFIX.get(domain.split(":", 1)[0], "other")


def safe_name(text: str) -> str:
    """A folder name from a model or task name: ``/`` as ``__``, nothing that steers a path."""
    name = _UNSAFE.sub("-", text.replace("/", "__")).lstrip(".-")
    return name[:120] or "unnamed"


def _weakest(kinds: Sequence[Provenance]) -> str | None:
    kind = weakest_of(kinds)
    return None if kind is None else str(Provenance(kind))


def energy_kwh(window: WindowResult) -> dict[str, Any]:
    """``{unit: "kWh", cpu, ram, gpu, total, provenance: {...}}`` of one window; a part
    the meter did not read is null (``other`` appears only when something was read)."""
    values: dict[str, float] = {}
    kinds: dict[str, list[Provenance]] = {}
    for domain, energy_j in window.energy_j.items():
        part = domain_part(domain)
        values[part] = values.get(part, 0.0) + j_to_kwh(energy_j)
        kinds.setdefault(part, []).append(Provenance(window.provenance[domain]))
    shown = [p for p in PARTS if p != "other" or p in values]
    every = [k for part in kinds.values() for k in part]
    return {
        "unit": "kWh",
        **{p: values.get(p) for p in shown},
        TOTAL: sum(values.values()) if values else None,
        "provenance": {
            **{p: _weakest(kinds.get(p, [])) for p in shown},
            TOTAL: _weakest(every),
        },
    }


def phase_report(window: WindowResult, queries: int) -> dict[str, Any]:
    """One phase as optimum-benchmark's energy-star scenario reports it, over ``queries``."""
    energy = energy_kwh(window)
    total_kwh = energy[TOTAL]
    duration_s = window.duration_s
    return {
        "energy": energy,
        "latency": {
            "unit": "s",
            "count": queries,
            "total": duration_s,
            "mean": duration_s / queries if queries else None,
        },
        "throughput": {
            "unit": "queries/s",
            "value": queries / duration_s if duration_s > 0 else None,
        },
        "efficiency": {
            "unit": "queries/kWh",
            "value": queries / total_kwh if total_kwh else None,
            "provenance": energy["provenance"][TOTAL],
        },
    }


def _notes(entry: dict[str, Any], group: SuiteGroup) -> list[str]:
    notes = [
        f"Energies in {REPORT_FILE} are over the {entry['queries']} queries measured "
        f"(latency.count); {GPU_WH_FILE} and {GPU_SUMMARY_FILE} are per 1,000 queries, "
        "scaled from them.",
        "Phases are genwatt's; 'other' is the energy of the measured call outside every "
        "phase, and the phases add up to 'total', the whole measured call.",
    ]
    if group.miniature:
        notes.append(MINIATURE_NOTE)
    if group.protocol != "ai-energy-score":
        notes.append(
            f"Measured under the {group.protocol} protocol, not AI Energy Score's (batch 1, "
            "1,000 queries, 10 warm-up runs, FP32 but FP16 text generation, an H100): "
            "compare with its published figures with that in mind."
        )
    return notes


def _repo_id(entry: dict[str, Any]) -> str | None:
    """The model's repo id; none for a miniature, which stands for its whole family."""
    return None if entry.get("weights") == "tiny" else entry.get("repo_id")


def benchmark_report(entry: dict[str, Any], record: RunRecord, group: SuiteGroup) -> dict[str, Any]:
    """``benchmark_report.json``: a key per phase and ``total``, and ``genwatt`` with the
    configuration, the figures per 1,000 queries, the stars and the quality."""
    queries = int(entry["queries"])
    parts = breakdown(record.windows)
    report: dict[str, Any] = {
        name: phase_report(window, queries)
        for name, window in {**parts.phases, OTHER: parts.other}.items()
    }
    report[TOTAL] = phase_report(parts.total, queries)
    config = record.config
    report["genwatt"] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "genwatt_version": __version__,
        "run_id": record.id,
        "suite": record.sweep,
        "task": config["task"],
        "model": entry["model"],
        "repo_id": _repo_id(entry),
        "family": config.get("family"),
        "kind": entry["kind"],
        "params": entry.get("params"),
        "batch_size": entry["batch_size"],
        "queries": queries,
        "weights": entry["weights"],
        "device": group.device,
        "hardware": group.hardware,
        "dtype": config.get("dtype"),
        "new_tokens": config.get("new_tokens"),
        "steps": config.get("steps"),
        "guidance": config.get("guidance"),
        "data": config.get("data"),
        "protocol": group.protocol,
        "energy_wh_per_1000": entry["energy_wh_per_1000"],
        "energy_provenance": entry["energy_provenance"],
        "gpu_energy_wh_per_1000": entry["gpu_energy_wh_per_1000"],
        "gpu_energy_provenance": entry.get("gpu_energy_provenance"),
        "latency_s_per_query": entry["latency_s_per_query"],
        "phases_add_up": entry.get("phases_add_up"),
        "stars": entry.get("stars"),
        "quality": entry.get("quality"),
        "quality_note": entry.get("quality_note"),
        "notes": _notes(entry, group),
    }
    return report


def gpu_summary(entry: dict[str, Any], device: str) -> dict[str, Any]:
    """``GPU_ENERGY_SUMMARY.json``: GPU Wh per 1,000 queries, in total and per phase;
    every figure null when no GPU energy was read."""
    total = entry["gpu_energy_wh_per_1000"]
    phases = entry.get("phases") or {}
    summary: dict[str, Any] = {
        "unit": "Wh per 1,000 queries",
        TOTAL: total,
        "provenance": entry.get("gpu_energy_provenance"),
        "gpu_read": total is not None,
    }
    names = [*SUMMARY_PHASES, *(n for n in phases if n not in SUMMARY_PHASES)]
    for name in names:
        values = phases.get(name)
        summary[f"{name}_wh"] = None if values is None else values.get("gpu_energy_wh_per_1000")
    if total is None:
        summary["note"] = (
            f"no GPU energy was read (device {device}); genwatt writes no GPU figure it did "
            f"not measure. The whole machine's energy is in {REPORT_FILE}."
        )
    else:
        summary["note"] = (
            "total is the whole measured call and equals the sum of the *_wh phases ("
            "'other_wh' is the energy between phases); null: the task has no such phase."
        )
    return summary


def gpu_energy_text(entry: dict[str, Any], device: str) -> str:
    """``GPU_ENERGY_WH.txt``: the GPU Wh per 1,000 queries alone on a line, or a line
    saying that no GPU was read."""
    value = entry["gpu_energy_wh_per_1000"]
    if value is None:
        return (
            f"no GPU energy was read for this run (device {device}): there is no GPU Wh "
            f"per 1,000 queries; the whole machine's energy is in {REPORT_FILE}\n"
        )
    return f"{value!r}\n"


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def _write(path: Path, text: str, written: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    written.append(path)


def _model_folder(
    root: Path, entry: dict[str, Any], task: str, smallest: dict[tuple[str, str], int]
) -> Path:
    folder = root / safe_name(task) / safe_name(entry["model"])
    if entry["batch_size"] != smallest[(task, entry["model"])]:
        folder = folder / f"batch_size_{int(entry['batch_size'])}"
    return folder


def export_group(group: SuiteGroup, root: Path, folder: Path, written: list[Path]) -> list[dict]:
    """Write one group's folders under ``root``; its index entries (paths from ``folder``)."""
    pairs = list(group.pairs())
    smallest: dict[tuple[str, str], int] = {}
    for entry, record in pairs:
        key = (record.config["task"], entry["model"])
        smallest[key] = min(smallest.get(key, entry["batch_size"]), entry["batch_size"])
    index = []
    for entry, record in pairs:
        task = str(record.config["task"])
        item: dict[str, Any] = {
            "task": task,
            "model": entry["model"],
            "repo_id": _repo_id(entry),
            "kind": entry["kind"],
            "batch_size": entry["batch_size"],
            "group": group.label,
            "status": entry["status"],
            "gpu_energy_wh_per_1000": entry.get("gpu_energy_wh_per_1000"),
            "gpu_energy_provenance": entry.get("gpu_energy_provenance"),
            "energy_wh_per_1000": entry.get("energy_wh_per_1000"),
            "energy_provenance": entry.get("energy_provenance"),
            "stars": entry.get("stars"),
            "path": None,
        }
        if entry["status"] != "ok" or not record.windows:
            item["error"] = entry.get("error")
            index.append(item)
            continue
        target = _model_folder(root, entry, task, smallest)
        _write(target / REPORT_FILE, _dump(benchmark_report(entry, record, group)), written)
        _write(target / GPU_WH_FILE, gpu_energy_text(entry, group.device), written)
        _write(target / GPU_SUMMARY_FILE, _dump(gpu_summary(entry, group.device)), written)
        item["path"] = target.relative_to(folder).as_posix()
        index.append(item)
    return index


def export_ai_energy_score(records: Sequence[RunRecord], folder: str | Path) -> SuiteExport:
    """Write the AI Energy Score files of every suite run among ``records`` into ``folder``
    (created if needed; files of an earlier export are overwritten). Raises
    ``SuiteExportError`` when there is no suite run or the folder cannot be written."""
    section = suite_section(records)
    if not section.groups:
        raise SuiteExportError(
            "no suite runs to export in the AI Energy Score shape: run `genwatt suite` "
            "first, or drop a --kind/--sweep filter that leaves them out"
        )
    root = Path(folder).expanduser()
    several = len(section.groups) > 1
    written: list[Path] = []
    index: list[dict[str, Any]] = []
    try:
        for group in section.groups:
            base = root / safe_name(group.label.replace(" · ", "_")) if several else root
            index += export_group(group, base, root, written)
        _write(
            root / INDEX_FILE,
            _dump(
                {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "genwatt_version": __version__,
                    "files": {
                        REPORT_FILE: "per phase and total: energy in kWh (cpu, ram, gpu, "
                        "total, with provenance) over the measured queries, latency, "
                        "throughput, efficiency (queries/kWh)",
                        GPU_WH_FILE: "GPU Wh per 1,000 queries, or a line saying no GPU was read",
                        GPU_SUMMARY_FILE: "GPU Wh per 1,000 queries: total and per phase",
                    },
                    "entries": index,
                }
            ),
            written,
        )
    except OSError as exc:
        raise SuiteExportError(
            f"cannot write the AI Energy Score export to {root}: {exc}; pick another folder"
        ) from exc
    exported = sum(1 for item in index if item["path"] is not None)
    return SuiteExport(folder=root, exported=exported, failed=len(index) - exported, paths=written)
