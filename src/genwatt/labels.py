"""One short, human label for a generation's settings, used by every table and figure.

``81f 832x480 50 steps cfg 5`` for diffusion, ``64→16 tokens`` for text generation:
width before height as video people write it, numbers without trailing ``.0`` (CSV
readers hand back floats).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _n(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def settings_label(settings: Mapping[str, Any], *, guidance: bool = False) -> str:
    """Frames, size, steps (and guidance when asked), or prompt and new tokens."""
    parts: list[str] = []
    if settings.get("num_frames"):
        parts.append(f"{_n(settings['num_frames'])}f")
    if settings.get("height") and settings.get("width"):
        parts.append(f"{_n(settings['width'])}x{_n(settings['height'])}")
    if settings.get("steps"):
        parts.append(f"{_n(settings['steps'])} steps")
    if guidance and settings.get("guidance") is not None:
        parts.append(f"cfg {_n(settings['guidance'])}")
    if settings.get("max_new_tokens"):
        prompt = settings.get("max_text_tokens")
        prefix = f"{_n(prompt)}→" if prompt else ""
        parts.append(f"{prefix}{_n(settings['max_new_tokens'])} tokens")
    return " ".join(parts)
