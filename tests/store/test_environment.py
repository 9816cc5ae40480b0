"""Environment capture: complete, JSON-ready, and never the reason a run is lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from importlib import metadata

import pytest

from genwatt.store import environment
from genwatt.store.environment import capture_environment, current_environment, library_versions
from genwatt.version import __version__


class _FakeNVMLError(Exception):
    pass


def _fake_pynvml(fail_init: bool = False, fail_power: bool = False) -> types.ModuleType:
    """A pynvml stand-in with two GPUs (one answering bytes, as pynvml < 11.5 did)."""
    module = types.ModuleType("pynvml")
    calls: list[str] = []

    def init() -> None:
        calls.append("init")
        if fail_init:
            raise _FakeNVMLError("Driver Not Loaded")

    def power_limit(handle: int) -> int:
        if fail_power:
            raise _FakeNVMLError("Not Supported")
        return 700_000 if handle == 0 else 350_000

    module.nvmlInit = init
    module.nvmlShutdown = lambda: calls.append("shutdown")
    module.nvmlSystemGetDriverVersion = lambda: "550.54.15"
    module.nvmlSystemGetCudaDriverVersion_v2 = lambda: 12040
    module.nvmlDeviceGetCount = lambda: 2
    module.nvmlDeviceGetHandleByIndex = lambda index: index
    module.nvmlDeviceGetName = lambda h: "NVIDIA H100 80GB HBM3" if h == 0 else b"NVIDIA L4"
    module.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(total=85_520_809_984)
    module.nvmlDeviceGetEnforcedPowerLimit = power_limit
    module.calls = calls
    return module


def test_capture_has_every_section_and_is_json_ready(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # no NVML at all
    env = capture_environment()
    assert json.loads(json.dumps(env)) == env
    assert env["host"]
    assert env["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert env["cpu"]["logical_cores"] == os.cpu_count()
    assert env["memory_gb"] > 0
    assert env["memory_bytes"] / 1e9 == pytest.approx(env["memory_gb"], abs=0.01)
    assert env["genwatt_version"] == __version__
    assert env["gpus"] == []
    assert env["gpu_driver"] is None
    assert env["nvml_error"].startswith("ModuleNotFoundError")


def test_library_versions_come_from_metadata():
    versions = library_versions(("numpy", "genwatt", "surely-not-installed-pkg"))
    assert versions == {
        "numpy": metadata.version("numpy"),
        "genwatt": metadata.version("genwatt"),
        "surely-not-installed-pkg": None,
    }
    assert set(environment.LIBRARIES) >= {"torch", "diffusers", "transformers", "numpy"}


def test_gpus_and_driver_are_read_from_nvml(monkeypatch):
    fake = _fake_pynvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    env = capture_environment()
    assert env["gpu_driver"] == "550.54.15"
    assert env["cuda_driver"] == "12.4"
    assert env["nvml_error"] is None
    assert env["gpus"] == [
        {"index": 0, "name": "NVIDIA H100 80GB HBM3", "memory_gb": 85.52, "power_limit_w": 700.0},
        {"index": 1, "name": "NVIDIA L4", "memory_gb": 85.52, "power_limit_w": 350.0},
    ]
    assert fake.calls == ["init", "shutdown"]


def test_a_failing_nvml_call_costs_only_its_field(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml(fail_power=True))
    env = capture_environment()
    assert [g["power_limit_w"] for g in env["gpus"]] == [None, None]
    assert [g["name"] for g in env["gpus"]] == ["NVIDIA H100 80GB HBM3", "NVIDIA L4"]


def test_nvml_that_fails_to_init_gives_no_gpus_and_the_reason(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml(fail_init=True))
    env = capture_environment()
    assert env["gpus"] == []
    assert env["nvml_error"] == "_FakeNVMLError: Driver Not Loaded"


def test_current_environment_is_probed_once_and_copied(monkeypatch):
    probes: list[int] = []

    def probe() -> dict:
        probes.append(1)
        return {"gpus": [{"name": "x"}]}

    monkeypatch.setattr(environment, "capture_environment", probe)
    environment._cached_environment.cache_clear()
    try:
        first = current_environment()
        first["gpus"].append("edited by a caller")
        assert current_environment() == {"gpus": [{"name": "x"}]}
        assert len(probes) == 1
    finally:
        environment._cached_environment.cache_clear()


def test_capture_imports_neither_torch_nor_pandas():
    code = (
        "import sys; from genwatt.store import ResultsStore, capture_environment; "
        "capture_environment(); "
        "print(sorted(m for m in ('torch', 'diffusers', 'transformers', 'pandas', 'pyarrow') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    assert out.stdout.strip() == "[]"
