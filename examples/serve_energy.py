"""A text-generation server that returns each request's energy, with Prometheus metrics.

A FastAPI app serving a tiny GPT-2 (genwatt's offline tiny form of distilgpt2: random
weights, built in code in a few seconds, nothing downloaded) behind
``genwatt.serve.EnergyMiddleware``. Every response carries ``X-Energy-Joules`` and
``X-Energy-Provenance``; ``/metrics`` exposes the same figures per route, and the
meter's counters, when prometheus_client is installed.

Requests that overlap share the energy of the time they overlap in proportion to the
tokens they ask for (``max_new_tokens``, read from the query string at arrival):
decoding dominates a generation's cost, so a 64-token request pays more of a shared
second than an 8-token one.

    .venv/bin/python examples/serve_energy.py                 # http://127.0.0.1:8000
    curl -si 'http://127.0.0.1:8000/generate?prompt=hello&max_new_tokens=16'
    curl -s http://127.0.0.1:8000/metrics | grep window_domain_energy

``build_app`` is what ``benchmarks/serve_load.py`` runs, with and without the middleware.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Query, Response

from genwatt.meter.meter import Meter
from genwatt.serve import EnergyLedger, EnergyMiddleware

if TYPE_CHECKING:
    from genwatt.metrics import EnergyMetrics

MODEL = "distilgpt2"
DEFAULT_NEW_TOKENS = 16
MAX_NEW_TOKENS = 256


def build_pipeline() -> Any:
    """The tiny text-generation pipeline, built offline."""
    from genwatt.models.tasks.build import build_task_pipeline
    from genwatt.models.tasks.registry import get_task_model

    return build_task_pipeline(get_task_model(MODEL), "text-generation", weights="tiny")


def tokens_asked(scope: Mapping[str, Any]) -> float:
    """A request's weight in the energy split: the new tokens it asks for.

    Read from the query string when the request arrives, before any work. A value that
    is not a number is rejected by the endpoint (422) a moment later; until then the
    request weighs the default.
    """
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    asked = query.get("max_new_tokens", [str(DEFAULT_NEW_TOKENS)])[0]
    return float(asked) if asked.isdigit() else float(DEFAULT_NEW_TOKENS)


def build_app(
    meter: Meter | None = None,
    *,
    metrics: EnergyMetrics | None = None,
    ledger: EnergyLedger | None = None,
) -> FastAPI:
    """The server; ``meter`` None serves the same routes without the middleware."""
    pipe = build_pipeline()
    app = FastAPI(title="genwatt: energy per request")

    @app.get("/generate")
    def generate(
        prompt: str = "hello world",
        max_new_tokens: int = Query(DEFAULT_NEW_TOKENS, ge=1, le=MAX_NEW_TOKENS),
    ) -> dict[str, Any]:
        # A plain ``def``: FastAPI runs it in its thread pool, so requests overlap.
        out = pipe(
            prompt, max_new_tokens=max_new_tokens, min_new_tokens=max_new_tokens, do_sample=False
        )
        return {"text": out[0]["generated_text"], "new_tokens": max_new_tokens}

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    if metrics is not None:
        registry = metrics.registry

        @app.get("/metrics")
        def prometheus() -> Response:
            from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

            return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    if meter is not None:
        app.add_middleware(
            EnergyMiddleware, meter=meter, metrics=metrics, weight=tokens_asked, ledger=ledger
        )
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="default: loopback only")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()

    import torch
    import uvicorn

    # Each request runs in its own thread of FastAPI's pool: one intra-op thread each
    # keeps overlapping requests from oversubscribing the cores.
    torch.set_num_threads(1)
    # synchronize=False: a reading at one request's boundary does not wait for the GPU
    # kernels of the others (see docs/serving.md).
    meter = Meter(synchronize=False)
    metrics = None
    try:
        from genwatt.metrics import EnergyMetrics

        metrics = EnergyMetrics(meter)
    except ImportError:
        print("prometheus_client is not installed: no /metrics endpoint")
    uvicorn.run(build_app(meter, metrics=metrics), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
