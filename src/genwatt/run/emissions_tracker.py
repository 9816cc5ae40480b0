"""A CodeCarbon drop-in: ``EmissionsTracker`` and ``track_emissions`` measured by genwatt.

For a user switching from CodeCarbon by changing one import::

    from genwatt import EmissionsTracker, track_emissions

The tracked code runs inside one genwatt meter window named ``"run"``. At the end the
run is stored in the genwatt results store (``store=``, else ``$GENWATT_STORE`` or
``./genwatt.db``; ``save_to_store=False`` for none) and its row is appended to
CodeCarbon's ``emissions.csv`` (``output_dir``/``output_file``; ``save_to_file=False``
for none), in CodeCarbon's schema with genwatt's provenance after it
(``genwatt.store.codecarbon_csv``). ``stop()`` returns kg CO2eq, as CodeCarbon's does.

CodeCarbon's keyword arguments that make sense here are honoured (the project and
experiment labels, the output file, the country or cloud region, PUE and WUE). A few
are accepted with no effect, because what they tune does not exist in genwatt
(``measure_power_secs``: genwatt reads cumulative counters at the window's edges;
``log_level``: nothing is logged while tracking; ``offline``: genwatt never goes
online; ``allow_multiple_runs``: trackers can always run side by side). Every other
one is refused with a line saying why and what to do instead, never silently dropped.

As CodeCarbon does, a tracked function that raises still has its energy written, and
its exception propagates; genwatt also stores the run as failed, with the error.
Both outputs are checked before the tracked code starts, so an unusable file or store
costs nothing.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, overload

from genwatt.carbon.setting import RECORD_KEY, CarbonSetting
from genwatt.errors import ConfigError, GenwattError, StoreError
from genwatt.meter.meter import Meter
from genwatt.meter.result import WindowResult
from genwatt.store.codecarbon_csv import EXTRA_KEY, append_rows, check_appendable, codecarbon_row
from genwatt.store.environment import current_environment
from genwatt.store.records import RunRecord, RunStatus
from genwatt.store.store import ResultsStore

P = ParamSpec("P")
R = TypeVar("R")

KIND = "track"  # the kind of the runs these trackers store
WINDOW_NAME = "run"
DEFAULT_PROJECT_NAME = "codecarbon"  # CodeCarbon's, so a dashboard's grouping holds
DEFAULT_OUTPUT_FILE = "emissions.csv"

_NO_API = "genwatt sends nothing over the network: runs go to the results store and the CSV"
_OWN_GRID = (
    "genwatt prices CO2e on its own grid tables, offline: give country_iso_code, or "
    "cloud_provider and cloud_region"
)
_OUTPUTS = (
    "genwatt writes the CSV (save_to_file) and its results store (store=, save_to_store); "
    "other outputs are not supported"
)
_NO_FORCED_POWER = (
    "genwatt reads energy counters, or estimates a domain with none from its own tables; "
    "forced powers are not supported"
)

# CodeCarbon's keyword arguments that genwatt refuses, and why.
UNSUPPORTED: dict[str, str] = {
    "api_call_interval": _NO_API,
    "api_endpoint": _NO_API,
    "api_key": _NO_API,
    "save_to_api": _NO_API,
    "emissions_endpoint": _NO_API,
    "electricitymaps_api_token": _OWN_GRID,
    "co2_signal_api_token": _OWN_GRID,
    "country_2letter_iso_code": _OWN_GRID,
    "force_carbon_intensity_g_co2e_kwh": _OWN_GRID,
    "region": "genwatt has no grids below a country's: give country_iso_code, or "
    "cloud_provider and cloud_region",
    "output_methods": _OUTPUTS,
    "output_handlers": _OUTPUTS,
    "save_to_logger": _OUTPUTS,
    "logging_logger": _OUTPUTS,
    "logger_preamble": _OUTPUTS,
    "save_to_logfire": _OUTPUTS,
    "save_to_prometheus": "for Prometheus, expose the meter with genwatt.metrics",
    "prometheus_url": "for Prometheus, expose the meter with genwatt.metrics",
    "gpu_ids": "genwatt meters the GPUs that CUDA_VISIBLE_DEVICES shows: set it instead",
    "tracking_mode": "genwatt's scope is per domain, not chosen: counters read the whole "
    "device, estimates the process tree (docs/exports.md)",
    "force_cpu_power": _NO_FORCED_POWER,
    "force_ram_power": _NO_FORCED_POWER,
    "force_mode_cpu_load": _NO_FORCED_POWER,
    "rapl_include_dram": "genwatt reports DRAM as a domain of its own (ram_energy)",
    "rapl_prefer_psys": "genwatt never reads RAPL's psys, which overlaps every other domain",
    "metadata": "genwatt stores the run's own config and environment; not supported",
}


def _refuse(options: dict[str, Any]) -> None:
    """Raise for the first CodeCarbon option genwatt does not support (None counts as
    not given, as in CodeCarbon); a name CodeCarbon does not know is a TypeError."""
    for name, value in options.items():
        if name not in UNSUPPORTED:
            raise TypeError(f"EmissionsTracker() got an unexpected keyword argument {name!r}")
        if value is not None:
            raise ConfigError(
                f"genwatt's EmissionsTracker does not support {name}= ({UNSUPPORTED[name]}); "
                "remove it"
            )


def _cloud(provider: str | None, region: str | None) -> str | None:
    if provider is None and region is None:
        return None
    if not provider or not region:
        raise ConfigError(
            "give cloud_provider and cloud_region together (e.g. 'gcp' and 'europe-west1'), "
            "or country_iso_code instead"
        )
    return f"{provider.strip().lower()}:{region.strip().lower()}"


def _check_wue(wue: float | None) -> float | None:
    if wue is None:
        return None
    if not math.isfinite(wue) or wue < 0:
        raise ConfigError(f"wue must be litres per kWh, a finite number >= 0, got {wue!r}")
    return float(wue)


class EmissionsTracker:
    """Track the energy and CO2e of the code between ``start()`` and ``stop()`` (or
    inside ``with``), CodeCarbon-style, measured by genwatt's ``Meter``.

    ``store``: the results store (default ``$GENWATT_STORE`` or ``./genwatt.db``);
    ``save_to_store=False`` stores nothing. ``meter``: a meter to use (its sources),
    left open at the end; by default one is made at ``start()`` and closed at ``stop()``.
    ``pue`` defaults to ``$GENWATT_PUE``, else 1.0; the grid to ``$GENWATT_COUNTRY`` or
    ``$GENWATT_CLOUD``, else the world average, as every genwatt command.

    After ``stop()``: ``final_emissions`` (kg CO2eq), ``final_emissions_data`` (the CSV
    row as a dict), ``result`` (the meter window) and ``run_id`` (the stored run's id).

    Raises (at construction): ``ConfigError`` for an unsupported CodeCarbon option, a
    missing ``output_dir``, a bad PUE or WUE; ``UnknownCountryError`` for an unknown
    country or cloud region.
    """

    def __init__(
        self,
        project_name: str = DEFAULT_PROJECT_NAME,
        measure_power_secs: float | None = None,
        *,
        output_dir: str | os.PathLike[str] = ".",
        output_file: str = DEFAULT_OUTPUT_FILE,
        save_to_file: bool = True,
        experiment_id: str | None = None,
        experiment_name: str | None = None,
        country_iso_code: str | None = None,
        cloud_provider: str | None = None,
        cloud_region: str | None = None,
        pue: float | None = None,
        wue: float | None = None,
        on_csv_write: str = "append",
        offline: bool | None = None,
        log_level: int | str | None = None,
        allow_multiple_runs: bool | None = None,
        store: str | os.PathLike[str] | None = None,
        save_to_store: bool = True,
        meter: Meter | None = None,
        **codecarbon_options: Any,
    ) -> None:
        _refuse(codecarbon_options)
        if on_csv_write != "append":
            raise ConfigError(
                f"on_csv_write={on_csv_write!r} is not supported: genwatt appends one row per "
                "run and never rewrites the file; leave it at 'append'"
            )
        if save_to_file and not Path(output_dir).is_dir():
            raise ConfigError(f"output_dir {str(output_dir)!r} is not a folder; create it first")
        self.project_name = project_name
        self.experiment_id = experiment_id
        self.experiment_name = experiment_name
        self.setting = CarbonSetting.resolve(
            country_iso_code, pue, cloud=_cloud(cloud_provider, cloud_region)
        )
        self.wue = _check_wue(wue)
        self.csv_path: Path | None = Path(output_dir) / output_file if save_to_file else None
        self.store_path = None if store is None else Path(store)
        self.save_to_store = save_to_store
        self.function: str | None = None  # the decorated function's name, if any
        self._given_meter = meter
        self._meter: Meter | None = None
        self.final_emissions: float | None = None
        self.final_emissions_data: dict[str, Any] | None = None
        self.result: WindowResult | None = None
        self.run_id: int | None = None

    # -------------------------------------------------------------------- start, stop
    @property
    def running(self) -> bool:
        return self._meter is not None

    def start(self) -> None:
        """Check both outputs, then open the meter window.

        Raises:
            GenwattError: already started; ``StoreError`` when the CSV or the store
                could not be written (nothing is measured then).
        """
        if self.running:
            raise GenwattError("this EmissionsTracker is already started; stop() it first")
        if self.csv_path is not None:
            check_appendable(self.csv_path)
        if self.save_to_store:
            with ResultsStore(self.store_path) as results:
                results.check_writable()
        meter = self._given_meter or Meter()
        try:
            meter.begin(WINDOW_NAME)
        except BaseException:
            if self._given_meter is None:
                meter.close()
            raise
        self._meter = meter

    def stop(self) -> float | None:
        """Close the window, store the run, append its CSV row; return kg CO2eq.

        A second ``stop()`` returns the first one's figure, as CodeCarbon's does.

        Raises:
            GenwattError: never started; ``StoreError`` when the run could not be stored
                or its row not written (both are tried; the figure is kept on the
                tracker either way).
        """
        return self._stop(None)

    def _stop(self, error: BaseException | None) -> float | None:
        meter = self._meter
        if meter is None:
            if self.result is not None:
                return self.final_emissions
            raise GenwattError("this EmissionsTracker was never started: call start() first")
        self._meter = None
        try:
            result = meter.end(WINDOW_NAME)
        finally:
            if self._given_meter is None:
                meter.close()
        self.result = result
        record = self._record(result, error)
        failures: list[StoreError] = []
        if self.save_to_store:
            try:
                with ResultsStore(self.store_path) as results:
                    record = replace(record, id=results.add(record))
                self.run_id = record.id
            except StoreError as exc:
                failures.append(exc)
        row = codecarbon_row(record)
        assert row is not None  # the record has its window
        self.final_emissions_data = row
        self.final_emissions = row["emissions"]
        if self.csv_path is not None:
            try:
                append_rows(self.csv_path, [row])
            except StoreError as exc:
                failures.append(exc)
        if failures:
            raise failures[0]
        return self.final_emissions

    def _record(self, result: WindowResult, error: BaseException | None) -> RunRecord:
        config: dict[str, Any] = {"project_name": self.project_name}
        if self.function is not None:
            config["function"] = self.function
        labels = {
            "project_name": self.project_name,
            "experiment_id": self.experiment_id,
            "experiment_name": self.experiment_name,
            "wue": self.wue,
        }
        return RunRecord(
            kind=KIND,
            status=RunStatus.OK if error is None else RunStatus.FAILED,
            started_at=result.started_at,
            duration_s=result.duration_s,
            config=config,
            windows=[result],
            environment=current_environment(),
            error=None if error is None else f"{type(error).__name__}: {error}".rstrip(": "),
            extra={
                EXTRA_KEY: labels,
                RECORD_KEY: self.setting.to_dict(),
                "co2e_g": self.setting.co2e_g(result.total_energy_j),
            },
        )

    # ---------------------------------------------------------------- context manager
    def __enter__(self) -> EmissionsTracker:
        self.start()
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            self.stop()
            return
        try:
            self._stop(exc)
        except GenwattError as failure:  # the tracked code's exception goes on, annotated
            exc.add_note(f"genwatt: {failure}")


@overload
def track_emissions(fn: Callable[P, R], **options: Any) -> Callable[P, R]: ...


@overload
def track_emissions(
    fn: None = None, **options: Any
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def track_emissions(fn: Callable[..., Any] | None = None, **options: Any) -> Any:
    """Decorator: each call of the function is tracked by its own ``EmissionsTracker``
    built with ``options`` (CodeCarbon's keyword arguments, plus ``store``,
    ``save_to_store`` and ``meter``). Usable bare (``@track_emissions``) or called
    (``@track_emissions(project_name="x")``). The options are checked when the function
    is decorated, so a refused one fails at import, not after the work.

    The return value passes through; an exception still records the run (as failed)
    and propagates.
    """
    EmissionsTracker(**options)  # refuse bad options now

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            tracker = EmissionsTracker(**options)
            tracker.function = getattr(func, "__qualname__", None) or repr(func)
            with tracker:
                return func(*args, **kwargs)

        return wrapper

    return decorate(fn) if fn is not None else decorate


__all__ = [
    "DEFAULT_PROJECT_NAME",
    "KIND",
    "UNSUPPORTED",
    "EmissionsTracker",
    "track_emissions",
]
