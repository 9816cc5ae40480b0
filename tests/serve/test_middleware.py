"""EnergyMiddleware in front of Starlette and FastAPI apps, with a meter whose truth is
known (conftest: gpu:0 at 4 W measured, cpu:0 at 1 W estimated, on a hand-moved clock).

Requests are held and released in a chosen order, so each one's share is known
exactly: the response headers must say it, the metrics must get it, and the shares
plus the unattributed idle time must add up to what the meter read over the test.
One test runs a real uvicorn server on loopback with a counter on the real clock.
"""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route

from genwatt.errors import ConfigError
from genwatt.meter.meter import Meter
from genwatt.serve import EnergyLedger, EnergyMiddleware, ServedRequest, set_energy_weight
from genwatt.serve.headers import parse_domains

GPU_W, CPU_W = 4.0, 1.0


class Recorder:
    """Stands in for genwatt.metrics.EnergyMetrics: keeps every record_energy call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, float], dict[str, str]]] = []

    def record_energy(
        self, window: str, energies_j: Mapping[str, float], provenance: Mapping[str, str]
    ) -> None:
        self.calls.append((window, dict(energies_j), dict(provenance)))


def query_weight(scope: Mapping[str, Any]) -> float:
    return float(parse_qs(scope["query_string"].decode()).get("w", ["1"])[0])


def build_app(kind: str, script: Any, clock: Any) -> Starlette:
    """The same four routes as a plain Starlette app or a FastAPI app."""

    async def work(request: Request) -> PlainTextResponse:
        name = request.path_params["name"]
        await script.reached(name)
        if "w" in request.query_params:
            set_energy_weight(request.scope, float(request.query_params["w"]))
            await script.reached(f"{name} weighed")
        return PlainTextResponse(f"done {name}")

    async def stream(request: Request) -> StreamingResponse:
        async def chunks() -> Any:
            yield b"first "
            await script.reached("stream")
            yield b"second"

        return StreamingResponse(chunks(), media_type="text/plain")

    async def boom(request: Request) -> PlainTextResponse:
        clock.advance(1.0)
        raise RuntimeError("the model crashed")

    async def busy(request: Request) -> PlainTextResponse:
        for step in range(int(request.query_params["steps"])):
            clock.advance(0.01 * (1 + step % 3))
            await asyncio.sleep(0)
        return PlainTextResponse("ok")

    handlers: dict[str, Callable[[Request], Any]] = {
        "/work/{name}": work,
        "/stream": stream,
        "/boom": boom,
        "/busy": busy,
    }
    if kind == "starlette":
        return Starlette(routes=[Route(path, handler) for path, handler in handlers.items()])
    app = FastAPI()
    for path, handler in handlers.items():
        app.add_api_route(path, handler, methods=["GET"])
    return app


def client(app: Any, *, raise_app_exceptions: bool = True) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def total(response: httpx.Response) -> float:
    return float(response.headers["x-energy-joules"])


@pytest.fixture(params=["starlette", "fastapi"])
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


def test_overlapping_requests_get_their_weighted_share(
    kind: str, meter: Meter, clock: Any, script: Any
) -> None:
    """A (weight 1) alone for 1 s, with B (weight 3) for 1 s, then B alone for 1 s.
    A: gpu 4 + 1, cpu 1 + 0.25 = 6.25 J; B: gpu 3 + 4, cpu 0.75 + 1 = 8.75 J."""
    app, ledger, metrics = build_app(kind, script, clock), EnergyLedger(), Recorder()
    served: list[ServedRequest] = []
    app.add_middleware(
        EnergyMiddleware,
        meter=meter,
        metrics=metrics,
        weight=query_weight,
        on_request=served.append,
        ledger=ledger,
    )

    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        async with client(app) as http:
            a = asyncio.create_task(http.get("/work/a"))
            await script.arrived("a")
            clock.advance(1.0)
            b = asyncio.create_task(http.get("/work/b", params={"w": "3"}))
            await script.arrived("b")
            clock.advance(1.0)
            script.release("a")
            response_a = await a
            clock.advance(1.0)
            script.release("b")
            await script.arrived("b weighed")  # B re-states its weight: no change
            script.release("b weighed")
            return response_a, await b

    response_a, response_b = asyncio.run(scenario())

    assert response_a.text == "done a" and response_b.text == "done b"
    assert total(response_a) == pytest.approx(6.25, rel=1e-12)
    assert total(response_b) == pytest.approx(8.75, rel=1e-12)
    assert response_a.headers["x-energy-provenance"] == "estimated"  # the weaker of the two
    domains = parse_domains(response_a.headers["x-energy-domains"])
    assert domains["gpu:0"] == (pytest.approx(5.0, rel=1e-12), "measured")
    assert domains["cpu:0"] == (pytest.approx(1.25, rel=1e-12), "estimated")
    assert "x-energy-incomplete" not in response_a.headers
    # The header is the exact float the server charged, and the same figure went out to
    # the metrics, labelled with the route's template rather than the URL.
    assert [total(response_a), total(response_b)] == [s.energy.total_j for s in served]
    assert [window for window, _, _ in metrics.calls] == ["GET /work/{name}"] * 2
    assert metrics.calls[0][1] == served[0].energy.energy_j
    assert metrics.calls[0][2] == {"gpu:0": "measured", "cpu:0": "estimated"}
    assert [(s.status, s.in_headers) for s in served] == [(200, True), (200, True)]
    # Nothing lost, nothing counted twice: the meter read 3 s at 5 W.
    totals = ledger.totals()
    assert math.fsum(totals.total_j.values()) == pytest.approx(15.0, rel=1e-12)
    assert total(response_a) + total(response_b) == pytest.approx(15.0, rel=1e-12)
    assert ledger.active == 0


def test_a_weight_set_by_the_app_applies_from_then_on(
    kind: str, meter: Meter, clock: Any, script: Any
) -> None:
    """A and B arrive at 0 (equal shares); at 1 B's endpoint sets its weight to 3; both
    end at 2. A: 5/2 + 5/4 = 3.75 J; B: 5/2 + 15/4 = 6.25 J."""
    app = EnergyMiddleware(build_app(kind, script, clock), meter=meter)

    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        async with client(app) as http:
            a = asyncio.create_task(http.get("/work/a"))
            b = asyncio.create_task(http.get("/work/b", params={"w": "3"}))
            await script.arrived("a")
            await script.arrived("b")
            clock.advance(1.0)
            script.release("b")
            await script.arrived("b weighed")
            clock.advance(1.0)
            script.release("a")
            response_a = await a
            script.release("b weighed")
            return response_a, await b

    response_a, response_b = asyncio.run(scenario())
    assert total(response_a) == pytest.approx(3.75, rel=1e-12)
    assert total(response_b) == pytest.approx(6.25, rel=1e-12)


def test_set_energy_weight_without_the_middleware_says_what_to_do() -> None:
    with pytest.raises(ConfigError, match="add_middleware"):
        set_energy_weight({"type": "http"}, 2.0)


def test_a_weight_set_from_a_sync_endpoint_thread(meter: Meter, clock: Any) -> None:
    """FastAPI runs ``def`` endpoints in a thread pool: the weight call reads the meter
    from that thread, under the middleware's lock."""
    app = FastAPI()

    @app.get("/sync")
    def sync(request: Request) -> dict[str, str]:
        set_energy_weight(request.scope, 2.0)
        clock.advance(0.5)
        return {"ok": "yes"}

    middleware = EnergyMiddleware(app, meter=meter)

    async def scenario() -> httpx.Response:
        async with client(middleware) as http:
            return await http.get("/sync")

    response = asyncio.run(scenario())
    assert response.json() == {"ok": "yes"}
    assert total(response) == pytest.approx(0.5 * (GPU_W + CPU_W), rel=1e-12)
    assert middleware.ledger.readings == 4  # open, arrival, weight, completion


