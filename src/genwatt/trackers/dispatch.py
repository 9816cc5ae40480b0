"""Which trackers the user's program has loaded, and logging to each without failing.

The Meter calls ``log_window`` for every top-level window (parent None) it closes;
``genwatt.instrument`` opens its ``generation`` window with ``trackers=False`` and calls
``log_phases`` with the generation's breakdown instead, so a generation is logged once,
with its phases, and never also as a bare window. A window nested in another is never
logged by the Meter: its energy is inside the outer window's.

Nothing here imports a tracker: ``sys.modules`` says whether the program imported one,
and with none loaded a call returns at once. Whatever a tracker raises (no connection,
a refused name) is logged as a warning once per tracker and swallowed; the measurement
that produced the figures goes on. A carbon setting that cannot be resolved (an unknown
``$GENWATT_COUNTRY``) is warned about once too: energy is still logged, CO2e is not,
and the tag ``genwatt.co2e_error`` says why.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

from genwatt.trackers import mlflow_run, wandb_run

if TYPE_CHECKING:
    from genwatt.carbon.setting import CarbonSetting
    from genwatt.meter.phases import PhaseBreakdown
    from genwatt.meter.result import WindowResult
    from genwatt.trackers.record import TrackerRecord

_log = logging.getLogger(__name__)

# tracker module name -> (whether it has an active run, log a record to that run)
_ADAPTERS: dict[
    str, tuple[Callable[[ModuleType], bool], Callable[[ModuleType, TrackerRecord], bool]]
] = {
    mlflow_run.NAME: (mlflow_run.has_run, mlflow_run.log_to_mlflow),
    wandb_run.NAME: (wandb_run.has_run, wandb_run.log_to_wandb),
}
_warned: set[str] = set()
_warned_lock = threading.Lock()

RecordBuilder = Callable[["CarbonSetting | None", "str | None"], "TrackerRecord"]


def loaded_trackers() -> dict[str, ModuleType]:
    """The trackers the program has imported, by name (no import happens here)."""
    return {name: sys.modules[name] for name in _ADAPTERS if sys.modules.get(name) is not None}


def log_window(result: WindowResult) -> None:
    """Log one window to every tracker with an active run; never raises."""

    def build(setting: CarbonSetting | None, error: str | None) -> TrackerRecord:
        from genwatt.trackers.record import window_record

        return window_record(result, setting, error)

    _log_everywhere(build)


def log_phases(breakdown: PhaseBreakdown) -> None:
    """Log a generation and each of its phases to every tracker with an active run;
    never raises."""

    def build(setting: CarbonSetting | None, error: str | None) -> TrackerRecord:
        from genwatt.trackers.record import phases_record

        return phases_record(breakdown, setting, error)

    _log_everywhere(build)


def _log_everywhere(build: RecordBuilder) -> None:
    trackers = loaded_trackers()
    if not trackers:
        return
    record: TrackerRecord | None = None
    for name, module in trackers.items():
        has_run, log = _ADAPTERS[name]
        try:
            if not has_run(module):
                continue
            if record is None:  # built once, and only when some run will take it
                record = build(*_carbon_setting())
            log(module, record)
        except Exception:
            _warn_once(
                name,
                "genwatt: logging energy to %s failed; the measurement goes on without it "
                "(warned once)",
                name,
            )


def _carbon_setting() -> tuple[CarbonSetting | None, str | None]:
    """The carbon setting genwatt resolves from the environment, or None and why not."""
    from genwatt.carbon.setting import CarbonSetting
    from genwatt.errors import GenwattError

    try:
        return CarbonSetting.resolve(), None
    except GenwattError as exc:
        _warn_once("carbon", "genwatt: no CO2e logged to trackers: %s", exc, traceback=False)
        return None, str(exc)


def _warn_once(key: str, message: str, *args: object, traceback: bool = True) -> None:
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    _log.warning(message, *args, exc_info=traceback)
