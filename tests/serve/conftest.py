"""A meter whose truth is known, and a script that decides when each request moves.

The meter reads two fake counters driven by a clock the test moves by hand (gpu:0 at
4 W, measured; cpu:0 at 1 W, estimated), so the energy of any stretch of the test is
known exactly. ``Script`` holds each request at a named point until the test releases
it, so that overlaps happen in an order the test chooses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from genwatt.meter.meter import Meter
from genwatt.meter.result import Method, Provenance

GPU_W = 4.0
CPU_W = 1.0


@dataclass
class HandClock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Script:
    """``await script.reached(name)`` in the app; the test awaits ``arrived(name)`` and
    lets it go on with ``release(name)``."""

    _arrived: dict[str, asyncio.Event] = field(default_factory=dict)
    _released: dict[str, asyncio.Event] = field(default_factory=dict)

    def _events(self, name: str) -> tuple[asyncio.Event, asyncio.Event]:
        return (
            self._arrived.setdefault(name, asyncio.Event()),
            self._released.setdefault(name, asyncio.Event()),
        )

    async def reached(self, name: str) -> None:
        arrived, released = self._events(name)
        arrived.set()
        await released.wait()

    async def arrived(self, name: str) -> None:
        await asyncio.wait_for(self._events(name)[0].wait(), timeout=5)

    def release(self, name: str) -> None:
        self._events(name)[1].set()


@pytest.fixture
def clock() -> HandClock:
    return HandClock()


@pytest.fixture
def meter(clock: HandClock, fake_source: Any) -> Iterator[Meter]:
    gpu = fake_source("gpu:0", rate_w=GPU_W, clock=clock)
    cpu = fake_source(
        "cpu:0",
        rate_w=CPU_W,
        clock=clock,
        method=Method.ESTIMATE,
        provenance=Provenance.ESTIMATED,
        name="fake-estimate",
    )
    with Meter(sources=[gpu, cpu], synchronize=False) as m:
        yield m


@pytest.fixture
def script() -> Script:
    return Script()
