"""The multi-task suite in the report: what ``genwatt suite`` stored, as plain data.

Runs of kind ``suite`` (one per task, model and batch size) are read through
``genwatt.run.suite.summary.suite_summary``, the same figures ``genwatt suite --json``
prints, and gathered into what the page shows:

- a leaderboard per task: the models ranked by energy per 1,000 queries at batch size 1
  (or the smallest batch size stored), on the basis the task's stars use (GPU energy
  where every model has one and the protocol scores it, else the whole machine's);
- the signature figure of Power Hungry Processing: energy per 1,000 queries by task on
  a log axis, a point per model, task-specific and multi-purpose models told apart;
- task-specific against multi-purpose models on the tasks that ran both;
- energy per query against batch size, for every model stored at two batch sizes or more.

Models are only compared with models measured alike: runs are grouped by protocol,
weights, device and the machine that did the work, and each group gets its own boards
and figures. Within a group, a model stored twice at one batch size of one task counts
once, by its latest run (a successful run wins over a later failure of the same model).
Tiny weights are miniatures: they exercise the pipelines and the meter, and their
energy says nothing of the real models, which every label of theirs says.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from genwatt import formatting as fmt
from genwatt.models.tasks.catalog import TASK_NAMES
from genwatt.report.provenance import ESTIMATED, weakest
from genwatt.report.series import hardware_of
from genwatt.run.suite.config_measurement import SUITE_KIND
from genwatt.run.suite.summary import PER, score_basis, suite_summary
from genwatt.store.records import RunRecord

MULTI_PURPOSE = "multi-purpose"
TASK_SPECIFIC = "task-specific"
MACHINE = "machine"
TINY = "tiny"
GPU = "gpu"
ENERGY_KEYS = {GPU: "gpu_energy_wh_per_1000", MACHINE: "energy_wh_per_1000"}
BASIS_WORDS = {GPU: "GPU only", MACHINE: "whole machine"}
MINIATURE_NOTE = (
    "These are miniatures: each model's tiny form (a few layers, thousands of parameters "
    "instead of millions), built to exercise the pipelines and the meter. Their energy "
    "says nothing about the real models; `genwatt suite --weights random` measures the "
    "real sizes."
)

# (upper bound in Wh, divisor, unit): energies as a person reads them, never in exponents.
_WH_UNITS = ((1e3, "kWh"), (1.0, "Wh"), (1e-3, "mWh"), (1e-6, "µWh"))


def is_suite(record: RunRecord) -> bool:
    return record.kind == SUITE_KIND


def wh_text(energy_wh: float | None) -> str:
    """``2.12 mWh``: an energy in Wh, in the unit that keeps it between 1 and 1000."""
    if not fmt.is_number(energy_wh):
        return fmt.DASH
    assert energy_wh is not None
    if energy_wh == 0:
        return "0 Wh"
    for factor, unit in _WH_UNITS:
        if abs(energy_wh) >= factor:
            return f"{fmt.sig(energy_wh / factor)} {unit}"
    return f"{fmt.sig(energy_wh / 1e-9)} nWh"


def task_order(task: str) -> int:
    return TASK_NAMES.index(task) if task in TASK_NAMES else len(TASK_NAMES)


def is_ok(entry: dict[str, Any]) -> bool:
    return entry["status"] == "ok" and bool(entry["energy_wh_per_1000"])


# -------------------------------------------------------------------- per-task boards


@dataclass(frozen=True)
class TaskBoard:
    """The models of one task: ranked at one batch size, the rest listed.

    Entries are the dicts of ``suite_summary`` (``model``, ``kind``, energies per 1,000
    queries with provenance, latency, phases, stars, quality)."""

    task: str
    batch_size: int | None  # the ranking's: 1, or the smallest stored; None if none ran
    basis: str  # "gpu" or "machine": what the ranking and the stars compare
    ranked: tuple[dict[str, Any], ...]  # least energy first
    other_batches: tuple[dict[str, Any], ...]  # by model, then batch size
    failed: tuple[dict[str, Any], ...]  # failed, or stored without any energy read
    multi_purpose_ratio: float | None

    @property
    def energy_key(self) -> str:
        return ENERGY_KEYS[self.basis]

    @property
    def rated(self) -> bool:
        return any(e.get("stars") for e in self.ranked)


def task_board(task: dict[str, Any], protocol: str) -> TaskBoard:
    """A task of ``suite_summary``'s JSON as a board."""
    entries = list(task["models"])
    ok = [e for e in entries if is_ok(e)]
    failed = tuple(e for e in entries if not is_ok(e))
    size = min((e["batch_size"] for e in ok), default=None)
    at_size = [e for e in ok if e["batch_size"] == size]
    basis = score_basis(at_size, protocol)
    key = ENERGY_KEYS[basis]
    ranked = sorted(at_size, key=lambda e: (e[key], e["model"]))
    others = sorted(
        (e for e in ok if e["batch_size"] != size), key=lambda e: (e["model"], e["batch_size"])
    )
    return TaskBoard(
        task=task["task"],
        batch_size=size,
        basis=basis,
        ranked=tuple(ranked),
        other_batches=tuple(others),
        failed=failed,
        multi_purpose_ratio=task["multi_purpose_ratio"],
    )


