"""The worker's GPU: pinned by the UUID CUDA reports, foreign processes flagged."""

from __future__ import annotations

import pytest

from genwatt.run import worker_gpu
from genwatt.run.worker_gpu import GpuSharing, WorkerGpu, gpu_sharing, pin_worker_gpu

UUID = "GPU-8a1f0000-1111-2222-3333-444455556666"
OTHER = "GPU-ffff0000-1111-2222-3333-444455556666"


def test_a_gpu_worker_pins_cuda_visible_devices_to_the_uuid_cuda_reports(monkeypatch) -> None:
    # Ray said "1"; CUDA's device 0 in this process is the board with UUID, whatever
    # NVML's index 1 is: the meter must open that board, by UUID.
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    monkeypatch.setattr(worker_gpu, "processes_by_gpu", lambda: {UUID: {7}, OTHER: set()})
    monkeypatch.setattr(worker_gpu, "cuda_device_uuid", lambda: UUID)
    gpu = pin_worker_gpu(uses_gpu=True)
    assert gpu.uuid == UUID
    import os

    assert os.environ["CUDA_VISIBLE_DEVICES"] == UUID
    assert gpu.processes_before == {UUID: {7}, OTHER: set()}


def test_the_meter_opens_the_pinned_uuid_not_an_index(monkeypatch) -> None:
    """The NVML source reads the pinned selector and asks NVML for that UUID."""
    from genwatt.meter.sources.visible_devices import parse_visible_devices

    (device,) = parse_visible_devices(UUID, physical_count=2)
    assert device.logical_index == 0 and device.selector == UUID


def test_a_worker_without_cuda_says_why_and_pins_nothing(monkeypatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    monkeypatch.setattr(worker_gpu, "processes_by_gpu", lambda: None)
    monkeypatch.setattr(worker_gpu, "cuda_device_uuid", lambda: None)
    gpu = pin_worker_gpu(uses_gpu=True)
    assert gpu.uuid is None and "no CUDA device" in gpu.note
    import os

    assert os.environ["CUDA_VISIBLE_DEVICES"] == "0"
    assert gpu_sharing(gpu) == GpuSharing(note=gpu.note)


def test_cpu_configurations_touch_no_gpu(monkeypatch) -> None:
    monkeypatch.setattr(worker_gpu, "processes_by_gpu", lambda: {})

    def no_cuda() -> str:
        raise AssertionError("a CPU configuration must not initialise CUDA")

    monkeypatch.setattr(worker_gpu, "cuda_device_uuid", no_cuda)
    assert pin_worker_gpu(uses_gpu=False).uuid is None


@pytest.mark.parametrize(
    ("before", "after", "own", "foreign_before", "foreign_after", "noted"),
    [
        ({UUID: set()}, {UUID: {100}}, 100, (), (), False),  # only this worker: clean
        ({UUID: {5}}, {UUID: {5, 100}}, 100, (5,), (5,), False),  # someone was there
        ({UUID: set()}, {UUID: {100, 9}}, 100, (), (9,), False),  # someone arrived
        # In a container NVML shows host PIDs: the one new PID is taken to be the worker.
        ({UUID: set()}, {UUID: {40100}}, 100, (), (), True),
        ({UUID: set()}, {UUID: {40100, 40200}}, 100, (), (40100, 40200), True),
        ({UUID: set(), OTHER: {3}}, {UUID: {100}, OTHER: {3}}, 100, (), (), False),
    ],
)
def test_foreign_processes_on_the_gpu_are_contamination(
    monkeypatch, before, after, own, foreign_before, foreign_after, noted
) -> None:
    monkeypatch.setattr(worker_gpu, "processes_by_gpu", lambda: after)
    sharing = gpu_sharing(WorkerGpu(uuid=UUID, processes_before=before), own_pid=own)
    assert sharing.before == foreign_before and sharing.after == foreign_after
    assert sharing.contaminated == bool(foreign_before or foreign_after)
    assert bool(sharing.note) == noted
    assert sharing.to_dict()["contaminated"] == sharing.contaminated


def test_without_nvml_listings_sharing_is_unknown_not_clean(monkeypatch) -> None:
    monkeypatch.setattr(worker_gpu, "processes_by_gpu", lambda: None)
    sharing = gpu_sharing(WorkerGpu(uuid=UUID, processes_before=None))
    assert not sharing.contaminated and "could not list" in sharing.note
