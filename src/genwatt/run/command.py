"""Measure an arbitrary command: ``genwatt measure -- CMD ARGS...`` as a library call.

The command runs in a process group of its own, so that a request to stop genwatt
(SIGTERM from a scheduler, SIGHUP from a closed session, SIGINT from ``kill -INT``)
reaches the command and everything it started, and genwatt can still wait for it and
report what it used. Called from the main thread, ``measure_command`` installs its
signal handlers for the duration of the run and puts the previous ones back.

In its own group the command would be a background job of the terminal: it could not
read from it, and Ctrl-C / Ctrl-Z would go to genwatt only. So when genwatt is the
terminal's foreground job it hands the terminal to the command's group for the run
(as a shell does), follows the command when Ctrl-Z stops it, and takes the terminal
back at the end.

Its own group also lets genwatt find the command's workers after they leave its process
tree (a daemon double-forks, its parent exits, init adopts it): while the window is
open, the CPU and DRAM estimates also charge the group's members
(``EstimateSource.follow_process_group``), and the figure's assumptions say so. Members
still running when the command exits are flagged, in the flags and the assumptions of
every domain: what they use afterwards is not counted.
"""

from __future__ import annotations

import contextlib
import math
import os
import shlex
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from types import FrameType
from typing import IO, Any

from genwatt.carbon import Co2eResult, equivalents
from genwatt.carbon.setting import CarbonSetting
from genwatt.errors import ConfigError, GenwattError
from genwatt.meter.meter import Meter
from genwatt.meter.result import IdlePower, WindowResult
from genwatt.meter.sources.estimate import PROCESS_TREE_SCOPE, EstimateSource
from genwatt.units import j_to_wh

# The signals that ask genwatt to stop; each is passed on to the command's group.
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)

OUTLIVED_FLAG = (
    "processes of the measured command outlived it: their energy after exit is not counted"
)
GROUP_NOTE = (
    "processes of the command's process group that left its process tree (double-forked "
    "workers) are charged while the command runs; one that started a session of its own "
    "(setsid) is not found"
)