# ------------------------------------------------- task-specific against multi-purpose


@dataclass(frozen=True)
class RatioRow:
    """A task with both kinds of model: the median whole-machine energy of each kind
    per 1,000 queries, at the smallest batch size both ran (``summary.multi_purpose_ratio``)."""

    task: str
    batch_size: int
    task_specific_wh: float  # median over the task-specific models, per 1,000 queries
    multi_purpose_wh: float
    ratio: float  # multi-purpose over task-specific
    task_specific: tuple[str, ...]
    multi_purpose: tuple[str, ...]
    provenance: str


def ratio_row(task: dict[str, Any]) -> RatioRow | None:
    ratio = task["multi_purpose_ratio"]
    if ratio is None:
        return None
    ok = [e for e in task["models"] if is_ok(e)]
    sizes = {
        kind: {e["batch_size"] for e in ok if e["kind"] == kind}
        for kind in (TASK_SPECIFIC, MULTI_PURPOSE)
    }
    size = min(sizes[TASK_SPECIFIC] & sizes[MULTI_PURPOSE])
    members = {
        kind: [e for e in ok if e["kind"] == kind and e["batch_size"] == size]
        for kind in (TASK_SPECIFIC, MULTI_PURPOSE)
    }
    return RatioRow(
        task=task["task"],
        batch_size=size,
        task_specific_wh=statistics.median(e["energy_wh_per_1000"] for e in members[TASK_SPECIFIC]),
        multi_purpose_wh=statistics.median(e["energy_wh_per_1000"] for e in members[MULTI_PURPOSE]),
        ratio=ratio,
        task_specific=tuple(e["model"] for e in members[TASK_SPECIFIC]),
        multi_purpose=tuple(e["model"] for e in members[MULTI_PURPOSE]),
        provenance=weakest(
            [str(e["energy_provenance"] or ESTIMATED) for m in members.values() for e in m]
        ),
    )


# ------------------------------------------------------------------- the two figures


@dataclass(frozen=True)
class MapPoint:
    task: str
    model: str
    kind: str  # task-specific or multi-purpose
    energy_wh_per_1000: float  # on the figure's basis
    provenance: str
    batch_size: int


@dataclass(frozen=True)
class TaskMapData:
    """Energy per 1,000 queries by task: a point per model at its task's board size."""

    title: str
    basis: str
    tasks: tuple[str, ...]  # in the catalog's order, those with a point
    points: tuple[MapPoint, ...]
    miniature: bool

    @property
    def unit(self) -> str:
        return f"Wh per {PER:,} queries ({BASIS_WORDS[self.basis]})"


@dataclass(frozen=True)
class BatchLine:
    task: str
    model: str
    kind: str
    batch_sizes: tuple[int, ...]
    energy_wh_per_1000: tuple[float, ...]  # per 1,000 queries at each batch size
    provenance: str  # the weakest of its points


@dataclass(frozen=True)
class BatchCurveData:
    """Energy per query against batch size, for models stored at two sizes or more."""

    title: str
    basis: str
    tasks: tuple[str, ...]
    lines: tuple[BatchLine, ...]
    miniature: bool

    @property
    def unit(self) -> str:
        return f"Wh per {PER:,} queries ({BASIS_WORDS[self.basis]})"


def _shown_provenance(entry: dict[str, Any], basis: str) -> str:
    kind = entry["gpu_energy_provenance"] if basis == GPU else entry["energy_provenance"]
    return str(kind or ESTIMATED)


def task_map(
    title: str, boards: Sequence[TaskBoard], protocol: str, miniature: bool
) -> TaskMapData | None:
    """The signature figure's data: every ranked model of every task; one basis for all
    (GPU only where every point has it and the protocol scores it)."""
    entries = [(b.task, e) for b in boards for e in b.ranked]
    if not entries:
        return None
    basis = score_basis([e for _, e in entries], protocol)
    key = ENERGY_KEYS[basis]
    points = tuple(
        MapPoint(task, e["model"], e["kind"], e[key], _shown_provenance(e, basis), e["batch_size"])
        for task, e in entries
    )
    tasks = tuple(dict.fromkeys(p.task for p in points))
    return TaskMapData(title, basis, tasks, points, miniature)


def batch_curves(
    title: str, boards: Sequence[TaskBoard], protocol: str, miniature: bool
) -> BatchCurveData | None:
    """A line per (task, model) stored at two batch sizes or more; None without any."""
    per_model: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for board in boards:
        for entry in (*board.ranked, *board.other_batches):
            per_model.setdefault((board.task, entry["model"]), []).append(entry)
    curves = {k: v for k, v in per_model.items() if len({e["batch_size"] for e in v}) >= 2}
    if not curves:
        return None
    basis = score_basis([e for v in curves.values() for e in v], protocol)
    key = ENERGY_KEYS[basis]
    lines = []
    for (task, model), entries in curves.items():
        ordered = sorted(entries, key=lambda e: e["batch_size"])
        lines.append(
            BatchLine(
                task=task,
                model=model,
                kind=ordered[0]["kind"],
                batch_sizes=tuple(e["batch_size"] for e in ordered),
                energy_wh_per_1000=tuple(e[key] for e in ordered),
                provenance=weakest([_shown_provenance(e, basis) for e in ordered]),
            )
        )
    lines.sort(key=lambda line: (task_order(line.task), line.model))
    tasks = tuple(dict.fromkeys(line.task for line in lines))
    return BatchCurveData(title, basis, tasks, tuple(lines), miniature)


