"""Raw readings of a cumulative energy counter turned into joules, refusing the impossible.

Every energy counter genwatt reads (RAPL, NVML's total energy, amdsmi's accumulator) is
cumulative. Between two reads it either advanced, wrapped once at its range (RAPL's
registers), or lost continuity (firmware or driver reset, GPU reset, garbage read). A
backward step is a wrap only when the energy the wrap implies is physically possible
for that domain in that time; a forward step that implies more power than any such
device can draw is no reading either. Either way the energy across that step is
unknown: the step is recorded as a *break*, the running total carries on from the new
raw value, and every window spanning the break reports an error for that domain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from genwatt.errors import SourceReadError
from genwatt.meter.sources.base import CounterBreak

# Power no single domain of a kind can draw, in watts. Generous on purpose: the largest
# parts on sale in 2025 draw 500 W per CPU package (EPYC 9965, Xeon 6980P), ~500 W of
# DRAM per fully populated socket (24 DDR5 DIMMs) and 1.4 kW per accelerator (MI355X,
# B300), with 2 kW-class accelerators announced. The ceiling only separates hardware
# figures from counter faults, which are off by orders of magnitude (a reset read as a
# RAPL wrap is ~262 kJ within one sampling period).
POWER_CEILING_W: dict[str, float] = {"cpu": 2000.0, "dram": 1000.0, "gpu": 4000.0}
# Time added to every measured interval before it is compared with the ceiling: a
# counter publishes energy up to one update period late, and the reading thread can be
# descheduled between a read and its timestamp.
COUNTER_LAG_S = 0.1


class CounterDiscontinuityError(SourceReadError):
    """A counter stepped in a way no hardware can: energy across that step is unknown."""


def _j(raw: float, units_per_j: float) -> str:
    return f"{raw / units_per_j:.6g} J"


def _s(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def counter_step(
    previous: float,
    current: float,
    *,
    elapsed_s: float,
    ceiling_w: float,
    units_per_j: float,
    wrap_at: float | None = None,
    lag_s: float = COUNTER_LAG_S,
) -> float:
    """How far a counter advanced from ``previous`` to ``current`` (raw units).

    ``units_per_j`` converts raw units to joules (1e6 for microjoules); ``wrap_at`` is
    the counter's range (None: it never wraps, so any backward step is a reset);
    ``elapsed_s`` an upper bound of the time between the two reads. Raises
    ``CounterDiscontinuityError`` when the step implies more than ``ceiling_w`` over
    ``elapsed_s + lag_s``, or is not a number at all.
    """
    if not (math.isfinite(previous) and math.isfinite(current)):
        raise CounterDiscontinuityError(
            f"counter read {current!r} after {previous!r}: not a number; energy unknown"
        )
    if wrap_at is not None and not 0 <= current <= wrap_at:
        raise CounterDiscontinuityError(
            f"counter reads {_j(current, units_per_j)}, outside its range of "
            f"{_j(wrap_at, units_per_j)}: not a physical reading; energy unknown"
        )
    limit = ceiling_w * (max(elapsed_s, 0.0) + lag_s) * units_per_j
    step = current - previous
    moved = f"from {_j(previous, units_per_j)} to {_j(current, units_per_j)} in {_s(elapsed_s)}"
    if step < 0 and wrap_at is None:
        raise CounterDiscontinuityError(
            f"counter stepped back {moved}: a reset (this counter does not wrap); "
            "energy for this window unknown"
        )
    if step < 0:
        step += wrap_at  # type: ignore[operator]  # wrap_at is not None here
        if step > limit:
            raise CounterDiscontinuityError(
                f"counter stepped back {moved}: a reset, not a wrap (a wrap would mean "
                f"{_j(step, units_per_j)}, above the {ceiling_w:.4g} W ceiling); energy "
                "for this window unknown"
            )
        return step
    if step > limit:
        raise CounterDiscontinuityError(
            f"counter jumped {moved}, above the {ceiling_w:.4g} W any such domain can "
            "draw: not a physical reading; energy for this window unknown"
        )
    return step


@dataclass
class CounterTrack:
    """One counter's running total since its source opened, in raw units.

    ``advance`` folds in each new raw value. A step ``counter_step`` refuses adds
    nothing, counts a break and resynchronises on the new value, so windows after the
    break are measured again while those spanning it report the break.
    """

    description: str  # the hardware, for messages ("RAPL package-0 (...)")
    ceiling_w: float
    units_per_j: float
    wrap_at: float | None
    last_raw: float
    last_t: float  # the clock just before the last read
    total_raw: float = 0
    breaks: int = 0
    last_break: str = ""

    def advance(self, raw: float, t_before: float, t_after: float) -> None:
        """Fold in ``raw``, read between the clock values ``t_before`` and ``t_after``."""
        try:
            step = counter_step(
                self.last_raw,
                raw,
                # From before the previous read to after this one: never shorter than
                # the interval the counter really covered.
                elapsed_s=t_after - self.last_t,
                ceiling_w=self.ceiling_w,
                units_per_j=self.units_per_j,
                wrap_at=self.wrap_at,
            )
        except CounterDiscontinuityError as exc:
            self.mark_break(str(exc))
            step = 0
        self.total_raw += step
        self.last_raw, self.last_t = raw, t_before

    def mark_break(self, reason: str) -> None:
        self.breaks += 1
        self.last_break = f"{self.description}: {reason}"

    @property
    def total_j(self) -> float:
        return self.total_raw / self.units_per_j

    def break_record(self) -> CounterBreak | None:
        """The breaks seen so far, or None when the counter never lost continuity."""
        return CounterBreak(self.breaks, self.last_break) if self.breaks else None
