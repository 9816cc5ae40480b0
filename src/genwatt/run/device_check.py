"""Whether a torch device can be used on this machine, and how much memory it offers.

Why before anything runs: a run on ``cuda`` where there is no CUDA used to build the
pipeline, start a progress bar and die deep inside torch with a long traceback. A device
string is checked in two steps: its form (``cpu``, ``cuda``, ``cuda:N``, ``mps``) when
it is read, and its availability when a plan is validated for running. torch is
imported only for a device other than the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

from genwatt.errors import ConfigError, DeviceUnavailableError

DEVICE_FORMS = "cpu, cuda, cuda:N or mps"
_KINDS = ("cpu", "cuda", "mps")


@dataclass(frozen=True)
class DeviceMemory:
    """Memory a run on a device can use, in bytes, and what that figure is."""

    bytes: int
    what: str  # e.g. "available RAM", "NVIDIA H100 80GB HBM3 memory"


def parse_device(device: str) -> tuple[str, int | None]:
    """``(kind, index)`` of a torch device string; ConfigError for any other form."""
    text = str(device).strip().lower()
    kind, sep, index = text.partition(":")
    if kind in _KINDS and not sep:
        return kind, None
    if kind == "cuda" and index.isdigit():
        return kind, int(index)
    raise ConfigError(f"unknown device {device!r}: use {DEVICE_FORMS}.")


def check_device(device: str) -> None:
    """Raise DeviceUnavailableError, with what to do, unless ``device`` is usable here."""
    kind, index = parse_device(device)
    if kind == "cpu":
        return
    import torch

    if kind == "mps":
        if not torch.backends.mps.is_available():
            raise DeviceUnavailableError(
                f"device {device!r} is not available here (torch.backends.mps.is_available() "
                "is False: not an Apple-silicon Mac, or a torch without MPS); use --device cpu."
            )
        return
    if not torch.cuda.is_available():
        why = (
            "this torch was built without CUDA"
            if torch.version.cuda is None
            else "no CUDA GPU or driver was found"
        )
        raise DeviceUnavailableError(
            f"device {device!r} is not available here: {why}. Use --device cpu, or run on a "
            "machine with an NVIDIA GPU and a CUDA build of torch."
        )
    count = torch.cuda.device_count()
    if index is not None and index >= count:
        raise DeviceUnavailableError(
            f"device {device!r} does not exist: this machine has {count} CUDA device(s), "
            f"cuda:0 to cuda:{count - 1}."
        )


def device_memory(device: str) -> DeviceMemory | None:
    """Memory ``device`` offers a run, or None if it cannot be used here.

    CUDA: the device's total memory. CPU and MPS (unified memory): the RAM available now.
    """
    kind, index = parse_device(device)
    if kind != "cpu":
        try:
            check_device(device)
        except DeviceUnavailableError:
            return None
    if kind == "cuda":
        import torch

        props = torch.cuda.get_device_properties(index or 0)
        return DeviceMemory(int(props.total_memory), f"{props.name} memory")
    import psutil

    return DeviceMemory(int(psutil.virtual_memory().available), "available RAM")
