"""genwatt: measure, predict and cut the energy of generative AI inference.

Public names are resolved lazily so that `import genwatt` (and `genwatt --help`)
stays fast: the meter pulls in psutil and, on first use, NVML; the runner pulls in
torch and diffusers only when a pipeline is actually built or instrumented.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from genwatt.version import __version__

_LAZY = {
    "Meter": "genwatt.meter.meter",
    "WindowResult": "genwatt.meter.result",
    "Provenance": "genwatt.meter.result",
    "IdlePower": "genwatt.meter.result",
    "ResultsStore": "genwatt.store.store",
    "instrument": "genwatt.run.instrument",
    "tiny_pipeline": "genwatt.models.build",
    "run_suite": "genwatt.run.suite.execute",
    "InstrumentedTaskPipeline": "genwatt.run.suite.task_instrument",
    "EmissionsTracker": "genwatt.run.emissions_tracker",
    "track_emissions": "genwatt.run.emissions_tracker",
}

if TYPE_CHECKING:
    from genwatt.meter.meter import Meter
    from genwatt.meter.result import IdlePower, Provenance, WindowResult
    from genwatt.models.build import tiny_pipeline
    from genwatt.run.emissions_tracker import EmissionsTracker, track_emissions
    from genwatt.run.instrument import instrument
    from genwatt.run.suite.execute import run_suite
    from genwatt.run.suite.task_instrument import InstrumentedTaskPipeline
    from genwatt.store.store import ResultsStore

__all__ = [
    "EmissionsTracker",
    "IdlePower",
    "InstrumentedTaskPipeline",
    "Meter",
    "Provenance",
    "ResultsStore",
    "WindowResult",
    "__version__",
    "instrument",
    "run_suite",
    "tiny_pipeline",
    "track_emissions",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'genwatt' has no attribute {name!r}")
    return getattr(import_module(module), name)
