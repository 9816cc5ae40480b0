"""Metrics tests: no host counter leaks in (discovery sees only what a test builds),
and a helper that reads a registry back through prometheus_client's own parser."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _no_host_hardware(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GENWATT_POWERCAP_ROOT", str(tmp_path / "no-powercap"))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.setenv("HIP_VISIBLE_DEVICES", "")


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse_exposition(text: str) -> Samples:
    """Every sample of a text exposition: (name, sorted labels) -> value, as parsed by
    ``prometheus_client.parser`` (what Prometheus' own scrape reads)."""
    from prometheus_client.parser import text_string_to_metric_families

    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            assert key not in samples, f"sample {key} exposed twice"
            samples[key] = sample.value
    return samples


@pytest.fixture
def scrape() -> Callable[..., Samples]:
    """``scrape(registry)``: the registry's samples, through the text exposition."""
    from prometheus_client import generate_latest

    def read(registry) -> Samples:
        return parse_exposition(generate_latest(registry).decode())

    return read


@pytest.fixture
def parse() -> Callable[[str], Samples]:
    """``parse(text)``: the samples of a text exposition."""
    return parse_exposition
