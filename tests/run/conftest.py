"""Fixtures for runner tests: a meter over a fake CPU-time counter, so figures are exact."""

from __future__ import annotations

import pytest

from genwatt.meter.meter import Meter
from genwatt.meter.sources.estimate import EstimateSource


@pytest.fixture
def cpu_meter() -> Meter:
    """A real estimate-only meter (what this machine has), without NVML/RAPL probing."""
    meter = Meter([EstimateSource(cpu=True, dram=True)])
    yield meter
    meter.close()
