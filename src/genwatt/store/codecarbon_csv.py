"""Stored runs as rows of CodeCarbon's ``emissions.csv``, so its dashboards read them.

The first columns are CodeCarbon's, in its order and units (``CODECARBON_COLUMNS``:
kWh, kg CO2eq, W, seconds); genwatt's own columns follow (``GENWATT_COLUMNS``: the
run's identity, the provenance of each figure, the energy of each phase). The column
list is fixed, so rows of any run append to the same file.

As in CodeCarbon, the energy and power columns include the facility overhead (the PUE
multiplies them), so that ``emissions / energy_consumed`` is the grid's intensity;
``genwatt_energy_device_kwh`` keeps the energy at the device. Emissions are the run's
CO2e as every other genwatt figure prices it (``stored_run_co2e``: the carbon setting
stored with the run). A field genwatt does not know is left empty, never filled with a
guess; docs/exports.md maps every column.

A run without a measurement window (a sweep run that failed before metering began)
has no energy to write and is skipped; a failed run that was metered is written, as
CodeCarbon writes the row of a tracked function that raised, with ``genwatt_status``
saying it failed.

CodeCarbon itself is never imported: the columns are copied from its ``EmissionsData``
and a test compares them with the installed release.
"""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from genwatt.carbon.intensity import country_grid
from genwatt.carbon.setting import CarbonSetting, choose_setting, stored_run_co2e, stored_setting
from genwatt.errors import GenwattError, StoreError
from genwatt.meter.aggregate import weakest_of
from genwatt.meter.phases import GENERATION, OTHER, PHASES, breakdown
from genwatt.meter.result import WindowResult
from genwatt.store.export import spreadsheet_safe
from genwatt.store.records import RunRecord
from genwatt.units import j_to_kwh
from genwatt.version import __version__

# The CodeCarbon release whose ``EmissionsData`` fields these are, in their order.
CODECARBON_VERSION = "3.3.2"
CODECARBON_COLUMNS: tuple[str, ...] = (
    "timestamp",
    "project_name",
    "run_id",
    "experiment_id",
    "duration",
    "emissions",
    "emissions_rate",
    "cpu_power",
    "gpu_power",
    "ram_power",
    "cpu_energy",
    "gpu_energy",
    "ram_energy",
    "energy_consumed",
    "water_consumed",
    "country_name",
    "country_iso_code",
    "region",
    "cloud_provider",
    "cloud_region",
    "os",
    "python_version",
    "codecarbon_version",
    "cpu_count",
    "cpu_model",
    "gpu_count",
    "gpu_model",
    "longitude",
    "latitude",
    "ram_total_size",
    "tracking_mode",
    "cpu_utilization_percent",
    "gpu_utilization_percent",
    "ram_utilization_percent",
    "ram_used_gb",
    "on_cloud",
    "pue",
    "wue",
)

PHASE_COLUMNS: tuple[str, ...] = tuple(f"genwatt_phase_{p}_kwh" for p in (*PHASES, OTHER))
GENWATT_COLUMNS: tuple[str, ...] = (
    "genwatt_run_id",
    "genwatt_kind",
    "genwatt_status",
    "genwatt_sweep",
    "genwatt_config_key",
    "genwatt_repeat",
    "genwatt_model",
    "genwatt_started_at_utc",
    "genwatt_provenance",
    "genwatt_provenance_cpu",
    "genwatt_provenance_gpu",
    "genwatt_provenance_ram",
    "genwatt_energy_device_kwh",
    "genwatt_complete",
    "genwatt_errors",
    "genwatt_carbon_setting",
    "genwatt_version",
    *PHASE_COLUMNS,
)
COLUMNS: tuple[str, ...] = CODECARBON_COLUMNS + GENWATT_COLUMNS

# The key of a run's ``extra`` holding the labels a CodeCarbon user gave
# (``project_name``, ``experiment_id``, ``wue``), set by the drop-in tracker.
EXTRA_KEY = "codecarbon"
DEFAULT_PROJECT_NAME = "genwatt"

# genwatt's domain kinds (the part of a domain's name before ":") and CodeCarbon's.
_KIND_COLUMN = {"cpu": "cpu", "gpu": "gpu", "dram": "ram"}
_BYTES_PER_GIB = 1024**3  # CodeCarbon's ram_total_size is in GiB (psutil total / 1024^3)
_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"  # CodeCarbon's: local time, no zone
_RUN_ID_NAMESPACE = uuid.UUID("6f1c1d2e-8f0b-4a43-9a57-3c0e4c8a7b21")  # genwatt's, fixed


