"""Shared settings of the model tests.

The tiny models are so small that torch's intra-op threads cost more than they save:
on a 2-vCPU machine two threads made the tiny WAN sweep 5-10x slower and erratic
(threads spinning at barriers while the other vCPU was busy). One thread keeps the
timings in these tests steady.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread(one_torch_thread: None) -> None:
    """Every test here runs on one intra-op thread."""
