"""Where a run happened: host, OS, Python, CPU, memory, GPUs and library versions.

Two runs' energy can only be compared knowing this, so every stored run carries it.
Capturing must never be the reason a run is lost: every probe is guarded and reports
``None`` (or an ``*_error`` entry) instead of raising. Library versions come from
package metadata, never from importing the library (importing torch takes seconds).
"""

from __future__ import annotations

import copy
import functools
import os
import platform
import socket
import subprocess
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from genwatt.version import __version__

# Distribution names (as pip knows them) whose version bears on energy figures.
LIBRARIES: tuple[str, ...] = (
    "genwatt",
    "torch",
    "diffusers",
    "transformers",
    "accelerate",
    "numpy",
    "nvidia-ml-py",
)

_BYTES_PER_GB = 1e9

T = TypeVar("T")


def _attempt(probe: Callable[[], T]) -> T | None:
    """The probe's answer, or None if it fails in any way."""
    try:
        return probe()
    except Exception:
        return None


def library_versions(names: tuple[str, ...] = LIBRARIES) -> dict[str, str | None]:
    """Installed version of each distribution (None when not installed)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def cpu_model() -> str | None:
    """The CPU's marketing name; ``platform.processor()`` is often just 'x86_64'."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                return value.strip()
    if sys.platform == "darwin":
        out = subprocess.run(
            ["sysctl", "-n", "machdep.cpu.brand_string"],
            capture_output=True,
            text=True,
            timeout=2,
            check=False,
        )
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    return platform.processor() or platform.machine() or None


def _memory_bytes() -> int:
    import psutil

    return int(psutil.virtual_memory().total)


def _physical_cores() -> int | None:
    import psutil

    return psutil.cpu_count(logical=False)


def _text(value: str | bytes) -> str:
    """pynvml returns bytes before 11.5 and str after."""
    return value.decode() if isinstance(value, bytes) else value


def gpu_info() -> dict[str, Any]:
    """GPU models, memory and power limits, and the driver, as far as NVML answers.

    ``pynvml`` is imported here, lazily, and any failure (not installed, no driver, no
    GPU) yields an empty ``gpus`` list and the reason in ``nvml_error``.
    """
    info: dict[str, Any] = {"gpus": [], "gpu_driver": None, "cuda_driver": None, "nvml_error": None}
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception as exc:  # ImportError, NVMLError_LibraryNotFound, ...
        info["nvml_error"] = f"{type(exc).__name__}: {exc}".rstrip(": ")
        return info
    try:
        info["gpu_driver"] = _attempt(lambda: _text(pynvml.nvmlSystemGetDriverVersion()))
        cuda = _attempt(pynvml.nvmlSystemGetCudaDriverVersion_v2)
        if isinstance(cuda, int):
            info["cuda_driver"] = f"{cuda // 1000}.{cuda % 1000 // 10}"
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory = _attempt(lambda h=handle: pynvml.nvmlDeviceGetMemoryInfo(h).total)
            limit_mw = _attempt(lambda h=handle: pynvml.nvmlDeviceGetEnforcedPowerLimit(h))
            info["gpus"].append(
                {
                    "index": index,
                    "name": _attempt(lambda h=handle: _text(pynvml.nvmlDeviceGetName(h))),
                    "memory_gb": None if memory is None else round(memory / _BYTES_PER_GB, 2),
                    "power_limit_w": None if limit_mw is None else limit_mw / 1000.0,
                }
            )
    except Exception as exc:
        info["nvml_error"] = f"{type(exc).__name__}: {exc}".rstrip(": ")
    finally:
        _attempt(pynvml.nvmlShutdown)
    return info


def capture_environment() -> dict[str, Any]:
    """A JSON-ready description of this machine and software, probed now.

    Memory is given in GB of 10^9 bytes (``memory_gb``) and exactly (``memory_bytes``).
    """
    memory_bytes = _attempt(_memory_bytes)
    env: dict[str, Any] = {
        "host": _attempt(socket.gethostname),
        "os": {
            "system": platform.system(),
            "release": platform.release(),
            "version": platform.version(),
            "machine": platform.machine(),
        },
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
        },
        "cpu": {
            "model": _attempt(cpu_model),
            "logical_cores": os.cpu_count(),
            "physical_cores": _attempt(_physical_cores),
        },
        "memory_gb": None if memory_bytes is None else round(memory_bytes / _BYTES_PER_GB, 2),
        "memory_bytes": memory_bytes,
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
    }
    env.update(gpu_info())
    env["libraries"] = library_versions()
    env["genwatt_version"] = __version__
    return env


@functools.cache
def _cached_environment() -> dict[str, Any]:
    return capture_environment()


def current_environment() -> dict[str, Any]:
    """``capture_environment()`` probed once per process (NVML init is not free).

    Each call returns a fresh copy, so a caller editing it cannot alter later runs'.
    """
    return copy.deepcopy(_cached_environment())