def run_uuid(record: RunRecord) -> str:
    """A UUID for the CodeCarbon ``run_id`` column, the same every time the run is
    exported (from any store holding it), so that a re-export can skip rows already
    written."""
    key = f"{record.kind}|{record.started_at!r}|{record.duration_s!r}|{record.sweep}|"
    key += f"{record.config_key}|{record.repeat}"
    return str(uuid.uuid5(_RUN_ID_NAMESPACE, key))


def _local_timestamp(unix_s: float) -> str:
    return datetime.fromtimestamp(unix_s).strftime(_TIMESTAMP_FORMAT)


def _kind(domain: str) -> str:
    return domain.split(":", 1)[0]


def _energy_by_column(window: WindowResult) -> dict[str, float]:
    """Joules per CodeCarbon column (cpu, gpu, ram) over the domains with a figure."""
    totals: dict[str, float] = {}
    for domain, energy_j in window.energy_j.items():
        column = _KIND_COLUMN.get(_kind(domain))
        if column is not None:
            totals[column] = totals.get(column, 0.0) + energy_j
    return totals


def _provenance_by_column(window: WindowResult) -> dict[str, str]:
    found: dict[str, str] = {}
    for column in _KIND_COLUMN.values():
        kinds = [
            window.provenance[d]
            for d in window.energy_j
            if _KIND_COLUMN.get(_kind(d)) == column and d in window.provenance
        ]
        weakest = weakest_of(kinds)
        if weakest is not None:
            found[column] = str(weakest)
    return found


def _setting(record: RunRecord) -> tuple[CarbonSetting | None, str | None]:
    """The setting the run is priced on (as ``stored_run_co2e`` picks it), or None and
    why when its stored grid is unknown to this version."""
    try:
        setting, _ = choose_setting(stored_setting(record.extra))
    except GenwattError as exc:
        return None, str(exc)
    return setting, None


def _pue(record: RunRecord, setting: CarbonSetting | None) -> float:
    """The setting's PUE; for a run whose stored grid this version does not know, the
    PUE stored beside it, read by ``stored_setting``'s rule for such runs."""
    if setting is not None:
        return setting.pue
    return float(record.extra.get("pue") or 1.0)


def _country_name(setting: CarbonSetting) -> str | None:
    """The country's name (a cloud region's grid is named after the region)."""
    grid = setting.intensity
    if not grid.cloud_region:
        return grid.name
    try:
        return country_grid(grid.iso3).name
    except GenwattError:
        return None


def _location_cells(setting: CarbonSetting | None) -> dict[str, Any]:
    """Country and cloud columns; empty for the world average (no location was given)."""
    cells: dict[str, Any] = dict.fromkeys(
        ("country_name", "country_iso_code", "region", "cloud_provider", "cloud_region", "on_cloud")
    )
    if setting is None or setting.is_default:
        return cells
    grid = setting.intensity
    cells["country_name"] = _country_name(setting)
    cells["country_iso_code"] = grid.iso3 or None
    if grid.cloud_region:
        provider, _, region = grid.cloud_region.partition(":")
        cells.update(cloud_provider=provider, cloud_region=region, on_cloud="Y")
    return cells


def _gpu_cells(environment: dict[str, Any]) -> dict[str, Any]:
    """GPU count and models as NVML listed them; empty when NVML did not answer (no
    driver, or an AMD GPU genwatt's environment probe does not list)."""
    gpus = environment.get("gpus")
    if not isinstance(gpus, list) or environment.get("nvml_error"):
        return {"gpu_count": None, "gpu_model": None}
    names: dict[str, int] = {}
    for gpu in gpus:
        name = str(gpu.get("name") or "unknown GPU") if isinstance(gpu, dict) else str(gpu)
        names[name] = names.get(name, 0) + 1
    model = ", ".join(f"{count} x {name}" for name, count in names.items())
    return {"gpu_count": len(gpus), "gpu_model": model or None}


