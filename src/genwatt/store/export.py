"""Stored runs as pandas frames and as CSV, JSON or Parquet files.

Two shapes, for two uses. ``runs_frame`` has one row per run, with the config and the
main window's energy per domain flattened into columns: the table a notebook or a
spreadsheet wants. ``windows_frame`` has one row per (run, window, domain): everything,
for analysis of phases. The JSON export keeps the nesting (config, environment, every
window) and is strict JSON (no NaN), for other programs to read.

The CSV file is opened by spreadsheets, which run a cell that starts with ``=``, ``+``,
``-`` or ``@`` (or tab, carriage return) as a formula: a command line or config value
such as ``=HYPERLINK(...)`` would execute. CSV text cells that start so are prefixed
with a single quote (OWASP's advice); numbers stay numbers, whatever their sign. Parquet
and JSON are read by programs, not spreadsheets, and stay verbatim. CSV rows end in CRLF
(RFC 4180), so that a carriage return inside a cell is quoted and stays in its cell.

pandas (and pyarrow, for Parquet) is imported inside the functions that need it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from genwatt.carbon.setting import stored_run_co2e
from genwatt.errors import StoreError
from genwatt.store.records import RunRecord
from genwatt.units import j_to_wh

if TYPE_CHECKING:
    import pandas as pd

ExportFormat = Literal["csv", "json", "parquet"]
FORMATS: tuple[str, ...] = ("csv", "json", "parquet")

RUN_COLUMNS: tuple[str, ...] = (
    "id",
    "kind",
    "status",
    "sweep",
    "config_key",
    "repeat",
    "started_at",
    "started_at_unix",
    "duration_s",
    "main_window",
    "energy_j_total",
    "energy_wh_total",
    "provenance_total",
    "co2e_g_gross",
    "co2e_grid",
    "complete",
    "error",
    "failure_kind",
    "genwatt_version",
)

WINDOW_COLUMNS: tuple[str, ...] = (
    "run_id",
    "kind",
    "status",
    "sweep",
    "config_key",
    "repeat",
    "ordinal",
    "window",
    "parent",
    "main",
    "started_at",
    "started_at_unix",
    "duration_s",
    "domain",
    "energy_j",
    "energy_wh",
    "provenance",
    "method",
    "idle_subtracted_w",
    "flags",
    "error",
)


def iso_utc(unix_s: float) -> str:
    """Unix time as ISO 8601 in UTC, so exports compare across time zones."""
    return datetime.fromtimestamp(unix_s, tz=UTC).isoformat()


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    """Nested dicts become dotted columns; lists become JSON text (one cell each)."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(f"{prefix}.{key}", item, out)
    elif isinstance(value, dict | list | tuple):
        out[prefix] = json.dumps(value)
    else:
        out[prefix] = value


def _co2e_cells(record: RunRecord) -> dict[str, Any]:
    """The run's gross CO2e on the carbon setting it was stored with (the world average
    for runs stored without one), as the report shows it, and that setting in words."""
    grams, grid = stored_run_co2e(record.extra, record.total_energy_j)
    return {"co2e_g_gross": grams, "co2e_grid": grid}


def _run_row(record: RunRecord) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    main = record.main_window
    row: dict[str, Any] = {
        "id": record.id,
        "kind": record.kind,
        "status": str(record.status),
        "sweep": record.sweep,
        "config_key": record.config_key,
        "repeat": record.repeat,
        "started_at": iso_utc(record.started_at),
        "started_at_unix": record.started_at,
        "duration_s": record.duration_s,
        "main_window": None if main is None else main.name,
        "energy_j_total": record.total_energy_j,
        "energy_wh_total": record.energy_wh_total,
        "provenance_total": None if main is None else str(main.overall_provenance()),
        **_co2e_cells(record),
        "complete": None if main is None else main.complete,
        "error": record.error,
        "failure_kind": None if record.failure_kind is None else str(record.failure_kind),
        "genwatt_version": record.genwatt_version,
    }
    groups: dict[str, dict[str, Any]] = {"config": {}, "energy_j": {}, "provenance": {}}
    for key, value in record.config.items():
        _flatten(f"config.{key}", value, groups["config"])
    if main is not None:
        for domain, energy_j in main.energy_j.items():
            groups["energy_j"][f"energy_j.{domain}"] = energy_j
            provenance = main.provenance.get(domain)
            groups["provenance"][f"provenance.{domain}"] = provenance and str(provenance)
    groups["extra"] = {}
    for key, value in record.extra.items():
        _flatten(f"extra.{key}", value, groups["extra"])
    return row, groups


def runs_frame(records: Iterable[RunRecord]) -> pd.DataFrame:
    """One row per run: identity, timing, flattened config, main-window energy.

    Columns: ``RUN_COLUMNS``, then ``config.<key>`` (nested keys dotted),
    ``energy_j.<domain>`` and ``provenance.<domain>`` of the run's main window (see
    ``RunRecord.main_window``), then ``extra.<key>``. A run without windows has no
    energy (NaN), never a zero.
    """
    import pandas as pd

    rows: list[dict[str, Any]] = []
    group_columns: dict[str, dict[str, None]] = {}  # ordered sets, first seen first
    for record in records:
        row, groups = _run_row(record)
        for group, values in groups.items():
            group_columns.setdefault(group, {}).update(dict.fromkeys(values))
            row.update(values)
        rows.append(row)
    columns = list(RUN_COLUMNS)
    for group in ("config", "energy_j", "provenance", "extra"):
        columns.extend(group_columns.get(group, {}))
    return pd.DataFrame(rows, columns=columns)


