"""GPU temperature and clocks, recorded before and after each run.

A hot GPU throttles, and a throttled GPU spends more energy per generation: keeping
these next to every measurement lets a report show (or a user exclude) runs that
started hot. Empty where NVML is not available; never an error.
"""

from __future__ import annotations

from typing import Any


def gpu_state() -> list[dict[str, Any]]:
    try:
        import pynvml
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return []
    states: list[dict[str, Any]] = []
    try:
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            state: dict[str, Any] = {"index": index}
            for key, read in (
                (
                    "temperature_c",
                    lambda h: pynvml.nvmlDeviceGetTemperature(h, pynvml.NVML_TEMPERATURE_GPU),
                ),
                ("sm_clock_mhz", lambda h: pynvml.nvmlDeviceGetClockInfo(h, pynvml.NVML_CLOCK_SM)),
                (
                    "mem_clock_mhz",
                    lambda h: pynvml.nvmlDeviceGetClockInfo(h, pynvml.NVML_CLOCK_MEM),
                ),
                ("power_w", lambda h: pynvml.nvmlDeviceGetPowerUsage(h) / 1000.0),
                ("power_limit_w", lambda h: pynvml.nvmlDeviceGetEnforcedPowerLimit(h) / 1000.0),
            ):
                try:
                    state[key] = read(handle)
                except pynvml.NVMLError:
                    state[key] = None
            states.append(state)
    finally:
        pynvml.nvmlShutdown()
    return states
