"""Measured generations to calibrate against: from a genwatt store or from a CSV.

An ``Observation`` is one *configuration* (repeats averaged: they are not independent
evidence about the model), the workload it ran, and its measured latency and GPU
energy. Either measurement may be missing (a published figure with energy only).

Why configurations and not runs: a calibration's cross-validated error must say how
well it predicts a configuration it has not seen; with repeats as separate points,
leave-one-out would leave the other repeats of the same configuration in the fit.
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genwatt.errors import ConfigError
from genwatt.labels import settings_label
from genwatt.numbers import finite
from genwatt.predict.generation_compute import Workload, workload_for
from genwatt.store import ResultsStore
from genwatt.units import kwh_to_j


@dataclass(frozen=True)
class Observation:
    """A configuration's measured latency and GPU energy (means over ``runs``)."""

    label: str
    group: str  # the sweep or table it belongs to: hold-out-a-group CV uses it
    workload: Workload
    latency_s: float | None
    energy_gpu_j: float | None
    runs: int = 1
    source: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "group": self.group,
            "model": self.workload.model,
            "config": dict(self.workload.config),
            "latency_s": self.latency_s,
            "energy_gpu_j": self.energy_gpu_j,
            "runs": self.runs,
            "source": self.source,
            "note": self.note,
            "workload": self.workload.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Observation:
        return cls(
            label=data["label"],
            group=data["group"],
            workload=Workload.from_dict(data["workload"]),
            latency_s=data.get("latency_s"),
            energy_gpu_j=data.get("energy_gpu_j"),
            runs=int(data.get("runs", 1)),
            source=data.get("source", ""),
            note=data.get("note", ""),
        )


