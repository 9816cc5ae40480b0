"""Measure an arbitrary command: ``genwatt measure -- CMD ARGS...`` as a library call."""

from __future__ import annotations

import shlex
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import IO, Any

from genwatt.carbon import Co2eResult, co2e, equivalents
from genwatt.errors import GenwattError
from genwatt.meter.meter import Meter
from genwatt.meter.result import IdlePower, WindowResult
from genwatt.units import j_to_wh


@dataclass(frozen=True)
class CommandMeasurement:
    """A command's exit code, its energy window, and what that energy means."""

    command: list[str]
    exit_code: int
    window: WindowResult  # gross: everything the domains used while it ran
    idle: IdlePower | None
    carbon: Co2eResult
    missing: list[dict[str, Any]] = field(default_factory=list)

    @property
    def reported(self) -> WindowResult:
        """The figure to show: net of idle power when idle was measured."""
        return self.window.net_of_idle(self.idle) if self.idle else self.window

    def to_dict(self) -> dict[str, Any]:
        shown = self.reported
        return {
            "command": self.command,
            "exit_code": self.exit_code,
            "duration_s": shown.duration_s,
            "energy_j": dict(shown.energy_j),
            "provenance": {k: str(v) for k, v in shown.provenance.items()},
            "method": {k: str(v) for k, v in shown.method.items()},
            "energy_j_total": shown.total_energy_j,
            "energy_wh_total": j_to_wh(shown.total_energy_j),
            "provenance_total": str(shown.overall_provenance()),
            "net_of_idle": self.idle is not None,
            "energy_j_gross": dict(self.window.energy_j),
            "idle_power_w": dict(self.idle.power_w) if self.idle else None,
            "co2e_g": self.carbon.co2e_g,
            "carbon": self.carbon.to_dict(),
            "equivalents": [
                e.to_dict() for e in equivalents(shown.total_energy_j, self.carbon.co2e_g)
            ],
            "flags": shown.flags,
            "errors": shown.errors,
            "assumptions": shown.assumptions,
            "missing_counters": self.missing,
            "timeline": shown.timeline.to_dict() if shown.timeline else None,
        }


def exit_code_of(returncode: int) -> int:
    """The shell's convention: a command killed by signal N exits with 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def measure_command(
    command: list[str],
    *,
    meter: Meter | None = None,
    idle_seconds: float = 0.0,
    country: str | None = None,
    pue: float = 1.0,
    stdout: IO[str] | None = None,
) -> CommandMeasurement:
    """Run ``command`` to completion inside one window named ``"run"``.

    The child inherits stdin and stderr; its stdout goes to ``stdout`` when given (the
    CLI sends it to stderr in ``--json`` mode so that stdout holds only the report).
    Ctrl-C reaches the child through the terminal; the measurement still completes.
    """
    if not command:
        raise GenwattError("no command given: use `genwatt measure -- CMD ARGS...`")
    co2e(0.0, country=country, pue=pue)  # a bad country or PUE fails now, not after the run
    meter = meter or Meter()
    if idle_seconds > 0:
        meter.idle(idle_seconds)
    with meter.window("run") as window:
        try:
            child = subprocess.Popen(command, stdout=stdout)
        except FileNotFoundError as exc:
            raise GenwattError(f"command not found: {shlex.join(command)} ({exc})") from exc
        except PermissionError as exc:
            raise GenwattError(f"cannot execute {command[0]}: {exc}") from exc
        returncode = _wait(child)
    result = window.result
    assert result is not None
    shown = result.net_of_idle(meter.idle_power) if meter.idle_power else result
    return CommandMeasurement(
        command=list(command),
        exit_code=exit_code_of(returncode),
        window=result,
        idle=meter.idle_power,
        carbon=co2e(shown.total_energy_j, country=country, pue=pue),
        missing=[m.to_dict() for m in meter.missing],
    )


def _wait(child: subprocess.Popen[bytes]) -> int:
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            # The terminal delivered SIGINT to the child as well; give it time to exit.
            child.send_signal(signal.SIGINT)
            time.sleep(0.05)
