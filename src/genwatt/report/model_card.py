"""The ``co2_eq_emissions`` block of a Hugging Face model card, from stored runs.

The model card specification asks for ``emissions`` (grams of CO2e), ``source``,
``training_type``, ``geographical_location`` and ``hardware_used``. genwatt measures
inference, so the training type is ``inference`` and the grams are those of one
inference query: the query-weighted mean over the stored suite and sweep runs of the
model (a suite run's energy over the queries it ran, a sweep run's over its batch; see
``genwatt.predict.query_energy.run_query_energy``), priced like every genwatt CO2e
figure, on the carbon setting each run was stored with (``stored_run_co2e``). The
energy is that of every domain genwatt read (GPU, CPU, DRAM), with the facility
overhead.

Keys beyond the specification say what the grams refer to (``workload``), how good
the figure is (``provenance``) and the energy behind it (``energy_consumed``, kWh per
query, as sentence-transformers writes it); comment lines above the block repeat them
for a reader of the card. One block per model: a model card is about one model.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from genwatt.carbon.setting import CarbonSetting, choose_setting, stored_run_co2e, stored_setting
from genwatt.errors import GenwattError
from genwatt.meter.aggregate import weakest_of
from genwatt.meter.result import Provenance
from genwatt.predict.query_energy import SUITE_KIND, SWEEP_KIND, RunQueryEnergy, run_query_energy
from genwatt.store.codecarbon_csv import environment_cells
from genwatt.store.records import RunRecord
from genwatt.units import j_to_kwh
from genwatt.version import __version__

TRAINING_TYPE = "inference"
_SIGNIFICANT = 4  # digits kept in the grams and kWh: the figures are not better than that

_PROVENANCE_WORDS = {
    Provenance.MEASURED: "measured with hardware energy counters",
    Provenance.ESTIMATED: "estimated: a power model for at least one domain without a counter",
}


def _rounded(value: float) -> float:
    return float(f"{value:.{_SIGNIFICANT}g}")


@dataclass(frozen=True)
class ModelCardEmissions:
    """One model's ``co2_eq_emissions`` block and what it stands on.

    ``emissions_g`` and ``energy_kwh`` are per inference query (query-weighted mean);
    ``energy_kwh`` includes the facility overhead (PUE) that the grams are priced on.
    """

    model: str
    emissions_g: float
    energy_kwh: float
    provenance: str
    runs: int
    queries: int
    configurations: list[str]
    geographical_location: str
    hardware_used: str
    notes: list[str] = field(default_factory=list)

    @property
    def workload(self) -> str:
        """What the grams refer to, in words."""
        configs = "; ".join(self.configurations)
        return (
            f"one inference query: mean over {self.queries:,} queries in {self.runs} "
            f"stored genwatt run(s) ({configs})"
        )

    @property
    def source(self) -> str:
        words = _PROVENANCE_WORDS.get(Provenance(self.provenance), self.provenance)
        return f"genwatt {__version__}, energy {words}"

    def block(self) -> dict[str, Any]:
        """The YAML block as data: ``{"co2_eq_emissions": {...}}``."""
        return {
            "co2_eq_emissions": {
                "emissions": _rounded(self.emissions_g),
                "source": self.source,
                "training_type": TRAINING_TYPE,
                "geographical_location": self.geographical_location,
                "hardware_used": self.hardware_used,
                "workload": self.workload,
                "provenance": self.provenance,
                "energy_consumed": _rounded(self.energy_kwh),
            }
        }

    def to_yaml(self) -> str:
        """The block with comment lines naming the model and the workload."""
        import yaml

        comments = [
            f"model: {self.model}",
            "emissions: grams of CO2e per inference query (see workload), not of a training run",
            *self.notes,
        ]
        text = yaml.safe_dump(self.block(), sort_keys=False, allow_unicode=True, width=1000)
        return "".join(f"# {line}\n" for line in comments) + text


@dataclass(frozen=True)
class ModelCardSelection:
    """The blocks of every model among the runs, and the runs left out, by reason."""

    blocks: list[ModelCardEmissions]
    skipped: dict[str, int]

    def to_yaml(self) -> str:
        """Every block, one after the other, each under its comment lines."""
        return "\n".join(block.to_yaml() for block in self.blocks)


def _skip_reason(record: RunRecord) -> str:
    """Why a run makes no block, worded to follow a count ("2 failed run(s)")."""
    if not record.ok:
        return "failed run(s)"
    if record.kind not in (SUITE_KIND, SWEEP_KIND) or not record.config.get("model"):
        return f"{record.kind} run(s) (no model: only suite and sweep runs name one)"
    return "run(s) without a generation window with energy"


def _location(setting: CarbonSetting) -> str:
    if setting.is_default:
        return (
            f"not given (priced on the world-average grid, "
            f"{setting.intensity.g_per_kwh:.0f} g CO2e/kWh)"
        )
    return setting.intensity.name


def _hardware(record: RunRecord) -> str:
    """The GPUs a GPU run used (as NVML named them) and the CPU."""
    cells = environment_cells(record.environment)
    parts: list[str] = []
    device = str(record.config.get("device") or "")
    if device.startswith("cuda") and cells["gpu_model"]:
        parts.append(f"{cells['gpu_model']} (GPU)")
    if cells["cpu_model"]:
        cores = f", {cells['cpu_count']} logical cores" if cells["cpu_count"] else ""
        parts.append(f"{cells['cpu_model']} (CPU{cores})")
    return " and ".join(parts) or "not recorded"


def _joined(values: Iterable[str]) -> str:
    return "; ".join(dict.fromkeys(values))


# A run in a block: its energy per query, the record, grams per query, its setting.
_Priced = tuple[RunQueryEnergy, RunRecord, float, CarbonSetting]


def model_card_emissions(records: Iterable[RunRecord]) -> ModelCardSelection:
    """One block per model among ``records`` (in the order first seen); the runs that
    make none are counted in ``skipped``, by reason (worded to follow the count)."""
    groups: dict[str, list[_Priced]] = {}
    skipped: dict[str, int] = {}
    for record in records:
        per_query = run_query_energy(record)
        if per_query is None:
            reason = _skip_reason(record)
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        grams, words = stored_run_co2e(dict(record.extra), per_query.machine_j)
        try:
            setting, _ = choose_setting(stored_setting(dict(record.extra)))
        except GenwattError:
            setting = None
        if grams is None or setting is None:
            reason = f"run(s) without CO2e ({words})"
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        groups.setdefault(per_query.model, []).append((per_query, record, grams, setting))
    return ModelCardSelection([_block(model, runs) for model, runs in groups.items()], skipped)


def _block(model: str, runs: list[_Priced]) -> ModelCardEmissions:
    queries = sum(q.queries for q, _, _, _ in runs)
    grams = sum(g * q.queries for q, _, g, _ in runs) / queries
    energy_kwh = sum(j_to_kwh(q.machine_j * s.pue) * q.queries for q, _, _, s in runs) / queries
    provenance = weakest_of(Provenance(q.machine_provenance) for q, _, _, _ in runs)
    assert provenance is not None  # runs is never empty
    configurations = list(dict.fromkeys(q.label for q, _, _, _ in runs))
    notes: list[str] = []
    if len(configurations) > 1:
        notes.append(
            f"averaged over {len(configurations)} configurations (see workload), each query "
            "counting once: select fewer runs (--sweep, --kind, --limit) for one of them"
        )
    if any(q.settings.get("weights") == "tiny" for q, _, _, _ in runs):
        notes.append(
            "tiny weights: a miniature of the model, whose energy says nothing of the real model's"
        )
    locations = [_location(s) for _, _, _, s in runs]
    if len(set(locations)) > 1:
        notes.append("runs priced on different grids: each run on its own, then averaged")
    return ModelCardEmissions(
        model=model,
        emissions_g=grams,
        energy_kwh=energy_kwh,
        provenance=str(provenance),
        runs=len(runs),
        queries=queries,
        configurations=configurations,
        geographical_location=_joined(locations),
        hardware_used=_joined(_hardware(r) for _, r, _, _ in runs),
        notes=notes,
    )


__all__ = [
    "TRAINING_TYPE",
    "ModelCardEmissions",
    "ModelCardSelection",
    "model_card_emissions",
]
