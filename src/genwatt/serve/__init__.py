"""Energy per request in a live ASGI server (FastAPI, Starlette, any ASGI app).

``EnergyMiddleware`` reads the meter at every request's arrival and completion, splits
each interval's energy among the requests in flight (``attribution.py``), and returns a
request's joules in its response headers (``headers.py``) and to ``genwatt.metrics``.
No web framework is imported: the middleware speaks plain ASGI.
"""

from __future__ import annotations

from genwatt.serve.attribution import EnergyLedger, LedgerTotals, RequestEnergy
from genwatt.serve.middleware import (
    EnergyMiddleware,
    EnergyRecorder,
    ServedRequest,
    route_window,
    set_energy_weight,
)

__all__ = [
    "EnergyLedger",
    "EnergyMiddleware",
    "EnergyRecorder",
    "LedgerTotals",
    "RequestEnergy",
    "ServedRequest",
    "route_window",
    "set_energy_weight",
]
