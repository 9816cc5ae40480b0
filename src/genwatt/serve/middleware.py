"""``EnergyMiddleware``: the energy of every HTTP request an ASGI app serves.

A pure ASGI middleware, so it works in front of any ASGI app (FastAPI, Starlette, a
bare callable) and imports no web framework::

    app.add_middleware(EnergyMiddleware, meter=Meter(synchronize=False), metrics=metrics)

Each HTTP request is active from its arrival (the middleware is called) until its
response is complete (the app hands over its last body message). The meter is read
once at each of these events, whatever the number of requests in flight, and
``attribution.EnergyLedger`` splits every interval between two events among the
requests active in it: equal shares, or in proportion to a weight (see below).

The energy is known only when the response is complete, but headers go out first. So
for a response sent in one body message (the usual JSON or text reply) the middleware
holds back ``http.response.start``, which carries no body, and releases it with the
energy headers (``headers.py``) together with that last message; the body itself is
passed through, never copied. A *streaming* response (a first body message with
``more_body``) cannot wait for its end without buffering all of it: its start goes out
unchanged as soon as its first chunk does, its energy is charged up to the last chunk,
and it reaches ``metrics`` and ``on_request`` but no header.

Weights. ``weight(scope)``, when given, is called at a request's arrival and sets its
weight from then on (default 1.0 for every request: equal shares). The app may change a
request's weight while it runs with ``set_energy_weight(request.scope, n_tokens)``: the
meter is read at that moment, the energy so far stays split under the old weight and
the new one applies from there on. A weight must therefore be set *before* the work it
describes happens; it never re-splits the past, and a request's energy is final at its
end. Weights are any finite numbers >= 0 (tokens, pixels, FLOPs); an interval whose
active requests all weigh zero is left unattributed.

Not charged to any request: time with no request in flight (``unattributed_j``), work
an app does after its response is complete (Starlette background tasks), and WebSocket
sessions (passed through untouched). ``docs/serving.md`` discusses these limits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from genwatt.errors import ConfigError
from genwatt.serve.attribution import EnergyLedger, LedgerTotals, RequestEnergy
from genwatt.serve.headers import energy_headers

if TYPE_CHECKING:
    from genwatt.meter.meter import Meter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Where a request's handle lives in its ASGI scope, for ``set_energy_weight``.
SCOPE_KEY = "genwatt.energy"
# Message types that end a response when they carry no ``more_body``.
_BODY_TYPES = frozenset({"http.response.body", "http.response.zerocopysend"})


class EnergyRecorder(Protocol):
    """What the middleware needs of a metrics object (``genwatt.metrics.EnergyMetrics``)."""

    def record_energy(
        self, window: str, energies_j: Mapping[str, float], provenance: Mapping[str, str]
    ) -> None: ...


@dataclass(frozen=True)
class ServedRequest:
    """One request as the middleware saw it: its energy, where it went, what it served."""

    window: str  # method and route template: "POST /generate"
    energy: RequestEnergy
    provenance: dict[str, str]  # per domain of ``energy.energy_j``
    status: int | None  # the status sent; None when no response went out (the app raised)
    in_headers: bool  # whether the energy went out in the response's headers


def route_window(scope: Scope) -> str:
    """``"GET /items/{item_id}"``: the method and the template of the route that served
    the request (one metrics series per route, not per URL); behind a ``Mount`` the
    mount's actual prefix (``root_path``) comes first."""
    method = scope.get("method", "?")
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not isinstance(template, str):
        return f"{method} (no route)"
    return f"{method} {scope.get('root_path', '')}{template}"


def set_energy_weight(scope: Scope, weight: float) -> None:
    """From now on, the request of ``scope`` weighs ``weight`` in the energy split.

    Call it from the app (``set_energy_weight(request.scope, tokens)``) before the work
    the weight describes; the energy until now stays split under the previous weight.
    """
    handle = scope.get(SCOPE_KEY)
    if not isinstance(handle, _RequestHandle):
        raise ConfigError(
            "no EnergyMiddleware meters this request: add it with "
            "app.add_middleware(EnergyMiddleware, meter=...)"
        )
    handle.middleware.set_weight(handle.request_id, weight)


@dataclass(frozen=True)
class _RequestHandle:
    middleware: EnergyMiddleware
    request_id: int


