"""Where the published measurements in shared/reference are, for tools and tests.

CI clones the repository with shared/ next to it; a developer may have it inside. Each
reader of a study (``video_energy_budget``, ``power_hungry_processing``) names its own
folder of shared/ and finds it here.
"""

from __future__ import annotations

from pathlib import Path

from genwatt.errors import ConfigError


def repo_root() -> Path:
    """The repository this file belongs to (src/genwatt/predict/shared_reference.py)."""
    return Path(__file__).resolve().parents[3]


def find_shared(subdir: str, start: Path | None = None) -> Path | None:
    """shared/``subdir`` inside or beside the repository (or ``start``), or None."""
    root = start or repo_root()
    for candidate in (root / "shared" / subdir, root.parent / "shared" / subdir):
        if candidate.is_dir():
            return candidate
    return None


def require_shared(subdir: str, folder: Path | None = None) -> Path:
    """``folder``, else shared/``subdir``; a ConfigError saying so when neither exists."""
    found = folder or find_shared(subdir)
    if found is None or not found.is_dir():
        raise ConfigError(
            f"shared/{subdir} was not found inside or beside the repository; pass its "
            "path explicitly."
        )
    return found