def environment_cells(environment: dict[str, Any]) -> dict[str, Any]:
    """CodeCarbon's machine columns (os, python_version, cpu_count, cpu_model,
    gpu_count, gpu_model, ram_total_size) from a stored environment; None where it
    holds no answer."""
    os_info = environment.get("os") if isinstance(environment.get("os"), dict) else {}
    parts = [os_info.get(k) for k in ("system", "release", "machine")]
    python = environment.get("python") if isinstance(environment.get("python"), dict) else {}
    cpu = environment.get("cpu") if isinstance(environment.get("cpu"), dict) else {}
    memory = environment.get("memory_bytes")
    return {
        # platform.platform() without its libc suffix: what the stored fields say.
        "os": "-".join(str(p) for p in parts) if all(parts) else None,
        "python_version": python.get("version"),
        "cpu_count": cpu.get("logical_cores"),
        "cpu_model": cpu.get("model"),
        **_gpu_cells(environment),
        "ram_total_size": memory / _BYTES_PER_GIB if isinstance(memory, int | float) else None,
    }


def _phase_cells(record: RunRecord, pue: float) -> dict[str, Any]:
    """kWh per phase (with the PUE, as the energy columns) for a run of one generation."""
    cells: dict[str, Any] = dict.fromkeys(PHASE_COLUMNS)
    if sum(w.name == GENERATION for w in record.windows) != 1:
        return cells
    parts = breakdown(record.windows)
    for name, window in {**parts.phases, OTHER: parts.other}.items():
        cells[f"genwatt_phase_{name}_kwh"] = j_to_kwh(window.total_energy_j * pue)
    return cells


def _labels(record: RunRecord) -> dict[str, Any]:
    labels = record.extra.get(EXTRA_KEY)
    return labels if isinstance(labels, dict) else {}