def test_idle_time_is_unattributed_and_the_meter_window_agrees(
    meter: Meter, clock: Any, script: Any
) -> None:
    """A request of 1 s, then 2 s idle: 5 J charged, 10 J unattributed, and the meter's
    energy over the served span (from the first request to ``close``) is the same 15 J,
    with no window left open on the meter."""
    middleware = EnergyMiddleware(build_app("starlette", script, clock), meter=meter)

    async def scenario() -> httpx.Response:
        async with client(middleware) as http:
            request = asyncio.create_task(http.get("/work/a"))
            await script.arrived("a")
            clock.advance(1.0)
            script.release("a")
            return await request

    response = asyncio.run(scenario())
    clock.advance(2.0)
    middleware.close()

    assert total(response) == pytest.approx(5.0, rel=1e-12)
    assert middleware.unattributed_j == pytest.approx({"gpu:0": 8.0, "cpu:0": 2.0})
    served = middleware.totals().total_j  # the meter from the first request to close
    assert served == pytest.approx({"gpu:0": 12.0, "cpu:0": 3.0})
    assert total(response) + sum(middleware.unattributed_j.values()) == pytest.approx(
        sum(served.values()), rel=1e-12
    )
    assert meter.open_windows == [] and meter.results == []  # no window of its own
    assert meter._sampler is None  # released at close