@dataclass(frozen=True)
class CommandMeasurement:
    """A command's exit code, its energy window, and what that energy means.

    ``signal`` is the signal that asked genwatt to stop while the command ran (it was
    passed on to the command), or None.
    """

    command: list[str]
    exit_code: int
    window: WindowResult  # gross: everything the domains used while it ran
    idle: IdlePower | None
    carbon: Co2eResult  # of the reported figure: net of idle when idle was measured
    carbon_gross: Co2eResult  # of the gross window, what stored runs are priced on
    setting: CarbonSetting  # the grid and PUE, stored with the run
    missing: list[dict[str, Any]] = field(default_factory=list)
    signal: int | None = None

    @property
    def reported(self) -> WindowResult:
        """The figure to show: net of idle power when idle was measured."""
        return self.window.net_of_idle(self.idle) if self.idle else self.window

    @property
    def ok(self) -> bool:
        """The command succeeded and nobody asked genwatt to stop it."""
        return self.exit_code == 0 and self.signal is None

    @property
    def signal_name(self) -> str | None:
        """``"SIGTERM"`` and the like, or None."""
        return None if self.signal is None else signal.Signals(self.signal).name

    @property
    def final_exit_code(self) -> int:
        """What ``genwatt measure`` exits with: 128 + N when signal N stopped it (the
        shell's convention, whatever the command made of the signal), else the
        command's own exit code."""
        return 128 + self.signal if self.signal is not None else self.exit_code

    def to_dict(self) -> dict[str, Any]:
        shown = self.reported
        return {
            "command": self.command,
            "exit_code": self.exit_code,
            "signal": self.signal_name,
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
            "co2e_basis": "net of idle" if self.idle is not None else "gross",
            "co2e_g_gross": self.carbon_gross.co2e_g,
            "carbon": self.carbon.to_dict(),
            "carbon_setting": self.setting.to_dict(),
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


def check_options(
    command: list[str],
    *,
    idle_seconds: float = 0.0,
    country: str | None = None,
    pue: float | None = None,
    cloud: str | None = None,
) -> CarbonSetting:
    """Raise ``GenwattError`` for anything ``measure_command`` would refuse, so that a
    caller can refuse before it prepares anything else (the CLI opens the store next).
    Returns the carbon setting the options resolve to."""
    if not command:
        raise GenwattError("no command given: use `genwatt measure -- CMD ARGS...`")
    if not math.isfinite(idle_seconds) or idle_seconds < 0:
        raise ConfigError(
            f"--idle-seconds must be a finite number of seconds >= 0, got {idle_seconds!r}; "
            "use 0 to skip the idle measurement"
        )
    return CarbonSetting.resolve(country, pue, cloud=cloud)  # a bad grid or PUE fails now


def measure_command(
    command: list[str],
    *,
    meter: Meter | None = None,
    idle_seconds: float = 0.0,
    country: str | None = None,
    pue: float | None = None,
    cloud: str | None = None,
    stdout: IO[str] | None = None,
) -> CommandMeasurement:
    """Run ``command`` to completion inside one window named ``"run"``.

    The child inherits stdin and stderr; its stdout goes to ``stdout`` when given (the
    CLI sends it to stderr in ``--json`` mode so that stdout holds only the report).
    SIGTERM, SIGHUP and SIGINT sent to this process are passed on to the command's
    process group (see the module docstring) and the measurement still completes,
    with ``signal`` set. A window flag says so when processes of the command's group
    are still running after it exited.
    """
    setting = check_options(
        command, idle_seconds=idle_seconds, country=country, pue=pue, cloud=cloud
    )
    meter = meter or Meter()
    if idle_seconds > 0:
        meter.idle(idle_seconds)
    followed: list[str] = []
    with (
        _Forwarder() as forwarder,
        contextlib.ExitStack() as following,
        meter.window("run") as window,
    ):
        child = _start(command, stdout, own_group=forwarder.active)
        if forwarder.active:
            followed = following.enter_context(_following_group(meter, child.pid))
        returncode = forwarder.supervise(child)
    result = window.result
    assert result is not None
    if followed:
        result = _with_group_scope(result, child.pid)
    if forwarder.active and _group_alive(child.pid):
        result = _flag_every_domain(result, OUTLIVED_FLAG)
    meter.results[meter.results.index(window.result)] = result
    shown = result.net_of_idle(meter.idle_power) if meter.idle_power else result
    return CommandMeasurement(
        command=list(command),
        exit_code=exit_code_of(returncode),
        window=result,
        idle=meter.idle_power,
        carbon=setting.co2e(shown.total_energy_j),
        carbon_gross=setting.co2e(result.total_energy_j),
        setting=setting,
        missing=[m.to_dict() for m in meter.missing],
        signal=forwarder.received,
    )


def _start(command: list[str], stdout: IO[str] | None, *, own_group: bool) -> subprocess.Popen[Any]:
    try:
        return subprocess.Popen(command, stdout=stdout, process_group=0 if own_group else None)
    except FileNotFoundError as exc:
        raise GenwattError(f"command not found: {shlex.join(command)} ({exc})") from exc
    except PermissionError as exc:
        raise GenwattError(f"cannot execute {command[0]}: {exc}") from exc


@contextlib.contextmanager
def _following_group(meter: Meter, pgid: int) -> Iterator[list[str]]:
    """Estimates follow process group ``pgid`` until the block ends; yields the names
    of the domains that do."""
    sources = [s for s in meter.sources if isinstance(s, EstimateSource)]
    for source in sources:
        source.follow_process_group(pgid)
    try:
        yield [d.name for s in sources for d in s.domains]
    finally:
        for source in sources:
            source.follow_process_group(None)


def _with_group_scope(result: WindowResult, pgid: int) -> WindowResult:
    assumptions = {d: dict(v) for d, v in result.assumptions.items()}
    for values in assumptions.values():
        if values.get("scope") == PROCESS_TREE_SCOPE:
            values["scope"] = f"{PROCESS_TREE_SCOPE} and process group {pgid} (the command's)"
            values["process_group"] = GROUP_NOTE
    return replace(result, assumptions=assumptions)


def _flag_every_domain(result: WindowResult, flag: str) -> WindowResult:
    flags = {d: list(v) for d, v in result.flags.items()}
    assumptions = {d: dict(v) for d, v in result.assumptions.items()}
    for domain in result.energy_j:
        flags.setdefault(domain, []).append(flag)
        assumptions.setdefault(domain, {})["outlived"] = flag
    return replace(result, flags=flags, assumptions=assumptions)


def _group_alive(pgid: int) -> bool:
    """Whether any process is still in process group ``pgid``."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member we may not signal: it exists
        return True
    return True


class _Forwarder:
    """Passes the signals that ask genwatt to stop on to the command's process group,
    and lends the command the terminal while it runs.

    Active only in the main thread (Python delivers signals there and only there may
    handlers be set); elsewhere the command stays in the caller's process group, so a
    terminal's Ctrl-C reaches it directly, as it always did.
    """

    def __init__(self) -> None:
        self.active = threading.current_thread() is threading.main_thread()
        self.received: int | None = None
        self._pgid: int | None = None
        self._pending: list[int] = []
        self._previous: dict[int, Any] = {}
        self._terminal: int | None = None

    def __enter__(self) -> _Forwarder:
        if not self.active:
            return self
        for signum in FORWARDED_SIGNALS:
            # An ignored signal (nohup, a shell's `cmd &`) stays ignored: the command
            # inherits that disposition, and installing a handler would take it away.
            if signal.getsignal(signum) is not signal.SIG_IGN:
                self._previous[signum] = signal.signal(signum, self._handle)
        self._terminal = _foreground_terminal()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._terminal is not None:
            if self._pgid is not None:
                _hand_terminal(self._terminal, os.getpgrp())
            os.close(self._terminal)
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def supervise(self, child: subprocess.Popen[Any]) -> int:
        """Forward what arrived while the command started, then wait for it to end."""
        if not self.active:
            return child.wait()
        self._pgid = child.pid
        if self._terminal is not None:
            _hand_terminal(self._terminal, child.pid)
            _continue(child.pid)  # it may have stopped reading the terminal before it had it
        for signum in self._pending:
            self._send(signum)
        return self._wait(child)

    def _wait(self, child: subprocess.Popen[Any]) -> int:
        if self._terminal is None:
            return child.wait()
        while True:
            _, status = os.waitpid(child.pid, os.WUNTRACED)
            if not os.WIFSTOPPED(status):
                child.returncode = os.waitstatus_to_exitcode(status)
                return child.returncode
            self._follow_stop(child.pid, self._terminal)

    @staticmethod
    def _follow_stop(pgid: int, terminal: int) -> None:
        """Ctrl-Z stopped the command: stop genwatt too, so the shell gets its prompt
        back, and when the job is resumed, resume the command (in the foreground again
        if the job is)."""
        _hand_terminal(terminal, os.getpgrp())
        os.kill(os.getpid(), signal.SIGSTOP)
        if _is_foreground(terminal):
            _hand_terminal(terminal, pgid)
        _continue(pgid)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
        if self._pgid is None:
            self._pending.append(signum)
        else:
            self._send(signum)

    def _send(self, signum: int) -> None:
        assert self._pgid is not None
        with contextlib.suppress(ProcessLookupError):  # it has just ended: nobody to tell
            os.killpg(self._pgid, signum)


def _foreground_terminal() -> int | None:
    """A descriptor on the controlling terminal when this process's group is its
    foreground job; None without a terminal or in the background."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        return None
    if _is_foreground(fd):
        return fd
    os.close(fd)
    return None


def _is_foreground(fd: int) -> bool:
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False


def _hand_terminal(fd: int, pgid: int) -> None:
    """Make ``pgid`` the terminal's foreground group. SIGTTOU is blocked meanwhile:
    taking the terminal back from the background would otherwise stop genwatt."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTTOU})
    try:
        os.tcsetpgrp(fd, pgid)
    except OSError:
        pass  # the terminal went away (hung up): nothing to hand over
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _continue(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGCONT)
