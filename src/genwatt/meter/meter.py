"""The Meter: named windows over every energy source of the machine.

A window is two readings of cumulative counters, so windows may nest and overlap
freely at no extra cost. While any window is open, a sampling thread polls the sources
that need it (RAPL wraparound, counter resets, power sampling on GPUs without an energy
counter) and, when asked, records a power timeline. A counter that lost continuity
inside a window (``sources/counter.py``) makes that domain an error of the window.

Whoever wants every window as it closes (a Prometheus exporter, a log) registers a
listener with ``add_listener``; listeners run after the window closed, outside the
meter's lock, and one that raises is logged once and never breaks a measurement. When
the user's program has an MLflow or Weights & Biases run active, every top-level window
is also logged to it (``genwatt.trackers``); a caller that logs a window itself, with
more detail, opens it with ``trackers=False``.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from genwatt.errors import ConfigError, SourceReadError, WindowError
from genwatt.meter.result import IdlePower, Method, PowerTimeline, Provenance, WindowResult
from genwatt.meter.sources.base import (
    CounterBreak,
    Domain,
    EnergySource,
    MissingCounter,
    Reading,
    Snapshot,
)
from genwatt.meter.sources.discovery import discover_sources
from genwatt.meter.sync import synchronize_accelerators
from genwatt.trackers import log_window

_log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")
WindowListener = Callable[[WindowResult], None]

DEFAULT_SAMPLE_PERIOD_S = 0.1


@dataclass
class Window:
    """Handle of an open window; ``result`` is filled in when it closes."""

    name: str
    result: WindowResult | None = None


@dataclass
class _OpenWindow:
    name: str
    parent: str | None
    t0: float
    wall0: float
    snapshot: Snapshot
    handle: Window
    trackers: bool = True


@dataclass
class _ClosingWindow:
    """What a window's close read under the lock; the rest happens outside it."""

    window: _OpenWindow
    snapshot: Snapshot
    duration_s: float
    timeline: PowerTimeline | None
    sampler: threading.Thread | None


@dataclass
class _Timeline:
    t: list[float] = field(default_factory=list)
    power_w: list[dict[str, float]] = field(default_factory=list)
    last_t: float | None = None
    last_snapshot: Snapshot | None = None