def test_a_streamed_response_is_charged_to_its_last_chunk_in_metrics_only(
    kind: str, meter: Meter, clock: Any, script: Any
) -> None:
    """Headers leave with the first chunk, before the energy is known: no energy header,
    the figure (2 s at 5 W, up to the last chunk) goes to the metrics."""
    metrics, served = Recorder(), []
    app = EnergyMiddleware(
        build_app(kind, script, clock), meter=meter, metrics=metrics, on_request=served.append
    )

    async def scenario() -> httpx.Response:
        async with client(app) as http:
            request = asyncio.create_task(http.get("/stream"))
            await script.arrived("stream")
            clock.advance(2.0)
            script.release("stream")
            return await request

    response = asyncio.run(scenario())
    assert response.text == "first second"
    assert not any(name.startswith("x-energy") for name in response.headers)
    assert served[0].in_headers is False and served[0].status == 200
    assert served[0].energy.energy_j == pytest.approx({"gpu:0": 8.0, "cpu:0": 2.0})
    assert metrics.calls == [("GET /stream", served[0].energy.energy_j, served[0].provenance)]


def test_an_app_that_raises_is_still_charged_and_the_error_propagates(
    kind: str, meter: Meter, clock: Any, script: Any
) -> None:
    app, ledger, served = build_app(kind, script, clock), EnergyLedger(), []
    app.add_middleware(EnergyMiddleware, meter=meter, ledger=ledger, on_request=served.append)

    async def scenario() -> None:
        async with client(app) as http:
            await http.get("/boom")

    with pytest.raises(RuntimeError, match="the model crashed"):
        asyncio.run(scenario())
    assert [s.status for s in served] == [None]  # no response of the app's went out
    assert served[0].energy.energy_j == pytest.approx({"gpu:0": GPU_W, "cpu:0": CPU_W})
    assert ledger.active == 0
    assert ledger.totals().attributed_j == pytest.approx({"gpu:0": GPU_W, "cpu:0": CPU_W})


def test_a_request_no_route_matches_is_charged_under_one_window(
    kind: str, meter: Meter, clock: Any, script: Any
) -> None:
    metrics = Recorder()
    app = EnergyMiddleware(build_app(kind, script, clock), meter=meter, metrics=metrics)

    async def scenario() -> httpx.Response:
        async with client(app) as http:
            return await http.get("/nowhere/42")

    response = asyncio.run(scenario())
    assert response.status_code == 404
    assert total(response) == 0.0  # the clock did not move
    assert [window for window, _, _ in metrics.calls] == ["GET (no route)"]


def test_many_concurrent_requests_add_up_to_the_meter_total(
    meter: Meter, clock: Any, script: Any
) -> None:
    """60 requests interleaving at every await, weights 1 to 4: every figure >= 0 and
    the headers plus the unattributed energy equal what the meter read."""
    middleware = EnergyMiddleware(
        build_app("fastapi", script, clock), meter=meter, weight=query_weight
    )
    before = meter.read_j()

    async def scenario() -> list[httpx.Response]:
        async with client(middleware) as http:
            return await asyncio.gather(
                *(http.get("/busy", params={"steps": 3 + i % 7, "w": 1 + i % 4}) for i in range(60))
            )

    responses = asyncio.run(scenario())
    clock.advance(0.5)
    middleware.checkpoint()
    after = meter.read_j()
    meter_total = sum(after[d] - before[d] for d in after)  # type: ignore[operator]
    charged = math.fsum(total(r) for r in responses)
    assert all(total(r) >= 0 for r in responses)
    assert charged > 0
    assert charged + sum(middleware.unattributed_j.values()) == pytest.approx(meter_total, rel=1e-9)


