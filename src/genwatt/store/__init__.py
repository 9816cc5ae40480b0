"""The results store: every run and its measurement windows, in one SQLite file.

``ResultsStore`` writes and reads ``RunRecord``s; ``export`` turns them into pandas
frames and CSV/JSON/Parquet files (pandas is imported only there, when used).
"""

from __future__ import annotations

from genwatt.store.environment import capture_environment, current_environment
from genwatt.store.records import RunRecord, RunStatus
from genwatt.store.schema import SCHEMA_VERSION
from genwatt.store.store import DuplicateRunError, ResultsStore, default_store_path

__all__ = [
    "SCHEMA_VERSION",
    "DuplicateRunError",
    "ResultsStore",
    "RunRecord",
    "RunStatus",
    "capture_environment",
    "current_environment",
    "default_store_path",
]
