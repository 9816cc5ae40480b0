"""What a plan refuses before anything is built: sizes that cannot fit, absent devices,
sweeps of absurd length."""

from __future__ import annotations

import time

import pytest

from genwatt.errors import ConfigError, DeviceUnavailableError, PlanTooLargeError
from genwatt.run import plan as plan_module
from genwatt.run.bench_grid import bench_spec
from genwatt.run.device_check import DeviceMemory, check_device, parse_device
from genwatt.run.memory_check import bytes_text
from genwatt.run.plan import MAX_PLANNED_RUNS, plan_sweep
from genwatt.run.sweep_spec import parse_spec

GIB = 2**30


def test_a_huge_resolution_is_refused_at_once_with_the_estimate() -> None:
    spec = bench_spec("wan-tiny", height=[100000], width=[100000], num_frames=[81])
    started = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        plan_sweep(spec)
    assert time.perf_counter() - started < 1.0
    message = str(info.value)
    assert "height x width 100000x100000 at 81 frames needs at least about" in message
    assert "TiB" in message and "device cpu offers" in message
    assert "lower height, width or frames" in message and "nothing was run" in message


def test_the_tiny_default_grid_fits_without_a_note() -> None:
    plan = plan_sweep(bench_spec("wan-tiny"))
    assert len(plan) == 24
    assert not any("memory" in note for c in plan for note in c.notes)


def test_a_borderline_size_is_planned_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    # 1024x1024 x 17 frames decodes to 17 x 1 Mi px x 3 x 4 bytes = 204 MiB at least.
    monkeypatch.setattr(
        plan_module, "device_memory", lambda device: DeviceMemory(300 * 2**20, "test RAM")
    )
    spec = parse_spec({"model": "wan-tiny", "height": 1024, "width": 1024, "num_frames": 17})
    (config,) = [c for c in plan_sweep(spec) if c.seed == 0]
    assert any("it may not fit" in note and "300 MiB" in note for note in config.notes)
    monkeypatch.setattr(
        plan_module, "device_memory", lambda device: DeviceMemory(50 * 2**20, "test RAM")
    )
    with pytest.raises(ConfigError, match="needs at least about 204 MiB"):
        plan_sweep(spec)


def _no_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_a_run_on_a_missing_device_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_cuda(monkeypatch)
    spec = parse_spec({"model": "wan-tiny", "device": "cuda"})
    with pytest.raises(DeviceUnavailableError, match="'cuda' is not available here"):
        plan_sweep(spec, require_device=True)
    # A dry run plans it anyway, says so, and judges sizes by the largest known GPU.
    plan = plan_sweep(spec)
    assert all("not available on this machine" in n for c in plan for n in c.notes[-1:])


def test_a_cuda_index_past_the_last_device_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    check_device("cuda:1")
    with pytest.raises(DeviceUnavailableError, match="2 CUDA device"):
        check_device("cuda:2")


def test_device_forms() -> None:
    assert parse_device("cpu") == ("cpu", None)
    assert parse_device("CUDA:1") == ("cuda", 1)
    assert parse_device("mps") == ("mps", None)
    for bad in ("gpu", "cuda:", "cuda:x", "cpu:0", ""):
        with pytest.raises(ConfigError, match="use cpu, cuda, cuda:N or mps"):
            parse_device(bad)
    with pytest.raises(ConfigError, match="unknown device 'gpu'"):
        parse_spec({"model": "wan-tiny", "device": "gpu"})


def test_a_sweep_of_absurd_length_is_refused_before_it_is_built() -> None:
    values = list(range(1, 101))
    spec = parse_spec(
        {
            "model": "wan-tiny",
            "grid": {"steps": values, "num_frames": values, "height": [32, 64]},
            "seeds": list(range(10)),
        }
    )
    started = time.perf_counter()
    with pytest.raises(PlanTooLargeError, match=f"at most {MAX_PLANNED_RUNS:,}"):
        plan_sweep(spec)
    assert time.perf_counter() - started < 1.0


def test_bytes_text() -> None:
    assert bytes_text(24 * GIB) == "24 GiB"
    assert bytes_text(1010 * GIB) == "1,010 GiB"
    assert bytes_text(3.1 * 2**40) == "3.1 TiB"
