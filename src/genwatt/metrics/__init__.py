"""Prometheus metrics of genwatt's meter and of measured windows (``docs/metrics.md``).

``EnergyMetrics`` (``energy_metrics.py``) holds the metrics; ``exposition.py`` serves
them over HTTP or writes them for the node exporter's textfile collector. Importing
this package does not import prometheus_client; building an ``EnergyMetrics`` does.
"""

from __future__ import annotations

from genwatt.metrics.energy_metrics import WINDOW_ENERGY_BUCKETS_J, EnergyMetrics, window_label
from genwatt.metrics.exposition import MetricsServer, TextfileWriter, serve_http, write_textfile

__all__ = [
    "WINDOW_ENERGY_BUCKETS_J",
    "EnergyMetrics",
    "MetricsServer",
    "TextfileWriter",
    "serve_http",
    "window_label",
    "write_textfile",
]
