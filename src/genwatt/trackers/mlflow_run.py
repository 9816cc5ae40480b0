"""Logging a record to the active MLflow run of the user's program.

Metrics go in with ``mlflow.log_metrics`` at a step that counts the records of the same
key in that run (0 for a run's first ``generation``, 1 for its second...), so that every
generation is a point of the metric's history rather than an overwrite at step 0. Tags
go in with ``mlflow.set_tags``. MLflow keeps the active run per thread: a window closed
in another thread than the one that started the run is not logged.
"""

from __future__ import annotations

import threading
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the record's module imports the carbon tables: only when logging
    from genwatt.trackers.record import TrackerRecord

NAME = "mlflow"

_steps: dict[tuple[str, str], int] = {}
_steps_lock = threading.Lock()


def has_run(mlflow: ModuleType) -> bool:
    """Whether this thread has an active MLflow run."""
    return mlflow.active_run() is not None


def log_to_mlflow(mlflow: ModuleType, record: TrackerRecord) -> bool:
    """Log ``record`` to MLflow's active run; False (nothing logged) when none is active."""
    run = mlflow.active_run()
    if run is None:
        return False
    with _steps_lock:
        key = (run.info.run_id, record.key)
        step = _steps.get(key, 0)
        _steps[key] = step + 1
    if record.metrics:
        mlflow.log_metrics(record.metrics, step=step)
    if record.tags:
        mlflow.set_tags(record.tags)
    return True
