"""What genwatt logs to a tracker for one window or one generation: plain values.

A figure that is not whole is not logged as if it were. A window with a domain in
error (``WindowResult.errors``) logs the domains that have a figure, and its errors as
a tag, but no total and no CO2e: a total missing a domain would understate the energy
without saying so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from genwatt.carbon.setting import CarbonSetting
from genwatt.meter.aggregate import weakest_of
from genwatt.meter.phases import OTHER, PhaseBreakdown
from genwatt.meter.result import WindowResult
from genwatt.trackers.names import (
    CARBON,
    CO2E,
    CO2E_ERROR,
    DOMAIN_ENERGY,
    DURATION,
    ENERGY,
    ERRORS,
    PROVENANCE,
    metric_name,
    safe,
    tag_value,
)


@dataclass(frozen=True)
class TrackerRecord:
    """Metrics (numbers) and tags (words) logged together, under ``key`` (the window's
    name: MLflow numbers the records of one key as steps 0, 1, 2...)."""

    key: str
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


def window_record(
    result: WindowResult, setting: CarbonSetting | None, carbon_error: str | None = None
) -> TrackerRecord:
    """One window's energy, per domain and in total, its CO2e, duration and provenance.

    ``setting`` None (it could not be resolved; ``carbon_error`` says why) logs no CO2e.
    """
    record = TrackerRecord(key=safe(result.name))
    _add_window(record, (result.name,), result, setting)
    for domain, energy_j in result.energy_j.items():
        record.metrics[metric_name(DOMAIN_ENERGY, result.name, domain)] = energy_j
    if result.provenance:
        record.tags[metric_name(PROVENANCE, result.name, "domains")] = ", ".join(
            f"{d}={result.provenance[d]}" for d in sorted(result.provenance)
        )
    _add_carbon(record, setting, carbon_error)
    return record


def phases_record(
    breakdown: PhaseBreakdown, setting: CarbonSetting | None, carbon_error: str | None = None
) -> TrackerRecord:
    """A generation's record (``window_record`` of its whole window) plus each phase,
    ``other`` included, as ``<kind>.<generation>.<phase>``."""
    record = window_record(breakdown.total, setting, carbon_error)
    phases = {**breakdown.phases, OTHER: breakdown.other}
    for phase, window in phases.items():
        _add_window(record, (breakdown.total.name, phase), window, setting)
    return record


def _add_window(
    record: TrackerRecord,
    path: tuple[str, ...],
    window: WindowResult,
    setting: CarbonSetting | None,
) -> None:
    record.metrics[metric_name(DURATION, *path)] = window.duration_s
    if window.errors:
        record.tags[metric_name(ERRORS, *path)] = tag_value(
            "; ".join(f"{d}: {why}" for d, why in sorted(window.errors.items()))
        )
        return
    energy_j = window.total_energy_j
    record.metrics[metric_name(ENERGY, *path)] = energy_j
    kind = weakest_of(window.provenance[d] for d in window.energy_j)
    if kind is not None:
        record.tags[metric_name(PROVENANCE, *path)] = str(kind)
    if setting is not None:
        record.metrics[metric_name(CO2E, *path)] = setting.co2e(energy_j).co2e_g


def _add_carbon(record: TrackerRecord, setting: CarbonSetting | None, error: str | None) -> None:
    if setting is not None:
        record.tags[CARBON] = setting.describe()
    elif error:
        record.tags[CO2E_ERROR] = tag_value(error)