class EnergyMiddleware:
    """Charges every HTTP request the energy of its time in flight; see the module doc.

    ``meter``: a ``genwatt.Meter``; for a server on a GPU build it with
    ``synchronize=False`` (a reading then does not wait for other requests' kernels).
    ``metrics``: gets ``record_energy(window, energies_j, provenance)`` per request.
    ``weight``: a request's weight from its scope, at arrival (default: 1.0 each).
    ``on_request``: called with each ``ServedRequest`` when its energy is final.
    ``window_name``: the window (metrics label) of a request; default ``route_window``.
    ``ledger``: pass your own ``EnergyLedger`` to read totals when the app builds the
    middleware for you (``add_middleware``); one ledger per middleware.

    While it serves (from the first request or lifespan startup to lifespan shutdown or
    ``close``), the middleware holds the meter's sampler (``Meter.hold_sampler``) so
    that the sources that need polling (RAPL wraparound, sampled GPU power) are polled
    between requests too, without a window that the application's own windows would
    nest in. ``totals()`` holds the meter's energy per domain from ``open`` to the latest
    reading (``close``, once closed), split into requests and unattributed.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        meter: Meter,
        metrics: EnergyRecorder | None = None,
        weight: Callable[[Scope], float] | None = None,
        on_request: Callable[[ServedRequest], None] | None = None,
        window_name: Callable[[Scope], str] = route_window,
        ledger: EnergyLedger | None = None,
    ) -> None:
        self.app = app
        self.meter = meter
        self.metrics = metrics
        self.weight = weight
        self.on_request = on_request
        self.window_name = window_name
        self.ledger = ledger if ledger is not None else EnergyLedger()
        self.provenance = {d.name: str(d.provenance) for d in meter.domains}
        self._lock = threading.Lock()
        self._release_sampler: Callable[[], None] | None = None

    # ------------------------------------------------------------------------- ASGI
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._serve_http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self.app(scope, self._watch_lifespan(receive), send)
        else:
            await self.app(scope, receive, send)

    async def _serve_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        weight = 1.0 if self.weight is None else self.weight(scope)
        request_id = self._start(weight)
        scope[SCOPE_KEY] = _RequestHandle(self, request_id)
        held: Message | None = None  # the response start, until the energy is known
        status: int | None = None
        finished = False  # set before ending: a failing metrics call must not end it twice

        async def send_with_energy(message: Message) -> None:
            nonlocal held, status, finished
            kind = message["type"]
            if finished:
                await send(message)
            elif kind == "http.response.start":
                held = message
            elif kind not in _BODY_TYPES and kind != "http.response.pathsend":
                await send(message)  # trailers, debug and other extensions: as they come
            elif held is not None and not message.get("more_body", False):
                # One-message response: the energy goes out in its headers.
                start, held = held, None
                status, finished = start["status"], True
                served = self._finish(request_id, scope, status, in_headers=True)
                headers = [
                    *start.get("headers", ()),
                    *energy_headers(served.energy, served.provenance),
                ]
                await send({**start, "headers": headers})
                await send(message)
            else:
                if held is not None:  # a stream: its start cannot wait for its end
                    start, held = held, None
                    status = start["status"]
                    await send(start)
                await send(message)
                if not message.get("more_body", False):
                    finished = True
                    self._finish(request_id, scope, status, in_headers=False)

        try:
            await self.app(scope, receive, send_with_energy)
        finally:
            if not finished:  # the app raised, or returned without completing a response
                finished = True
                self._finish(request_id, scope, status, in_headers=False)

    def _watch_lifespan(self, receive: Receive) -> Receive:
        async def watched() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.open()
            elif message["type"] == "lifespan.shutdown":
                self.close()
            return message

        return watched

    # ----------------------------------------------------------------------- events
    def _start(self, weight: float) -> int:
        with self._lock:
            self._open_locked()
            return self.ledger.start(self.meter.read_j(), time.perf_counter(), weight)

    def set_weight(self, request_id: int, weight: float) -> None:
        """Change an active request's weight from now on (``set_energy_weight``)."""
        with self._lock:
            self.ledger.set_weight(request_id, weight, self.meter.read_j())

    def _finish(
        self, request_id: int, scope: Scope, status: int | None, *, in_headers: bool
    ) -> ServedRequest:
        with self._lock:
            energy = self.ledger.end(request_id, self.meter.read_j(), time.perf_counter())
        served = ServedRequest(
            window=self.window_name(scope),
            energy=energy,
            provenance={d: self.provenance.get(d, "unknown") for d in energy.energy_j},
            status=status,
            in_headers=in_headers,
        )
        if self.metrics is not None and energy.energy_j:
            self.metrics.record_energy(
                window=served.window, energies_j=energy.energy_j, provenance=served.provenance
            )
        if self.on_request is not None:
            self.on_request(served)
        return served

    def checkpoint(self) -> None:
        """Read the meter now, so that the totals run up to this moment."""
        with self._lock:
            self._open_locked()
            self.ledger.checkpoint(self.meter.read_j())

    # -------------------------------------------------------------------- lifecycle
    def open(self) -> None:
        """Start accounting (done by lifespan startup or the first request)."""
        with self._lock:
            self._open_locked()

    def _open_locked(self) -> None:
        if self._release_sampler is not None:
            return
        self._release_sampler = self.meter.hold_sampler()
        self.ledger.checkpoint(self.meter.read_j())

    def close(self) -> None:
        """Take a last reading and release the meter's sampler (done by lifespan
        shutdown).

        Requests still in flight keep being accounted at their events; the meter's
        sampler stops polling (unless something else holds it) until the next ``open``.
        """
        with self._lock:
            if self._release_sampler is None:
                return
            self.ledger.checkpoint(self.meter.read_j())
            release, self._release_sampler = self._release_sampler, None
        release()

    # ----------------------------------------------------------------------- totals
    @property
    def unattributed_j(self) -> dict[str, float]:
        """Energy of the time with no request in flight, per domain."""
        with self._lock:
            return self.ledger.unattributed_j

    def totals(self) -> LedgerTotals:
        with self._lock:
            return self.ledger.totals()


__all__ = [
    "SCOPE_KEY",
    "EnergyMiddleware",
    "EnergyRecorder",
    "ServedRequest",
    "route_window",
    "set_energy_weight",
]