def codecarbon_row(
    record: RunRecord, *, environment: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """The run as one row (``COLUMNS`` keys), or None for a run with no window.

    ``environment`` stands in for the record's when that is empty (a run not stored,
    whose environment the store never filled in).
    """
    main = record.main_window
    if main is None:
        return None
    setting, setting_error = _setting(record)
    pue = _pue(record, setting)
    co2e_g, setting_words = stored_run_co2e(record.extra, main.total_energy_j)
    duration_s = main.duration_s
    by_column = _energy_by_column(main)
    labels = _labels(record)
    wue = labels.get("wue")

    def kwh(energy_j: float | None) -> float | None:
        return None if energy_j is None else j_to_kwh(energy_j * pue)

    def watts(energy_j: float | None) -> float | None:
        if energy_j is None or duration_s <= 0:
            return None
        return energy_j * pue / duration_s

    energy_kwh = kwh(main.total_energy_j)
    emissions_kg = None if co2e_g is None else co2e_g / 1000.0
    row: dict[str, Any] = {
        "timestamp": _local_timestamp(main.started_at + duration_s),
        "project_name": labels.get("project_name") or DEFAULT_PROJECT_NAME,
        "run_id": run_uuid(record),
        "experiment_id": labels.get("experiment_id"),
        "duration": duration_s,
        "emissions": emissions_kg,
        "emissions_rate": (
            emissions_kg / duration_s if emissions_kg is not None and duration_s > 0 else None
        ),
        **{f"{c}_power": watts(by_column.get(c)) for c in ("cpu", "gpu", "ram")},
        **{f"{c}_energy": kwh(by_column.get(c)) for c in ("cpu", "gpu", "ram")},
        "energy_consumed": energy_kwh,
        "water_consumed": (None if wue is None or energy_kwh is None else float(wue) * energy_kwh),
        **_location_cells(setting),
        **environment_cells(record.environment or environment or {}),
        "codecarbon_version": None,
        "longitude": None,
        "latitude": None,
        "tracking_mode": None,
        "cpu_utilization_percent": None,
        "gpu_utilization_percent": None,
        "ram_utilization_percent": None,
        "ram_used_gb": None,
        "pue": pue,
        "wue": wue,
    }
    provenance = _provenance_by_column(main)
    row.update(
        {
            "genwatt_run_id": record.id,
            "genwatt_kind": record.kind,
            "genwatt_status": str(record.status),
            "genwatt_sweep": record.sweep,
            "genwatt_config_key": record.config_key,
            "genwatt_repeat": record.repeat,
            "genwatt_model": record.config.get("model"),
            "genwatt_started_at_utc": datetime.fromtimestamp(main.started_at, tz=UTC).isoformat(),
            "genwatt_provenance": str(main.overall_provenance()),
            **{f"genwatt_provenance_{c}": provenance.get(c) for c in ("cpu", "gpu", "ram")},
            "genwatt_energy_device_kwh": j_to_kwh(main.total_energy_j),
            "genwatt_complete": main.complete,
            "genwatt_errors": "; ".join(f"{d}: {e}" for d, e in main.errors.items()) or None,
            "genwatt_carbon_setting": setting_error or setting_words,
            "genwatt_version": record.genwatt_version,
            **_phase_cells(record, pue),
        }
    )
    return {column: row[column] for column in COLUMNS}


@dataclass(frozen=True)
class CodeCarbonRows:
    """The rows of some runs, and how many runs had no window to make a row of."""

    rows: list[dict[str, Any]]
    skipped_without_window: int


def codecarbon_rows(
    records: Iterable[RunRecord], *, environment: dict[str, Any] | None = None
) -> CodeCarbonRows:
    """One row per run that has a window, in the order given."""
    rows: list[dict[str, Any]] = []
    skipped = 0
    for record in records:
        row = codecarbon_row(record, environment=environment)
        if row is None:
            skipped += 1
        else:
            rows.append(row)
    return CodeCarbonRows(rows, skipped)


def _read_header_and_ids(path: Path) -> tuple[list[str] | None, set[str]]:
    """The file's header (None for a missing or empty file) and its ``run_id`` values."""
    try:
        if not path.exists() or path.stat().st_size == 0:
            return None, set()
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                return None, set()
            if header != list(COLUMNS):
                return header, set()
            index = COLUMNS.index("run_id")
            return header, {row[index] for row in reader if len(row) > index}
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise StoreError(f"cannot read {path}: {exc}; pick another file") from exc


def _refuse_foreign(path: Path, header: list[str]) -> StoreError:
    if header == list(CODECARBON_COLUMNS):
        what = "CodeCarbon's columns without genwatt's"
    elif set(CODECARBON_COLUMNS) <= set(header):
        what = "CodeCarbon's columns with other extra columns"
    else:
        what = "other columns"
    return StoreError(
        f"refusing to append to {path}: its header has {what}, not genwatt's CodeCarbon "
        f"schema (CodeCarbon {CODECARBON_VERSION} + genwatt {__version__}); write to a new file"
    )


def check_appendable(path: str | os.PathLike[str]) -> Path:
    """Raise ``StoreError`` unless rows could be appended to ``path`` now: a file of
    another schema, an unreadable file, or a folder that cannot be made. For callers
    that would otherwise find out after the work (a command, a tracked function)."""
    path = Path(path)
    header, _ = _read_header_and_ids(path)
    if header is not None and header != list(COLUMNS):
        raise _refuse_foreign(path, header)
    if path.is_dir():
        raise StoreError(f"cannot write {path}: it is a folder; name a .csv file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc}; pick another path") from exc
    if path.exists() and not os.access(path, os.W_OK):
        raise StoreError(f"cannot write {path}: permission denied; pick another path")
    return path


@dataclass(frozen=True)
class AppendResult:
    """What ``append_rows`` did: rows written, and rows whose run was already there."""

    path: Path
    written: int
    already_present: int


def _cell(value: Any) -> Any:
    return spreadsheet_safe(value) if isinstance(value, str) else value


def append_rows(path: str | os.PathLike[str], rows: Sequence[dict[str, Any]]) -> AppendResult:
    """Append ``rows`` to the CSV at ``path``, header first when the file is new or
    empty; rows whose ``run_id`` the file already holds are not written again.

    Raises:
        StoreError: the file's header is not this schema (it is left untouched), or it
            cannot be read or written.
    """
    path = check_appendable(path)
    header, present = _read_header_and_ids(path)
    fresh = [row for row in rows if row["run_id"] not in present]
    # A run_id repeated within ``rows`` is one run given twice: written once.
    unique = list({row["run_id"]: row for row in fresh}.values())
    try:
        with path.open("a", newline="", encoding="utf-8") as handle:
            # RFC 4180's CRLF, as genwatt's other CSV export: a lone "\r" in a cell is
            # then quoted, which with "\n" endings the writer leaves bare.
            writer = csv.writer(handle, lineterminator="\r\n")
            if header is None:
                writer.writerow(COLUMNS)
            for row in unique:
                writer.writerow([_cell(row[column]) for column in COLUMNS])
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc}; pick another path") from exc
    return AppendResult(path, len(unique), len(rows) - len(unique))


__all__ = [
    "CODECARBON_COLUMNS",
    "CODECARBON_VERSION",
    "COLUMNS",
    "DEFAULT_PROJECT_NAME",
    "EXTRA_KEY",
    "GENWATT_COLUMNS",
    "AppendResult",
    "CodeCarbonRows",
    "append_rows",
    "check_appendable",
    "codecarbon_row",
    "codecarbon_rows",
    "environment_cells",
    "run_uuid",
]