def _mean(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.fmean(kept) if kept else None


_SETTINGS = ("num_frames", "height", "width", "steps", "guidance", "max_text_tokens")


def int_or_none(value: Any, what: str = "a setting") -> int | None:
    number = float_or_none(value, what)
    return None if number is None else int(number)


def float_or_none(value: Any, what: str = "a value") -> float | None:
    """A number read from a CSV cell or a store. Empty and NaN (how pandas writes an empty
    cell) are missing; infinities and text are errors that name ``what``."""
    if value in (None, ""):
        return None
    try:
        if math.isnan(float(value)):
            return None
    except (TypeError, ValueError):
        pass  # not a number at all: finite() says so
    return finite(value, what)


def observation_for(
    model: str,
    settings: Mapping[str, Any],
    *,
    latency_s: float | None,
    energy_gpu_j: float | None,
    label: str,
    group: str,
    runs: int = 1,
    source: str = "",
    batch_size: int = 1,
) -> Observation:
    """An observation of ``model`` run with ``settings`` (registry names, None = default)."""
    frames = int_or_none(settings.get("num_frames"), f"{label}: num_frames")
    tokens = int_or_none(settings.get("max_text_tokens"), f"{label}: max_text_tokens")
    workload = workload_for(
        model,
        num_frames=frames,
        height=int_or_none(settings.get("height"), f"{label}: height"),
        width=int_or_none(settings.get("width"), f"{label}: width"),
        steps=int_or_none(settings.get("steps"), f"{label}: steps"),
        guidance=float_or_none(settings.get("guidance"), f"{label}: guidance"),
        max_text_tokens=tokens,
        batch_size=batch_size,
    )
    return Observation(
        label=label,
        group=group,
        workload=workload,
        latency_s=latency_s,
        energy_gpu_j=energy_gpu_j,
        runs=runs,
        source=source,
        note="; ".join(workload.notes),
    )


def _label(model: str, settings: Mapping[str, Any]) -> str:
    return f"{model} {settings_label(settings)}".strip()


# ----------------------------------------------------------------------------- store


def from_store(path: Path, *, gpu_domain: str = "gpu:0") -> list[Observation]:
    """One observation per configuration of the successful runs in a genwatt store.

    Only runs whose config names a model and whose main window has a *measured*
    ``gpu_domain`` figure are used: an estimated GPU energy would calibrate the model
    against another model.
    """
    groups: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    with ResultsStore(path, create=False) as store:
        for record in store.runs(status="ok"):
            main = record.main_window
            config = record.config
            if main is None or not config.get("model"):
                continue
            if str(main.provenance.get(gpu_domain, "")) != "measured":
                continue
            batch = config.get("batch_size") or (config.get("requested") or {}).get("batch_size")
            key = (config["model"], *(config.get(k) for k in _SETTINGS), batch or 1)
            groups[key].append((main.duration_s, main.energy_j[gpu_domain], record))
    if not groups:
        raise ConfigError(
            f"{path} holds no successful run with a model config and a measured "
            f"{gpu_domain} energy; run `genwatt sweep` or `genwatt bench` on the GPU first."
        )
    observations = []
    for key, runs in groups.items():
        model, batch = key[0], key[-1]
        settings = dict(zip(_SETTINGS, key[1:-1], strict=True))
        observations.append(
            observation_for(
                model,
                settings,
                latency_s=_mean(r[0] for r in runs),
                energy_gpu_j=_mean(r[1] for r in runs),
                label=_label(model, settings),
                group=runs[0][2].sweep or "store",
                runs=len(runs),
                source=str(path),
                batch_size=int(batch),
            )
        )
    return observations


def store_gpu_names(path: Path) -> set[str]:
    """The NVML names of the GPUs the store's runs were measured on."""
    names: set[str] = set()
    with ResultsStore(path, create=False) as store:
        for record in store.runs(status="ok"):
            for gpu in record.environment.get("gpus", []) or []:
                if gpu.get("name"):
                    names.add(str(gpu["name"]))
    return names


# ------------------------------------------------------------------------------ CSV

# Column names accepted for each quantity, first match wins: genwatt's own export (in
# joules) and plainly named columns (``energy_gpu_kwh`` for CodeCarbon's kWh). A table
# that names or splits its columns otherwise is read by a ``CsvLayout`` of its own.
_LATENCY = ("latency_s", "duration_s")
_ENERGY_J = ("energy_gpu_j", "energy_j.gpu:0")
_ENERGY_KWH = ("energy_gpu_kwh",)
MODEL_COLUMNS = ("model", "config.model")


@dataclass(frozen=True)
class CsvLayout:
    """A table this module cannot read by column names alone, and the reader that can.

    A published table may split a measurement over columns (one per stage) or name
    models the registry does not know. The module that knows the table describes it
    here: a column only it has (``key_column``) and the function that reads the file
    (``read``). ``from_csv`` takes the layouts it should recognise, so this reader
    stays generic and the arrow runs from the table's module to this one.
    """

    name: str
    key_column: str
    read: Callable[[Path], list[Observation]]

    def matches(self, row: Mapping[str, Any]) -> bool:
        """Whether a row (the file's first) is in this layout."""
        return self.key_column in row


def first_of(row: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        if row.get(name) not in (None, ""):
            return row[name]
    return None


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read {path}: {exc.strerror or exc}; check the path (a CSV of "
            "measurements, such as shared/reference/video_energy_budget/*.csv)"
        ) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path} is not UTF-8 text: byte {exc.start} is 0x{raw[exc.start]:02x}; "
            "save it as UTF-8."
        ) from None
    return list(csv.DictReader(io.StringIO(text, newline="")))


