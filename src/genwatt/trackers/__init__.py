"""Energy logged to the experiment tracker the user's program already uses.

When the program has imported MLflow or Weights & Biases and a run of it is active, the
Meter logs every top-level window it closes, and ``genwatt.instrument`` the per-phase
energy of every generation, to that run (``dispatch.py``). Trackers are found in
``sys.modules``: a program that never imported ``mlflow`` cannot have an MLflow run
active, so nothing is imported to find out. The metric names are in ``names.py`` and
docs/metrics.md; a tracker that fails is warned about once and never breaks a
measurement.
"""

from __future__ import annotations

from genwatt.trackers.dispatch import log_phases, log_window

__all__ = ["log_phases", "log_window"]
