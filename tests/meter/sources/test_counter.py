"""The cumulative-counter step: wraps counted, resets and impossible jumps refused."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from genwatt.meter.sources.base import CounterBreak
from genwatt.meter.sources.counter import (
    COUNTER_LAG_S,
    CounterDiscontinuityError,
    CounterTrack,
    counter_step,
)

CEILING_W = 2000.0
UJ = 1e6  # microjoules per joule

ranges = st.integers(min_value=1_000, max_value=2**64)


@given(range_uj=ranges, data=st.data())
def test_progress_within_the_ceiling_is_counted_whatever_the_wrap(range_uj, data) -> None:
    previous = data.draw(st.integers(min_value=0, max_value=range_uj - 1))
    progress = data.draw(st.integers(min_value=0, max_value=range_uj - 1))
    elapsed_s = data.draw(st.floats(min_value=0.0, max_value=1e6))
    assume(progress <= CEILING_W * (elapsed_s + COUNTER_LAG_S) * UJ)
    current = (previous + progress) % range_uj
    step = counter_step(
        previous,
        current,
        elapsed_s=elapsed_s,
        ceiling_w=CEILING_W,
        units_per_j=UJ,
        wrap_at=range_uj,
    )
    assert step == progress


@given(
    previous=st.integers(min_value=1, max_value=2**64),
    back=st.integers(min_value=1, max_value=2**64),
    elapsed_s=st.floats(min_value=0.0, max_value=1e9),
)
def test_a_counter_that_never_wraps_never_steps_back(previous, back, elapsed_s) -> None:
    with pytest.raises(CounterDiscontinuityError, match="a reset"):
        counter_step(
            previous, previous - back, elapsed_s=elapsed_s, ceiling_w=CEILING_W, units_per_j=1e3
        )


@given(range_uj=ranges, data=st.data())
def test_a_backward_step_is_a_wrap_only_when_its_energy_is_possible(range_uj, data) -> None:
    previous = data.draw(st.integers(min_value=1, max_value=range_uj - 1))
    current = data.draw(st.integers(min_value=0, max_value=previous - 1))
    elapsed_s = data.draw(st.floats(min_value=0.0, max_value=1e6))
    wrapped = range_uj - previous + current
    limit = CEILING_W * (elapsed_s + COUNTER_LAG_S) * UJ
    kwargs = {"elapsed_s": elapsed_s, "ceiling_w": CEILING_W, "units_per_j": UJ}
    if wrapped <= limit:
        assert counter_step(previous, current, wrap_at=range_uj, **kwargs) == wrapped
    else:
        with pytest.raises(CounterDiscontinuityError, match="a reset, not a wrap"):
            counter_step(previous, current, wrap_at=range_uj, **kwargs)


@given(
    previous=st.integers(min_value=0, max_value=2**60),
    elapsed_s=st.floats(min_value=0.0, max_value=1e6),
    excess=st.integers(min_value=1, max_value=2**40),
)
def test_a_forward_step_above_the_ceiling_is_refused(previous, elapsed_s, excess) -> None:
    limit = math.floor(CEILING_W * (elapsed_s + COUNTER_LAG_S) * UJ)
    with pytest.raises(CounterDiscontinuityError, match="not a physical reading"):
        counter_step(
            previous,
            previous + limit + excess,
            elapsed_s=elapsed_s,
            ceiling_w=CEILING_W,
            units_per_j=UJ,
        )


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_a_counter_that_reads_no_number_is_refused(bad: float) -> None:
    with pytest.raises(CounterDiscontinuityError, match="not a number"):
        counter_step(1.0, bad, elapsed_s=1.0, ceiling_w=CEILING_W, units_per_j=UJ)


def test_the_track_counts_breaks_and_resynchronises() -> None:
    track = CounterTrack("GPU X", CEILING_W, 1e3, None, last_raw=5_000, last_t=0.0)
    assert track.break_record() is None
    track.advance(7_000, 1.0, 1.0)  # 2 J in 1 s
    track.advance(1_000, 2.0, 2.0)  # reset: nothing added
    track.advance(4_000, 3.0, 3.0)  # 3 J after the reset
    assert track.total_j == 5.0
    record = track.break_record()
    assert isinstance(record, CounterBreak) and record.count == 1
    assert record.reason == (
        "GPU X: counter stepped back from 7 J to 1 J in 1 s: a reset (this counter does "
        "not wrap); energy for this window unknown"
    )


def test_the_elapsed_time_runs_from_before_the_previous_read() -> None:
    """Read 1 took 0.5 s (t 0 -> 0.5): the next interval is bounded from t = 0."""
    track = CounterTrack("RAPL", CEILING_W, UJ, 2**32, last_raw=0, last_t=0.0)
    track.advance(100, 0.0, 0.5)
    track.advance(100 + int(CEILING_W * 1.05 * UJ), 0.9, 1.0)  # 2.1 kJ: t 0 -> 1.0 + lag
    assert track.break_record() is None