def row_measurements(row: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """(latency s, GPU energy J) of a CSV row in any of the accepted layouts."""
    latency = float_or_none(first_of(row, _LATENCY), "latency")
    energy_j = float_or_none(first_of(row, _ENERGY_J), "GPU energy")
    if energy_j is None:
        kwh = float_or_none(first_of(row, _ENERGY_KWH), "GPU energy (kWh)")
        energy_j = None if kwh is None else kwh_to_j(kwh)
    return latency, energy_j


def row_settings(row: Mapping[str, Any]) -> dict[str, Any]:
    """Generation settings of a CSV row: bare names or genwatt's ``config.`` columns."""
    settings: dict[str, Any] = {}
    for name in _SETTINGS:
        value = row.get(name, row.get(f"config.{name}"))
        if name == "guidance" and value in (None, ""):
            value = row.get("guidance_scale")
        settings[name] = None if value in (None, "") else value
    return settings


def from_csv(
    path: Path, *, model: str | None = None, layouts: Sequence[CsvLayout] = ()
) -> list[Observation]:
    """One observation per configuration of a CSV of measured generations.

    Reads genwatt's export (``config.*``, ``duration_s``, ``energy_j.gpu:0``) and plain
    per-configuration tables (``num_frames,height,width,steps,duration_s,
    energy_gpu_kwh``; pass ``model`` when there is no model column). A file in one of
    ``layouts`` is handed to that layout's reader instead (the paper's cross-model
    table: ``genwatt.predict.video_energy_budget.CSV_LAYOUTS``).
    """
    rows = read_csv_rows(path)
    if not rows:
        raise ConfigError(f"{path} has no rows.")
    for layout in layouts:
        if layout.matches(rows[0]):
            return layout.read(path)
    observations = []
    for row in rows:
        name = first_of(row, MODEL_COLUMNS) or model
        if name is None:
            raise ConfigError(
                f"{path} has no model column; say which model ran with --model "
                "(e.g. --model wan2.1-t2v-1.3b)."
            )
        settings = row_settings(row)
        latency_s, energy_j = row_measurements(row)
        observations.append(
            observation_for(
                name,
                settings,
                latency_s=latency_s,
                energy_gpu_j=energy_j,
                label=_label(name, settings),
                group=row.get("sweep") or row.get("config.sweep") or path.stem,
                source=str(path),
            )
        )
    return merge(observations)


def merge(observations: Iterable[Observation]) -> list[Observation]:
    """Average observations of one group that ran the same configuration.

    Requests that the pipeline rounds to the same run (81 and 83 frames both run as 81
    in WanPipeline) are one configuration; keeping them apart would let leave-one-out
    predict a point from its own twin.
    """
    groups: dict[str, list[Observation]] = defaultdict(list)
    for obs in observations:
        key = json.dumps(
            [obs.group, obs.workload.model, obs.workload.config], sort_keys=True, default=str
        )
        groups[key].append(obs)
    merged = []
    for same in groups.values():
        first = same[0]
        if len(same) == 1:
            merged.append(first)
            continue
        runs = sum(o.runs for o in same)
        labels = sorted({o.label for o in same})
        merged.append(
            Observation(
                label=labels[0] if len(labels) == 1 else " = ".join(labels),
                group=first.group,
                workload=first.workload,
                latency_s=_weighted(same, "latency_s"),
                energy_gpu_j=_weighted(same, "energy_gpu_j"),
                runs=runs,
                source=first.source,
                note=first.note,
            )
        )
    return merged


def _weighted(observations: list[Observation], attribute: str) -> float | None:
    pairs = [(getattr(o, attribute), o.runs) for o in observations]
    pairs = [(v, n) for v, n in pairs if v is not None]
    if not pairs:
        return None
    return sum(v * n for v, n in pairs) / sum(n for _, n in pairs)


def load(
    source: Path, *, model: str | None = None, layouts: Sequence[CsvLayout] = ()
) -> list[Observation]:
    """Observations from a genwatt store (SQLite) or a CSV, told apart by content;
    ``model`` and ``layouts`` are for a CSV (``from_csv``)."""
    if not source.exists():
        raise ConfigError(f"{source} does not exist; give a genwatt store or a CSV.")
    with source.open("rb") as handle:
        is_sqlite = handle.read(16) == b"SQLite format 3\x00"
    return from_store(source) if is_sqlite else from_csv(source, model=model, layouts=layouts)
