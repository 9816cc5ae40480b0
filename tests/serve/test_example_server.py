"""The example server (examples/serve_energy.py) answers with each request's energy and
exposes it to Prometheus: what its docstring's curl commands show."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from genwatt.meter.meter import Meter
from genwatt.meter.sources.estimate import EstimateSource
from genwatt.metrics import EnergyMetrics

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "serve_energy.py"

pytestmark = pytest.mark.slow


def _example():
    spec = importlib.util.spec_from_file_location("genwatt_example_serve_energy", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_example_server_returns_energy_and_metrics() -> None:
    example = _example()
    meter = Meter([EstimateSource(cpu=True, dram=True)], synchronize=False)
    metrics = EnergyMetrics(meter, registry=CollectorRegistry())
    try:
        with TestClient(example.build_app(meter, metrics=metrics)) as client:
            answer = client.get("/generate", params={"prompt": "hello", "max_new_tokens": 4})
            scraped = client.get("/metrics").text
    finally:
        meter.close()
    assert answer.status_code == 200 and answer.json()["new_tokens"] == 4
    assert float(answer.headers["X-Energy-Joules"]) > 0
    assert answer.headers["X-Energy-Provenance"] == "estimated"
    families = {f.name: f for f in text_string_to_metric_families(scraped)}
    windows = {
        s.labels["window"]
        for s in families["genwatt_window_energy_joules"].samples
        if "window" in s.labels
    }
    assert "GET /generate" in windows


def test_a_request_weighs_the_tokens_it_asks_for() -> None:
    example = _example()
    assert example.tokens_asked({"query_string": b"max_new_tokens=64"}) == 64.0
    assert example.tokens_asked({"query_string": b"prompt=hi"}) == example.DEFAULT_NEW_TOKENS
    assert example.tokens_asked({"query_string": b"max_new_tokens=x"}) == 16.0
