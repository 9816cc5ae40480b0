"""One stored run: what ran, how it went, where, and the energy of each of its windows.

A ``RunRecord`` is a plain value: the runner builds one after a run (``id=None``), the
store writes it and hands back records with their ``id`` set. It knows nothing about
SQL, so reports and exports can work on records from any source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from genwatt.meter.result import WindowResult
from genwatt.units import j_to_wh
from genwatt.version import __version__

MAIN_WINDOW_NAME = "run"


class RunStatus(StrEnum):
    """Whether the run finished; a failed run is kept, with its error, not dropped."""

    OK = "ok"
    FAILED = "failed"


class FailureKind(StrEnum):
    """Why a sweep run failed, which decides whether a resumed sweep runs it again.

    ``config``: the configuration's own failure (out of memory, a shape the model
    rejects); it would fail again, so it stays recorded and a resume skips it.
    ``infrastructure``: genwatt, the meter or the store failed, not the configuration
    (a window left open, a counter that stopped answering); a resume runs it again and
    the new run replaces the stored failure. A failed run written without a kind (before
    genwatt classified failures, or outside a sweep) counts as ``config``.
    """

    CONFIG = "config"
    INFRASTRUCTURE = "infrastructure"


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """A run and every measurement window it produced.

    ``config`` is what was asked for (model, steps, resolution...), ``environment`` where
    it ran (see ``genwatt.store.environment``; the store fills it in when left empty),
    ``extra`` anything else worth keeping (exit code, country, CO2e). Within a sweep,
    ``(sweep, config_key, repeat)`` identifies the run and is unique in a store.
    ``failure_kind`` (failed runs only) says whether a resumed sweep retries it.
    """

    id: int | None = None
    kind: str
    status: str = RunStatus.OK
    started_at: float  # Unix time, seconds
    duration_s: float
    config: dict[str, Any] = field(default_factory=dict)
    windows: list[WindowResult] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    failure_kind: str | None = None
    sweep: str | None = None
    config_key: str | None = None
    repeat: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    genwatt_version: str = __version__

    @property
    def ok(self) -> bool:
        return self.status == RunStatus.OK

    @property
    def retryable(self) -> bool:
        """A failed run that was not the configuration's fault: a resume runs it again."""
        return not self.ok and self.failure_kind == FailureKind.INFRASTRUCTURE

    def window(self, name: str) -> WindowResult | None:
        """The first window with this name, or None."""
        return next((w for w in self.windows if w.name == name), None)

    @property
    def main_window(self) -> WindowResult | None:
        """The window whose energy stands for the whole run.

        The window named ``"run"`` when there is one (the runner opens it around the
        whole workload, so it is the figure a user expects). Otherwise the longest
        top-level window (no parent): nested windows are parts of it, and when several
        windows sit side by side (a CLI ``measure`` of phases, say), the longest one is
        the likeliest to cover the workload. Ties go to the earliest. None without
        windows (a run that failed before metering started).
        """
        named = self.window(MAIN_WINDOW_NAME)
        if named is not None:
            return named
        top = [w for w in self.windows if w.parent is None] or self.windows
        if not top:
            return None
        return max(top, key=lambda w: w.duration_s)  # max keeps the first of equals

    @property
    def total_energy_j(self) -> float | None:
        """Energy of ``main_window`` over all its domains, or None without windows."""
        main = self.main_window
        return None if main is None else main.total_energy_j

    @property
    def energy_wh_total(self) -> float | None:
        energy_j = self.total_energy_j
        return None if energy_j is None else j_to_wh(energy_j)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested data (windows via ``WindowResult.to_dict``); JSON-ready."""
        return {
            "id": self.id,
            "kind": self.kind,
            "status": str(self.status),
            "started_at": self.started_at,
            "duration_s": self.duration_s,
            "config": self.config,
            "windows": [w.to_dict() for w in self.windows],
            "environment": self.environment,
            "error": self.error,
            "failure_kind": None if self.failure_kind is None else str(self.failure_kind),
            "sweep": self.sweep,
            "config_key": self.config_key,
            "repeat": self.repeat,
            "extra": self.extra,
            "genwatt_version": self.genwatt_version,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        return cls(
            id=data.get("id"),
            kind=data["kind"],
            status=RunStatus(data["status"]),
            started_at=data["started_at"],
            duration_s=data["duration_s"],
            config=dict(data.get("config", {})),
            windows=[WindowResult.from_dict(w) for w in data.get("windows", [])],
            environment=dict(data.get("environment", {})),
            error=data.get("error"),
            failure_kind=_failure_kind(data.get("failure_kind")),
            sweep=data.get("sweep"),
            config_key=data.get("config_key"),
            repeat=int(data.get("repeat", 0)),
            extra=dict(data.get("extra", {})),
            genwatt_version=data.get("genwatt_version", __version__),
        )


def _failure_kind(value: str | None) -> FailureKind | None:
    return None if value is None else FailureKind(value)
