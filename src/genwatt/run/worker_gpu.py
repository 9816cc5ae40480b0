"""The GPU an executor's worker process was given: which physical one, and who shares it.

Ray (like any scheduler) hands a worker a GPU by setting ``CUDA_VISIBLE_DEVICES`` to an
index. CUDA reads that index in its own device order (fastest first, unless
``CUDA_DEVICE_ORDER=PCI_BUS_ID``), while NVML numbers GPUs by PCI bus: on a machine
with mixed GPUs the same index can name two different boards. So the worker never
meters "index N": it asks CUDA for the UUID of the device it will run on and pins
``CUDA_VISIBLE_DEVICES`` to that UUID, which the meter's NVML source then opens by UUID
(``genwatt.meter.sources.nvml``).

A GPU's energy counter counts every process on it. The processes on each GPU are read
before the worker touches CUDA (none of them can be the worker, whatever PID namespace
it lives in) and again after its runs; anything else on the worker's GPU makes its
runs contaminated, which the driver stores flagged, never mixed silently with clean
runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

CUDA_VISIBLE_DEVICES = "CUDA_VISIBLE_DEVICES"


@dataclass(frozen=True)
class GpuSharing:
    """Foreign processes seen on the worker's GPU before and after its runs."""

    before: tuple[int, ...] = ()
    after: tuple[int, ...] = ()
    note: str = ""

    @property
    def contaminated(self) -> bool:
        return bool(self.before or self.after)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "foreign_before": list(self.before),
            "foreign_after": list(self.after),
            "contaminated": self.contaminated,
        }
        if self.note:
            data["note"] = self.note
        return data


@dataclass
class WorkerGpu:
    """The worker's GPU (``uuid`` None when it has none) and why, where it could not
    be told."""

    uuid: str | None = None
    note: str = ""
    processes_before: dict[str, set[int]] | None = field(default=None, repr=False)


def _nvml() -> Any | None:
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:  # no library, no driver: no GPU to pin or to watch
        return None
    return pynvml


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def processes_by_gpu() -> dict[str, set[int]] | None:
    """PIDs with a compute or graphics context on each GPU, by UUID; None without NVML."""
    nvml = _nvml()
    if nvml is None:
        return None
    found: dict[str, set[int]] = {}
    try:
        for index in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            pids: set[int] = set()
            for listing in (
                nvml.nvmlDeviceGetComputeRunningProcesses,
                nvml.nvmlDeviceGetGraphicsRunningProcesses,
            ):
                try:
                    pids.update(int(p.pid) for p in listing(handle))
                except nvml.NVMLError:
                    continue
            found[_text(nvml.nvmlDeviceGetUUID(handle))] = pids
    except nvml.NVMLError:
        return None
    finally:
        nvml.nvmlShutdown()
    return found


def cuda_device_uuid() -> str | None:
    """The UUID ("GPU-...") of CUDA's device 0 in this process, or None without CUDA.

    Initialises CUDA in this process: call it only in a worker that will run on the GPU.
    """
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    uuid = str(torch.cuda.get_device_properties(0).uuid)
    return uuid if uuid.startswith(("GPU-", "MIG-")) else f"GPU-{uuid}"


def pin_worker_gpu(*, uses_gpu: bool) -> WorkerGpu:
    """Find and pin the worker's GPU before anything measures it.

    Reads every GPU's processes first (before CUDA starts here), then, when the worker
    runs on a GPU, its UUID from CUDA, and sets ``CUDA_VISIBLE_DEVICES`` to that UUID.
    """
    before = processes_by_gpu()
    if not uses_gpu:
        return WorkerGpu(note="a CPU configuration", processes_before=before)
    visible = os.environ.get(CUDA_VISIBLE_DEVICES)
    uuid = cuda_device_uuid()
    if uuid is None:
        return WorkerGpu(
            note=f"no CUDA device in this worker ({CUDA_VISIBLE_DEVICES}={visible!r})",
            processes_before=before,
        )
    os.environ[CUDA_VISIBLE_DEVICES] = uuid
    return WorkerGpu(uuid=uuid, processes_before=before)


def gpu_sharing(gpu: WorkerGpu, *, own_pid: int | None = None) -> GpuSharing:
    """Who else was on the worker's GPU, from the reading before its runs and one now.

    NVML reports PIDs in the host's namespace; inside a container the worker's own PID
    differs, so when it is not found the one new PID on the GPU is taken to be the
    worker itself, and more than one new PID is contamination.
    """
    if gpu.uuid is None:
        return GpuSharing(note=gpu.note)
    own = os.getpid() if own_pid is None else own_pid
    after_all = processes_by_gpu()
    if gpu.processes_before is None or after_all is None:
        return GpuSharing(note="NVML could not list the GPU's processes")
    before = gpu.processes_before.get(gpu.uuid, set())
    after = after_all.get(gpu.uuid, set())
    note = ""
    if own in after:
        foreign_after = after - {own}
    else:
        new = after - before
        foreign_after = (after - new) | (new if len(new) > 1 else set())
        note = "this worker's PID is not visible to NVML (a PID namespace?)"
        if len(new) > 1:
            note += f"; {len(new)} new processes on the GPU, not all of them this worker"
    return GpuSharing(before=tuple(sorted(before)), after=tuple(sorted(foreign_after)), note=note)
