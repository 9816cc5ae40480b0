"""Shared settings of the FLOP tests.

The meta-device counts run thousands of tiny dispatches; extra intra-op threads only
add contention on a 2-core machine. Built meta modules are cached by
``genwatt.flops.meta_count`` itself, so tests of one model reuse one build.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread(one_torch_thread: None) -> None:
    """Every test here runs on one intra-op thread."""
