"""The split of a server's energy among its requests, on hand-made event sequences.

Readings are built from a known power and a clock, so every share is known exactly:
equal and weighted shares, overlapping, nested and zero-length requests, weight
changes, idle time, failed readings and counter resets. A property test compares the
O(1)-per-event ledger with a direct split of every interval among its active requests.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genwatt.errors import ConfigError, SourceReadError
from genwatt.serve.attribution import EnergyLedger, LedgerTotals


def at(t_s: float, **power_w: float) -> dict[str, float | Exception]:
    """The cumulative reading at ``t_s`` of domains drawing constant power since t=0."""
    return {domain.replace("_", ":"): watts * t_s for domain, watts in power_w.items()}


def approx(expected: dict[str, float]) -> object:
    """Equal up to the rounding of a division or two."""
    return pytest.approx(expected, rel=1e-12)


def gpu(t_s: float) -> dict[str, float | Exception]:
    return at(t_s, gpu_0=2.0)


def balance(totals: LedgerTotals, domain: str) -> float:
    """Total minus every place energy went: zero when nothing is lost or counted twice."""
    return totals.total_j.get(domain, 0.0) - math.fsum(
        part.get(domain, 0.0)
        for part in (
            totals.attributed_j,
            totals.active_j,
            totals.unattributed_j,
            totals.unsplit_j,
            totals.partial_j,
        )
    )


def test_equal_shares_of_overlapping_requests() -> None:
    """2 W. A [0,5], B [1,3], C [2,6]; idle [6,7].
    [0,1] A: 2 | [1,2] A B: 1 each | [2,3] A B C: 2/3 each | [3,5] A C: 2 each |
    [5,6] C: 2 | [6,7] nobody: 2 unattributed."""
    ledger = EnergyLedger()
    a = ledger.start(gpu(0), 0.0)
    b = ledger.start(gpu(1), 1.0)
    c = ledger.start(gpu(2), 2.0)
    energy_b = ledger.end(b, gpu(3), 3.0)
    energy_a = ledger.end(a, gpu(5), 5.0)
    energy_c = ledger.end(c, gpu(6), 6.0)
    ledger.checkpoint(gpu(7))

    assert energy_a.energy_j["gpu:0"] == pytest.approx(2 + 1 + 2 / 3 + 2, rel=1e-12)
    assert energy_b.energy_j["gpu:0"] == pytest.approx(1 + 2 / 3, rel=1e-12)
    assert energy_c.energy_j["gpu:0"] == pytest.approx(2 / 3 + 2 + 2, rel=1e-12)
    assert (energy_a.duration_s, energy_b.duration_s, energy_c.duration_s) == (5.0, 2.0, 4.0)
    totals = ledger.totals()
    assert totals.total_j == {"gpu:0": 14.0}
    assert totals.unattributed_j == {"gpu:0": 2.0}
    assert totals.attributed_j["gpu:0"] == pytest.approx(12.0, rel=1e-12)
    assert balance(totals, "gpu:0") == pytest.approx(0.0, abs=1e-12)
    assert ledger.readings == 7  # one per event, whatever the number of active requests


def test_weighted_shares() -> None:
    """4 W. A (weight 1) [0,2], B (weight 3) [1,3]: the shared second goes 1 J / 3 J."""
    ledger = EnergyLedger()
    a = ledger.start(at(0, gpu_0=4.0), 0.0, weight=1)
    b = ledger.start(at(1, gpu_0=4.0), 1.0, weight=3)
    assert ledger.end(a, at(2, gpu_0=4.0), 2.0).energy_j == approx({"gpu:0": 4.0 + 1.0})
    assert ledger.end(b, at(3, gpu_0=4.0), 3.0).energy_j == approx({"gpu:0": 3.0 + 4.0})


def test_weight_change_applies_from_its_event_on() -> None:
    """4 W. A and B (weight 1 each) from 0; at 1 B's weight becomes 3; both end at 2.
    [0,1]: 2 J each | [1,2]: A 1 J, B 3 J. The first second is not re-split."""
    ledger = EnergyLedger()
    a = ledger.start(at(0, gpu_0=4.0), 0.0)
    b = ledger.start(at(0, gpu_0=4.0), 0.0)
    ledger.set_weight(b, 3.0, at(1, gpu_0=4.0))
    assert ledger.end(a, at(2, gpu_0=4.0), 2.0).energy_j == approx({"gpu:0": 3.0})
    assert ledger.end(b, at(2, gpu_0=4.0), 2.0).energy_j == approx({"gpu:0": 5.0})


def test_nested_and_zero_length_requests() -> None:
    """2 W. A [0,4] holds B [1,2] inside it, and C starts and ends at 3 with no time
    between its two readings: C gets nothing and takes nothing from A."""
    ledger = EnergyLedger()
    a = ledger.start(gpu(0), 0.0)
    b = ledger.start(gpu(1), 1.0)
    assert ledger.end(b, gpu(2), 2.0).energy_j == {"gpu:0": 1.0}
    c = ledger.start(gpu(3), 3.0)
    energy_c = ledger.end(c, gpu(3), 3.0)
    assert energy_c.energy_j == {"gpu:0": 0.0}
    assert energy_c.duration_s == 0.0
    assert ledger.end(a, gpu(4), 4.0).energy_j == {"gpu:0": 2.0 + 1.0 + 4.0}


def test_time_with_no_request_is_unattributed_and_the_level_restarts() -> None:
    """Idle gaps between busy periods go to nobody; a later request is charged only its
    own time, however much was split before it."""
    ledger = EnergyLedger()
    ledger.checkpoint(gpu(0))
    a = ledger.start(gpu(10), 10.0)
    ledger.end(a, gpu(11), 11.0)
    b = ledger.start(gpu(100), 100.0)
    assert ledger.end(b, gpu(100.5), 100.5).energy_j == {"gpu:0": 1.0}
    assert ledger.unattributed_j == {"gpu:0": 20.0 + 178.0}
    assert balance(ledger.totals(), "gpu:0") == 0.0


def test_only_zero_weight_requests_active_is_unattributed() -> None:
    """A health check of weight 0 alone is charged nothing, the time stays unattributed;
    next to a weighted request it takes no share."""
    ledger = EnergyLedger()
    probe = ledger.start(gpu(0), 0.0, weight=0)
    assert ledger.end(probe, gpu(1), 1.0).energy_j == {"gpu:0": 0.0}
    work = ledger.start(gpu(1), 1.0, weight=5)
    probe = ledger.start(gpu(2), 2.0, weight=0)
    assert ledger.end(probe, gpu(3), 3.0).energy_j == {"gpu:0": 0.0}
    assert ledger.end(work, gpu(4), 4.0).energy_j == approx({"gpu:0": 6.0})
    assert ledger.unattributed_j == {"gpu:0": 2.0}


def test_domains_are_split_independently() -> None:
    """gpu 10 W and cpu 1 W over the same events, weights 1 and 4."""
    ledger = EnergyLedger()
    a = ledger.start(at(0, gpu_0=10.0, cpu_0=1.0), 0.0, weight=1)
    b = ledger.start(at(0, gpu_0=10.0, cpu_0=1.0), 0.0, weight=4)
    energy_a = ledger.end(a, at(1, gpu_0=10.0, cpu_0=1.0), 1.0)
    energy_b = ledger.end(b, at(1, gpu_0=10.0, cpu_0=1.0), 1.0)
    assert energy_a.energy_j == pytest.approx({"gpu:0": 2.0, "cpu:0": 0.2}, rel=1e-12)
    assert energy_b.energy_j == pytest.approx({"gpu:0": 8.0, "cpu:0": 0.8}, rel=1e-12)
    assert energy_a.total_j == pytest.approx(2.2, rel=1e-12)


def test_a_failed_reading_makes_the_domain_incomplete_not_smaller() -> None:
    """gpu 2 W, cpu 1 W. A [0,4], B [2,3]; the gpu read fails at 2 (B's start). The gpu
    energy from 1 (last good read, when C ended) to 3 cannot be split: it is unsplit,
    and A and B report gpu as incomplete while their cpu figures stay exact."""
    ledger = EnergyLedger()
    a = ledger.start(at(0, gpu_0=2.0, cpu_0=1.0), 0.0)
    c = ledger.start(at(0.5, gpu_0=2.0, cpu_0=1.0), 0.5)
    energy_c = ledger.end(c, at(1, gpu_0=2.0, cpu_0=1.0), 1.0)
    failed = {"gpu:0": SourceReadError("device lost"), "cpu:0": 2.0}
    b = ledger.start(failed, 2.0)
    energy_b = ledger.end(b, at(3, gpu_0=2.0, cpu_0=1.0), 3.0)
    energy_a = ledger.end(a, at(4, gpu_0=2.0, cpu_0=1.0), 4.0)

    assert energy_c.energy_j == {"gpu:0": 0.5, "cpu:0": 0.25}  # before the failure: exact
    assert energy_b.energy_j == {"cpu:0": 0.5}
    assert "device lost" in energy_b.incomplete["gpu:0"]
    assert energy_a.energy_j == {"cpu:0": 0.5 + 0.25 + 1.0 + 0.5 + 1.0}
    assert set(energy_a.incomplete) == {"gpu:0"}
    totals = ledger.totals()
    assert totals.unsplit_j == {"gpu:0": 4.0}  # from 1 to 3
    assert totals.partial_j == {"gpu:0": 1.5 + 2.0}  # A's known gpu shares: [0,1] and [3,4]
    assert totals.total_j == {"gpu:0": 8.0, "cpu:0": 4.0}
    for domain in ("gpu:0", "cpu:0"):
        assert balance(totals, domain) == pytest.approx(0.0, abs=1e-12)


def test_a_request_starting_during_a_gap_is_incomplete_too() -> None:
    ledger = EnergyLedger()
    ledger.checkpoint(gpu(0))
    ledger.checkpoint({"gpu:0": SourceReadError("busy")})
    a = ledger.start({}, 1.0)  # the domain is missing from this reading as well
    energy = ledger.end(a, gpu(2), 2.0)
    assert energy.energy_j == {}
    assert energy.incomplete == {"gpu:0": "reading failed at a request boundary: busy"}
    assert ledger.totals().unsplit_j == {"gpu:0": 4.0}


def test_a_counter_reset_loses_that_interval_and_says_so() -> None:
    ledger = EnergyLedger()
    a = ledger.start({"gpu:0": 100.0}, 0.0)
    ledger.checkpoint({"gpu:0": 5.0})  # driver reset: the counter restarted
    b = ledger.start({"gpu:0": 7.0}, 1.0)
    energy_a = ledger.end(a, {"gpu:0": 9.0}, 2.0)
    energy_b = ledger.end(b, {"gpu:0": 11.0}, 3.0)
    assert "went backwards" in energy_a.incomplete["gpu:0"]
    assert energy_b.energy_j == {"gpu:0": 1.0 + 2.0}
    totals = ledger.totals()
    assert totals.total_j == {"gpu:0": 6.0}  # the unknown interval is in no total
    assert balance(totals, "gpu:0") == 0.0


@pytest.mark.parametrize("weight", [-1.0, math.inf, math.nan, "3", True])
def test_weights_must_be_finite_and_not_negative(weight: object) -> None:
    ledger = EnergyLedger()
    with pytest.raises(ConfigError, match="weight"):
        ledger.start(gpu(0), 0.0, weight=weight)  # type: ignore[arg-type]


def test_an_ended_request_cannot_change() -> None:
    ledger = EnergyLedger()
    a = ledger.start(gpu(0), 0.0)
    ledger.end(a, gpu(1), 1.0)
    with pytest.raises(ConfigError, match="not active"):
        ledger.set_weight(a, 2.0, gpu(2))
    with pytest.raises(ConfigError, match="not active"):
        ledger.end(a, gpu(2), 2.0)


# ------------------------------------------------------------ against a direct split

EVENT = st.one_of(
    st.tuples(st.just("start"), st.sampled_from([0.0, 0.5, 1.0, 2.0, 7.0])),
    st.tuples(st.just("end"), st.integers(0, 40)),
    st.tuples(st.just("weight"), st.integers(0, 40), st.sampled_from([0.0, 1.0, 3.0])),
    st.tuples(st.just("checkpoint")),
)


@settings(max_examples=150, deadline=None)
@given(
    events=st.lists(st.tuples(EVENT, st.floats(0.0, 3.0)), max_size=40),
    power_w=st.floats(0.1, 500.0),
)
def test_the_ledger_matches_a_direct_split_of_every_interval(
    events: list[tuple[tuple[object, ...], float]], power_w: float
) -> None:
    """Each interval split among the requests active in it by their weights, request by
    request (O(n) per event), gives the same joules as the ledger's running level."""
    ledger = EnergyLedger()
    active: dict[int, float] = {}  # id -> weight, for the direct split
    direct: dict[int, float] = {}
    unattributed = 0.0
    t = 0.0
    last_t: float | None = None  # the ledger's span starts at its first reading

    def close_interval() -> None:
        nonlocal unattributed, last_t
        if last_t is None:
            last_t = t
            return
        energy = power_w * (t - last_t)
        weights = math.fsum(active.values())
        if weights > 0:
            for rid, w in active.items():
                direct[rid] += energy * w / weights
        else:
            unattributed += energy
        last_t = t

    for event, dt in events:
        t += dt
        reading = {"gpu:0": power_w * t}
        kind = event[0]
        if kind == "start":
            close_interval()
            rid = ledger.start(reading, t, weight=float(event[1]))  # type: ignore[arg-type]
            active[rid], direct[rid] = float(event[1]), 0.0  # type: ignore[arg-type]
        elif kind == "end" and active:
            rid = sorted(active)[int(event[1]) % len(active)]  # type: ignore[call-overload]
            close_interval()
            got = ledger.end(rid, reading, t).energy_j["gpu:0"]
            del active[rid]
            assert got == pytest.approx(direct[rid], rel=1e-9, abs=1e-9)
        elif kind == "weight" and active:
            rid = sorted(active)[int(event[1]) % len(active)]  # type: ignore[call-overload]
            close_interval()
            ledger.set_weight(rid, float(event[2]), reading)  # type: ignore[arg-type]
            active[rid] = float(event[2])  # type: ignore[arg-type]
        elif kind == "checkpoint":
            close_interval()
            ledger.checkpoint(reading)
    totals = ledger.totals()
    assert totals.unattributed_j.get("gpu:0", 0.0) == pytest.approx(unattributed, abs=1e-9)
    assert balance(totals, "gpu:0") == pytest.approx(0.0, abs=1e-9 * (1 + power_w * t))
