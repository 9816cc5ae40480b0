"""Where the published reference measurements are, for the tests that read them.

CI clones the repository with shared/ beside it (``<repo>/../shared``); a developer may
have it inside. Tests that need it skip, saying why, when it is in neither place.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SUBDIR = Path("shared/reference/video_energy_budget")
PHP_SUBDIR = Path("shared/reference/power_hungry_processing")


def reference_dir(subdir: Path = SUBDIR) -> Path | None:
    for candidate in (REPO / subdir, REPO / ".." / subdir):
        if candidate.is_dir():
            return candidate.resolve()
    return None


@pytest.fixture
def video_reference() -> Path:
    """shared/reference/video_energy_budget, or a skip explaining where it was sought."""
    found = reference_dir()
    if found is None:
        pytest.skip(
            f"reference data not found at {REPO / SUBDIR} or {REPO.parent / SUBDIR}; "
            "clone shared/ beside the repository to run this test"
        )
    return found


@pytest.fixture
def php_reference() -> Path:
    """shared/reference/power_hungry_processing, or a skip saying where it was sought."""
    found = reference_dir(PHP_SUBDIR)
    if found is None:
        pytest.skip(f"{PHP_SUBDIR} not found inside or beside the repository")
    return found