def test_a_real_uvicorn_server_on_loopback(fake_source: Any) -> None:
    """uvicorn with lifespan, 24 concurrent clients over TCP, a counter at 10 W on the
    real clock: the headers the clients read plus the idle time add up to the meter's
    total from startup to shutdown."""
    uvicorn = pytest.importorskip("uvicorn")
    meter = Meter(sources=[fake_source("gpu:0", rate_w=10.0)], synchronize=False)
    app = FastAPI()

    @app.get("/sleep")
    async def sleep(s: float) -> dict[str, float]:
        await asyncio.sleep(s)
        return {"slept_s": s}

    middleware = EnergyMiddleware(app, meter=meter)
    config = uvicorn.Config(middleware, host="127.0.0.1", port=0, lifespan="on", log_level="error")
    server = uvicorn.Server(config)

    async def scenario() -> list[httpx.Response]:
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            responses = await asyncio.gather(
                *(http.get("/sleep", params={"s": 0.01 * (1 + i % 5)}) for i in range(24))
            )
        server.should_exit = True
        await serving
        return responses

    try:
        with meter.window("load test") as handle:  # the meter's own figure, independently
            responses = asyncio.run(scenario())
    finally:
        meter.close()
    assert all(r.status_code == 200 for r in responses)
    window = handle.result
    assert window is not None
    assert middleware._release_sampler is None  # closed by lifespan shutdown
    charged = math.fsum(total(r) for r in responses)
    assert charged > 0
    accounted = charged + middleware.unattributed_j["gpu:0"]
    # Exactly the energy between the ledger's first and last readings, the meter's
    # readings at lifespan startup and shutdown...
    assert accounted == pytest.approx(middleware.totals().total_j["gpu:0"], rel=1e-9)
    # ...inside the meter's own window around the whole test (which adds the server's
    # start before lifespan startup and its stop after shutdown).
    assert accounted <= window.energy_j["gpu:0"]


def test_importing_genwatt_serve_loads_no_web_framework() -> None:
    code = (
        "import sys, genwatt.serve\n"
        "print(sorted(m for m in ('starlette', 'fastapi', 'httpx', 'uvicorn', 'torch') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_the_energy_reaches_genwatts_prometheus_metrics(
    meter: Meter, clock: Any, script: Any
) -> None:
    """With the real ``genwatt.metrics.EnergyMetrics``: the exposition, parsed by
    prometheus_client, holds each domain's joules under the route's window label."""
    prometheus_client = pytest.importorskip("prometheus_client")
    from prometheus_client.parser import text_string_to_metric_families

    from genwatt.metrics import EnergyMetrics

    metrics = EnergyMetrics(registry=prometheus_client.CollectorRegistry())
    app = EnergyMiddleware(build_app("fastapi", script, clock), meter=meter, metrics=metrics)

    async def scenario() -> list[httpx.Response]:
        async with client(app) as http:
            return await asyncio.gather(
                *(http.get("/busy", params={"steps": steps}) for steps in (2, 5, 9))
            )

    responses = asyncio.run(scenario())
    exposition = prometheus_client.generate_latest(metrics.registry).decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
    }
    window = ("window", "GET /busy")
    gpu = samples[
        (
            "genwatt_window_domain_energy_joules_total",
            (("domain", "gpu:0"), ("provenance", "measured"), window),
        )
    ]
    assert gpu == pytest.approx(
        math.fsum(parse_domains(r.headers["x-energy-domains"])["gpu:0"][0] for r in responses),
        rel=1e-12,
    )
    assert samples[("genwatt_window_energy_joules_count", (window,))] == 3
    assert samples[("genwatt_window_energy_joules_sum", (window,))] == pytest.approx(
        math.fsum(total(r) for r in responses), rel=1e-12
    )


def test_a_failing_metrics_object_is_not_hidden_and_ends_the_request_once(
    meter: Meter, clock: Any, script: Any
) -> None:
    class Broken:
        def record_energy(self, window: str, energies_j: Any, provenance: Any) -> None:
            raise ValueError("exporter down")

    app = EnergyMiddleware(build_app("starlette", script, clock), meter=meter, metrics=Broken())

    async def scenario() -> None:
        async with client(app) as http:
            await http.get("/busy", params={"steps": 2})

    with pytest.raises(ValueError, match="exporter down"):
        asyncio.run(scenario())
    assert app.ledger.active == 0
    assert app.ledger.totals().attributed_j["gpu:0"] == pytest.approx(0.03 * GPU_W)
