"""RAPL through a fake powercap tree: zones, wraparound, permissions, naming."""

from __future__ import annotations

import os
import time
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genwatt.meter.meter import Meter
from genwatt.meter.result import Method, Provenance
from genwatt.meter.sources import counter, rapl


def deny(monkeypatch: pytest.MonkeyPatch, *denied: Path) -> None:
    """Reading these files raises PermissionError, as a non-root user sees since
    CVE-2020-8694 (chmod 000 cannot show it: the tests may run as root)."""
    real_read_text = Path.read_text

    def read_text(self: Path, *args, **kwargs) -> str:
        if self in denied:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)


def only_source(root: Path | None = None) -> rapl.RaplSource:
    sources, missing = rapl.discover(root)
    assert missing == []
    (source,) = sources
    assert isinstance(source, rapl.RaplSource)
    return source


# ----------------------------------------------------------------------- discovery


def test_packages_and_dram_found_core_uncore_and_psys_skipped(two_socket_powercap) -> None:
    source = only_source(two_socket_powercap.root)
    assert [d.name for d in source.domains] == ["cpu:0", "dram:0", "cpu:1", "dram:1"]
    assert [d.kind for d in source.domains] == ["cpu", "dram", "cpu", "dram"]
    for domain in source.domains:
        assert domain.source == "rapl"
        assert domain.method is Method.COUNTER
        assert domain.provenance is Provenance.MEASURED
        assert domain.resolution_s == rapl.RAPL_RESOLUTION_S
    assert source.domains[0].device.startswith("RAPL package-0 (")
    assert source.domains[3].device.startswith("RAPL dram (")


def test_the_root_comes_from_the_environment(two_socket_powercap, monkeypatch) -> None:
    monkeypatch.setenv(rapl.POWERCAP_ROOT_ENV, str(two_socket_powercap.root))
    assert rapl.powercap_root() == two_socket_powercap.root
    assert len(only_source().domains) == 4
    monkeypatch.delenv(rapl.POWERCAP_ROOT_ENV)
    assert rapl.powercap_root() == Path("/sys/class/powercap")


def test_each_counter_counts_once(two_socket_powercap) -> None:
    tree = two_socket_powercap
    source = only_source(tree.root)
    assert source.read_j() == {"cpu:0": 0.0, "dram:0": 0.0, "cpu:1": 0.0, "dram:1": 0.0}
    tree.set_uj("intel-rapl:0", 10_000_000 + 2_500_000)
    tree.set_uj("intel-rapl:0:0", 5_000_000 + 2_000_000)  # core: inside the package
    tree.set_uj("intel-rapl:0:1", 1_000_000 + 300_000)  # uncore: inside the package
    tree.set_uj("intel-rapl:0:2", 2_000_000 + 750_000)
    tree.set_uj("intel-rapl:1", 20_000_000 + 1)
    tree.set_uj("intel-rapl:2", 90_000_000 + 99_000_000)  # psys: overlaps everything
    reading = source.read_j()
    assert reading == {"cpu:0": 2.5, "dram:0": 0.75, "cpu:1": 1e-6, "dram:1": 0.0}
    assert sum(reading.values()) == pytest.approx(3.250001, rel=1e-12)


def test_a_window_over_rapl_zones(two_socket_powercap) -> None:
    tree = two_socket_powercap
    meter = Meter(rapl.discover(tree.root)[0], synchronize=False)
    tree.set_uj("intel-rapl:0", 11_000_000)  # before the window: not counted
    with meter.window("w") as w:
        tree.set_uj("intel-rapl:0", 14_000_000)
        tree.set_uj("intel-rapl:1:1", 3_500_000)
        time.sleep(0.002)  # longer than the 1 ms RAPL update period: no flag, no guess
    assert w.result is not None
    assert w.result.errors == {} and w.result.flags == {}
    assert w.result.energy_j == {"cpu:0": 3.0, "dram:0": 0.0, "cpu:1": 0.0, "dram:1": 0.5}
    assert set(w.result.provenance.values()) == {Provenance.MEASURED}


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        # psys registered between the packages: domains follow the zones, and each
        # package's DRAM carries the same number as the package.
        (["package-0", "psys", "package-1"], ["cpu:0", "dram:0", "cpu:2", "dram:2"]),
        # Two sockets of two dies each: the kernel names zones package-P-die-D.
        (
            ["package-0-die-0", "package-0-die-1", "package-1-die-0", "package-1-die-1"],
            ["cpu:0", "dram:0", "cpu:1", "dram:1", "cpu:2", "dram:2", "cpu:3", "dram:3"],
        ),
    ],
)
def test_domain_names_are_unique_and_dram_matches_its_package(
    powercap, labels: list[str], expected: list[str]
) -> None:
    for index, label in enumerate(labels):
        powercap.add(f"intel-rapl:{index}", label, 1_000)
        if label != "psys":
            powercap.add(f"intel-rapl:{index}:0", "dram", 1_000)
    source = only_source(powercap.root)
    names = [d.name for d in source.domains]
    assert names == expected
    assert len(set(names)) == len(names)