def windows_frame(records: Iterable[RunRecord]) -> pd.DataFrame:
    """One row per (run, window, domain), columns ``WINDOW_COLUMNS``.

    A domain that failed in a window has its message in ``error`` and no energy. A
    window with no domain at all still gets one row (``domain`` empty), so that no
    window disappears from the export.
    """
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for record in records:
        main = record.main_window
        for ordinal, window in enumerate(record.windows):
            base = {
                "run_id": record.id,
                "kind": record.kind,
                "status": str(record.status),
                "sweep": record.sweep,
                "config_key": record.config_key,
                "repeat": record.repeat,
                "ordinal": ordinal,
                "window": window.name,
                "parent": window.parent,
                "main": window is main,
                "started_at": iso_utc(window.started_at),
                "started_at_unix": window.started_at,
                "duration_s": window.duration_s,
            }
            domains = list(
                dict.fromkeys([*window.energy_j, *window.provenance, *window.errors])
            ) or [None]
            idle_w = window.idle_subtracted_w or {}
            for domain in domains:
                energy_j = window.energy_j.get(domain) if domain else None
                provenance = window.provenance.get(domain) if domain else None
                method = window.method.get(domain) if domain else None
                rows.append(
                    {
                        **base,
                        "domain": domain,
                        "energy_j": energy_j,
                        "energy_wh": None if energy_j is None else j_to_wh(energy_j),
                        "provenance": None if provenance is None else str(provenance),
                        "method": None if method is None else str(method),
                        "idle_subtracted_w": idle_w.get(domain) if domain else None,
                        "flags": "; ".join(window.flags.get(domain, [])) if domain else "",
                        "error": window.errors.get(domain) if domain else None,
                    }
                )
    return pd.DataFrame(rows, columns=list(WINDOW_COLUMNS))


def _strict_json(value: Any) -> Any:
    """Replace NaN and infinities (not valid JSON) with None, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _strict_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_strict_json(item) for item in value]
    return value


def records_json(records: Iterable[RunRecord]) -> list[dict[str, Any]]:
    """Runs as nested, strict-JSON-ready dicts: ``RunRecord.to_dict`` plus a few
    derived fields (``started_at_iso``, ``main_window``, ``energy_j_total``,
    ``energy_wh_total``) so that a reader need not re-derive them.
    """
    out = []
    for record in records:
        data = record.to_dict()
        main = record.main_window
        data["started_at_iso"] = iso_utc(record.started_at)
        data["main_window"] = None if main is None else main.name
        data["energy_j_total"] = record.total_energy_j
        data["energy_wh_total"] = record.energy_wh_total
        out.append(_strict_json(data))
    return out


#: First characters that make a spreadsheet read a text cell as a formula (OWASP).
FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` with a leading ``'`` if it is text a spreadsheet would run as a formula.

    Decided by type, not by how the value reads: a float -3.5 is a number and is kept,
    while the text "-3.5" (or "=1+2") is text and is quoted.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell made spreadsheet-safe (see the module docstring).

    Headers need nothing: each starts with a fixed name or a ``config.``/``extra.`` prefix.
    """
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    frame = frame.copy()
    for index, dtype in enumerate(frame.dtypes):
        # Numeric columns hold no text; object and string columns are checked cell by cell.
        if not (is_numeric_dtype(dtype) or is_bool_dtype(dtype)):
            frame.isetitem(index, frame.iloc[:, index].map(spreadsheet_safe))
    return frame


def _arrow_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text for object columns mixing types (a config key that is 4 in one run and
    "auto" in another), which Parquet's one-type-per-column rule would reject."""
    import pandas as pd

    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype != object:
            continue
        kinds = {type(v) for v in frame[column] if not pd.isna(v)}
        if len(kinds) > 1:
            frame[column] = frame[column].map(lambda v: None if pd.isna(v) else str(v))
    return frame


def export(
    records: Iterable[RunRecord],
    path: str | Path,
    fmt: ExportFormat | None = None,
    *,
    table: Literal["runs", "windows"] = "runs",
) -> Path:
    """Write runs to ``path`` as csv, json or parquet; return the path written.

    ``fmt`` defaults to the file's suffix. ``table`` picks ``runs_frame`` or
    ``windows_frame`` for csv and parquet; JSON always holds the full nested runs
    (``records_json``), windows included.
    """
    path = Path(path)
    chosen = fmt or path.suffix.lstrip(".").lower()
    if chosen not in FORMATS:
        raise StoreError(
            f"cannot export to {path}: unknown format {chosen!r}; use one of {', '.join(FORMATS)}"
        )
    records = list(records)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if chosen == "json":
            text = json.dumps(records_json(records), indent=2, allow_nan=False)
            path.write_text(text + "\n", encoding="utf-8")
            return path
        frame = runs_frame(records) if table == "runs" else windows_frame(records)
        if chosen == "csv":
            # RFC 4180's CRLF: the writer then quotes a cell holding a lone "\r", which
            # with "\n" endings it leaves bare and a reader takes for a row's end.
            _csv_safe(frame).to_csv(path, index=False, lineterminator="\r\n")
        else:
            _arrow_safe(frame).to_parquet(path, index=False)
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc}; pick another path") from exc
    return path
