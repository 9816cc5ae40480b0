"""CUDA_VISIBLE_DEVICES parsed with CUDA's own rules."""

from __future__ import annotations

import pytest

from genwatt.meter.sources.visible_devices import (
    VisibleDevice,
    parse_visible_devices,
    visible_devices_env,
)


def selectors(value: str | None, count: int = 4) -> list[str]:
    devices = parse_visible_devices(value, count)
    assert [d.logical_index for d in devices] == list(range(len(devices)))
    return [d.selector for d in devices]


def test_unset_means_every_device() -> None:
    assert parse_visible_devices(None, 3) == [
        VisibleDevice(0, "0"),
        VisibleDevice(1, "1"),
        VisibleDevice(2, "2"),
    ]
    assert parse_visible_devices(None, 0) == []


def test_empty_hides_every_device() -> None:
    assert selectors("") == []
    assert selectors("  ") == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2", ["2"]),
        ("3,1", ["3", "1"]),  # logical 0 is physical 3
        (" 1 , 2 ", ["1", "2"]),
        ("0,4,1", ["0"]),  # 4 does not exist on a 4-GPU machine: stop there
        ("1,-1,2", ["1"]),
        ("1,abc,2", ["1"]),
        ("1,,2", ["1"]),
        ("GPU-8a1f", ["GPU-8a1f"]),
        ("MIG-5c2e-aa,0", ["MIG-5c2e-aa", "0"]),
    ],
)
def test_entries_in_order_until_the_first_invalid_one(value: str, expected: list[str]) -> None:
    assert selectors(value) == expected


def test_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1,0")
    assert visible_devices_env() == "1,0"
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert visible_devices_env() is None
