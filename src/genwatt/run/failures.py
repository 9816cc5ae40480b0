"""Whose fault a failed run is, and whether an error was really the user's Ctrl-C.

Shared by every runner and executor: the answer decides whether a resumed sweep or
suite runs a configuration again, and whether an error is stored or stops the run.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import replace
from typing import Any

from genwatt.carbon.setting import RECORD_KEY as CARBON_KEY
from genwatt.carbon.setting import CarbonSetting
from genwatt.errors import ConfigError, GenwattError
from genwatt.store.records import FailureKind, RunRecord, RunStatus


def failure_kind(exc: Exception) -> FailureKind:
    """Whose fault a failed run is, which decides whether a resume retries it.

    genwatt's own errors, except an invalid configuration, come from the meter, the
    instrumentation or the store (a window left open, a counter that stopped
    answering): they say nothing about the configuration, so a resume retries it.
    Anything else (out of memory, a shape the model rejects) is the configuration's.
    """
    if isinstance(exc, GenwattError) and not isinstance(exc, ConfigError):
        return FailureKind.INFRASTRUCTURE
    return FailureKind.CONFIG


def interrupted_by_user(exc: BaseException) -> bool:
    """True when ``exc`` is, or was raised while handling, a ``KeyboardInterrupt``.

    Cleanup code that fails while Ctrl-C propagates (a ``finally`` closing a window that
    never opened) replaces the interrupt with its own error; the interrupt is still
    what happened, and it must stop the sweep, not be stored as a failed run.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def failed_run(
    exc: Exception,
    *,
    kind: str,
    sweep: str,
    config_key: str,
    config: dict[str, Any],
    started: float,
    stage: str,
    carbon: CarbonSetting,
    repeat: int = 0,
) -> RunRecord:
    """The record of a run that raised ``exc`` in ``stage``, as the store keeps it: its
    error, whose fault it was, and the traceback (call it in the ``except`` block)."""
    return RunRecord(
        kind=kind,
        status=RunStatus.FAILED,
        started_at=started,
        duration_s=time.time() - started,
        config=config,
        error=f"{type(exc).__name__}: {exc}",
        failure_kind=failure_kind(exc),
        sweep=sweep,
        config_key=config_key,
        repeat=repeat,
        extra={
            "failed_in": stage,
            "traceback": traceback.format_exc(limit=8),
            CARBON_KEY: carbon.to_dict(),
        },
    )


def as_infrastructure_failure(record: RunRecord, error: str) -> RunRecord:
    """``record`` (a failed run) as one that failed for reasons not its configuration's:
    ``error`` says why, a resume retries it, and the traceback (of the process that
    wrote the record, which says nothing about the run) is dropped."""
    extra = {k: v for k, v in record.extra.items() if k != "traceback"}
    return replace(record, error=error, failure_kind=FailureKind.INFRASTRUCTURE, extra=extra)