class Meter:
    """Measures the energy of code windows on every domain found on this machine.

    ``sources`` defaults to everything discovery finds (counters first, estimates only
    for domains with no counter). ``timeline=True`` keeps a power timeline with each
    window, sampled every ``sample_period_s``.
    """

    def __init__(
        self,
        sources: list[EnergySource] | None = None,
        *,
        sample_period_s: float = DEFAULT_SAMPLE_PERIOD_S,
        timeline: bool = False,
        synchronize: bool = True,
        include_estimates: bool = True,
    ) -> None:
        if sources is None:
            discovery = discover_sources(include_estimates=include_estimates)
            sources, self.missing = discovery.sources, discovery.missing
        else:
            self.missing: list[MissingCounter] = []
        self.sources = sources
        self.sample_period_s = sample_period_s
        self.keep_timeline = timeline
        self.synchronize = synchronize
        self.results: list[WindowResult] = []
        self.idle_power: IdlePower | None = None
        self._domains = {d.name: (d, s) for s in sources for d in s.domains}
        self._open: dict[int, _OpenWindow] = {}
        self._by_name: dict[str, int] = {}
        self._tokens = itertools.count()
        self._lock = threading.RLock()
        self._timeline = _Timeline()
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None
        self._sampler_holds = 0  # callers keeping the sampler alive with no window open
        self._listeners: dict[int, WindowListener] = {}
        self._failed_listeners: set[int] = set()

    # ----------------------------------------------------------------- introspection
    @property
    def domains(self) -> list[Domain]:
        return [d for d, _ in self._domains.values()]

    def read_j(self) -> Reading:
        """Cumulative joules per domain right now (after synchronising accelerators)."""
        return self._snapshot().energy_j

    def snapshot(self) -> Snapshot:
        """``read_j`` with the counter breaks seen so far, for readers that must tell a
        break from energy (an exporter of cumulative counters)."""
        return self._snapshot()

    def _snapshot(self) -> Snapshot:
        if self.synchronize:
            synchronize_accelerators()
        return _read_all(self.sources)

    # --------------------------------------------------------------------- listeners
    def add_listener(self, listener: WindowListener) -> Callable[[], None]:
        """Call ``listener(result)`` for every window this meter closes from now on.

        It runs in the thread that closed the window, after the window closed and
        outside the meter's lock, so it may read the meter. A listener that raises is
        logged once and skipped for that window; the measurement goes on. Returns a
        function that removes the listener (calling it twice is harmless).
        """
        with self._lock:
            token = next(self._tokens)
            self._listeners[token] = listener

        def remove() -> None:
            with self._lock:
                self._listeners.pop(token, None)

        return remove

    def _notify(self, result: WindowResult, *, trackers: bool) -> None:
        with self._lock:
            listeners = list(self._listeners.items())
        for token, listener in listeners:
            try:
                listener(result)
            except Exception:
                if token not in self._failed_listeners:
                    self._failed_listeners.add(token)
                    _log.warning(
                        "genwatt: window listener %r raised on window %r; the measurement "
                        "goes on (logged once per listener)",
                        listener,
                        result.name,
                        exc_info=True,
                    )
        if trackers and result.parent is None:
            log_window(result)  # never raises; imports nothing unless a tracker is loaded

    def hold_sampler(self) -> Callable[[], None]:
        """Keep the sampling thread polling while no window is open; returns the release.

        A long-running caller that reads the meter between windows (a server between
        requests) needs the sources that must be polled (RAPL wraparound, GPUs that only
        report power) polled all along, without holding a window open that every other
        window would nest in. Releasing twice is harmless. With ``timeline=True`` the
        power timeline keeps growing while the sampler is held.
        """
        with self._lock:
            if self._sampler is None:
                self._start_sampler(time.perf_counter(), self._snapshot())
            self._sampler_holds += 1
        released = False

        def release() -> None:
            nonlocal released
            sampler = None
            with self._lock:
                if released:
                    return
                released = True
                self._sampler_holds -= 1
                if not self._open and not self._sampler_holds:
                    sampler = self._detach_sampler()
            _join(sampler)

        return release

    # ----------------------------------------------------------------------- windows
    def begin(self, name: str, *, trackers: bool = True) -> Window:
        """Open a window by name, for callbacks that cannot use ``with``.

        ``trackers=False`` keeps the window out of an active MLflow or W&B run, for a
        caller that logs it itself (see the module docstring).
        """
        with self._lock:
            if name in self._by_name:
                raise WindowError(f"a window named {name!r} is already open; end it first")
            token = self._open_window(name, named=True, trackers=trackers)
            return self._open[token].handle

    def end(self, name: str) -> WindowResult:
        with self._lock:
            token = self._by_name.pop(name, None)
            if token is None:
                open_names = ", ".join(sorted(self._by_name)) or "none"
                raise WindowError(f"no open window named {name!r} (open: {open_names})")
            closing = self._take_window(token)
        # Finished outside the lock: joining the sampler under it could deadlock with a
        # sample waiting for the lock, and listeners must not run under it.
        return self._finish_window(closing)

    def discard(self, name: str) -> bool:
        """Close the open window ``name`` without reading a counter or keeping a result.

        For cleaning up after a call that was cut short (an exception, Ctrl-C inside a
        hook): its windows cover work that did not finish and must not linger open into
        the next call. Returns whether such a window was open.
        """
        sampler = None
        with self._lock:
            token = self._by_name.pop(name, None)
            if token is None:
                return False
            self._open.pop(token, None)
            if not self._open and not self._sampler_holds:
                sampler = self._detach_sampler()
        _join(sampler)
        return True

    @property
    def open_windows(self) -> list[str]:
        """Names of the windows open now, outermost first."""
        with self._lock:
            return [self._open[token].name for token in sorted(self._open)]

    @contextmanager
    def window(self, name: str, *, trackers: bool = True) -> Iterator[Window]:
        """``with meter.window("denoise") as w: ...``; then ``w.result``.

        ``trackers=False``: as for ``begin``.
        """
        token = self._open_window(name, trackers=trackers)
        try:
            yield self._open[token].handle
        finally:
            self._close_window(token)

    def measure(self, name: str | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
        """Decorator: every call of the function is a window (results in ``.results``)."""

        def decorate(func: Callable[P, R]) -> Callable[P, R]:
            label = name or func.__qualname__

            @functools.wraps(func)
            def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
                with self.window(label):
                    return func(*args, **kwargs)

            return wrapper

        return decorate

    def idle(self, seconds: float) -> IdlePower:
        """Measure each domain's power while this process does nothing.

        Call it with no window open, on a machine that is otherwise quiet; the result
        is kept as ``meter.idle_power`` and ``WindowResult.net_of_idle`` uses it.
        """
        if not math.isfinite(seconds) or seconds <= 0:
            raise ConfigError(f"idle time must be a finite number of seconds > 0, got {seconds!r}")
        with self._lock:
            if self._open:
                raise WindowError("idle power must be measured with no window open")
        # Not a window of the workload: no listener or tracker sees it, nor ``results``.
        token = self._open_window("idle", trackers=False)
        try:
            time.sleep(seconds)
        finally:
            result = self._close_window(token, notify=False)
        self.results.remove(result)
        self.idle_power = IdlePower(
            power_w={d: e / result.duration_s for d, e in result.energy_j.items()},
            duration_s=result.duration_s,
            provenance=dict(result.provenance),
        )
        return self.idle_power

    def close(self) -> None:
        self._stop_sampler()
        for source in self.sources:
            source.close()

    def __enter__(self) -> Meter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --------------------------------------------------------------------- internals
    def _open_window(self, name: str, *, named: bool = False, trackers: bool = True) -> int:
        """Open a window; ``named`` also registers it under ``name`` for ``end``.

        The window and its name are registered together, and undone together if an
        interrupt lands between the two, so no window is ever open without a name to
        close it by.
        """
        with self._lock:
            parent = self._innermost_open_name()
            snapshot = self._snapshot()
            now = time.perf_counter()
            token = next(self._tokens)
            try:
                self._open[token] = _OpenWindow(
                    name, parent, now, time.time(), snapshot, Window(name), trackers
                )
                if named:
                    self._by_name[name] = token
            except BaseException:
                self._open.pop(token, None)
                if self._by_name.get(name) == token:
                    del self._by_name[name]
                raise
            if len(self._open) == 1 and self._sampler is None:
                self._start_sampler(now, snapshot)
            return token

    def _innermost_open_name(self) -> str | None:
        if not self._open:
            return None
        return self._open[max(self._open)].name

    def _close_window(self, token: int, *, notify: bool = True) -> WindowResult:
        return self._finish_window(self._take_window(token), notify=notify)

    def _take_window(self, token: int) -> _ClosingWindow:
        """Read the closing boundary and unregister the window, under the lock."""
        sampler = None
        with self._lock:
            snapshot = self._snapshot()
            now = time.perf_counter()
            window = self._open.pop(token)
            timeline = self._timeline_slice(window.t0, now) if self.keep_timeline else None
            if not self._open and not self._sampler_holds:
                sampler = self._detach_sampler()
        return _ClosingWindow(window, snapshot, now - window.t0, timeline, sampler)

    def _finish_window(self, closing: _ClosingWindow, *, notify: bool = True) -> WindowResult:
        # Joined outside the lock: the sampler may be waiting for it to record a sample.
        _join(closing.sampler)
        window = closing.window
        result = self._build_result(window, closing.snapshot, closing.duration_s, closing.timeline)
        window.handle.result = result
        self.results.append(result)
        if notify:
            self._notify(result, trackers=window.trackers)
        return result

    def _build_result(
        self,
        window: _OpenWindow,
        snapshot: Snapshot,
        duration_s: float,
        timeline: PowerTimeline | None,
    ) -> WindowResult:
        energy: dict[str, float] = {}
        provenance: dict[str, Provenance] = {}
        method: dict[str, Method] = {}
        flags: dict[str, list[str]] = {}
        errors: dict[str, str] = {}
        assumptions: dict[str, dict[str, Any]] = {}
        for name, (domain, source) in self._domains.items():
            start, end = window.snapshot.energy_j.get(name), snapshot.energy_j.get(name)
            domain_flags = list(domain.flags)
            if isinstance(start, SourceReadError) or isinstance(end, SourceReadError):
                errors[name] = str(start if isinstance(start, SourceReadError) else end)
                continue
            if start is None or end is None:
                errors[name] = f"{domain.source} returned no reading for {name}"
                continue
            broke = _break_between(window.snapshot.breaks.get(name), snapshot.breaks.get(name))
            if broke is not None:
                errors[name] = broke
                continue
            value, kind = end - start, domain.provenance
            if value < 0:
                errors[name] = f"counter went backwards by {-value:.3g} J (driver reset?)"
                continue
            if domain.resolution_s and duration_s < domain.resolution_s:
                domain_flags.append(
                    f"window of {duration_s * 1e3:.3g} ms is shorter than the counter's "
                    f"update period (~{domain.resolution_s * 1e3:.3g} ms): figure is coarse"
                )
                if value == 0 and domain.method is not Method.ESTIMATE:
                    power = source.power_w().get(name)
                    if power is None:
                        errors[name] = (
                            "window too short for the counter to advance, and no "
                            "instantaneous power reading to estimate from"
                        )
                        continue
                    value, kind = power * duration_s, Provenance.ESTIMATED
                    domain_flags.append(
                        f"counter did not advance: estimated as instantaneous power "
                        f"{power:.3g} W x duration"
                    )
            energy[name], provenance[name], method[name] = value, kind, domain.method
            if domain_flags:
                flags[name] = domain_flags
            if domain.assumptions:
                assumptions[name] = dict(domain.assumptions)
        return WindowResult(
            name=window.name,
            started_at=window.wall0,
            duration_s=duration_s,
            energy_j=energy,
            provenance=provenance,
            method=method,
            flags=flags,
            errors=errors,
            assumptions=assumptions,
            parent=window.parent,
            timeline=timeline,
        )

    # ------------------------------------------------------------------ the sampler
    def _start_sampler(self, now: float, snapshot: Snapshot) -> None:
        self._timeline = _Timeline(last_t=now, last_snapshot=snapshot)
        # One stop event per thread: a sampler being stopped while a new one starts
        # must not see the new one's event cleared.
        self._stop = threading.Event()
        self._sampler = threading.Thread(
            target=self._sample_loop, args=(self._stop,), name="genwatt-sampler"
        )
        self._sampler.daemon = True
        self._sampler.start()

    def _detach_sampler(self) -> threading.Thread | None:
        """Tell the sampler to stop (call with the lock held) and hand it back to join."""
        thread, self._sampler = self._sampler, None
        self._stop.set()
        return thread

    def _stop_sampler(self) -> None:
        with self._lock:
            thread = self._detach_sampler()
        _join(thread)

    def _sample_loop(self, stop: threading.Event) -> None:
        while not stop.wait(self.sample_period_s):
            for source in self.sources:
                source.poll()
            if self.keep_timeline:
                self._record_sample(stop)

    def _record_sample(self, stop: threading.Event) -> None:
        # Read under the lock, like a window boundary: a sample never lands between a
        # boundary's synchronisation and its reading, nor after the sampler was stopped.
        with self._lock:
            if stop.is_set():  # stopped meanwhile: the timeline may be a newer sampler's
                return
            snapshot = _read_all(self.sources)
            now = time.perf_counter()
            tl = self._timeline
            if tl.last_snapshot is None or tl.last_t is None or now <= tl.last_t:
                return
            tl.t.append(now)
            tl.power_w.append(_interval_power_w(tl.last_snapshot, snapshot, now - tl.last_t))
            tl.last_t, tl.last_snapshot = now, snapshot

    def _timeline_slice(self, t0: float, t1: float) -> PowerTimeline:
        tl = self._timeline
        picked = [(t, p) for t, p in zip(tl.t, tl.power_w, strict=True) if t0 < t <= t1]
        names = sorted({n for _, p in picked for n in p})
        return PowerTimeline(
            t_s=[t - t0 for t, _ in picked],
            power_w={n: [p.get(n, float("nan")) for _, p in picked] for n in names},
        )


def _read_all(sources: list[EnergySource]) -> Snapshot:
    reading: Reading = {}
    breaks: dict[str, CounterBreak] = {}
    for source in sources:
        snapshot = source.snapshot()
        reading.update(snapshot.energy_j)
        breaks.update(snapshot.breaks)
    return Snapshot(reading, breaks)


def _break_between(start: CounterBreak | None, end: CounterBreak | None) -> str | None:
    """Why a domain's counter lost continuity between two snapshots, or None if it did not."""
    seen = (end.count if end else 0) - (start.count if start else 0)
    if seen == 0 or end is None:
        return None
    if seen == 1:
        return end.reason
    return f"{seen} breaks in this window; the last: {end.reason}"


def _interval_power_w(before: Snapshot, after: Snapshot, dt_s: float) -> dict[str, float]:
    """Mean power per domain between two snapshots. A domain whose counter broke, went
    backwards or failed in the interval has no value (the timeline shows a gap)."""
    power: dict[str, float] = {}
    for name, value in after.energy_j.items():
        start = before.energy_j.get(name)
        if not isinstance(value, float | int) or not isinstance(start, float | int):
            continue
        if _break_between(before.breaks.get(name), after.breaks.get(name)) or value < start:
            continue
        power[name] = (value - start) / dt_s
    return power


def _join(thread: threading.Thread | None) -> None:
    if thread is not None and thread is not threading.current_thread():
        thread.join()
