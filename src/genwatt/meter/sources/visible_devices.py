"""Which physical GPUs this process can use, as CUDA numbers them.

CUDA_VISIBLE_DEVICES may hold indices, full or prefix GPU UUIDs, or MIG UUIDs; CUDA
stops at the first entry it cannot resolve, and an empty value hides every GPU. genwatt
names GPU domains by the index torch sees (``gpu:0`` is ``cuda:0``), so a measured
figure lines up with the device the workload ran on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class VisibleDevice:
    logical_index: int  # the index CUDA (and torch) give this device
    selector: str  # what CUDA_VISIBLE_DEVICES said: "3", "GPU-8a1f...", "MIG-..."


def parse_visible_devices(value: str | None, physical_count: int) -> list[VisibleDevice]:
    """Apply CUDA's rules: None means every device; parsing stops at a bad entry."""
    if value is None:
        return [VisibleDevice(i, str(i)) for i in range(physical_count)]
    devices: list[VisibleDevice] = []
    for entry in (e.strip() for e in value.split(",")):
        if not entry:
            break
        if entry.isdigit() or (entry.startswith("-") and entry[1:].isdigit()):
            index = int(entry)
            if index < 0 or index >= physical_count:
                break
            devices.append(VisibleDevice(len(devices), entry))
        elif entry.startswith(("GPU-", "MIG-")):
            devices.append(VisibleDevice(len(devices), entry))
        else:
            break
    return devices


def visible_devices_env() -> str | None:
    return os.environ.get("CUDA_VISIBLE_DEVICES")
