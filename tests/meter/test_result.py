"""WindowResult: totals by provenance, net of idle, and the round trip through JSON."""

from __future__ import annotations

import json

import pytest

from genwatt.meter.result import (
    IdlePower,
    Method,
    PowerTimeline,
    Provenance,
    WindowResult,
)

M, E = Provenance.MEASURED, Provenance.ESTIMATED


def make_result(**overrides) -> WindowResult:
    fields = {
        "name": "run",
        "started_at": 1_700_000_000.5,
        "duration_s": 2.0,
        "energy_j": {"gpu:0": 300.0, "cpu:0": 40.0, "dram:0": 12.0},
        "provenance": {"gpu:0": M, "cpu:0": E, "dram:0": E},
        "method": {"gpu:0": Method.COUNTER, "cpu:0": Method.ESTIMATE, "dram:0": Method.ESTIMATE},
    }
    fields.update(overrides)
    return WindowResult(**fields)


def test_totals_and_energy_by_provenance() -> None:
    result = make_result()
    assert result.total_energy_j == 352.0
    assert result.energy_wh_total == pytest.approx(352.0 / 3600.0, rel=1e-12)
    assert result.energy_by_provenance_j() == {M: 300.0, E: 52.0}
    assert result.complete


@pytest.mark.parametrize(
    ("provenance", "expected"),
    [
        ({"gpu:0": M}, M),
        ({"gpu:0": M, "cpu:0": E}, E),
        ({"gpu:0": Provenance.PREDICTED, "cpu:0": E}, Provenance.PREDICTED),
    ],
)
def test_overall_provenance_is_the_weakest(provenance, expected) -> None:
    result = make_result(
        energy_j=dict.fromkeys(provenance, 1.0),
        provenance=provenance,
        method=dict.fromkeys(provenance, Method.COUNTER),
    )
    assert result.overall_provenance() is expected


def test_a_window_without_any_figure_is_not_called_measured() -> None:
    result = make_result(energy_j={}, provenance={}, method={}, errors={"gpu:0": "lost"})
    assert result.overall_provenance() is E
    assert result.total_energy_j == 0.0
    assert not result.complete


def test_net_of_idle_keeps_provenance_and_the_original() -> None:
    result = make_result(flags={"gpu:0": ["coarse"]})
    idle = IdlePower({"gpu:0": 50.0, "cpu:0": 25.0}, 10.0, {"gpu:0": M, "cpu:0": E})
    net = result.net_of_idle(idle)
    assert net.energy_j == {"gpu:0": 200.0, "cpu:0": 0.0, "dram:0": 12.0}
    assert net.provenance == result.provenance
    assert net.idle_subtracted_w == {"gpu:0": 50.0, "cpu:0": 25.0}
    assert net.flags["gpu:0"] == ["coarse"]
    assert "net of idle was -10 J" in net.flags["cpu:0"][0]
    assert net.flags["dram:0"] == ["no idle power for this domain; gross"]
    assert result.flags == {"gpu:0": ["coarse"]}  # the gross result is untouched
    assert result.idle_subtracted_w is None


def test_round_trip_through_json() -> None:
    result = make_result(
        flags={"gpu:0": ["MIG instance"]},
        errors={"gpu:1": "GPU is lost"},
        assumptions={"cpu:0": {"tdp_w": 280, "threads": 128}},
        parent="pipeline",
        idle_subtracted_w={"gpu:0": 60.0},
        timeline=PowerTimeline(t_s=[0.1, 0.2], power_w={"gpu:0": [250.0, 260.5]}),
    )
    data = json.loads(json.dumps(result.to_dict()))
    assert data["provenance"] == {"gpu:0": "measured", "cpu:0": "estimated", "dram:0": "estimated"}
    assert data["method"]["gpu:0"] == "counter"
    assert data["timeline"] == {"t_s": [0.1, 0.2], "power_w": {"gpu:0": [250.0, 260.5]}}
    back = WindowResult.from_dict(data)
    assert back == result
    assert isinstance(back.provenance["gpu:0"], Provenance)
    assert isinstance(back.method["cpu:0"], Method)


def test_from_dict_fills_optional_fields() -> None:
    minimal = {
        "name": "w",
        "started_at": 1.0,
        "duration_s": 0.5,
        "energy_j": {"gpu:0": 1.0},
        "provenance": {"gpu:0": "measured"},
        "method": {"gpu:0": "sampling"},
    }
    result = WindowResult.from_dict(minimal)
    assert result.method == {"gpu:0": Method.SAMPLING}
    assert (result.flags, result.errors, result.assumptions) == ({}, {}, {})
    assert result.parent is None and result.timeline is None


def test_idle_power_to_dict() -> None:
    idle = IdlePower({"gpu:0": 55.5}, 3.0, {"gpu:0": M})
    assert idle.to_dict() == {
        "power_w": {"gpu:0": 55.5},
        "duration_s": 3.0,
        "provenance": {"gpu:0": "measured"},
    }