def test_no_powercap_folder_says_why_and_how_to_fix(tmp_path: Path) -> None:
    sources, missing = rapl.discover(tmp_path / "nowhere")
    assert sources == []
    (why,) = missing
    assert why.source == "rapl"
    assert "no powercap folder at" in why.reason and "nowhere" in why.reason
    assert why.fix is not None and rapl.POWERCAP_ROOT_ENV in why.fix


def test_a_powercap_folder_without_rapl_zones(powercap) -> None:
    sources, missing = rapl.discover(powercap.root)
    assert sources == []
    assert [m.reason for m in missing] == [f"no intel-rapl zones under {powercap.root}"]


# --------------------------------------------------------------------- permissions


def test_permission_denied_is_a_missing_counter_naming_the_file_and_a_fix(
    two_socket_powercap, monkeypatch: pytest.MonkeyPatch
) -> None:
    denied = two_socket_powercap.energy_path("intel-rapl:0")
    deny(monkeypatch, denied)
    sources, missing = rapl.discover(two_socket_powercap.root)
    (source,) = sources
    assert [d.name for d in source.domains] == ["dram:0", "cpu:1", "dram:1"]
    (why,) = missing
    assert why.source == "rapl"
    assert str(denied) in why.reason and "cpu:0" in why.reason
    assert "permission denied" in why.reason
    assert why.fix is not None
    assert "chmod a+r" in why.fix and "CVE-2020-8694" in why.fix
    assert str(two_socket_powercap.root) in why.fix


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads mode 000 files")
def test_permission_denied_with_a_real_mode_000_file(two_socket_powercap) -> None:
    denied = two_socket_powercap.energy_path("intel-rapl:1")
    denied.chmod(0)
    try:
        sources, missing = rapl.discover(two_socket_powercap.root)
    finally:
        denied.chmod(0o644)
    assert [d.name for d in sources[0].domains] == ["cpu:0", "dram:0", "dram:1"]
    assert str(denied) in missing[0].reason and missing[0].fix


