"""Numbers read from a user, checked once: finite, or a clear error naming where they came from.

Why one checker: ``float("nan")`` and ``float("inf")`` parse without complaint, and a NaN
then compares false with every bound (``nan < 0`` is False), so a guidance scale of NaN
passed every range check and ran with no guidance at all. Every place that reads a
number from a flag, a spec file, a strategy string or a CSV calls ``finite`` (or, for
pydantic models, uses ``allow_inf_nan=False``, the same rule).
"""

from __future__ import annotations

import math
from typing import Any

from genwatt.errors import ConfigError


def finite(value: Any, what: str) -> float:
    """``value`` as a float; ConfigError naming ``what`` if it is not a finite number.

    Accepts ints, floats and numeric strings ("0.5"); refuses NaN, infinities, booleans
    and anything that is not a number.
    """
    if isinstance(value, bool):
        raise ConfigError(f"{what} must be a number, got {value!r}.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{what} must be a number, got {value!r}.") from None
    if not math.isfinite(number):
        raise ConfigError(f"{what} must be a finite number, got {value!r}.")
    return number


def finite_or_none(value: Any, what: str) -> float | None:
    """``finite(value, what)``, passing ``None`` through (an unset option)."""
    return None if value is None else finite(value, what)