# -------------------------------------------------------------------------- a group


@dataclass(frozen=True)
class SuiteGroup:
    """The suite runs measured alike: one protocol, weights, device and machine."""

    protocol: str
    weights: str
    device: str
    hardware: str
    records: tuple[RunRecord, ...]  # one per (task, model, batch size): the one shown
    summary: dict[str, Any]  # suite_summary of ``records``
    boards: tuple[TaskBoard, ...]
    ratios: tuple[RatioRow, ...]
    task_map: TaskMapData | None
    batch_curves: BatchCurveData | None
    superseded: int = 0  # older runs of a configuration shown by a later one

    @property
    def miniature(self) -> bool:
        return self.weights == TINY

    @property
    def label(self) -> str:
        return group_label(self.protocol, self.weights, self.device, self.hardware)

    def pairs(self) -> Iterator[tuple[dict[str, Any], RunRecord]]:
        """Each model entry of the summary with the run it was computed from."""
        by_key = {entry_key(r.config): r for r in self.records}
        for task in self.summary["tasks"]:
            for entry in task["models"]:
                yield entry, by_key[(task["task"], entry["model"], entry["batch_size"])]


def group_label(protocol: str, weights: str, device: str, hardware: str) -> str:
    """``genwatt protocol · random weights · cuda: NVIDIA H100 80GB HBM3``."""
    words = "tiny weights (miniatures)" if weights == TINY else f"{weights} weights"
    return f"{protocol} protocol · {words} · {device}: {hardware}"


def entry_key(config: dict[str, Any]) -> tuple[str, str, int]:
    return (str(config["task"]), str(config["model"]), int(config["batch_size"]))


def _latest(records: Sequence[RunRecord]) -> tuple[list[RunRecord], int]:
    """The run shown per (task, model, batch size): the latest successful one, else the
    latest failure; and how many others were left out."""
    chosen: dict[tuple[str, str, int], RunRecord] = {}
    for record in sorted(records, key=lambda r: r.id or 0):
        key = entry_key(record.config)
        held = chosen.get(key)
        if held is None or record.ok or not held.ok:
            chosen[key] = record
    return list(chosen.values()), len(records) - len(chosen)


def suite_group(
    protocol: str, weights: str, device: str, hardware: str, records: Sequence[RunRecord]
) -> SuiteGroup:
    shown, superseded = _latest(records)
    summary = suite_summary(shown, protocol)
    boards = tuple(task_board(t, protocol) for t in summary["tasks"])
    title, miniature = group_label(protocol, weights, device, hardware), weights == TINY
    return SuiteGroup(
        protocol=protocol,
        weights=weights,
        device=device,
        hardware=hardware,
        records=tuple(shown),
        summary=summary,
        boards=boards,
        ratios=tuple(r for t in summary["tasks"] if (r := ratio_row(t)) is not None),
        task_map=task_map(title, boards, protocol, miniature),
        batch_curves=batch_curves(title, boards, protocol, miniature),
        superseded=superseded,
    )


@dataclass(frozen=True)
class SuiteSection:
    groups: tuple[SuiteGroup, ...] = ()
    runs: int = 0
    failed: int = 0

    @property
    def figure_count(self) -> int:
        return sum((g.task_map is not None) + (g.batch_curves is not None) for g in self.groups)

    @property
    def has_ratios(self) -> bool:
        return any(g.ratios for g in self.groups)

    @property
    def has_batch_curves(self) -> bool:
        return any(g.batch_curves is not None for g in self.groups)


def suite_section(records: Sequence[RunRecord]) -> SuiteSection:
    """The suite runs among ``records``, grouped and summarised (empty without any)."""
    groups: dict[tuple[str, str, str, str], list[RunRecord]] = {}
    for record in records:
        if not is_suite(record) or "task" not in record.config:
            continue
        c = record.config
        key = (
            str(c.get("protocol") or "genwatt"),
            str(c.get("weights") or ""),
            str(c.get("device") or "cpu"),
            hardware_of(c, record.environment),
        )
        groups.setdefault(key, []).append(record)
    built = [suite_group(*key, members) for key, members in groups.items()]
    return SuiteSection(
        groups=tuple(sorted(built, key=lambda g: g.label)),
        runs=sum(len(m) for m in groups.values()),
        failed=sum(not r.ok for m in groups.values() for r in m),
    )


__all__ = [
    "BatchCurveData",
    "BatchLine",
    "MapPoint",
    "RatioRow",
    "SuiteGroup",
    "SuiteSection",
    "TaskBoard",
    "TaskMapData",
    "is_suite",
    "suite_section",
    "wh_text",
]