def test_every_zone_denied_gives_no_source(
    two_socket_powercap, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = two_socket_powercap
    zones = ["intel-rapl:0", "intel-rapl:0:2", "intel-rapl:1", "intel-rapl:1:1"]
    deny(monkeypatch, *(tree.energy_path(z) for z in zones))
    sources, missing = rapl.discover(tree.root)
    assert sources == []
    assert len(missing) == 4
    assert all("permission denied" in m.reason and m.fix for m in missing)


def test_permission_lost_mid_window_is_an_error_not_a_zero(
    two_socket_powercap, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = two_socket_powercap
    meter = Meter(rapl.discover(tree.root)[0], synchronize=False)
    meter.begin("w")
    tree.set_uj("intel-rapl:0:2", 2_250_000)
    deny(monkeypatch, tree.energy_path("intel-rapl:0"))
    result = meter.end("w")
    assert "cpu:0" not in result.energy_j
    assert str(tree.energy_path("intel-rapl:0")) in result.errors["cpu:0"]
    assert "Permission denied" in result.errors["cpu:0"]
    assert result.energy_j["dram:0"] == 0.25


def test_unreadable_counter_contents(powercap) -> None:
    powercap.add("intel-rapl:0", "package-0")
    powercap.set_uj("intel-rapl:0", "garbage")  # type: ignore[arg-type]
    sources, missing = rapl.discover(powercap.root)
    assert sources == []
    assert missing[0].reason.startswith(f"cannot read {powercap.energy_path('intel-rapl:0')}")


# ---------------------------------------------------------------------- wraparound


def test_wraparound_inside_a_window(powercap) -> None:
    """The register wraps at 1 J: 0.9 -> (poll) 0.2 -> 0.7 is 0.3 + 0.5 J."""
    powercap.add("intel-rapl:0", "package-0", 900_000, max_uj=1_000_000)
    source = only_source(powercap.root)
    meter = Meter([source], synchronize=False)
    meter.begin("w")
    powercap.set_uj("intel-rapl:0", 200_000)  # crossed max_energy_range_uj
    source.poll()
    powercap.set_uj("intel-rapl:0", 700_000)
    result = meter.end("w")
    assert result.energy_j == {"cpu:0": 0.8}
    assert result.errors == {}


def test_the_meter_sampler_polls_rapl_through_wraps(powercap) -> None:
    powercap.add("intel-rapl:0", "package-0", 900_000, max_uj=1_000_000)
    source = only_source(powercap.root)
    zone = source._zones[0]
    meter = Meter([source], synchronize=False, sample_period_s=0.002)
    with meter.window("w") as w:
        for raw in (100_000, 600_000, 50_000, 400_000):  # three wraps, 1.5 J in all
            powercap.set_uj("intel-rapl:0", raw)
            deadline = time.monotonic() + 5
            while zone.last_raw_uj != raw and time.monotonic() < deadline:
                time.sleep(0.001)
            assert zone.last_raw_uj == raw, "the sampler did not poll"
    assert w.result is not None
    assert w.result.energy_j["cpu:0"] == pytest.approx(1.5, abs=1e-9)


@st.composite
def counter_runs(draw: st.DrawFn) -> tuple[int, int, list[int]]:
    range_uj = draw(st.integers(min_value=2, max_value=2**40))
    start = draw(st.integers(min_value=0, max_value=range_uj - 1))
    steps = draw(st.lists(st.integers(min_value=0, max_value=range_uj - 1), max_size=30))
    return range_uj, start, steps


@settings(max_examples=60, deadline=None)
@given(run=counter_runs())
def test_accumulated_energy_is_the_sum_of_increments_whatever_the_wraps(
    tmp_path_factory: pytest.TempPathFactory, run: tuple[int, int, list[int]]
) -> None:
    range_uj, start, steps = run
    energy = tmp_path_factory.mktemp("powercap") / "intel-rapl:0"
    energy.mkdir()
    (energy / "name").write_text("package-0\n")
    (energy / "max_energy_range_uj").write_text(f"{range_uj}\n")
    (energy / "energy_uj").write_text(f"{start}\n")
    clock = mock.Mock(perf_counter=lambda: now_s[0])
    now_s = [0.0]
    with mock.patch.object(rapl, "time", clock):
        source = only_source(energy.parent)
        raw = start
        for step in steps:
            raw = (raw + step) % range_uj  # what the register shows after `step` microjoules
            (energy / "energy_uj").write_text(f"{raw}\n")
            now_s[0] += step / 1e6 / 1000.0  # at 1 kW: physically possible
            source.poll()
        assert source.read_j() == {"cpu:0": sum(steps) / 1e6}


# ------------------------------------------------------------ resets and faults


@pytest.fixture
def clock(fake_clock, monkeypatch: pytest.MonkeyPatch):
    """One hand-moved clock for the RAPL zones' timestamps and the meter's."""
    monkeypatch.setattr(rapl, "time", fake_clock)
    return fake_clock


def test_a_counter_stepping_back_without_wrapping_is_a_reset_not_262_kj(powercap, clock) -> None:
    """1000 J -> 999 J in 2 ms: read as a wrap it would be ~262 kJ (131 MW)."""
    powercap.add("intel-rapl:0", "package-0", 1_000_000_000)
    powercap.add("intel-rapl:0:0", "dram", 5_000_000)
    meter = Meter([only_source(powercap.root)], synchronize=False)
    with meter.window("cmd") as w:
        clock.advance(0.002)
        powercap.set_uj("intel-rapl:0", 999_000_000)
        powercap.set_uj("intel-rapl:0:0", 5_010_000)
    result = w.result
    assert result is not None
    assert "cpu:0" not in result.energy_j and "cpu:0" not in result.provenance
    assert result.errors["cpu:0"].startswith("RAPL package-0 (")
    assert result.errors["cpu:0"].endswith(
        "counter stepped back from 1000 J to 999 J in 2 ms: a reset, not a wrap (a wrap "
        "would mean 262142 J, above the 2000 W ceiling); energy for this window unknown"
    )
    assert result.energy_j == {"dram:0": pytest.approx(0.01)}  # the other zone is fine
    assert not result.complete


def test_windows_after_a_reset_are_measured_again(powercap, clock) -> None:
    powercap.add("intel-rapl:0", "package-0", 1_000_000_000)
    meter = Meter([only_source(powercap.root)], synchronize=False)
    meter.begin("outer")
    clock.advance(0.1)
    powercap.set_uj("intel-rapl:0", 999_000_000)  # reset, seen by the next read
    with meter.window("after") as after:
        clock.advance(1.0)
        powercap.set_uj("intel-rapl:0", 999_000_000 + 150_000_000)
    outer = meter.end("outer")
    assert after.result is not None
    assert after.result.energy_j == {"cpu:0": 150.0}
    assert after.result.errors == {}
    assert "a reset, not a wrap" in outer.errors["cpu:0"]


def test_a_reset_caught_by_the_sampler_is_not_hidden_by_later_progress(powercap, clock) -> None:
    """Reset to 0 then back above the start: the end reading alone looks fine."""
    powercap.add("intel-rapl:0", "package-0", 1_000_000_000)
    source = only_source(powercap.root)
    meter = Meter([source], synchronize=False, sample_period_s=60)
    with meter.window("w") as w:
        clock.advance(0.1)
        powercap.set_uj("intel-rapl:0", 500_000_000)  # driver reload: 500 J, not +261 kJ
        source.poll()
        clock.advance(10.0)
        powercap.set_uj("intel-rapl:0", 1_200_000_000)
    assert w.result is not None
    assert "cpu:0" not in w.result.energy_j
    assert "stepped back from 1000 J to 500 J" in w.result.errors["cpu:0"]


def test_a_genuine_wrap_near_the_range_is_still_counted(powercap, clock) -> None:
    """The Intel range (262143.33 J): 262143 J -> 40 J in 0.1 s is 40.33 J, a wrap."""
    top = 262_143_000_000
    powercap.add("intel-rapl:0", "package-0", top)
    meter = Meter([only_source(powercap.root)], synchronize=False)
    with meter.window("w") as w:
        clock.advance(0.1)
        powercap.set_uj("intel-rapl:0", 40_000_000)
    assert w.result is not None
    assert w.result.errors == {}
    assert w.result.energy_j["cpu:0"] == pytest.approx(40.32885, abs=1e-9)


def test_an_impossibly_large_forward_jump_is_an_error(powercap, clock) -> None:
    powercap.add("intel-rapl:0", "package-0", 1_000_000)
    meter = Meter([only_source(powercap.root)], synchronize=False)
    with meter.window("w") as w:
        clock.advance(1.0)
        powercap.set_uj("intel-rapl:0", 1_000_000 + 5_000_000_000)  # 5 kJ in 1 s
    assert w.result is not None
    assert w.result.energy_j == {}
    assert "counter jumped from 1 J to 5001 J in 1 s, above the 2000 W" in w.result.errors["cpu:0"]
    # Within the ceiling the same jump is a figure: 5 kJ over 5 s is 1 kW.
    with meter.window("w2") as w2:
        clock.advance(5.0)
        powercap.set_uj("intel-rapl:0", 1_000_000 + 10_000_000_000)
    assert w2.result is not None and w2.result.energy_j == {"cpu:0": 5000.0}


def test_a_counter_beyond_its_range_is_an_error(powercap, clock) -> None:
    powercap.add("intel-rapl:0", "package-0", 1_000, max_uj=1_000_000)
    meter = Meter([only_source(powercap.root)], synchronize=False)
    with meter.window("w") as w:
        clock.advance(1.0)
        powercap.set_uj("intel-rapl:0", 3_000_000)
    assert w.result is not None
    assert "outside its range of 1 J" in w.result.errors["cpu:0"]


def test_the_dram_ceiling_is_the_dram_one(powercap, clock) -> None:
    powercap.add("intel-rapl:0", "package-0", 0)
    powercap.add("intel-rapl:0:0", "dram", 0)
    meter = Meter([only_source(powercap.root)], synchronize=False)
    with meter.window("w") as w:
        clock.advance(1.0)
        powercap.set_uj("intel-rapl:0", 1_500_000_000)  # 1.5 kW: a big package
        powercap.set_uj("intel-rapl:0:0", 1_500_000_000)  # 1.5 kW of DRAM: no
    assert w.result is not None
    assert w.result.energy_j == {"cpu:0": 1500.0}
    assert f"{counter.POWER_CEILING_W['dram']:.4g} W" in w.result.errors["dram:0"]
