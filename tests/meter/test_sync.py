"""Accelerator synchronisation at window boundaries, with a fake torch."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from genwatt.meter.sync import synchronize_accelerators


def fake_torch(initialized: bool, devices: int, calls: list[int]) -> SimpleNamespace:
    cuda = SimpleNamespace(
        is_initialized=lambda: initialized,
        device_count=lambda: devices,
        synchronize=calls.append,
    )
    return SimpleNamespace(cuda=cuda)


def test_every_device_is_synchronised_when_cuda_is_in_use(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setitem(sys.modules, "torch", fake_torch(True, 3, calls))
    synchronize_accelerators()
    assert calls == [0, 1, 2]


def test_cuda_is_never_initialised_by_genwatt(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setitem(sys.modules, "torch", fake_torch(False, 2, calls))
    synchronize_accelerators()
    assert calls == []


def test_nothing_to_do_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    synchronize_accelerators()  # must not import torch
    assert "torch" not in sys.modules
