"""Stored runs grouped the way the report compares them: one series per model and machine.

A series is every generation of one model, with one kind of weights, on one device of
one machine model: the runs whose energy can sit on one scaling plot. Runs of the same
model on a CPU and on a GPU are two series, since one fit across them would mean
nothing. Runs that are not generations (``genwatt measure`` of a command, a strategy of
``genwatt mitigate``) form no series; the report shows them on their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from genwatt.analysis.summary import ConfigSummary, summarize_runs
from genwatt.errors import GenwattError
from genwatt.meter.phases import GENERATION
from genwatt.models import get_model
from genwatt.report.mitigation import is_mitigation
from genwatt.report.predicted import gpu_name
from genwatt.report.provenance import ESTIMATED, weakest
from genwatt.store.records import RunRecord

TASKS = ("t2v", "t2i", "text")
TASK_NAMES = {
    "t2v": "Text to video",
    "t2i": "Text to image",
    "text": "Text generation",
    "other": "Other generations",
}


@dataclass(frozen=True)
class Series:
    model: str
    task: str
    device: str
    hardware: str
    weights: str
    records: tuple[RunRecord, ...]
    summaries: tuple[ConfigSummary, ...]

    @property
    def label(self) -> str:
        """``wan-tiny (tiny weights) · cpu: AMD EPYC``: what and where, for titles."""
        weights = f" ({self.weights} weights)" if self.weights not in ("", "pretrained") else ""
        return f"{self.model}{weights} · {self.device}: {self.hardware}"

    @property
    def environment(self) -> Mapping[str, Any]:
        return self.records[0].environment if self.records else {}

    @property
    def measured(self) -> list[ConfigSummary]:
        """The configurations with at least one successful run."""
        return [s for s in self.summaries if s.runs]

    def records_of(self, summary: ConfigSummary) -> list[RunRecord]:
        """The successful runs that ``summarize_runs`` grouped under ``summary``."""
        return [r for r in self.records if r.ok and (r.config_key or str(r.id)) == summary.key]

    @property
    def provenance(self) -> str:
        kinds = [str(s.provenance) for s in self.measured if s.provenance is not None]
        return weakest(kinds) if kinds else ESTIMATED


def is_generation(record: RunRecord) -> bool:
    """A run of a model: a generation window when it succeeded, a model name either way.

    A ``genwatt mitigate`` strategy names a model too but is a sum over many cases, not
    one generation (a failed one has no window to tell): the report shows it apart.
    """
    if not record.config.get("model") or is_mitigation(record):
        return False
    return not record.ok or record.window(GENERATION) is not None


def task_of(config: Mapping[str, Any]) -> str:
    """The model's task from the registry; from its settings for a model it does not know."""
    try:
        return str(get_model(str(config.get("model"))).task)
    except GenwattError:
        if config.get("num_frames"):
            return "t2v"
        if config.get("height"):
            return "t2i"
        if config.get("max_new_tokens"):
            return "text"
        return "other"


def hardware_of(config: Mapping[str, Any], environment: Mapping[str, Any]) -> str:
    """The GPU's name for a CUDA run, else the CPU's model: what did the work."""
    gpu = gpu_name(config, environment)
    if gpu:
        return gpu
    cpu = environment.get("cpu")
    model = cpu.get("model") if isinstance(cpu, Mapping) else None
    return str(model) if model else "unknown CPU"


def group_series(records: Iterable[RunRecord]) -> list[Series]:
    """Generation runs grouped into series, ordered by task, model and machine."""
    groups: dict[tuple[str, str, str, str], list[RunRecord]] = {}
    for record in records:
        if not is_generation(record):
            continue
        c = record.config
        key = (
            str(c["model"]),
            str(c.get("weights") or ""),
            str(c.get("device") or "cpu"),
            hardware_of(c, record.environment),
        )
        groups.setdefault(key, []).append(record)
    series = [
        Series(
            model=model,
            task=task_of(members[0].config),
            device=device,
            hardware=hardware,
            weights=weights,
            records=tuple(members),
            summaries=tuple(summarize_runs(members)),
        )
        for (model, weights, device, hardware), members in groups.items()
    ]
    order = {task: i for i, task in enumerate(TASKS)}
    return sorted(series, key=lambda s: (order.get(s.task, len(order)), s.model, s.hardware))
