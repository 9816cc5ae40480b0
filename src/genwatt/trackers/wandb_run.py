"""Logging a record to the active Weights & Biases run of the user's program.

Metrics go in with ``run.log`` (one W&B step per record, as W&B counts steps itself);
the tags, which W&B has no key-value form of, go in the run's summary, where they show
as columns of the runs table. Tested only against a fake ``wandb`` module that records
the calls (tests/trackers), since W&B is not installed here.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the record's module imports the carbon tables: only when logging
    from genwatt.trackers.record import TrackerRecord

NAME = "wandb"


def has_run(wandb: ModuleType) -> bool:
    """Whether the program has a W&B run active (``wandb.init`` was called)."""
    return getattr(wandb, "run", None) is not None


def log_to_wandb(wandb: ModuleType, record: TrackerRecord) -> bool:
    """Log ``record`` to ``wandb.run``; False (nothing logged) when no run is active."""
    run = getattr(wandb, "run", None)
    if run is None:
        return False
    if record.metrics:
        run.log(dict(record.metrics))
    if record.tags:
        run.summary.update(dict(record.tags))
    return True
