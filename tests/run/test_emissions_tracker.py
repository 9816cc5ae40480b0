"""The CodeCarbon drop-in: ``EmissionsTracker`` and ``track_emissions`` measure with the
Meter, store the run, append CodeCarbon's row, and behave as CodeCarbon's do."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import genwatt
from genwatt.carbon import grid_intensity
from genwatt.errors import ConfigError, GenwattError, StoreError
from genwatt.meter.meter import Meter
from genwatt.run.emissions_tracker import (
    DEFAULT_PROJECT_NAME,
    KIND,
    UNSUPPORTED,
    EmissionsTracker,
    track_emissions,
)
from genwatt.store.codecarbon_csv import CODECARBON_COLUMNS, COLUMNS
from genwatt.store.store import ResultsStore

KWH_J = 3.6e6
FRANCE_KG_PER_KWH = grid_intensity("FR").g_per_kwh / 1000


@pytest.fixture
def gpu(fake_source, fake_clock):
    """A fake GPU counter; the test adds joules by hand and moves the clock."""
    return fake_source("gpu:0", clock=fake_clock.perf_counter)


@pytest.fixture
def options(gpu, tmp_path: Path) -> dict[str, Any]:
    """Everything in the test's folder, on a known grid, metered by the fake GPU."""
    return {
        "output_dir": tmp_path,
        "store": tmp_path / "genwatt.db",
        "country_iso_code": "FR",
        "meter": Meter([gpu], synchronize=False),
    }


def _csv(tmp_path: Path) -> pd.DataFrame:
    return pd.read_csv(tmp_path / "emissions.csv")


def _runs(tmp_path: Path) -> list:
    with ResultsStore(tmp_path / "genwatt.db", create=False) as store:
        return store.runs()


def test_start_stop_returns_kg_and_writes_the_row_and_the_run(
    options, gpu, fake_clock, tmp_path: Path
) -> None:
    tracker = EmissionsTracker(project_name="my-project", experiment_id="exp-1", **options)
    tracker.start()
    fake_clock.advance(10.0)
    gpu.add_j("gpu:0", KWH_J)
    emissions_kg = tracker.stop()
    assert emissions_kg == pytest.approx(FRANCE_KG_PER_KWH)  # 1 kWh in France
    frame = _csv(tmp_path)
    assert list(frame.columns) == list(COLUMNS)
    (row,) = frame.to_dict("records")
    assert row["emissions"] == pytest.approx(emissions_kg)
    assert row["energy_consumed"] == pytest.approx(1.0)
    assert row["gpu_power"] == pytest.approx(KWH_J / 10.0)
    assert row["duration"] == pytest.approx(10.0)
    assert row["project_name"] == "my-project"
    assert row["experiment_id"] == "exp-1"
    assert row["country_iso_code"] == "FRA"
    assert row["genwatt_kind"] == KIND
    assert row["genwatt_provenance_gpu"] == "measured"
    (run,) = _runs(tmp_path)
    assert run.kind == KIND and run.ok
    assert run.id == row["genwatt_run_id"] == tracker.run_id
    assert run.total_energy_j == pytest.approx(KWH_J)
    assert tracker.final_emissions == emissions_kg
    assert tracker.final_emissions_data is not None
    assert tracker.final_emissions_data["run_id"] == row["run_id"]


def test_as_a_context_manager(options, gpu, fake_clock, tmp_path: Path) -> None:
    with EmissionsTracker(**options) as tracker:
        fake_clock.advance(1.0)
        gpu.add_j("gpu:0", KWH_J / 2)
    assert tracker.final_emissions == pytest.approx(FRANCE_KG_PER_KWH / 2)
    assert _csv(tmp_path)["project_name"].tolist() == [DEFAULT_PROJECT_NAME]


def test_a_decorated_function_runs_and_its_value_passes_through(
    options, gpu, fake_clock, tmp_path: Path
) -> None:
    @track_emissions(project_name="decorated", **options)
    def generate(n: int) -> int:
        fake_clock.advance(2.0)
        gpu.add_j("gpu:0", KWH_J)
        return n * 2

    assert generate(21) == 42
    assert generate(1) == 2
    frame = _csv(tmp_path)
    assert len(frame) == 2  # a row per call, one header
    assert frame["emissions"].tolist() == pytest.approx([FRANCE_KG_PER_KWH] * 2)
    runs = _runs(tmp_path)
    assert [r.config["function"] for r in runs] == [generate.__qualname__] * 2
    assert generate.__name__ == "generate"  # functools.wraps


def test_bare_decorator(options, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GENWATT_STORE", str(tmp_path / "genwatt.db"))
    monkeypatch.setattr("genwatt.run.emissions_tracker.Meter", lambda: options["meter"])

    @track_emissions
    def work() -> str:
        return "done"

    assert work() == "done"
    assert len(_csv(tmp_path)) == 1  # ./emissions.csv, as CodeCarbon's default
    assert len(_runs(tmp_path)) == 1  # the default store


def test_an_exception_still_records_and_propagates(options, gpu, fake_clock, tmp_path) -> None:
    @track_emissions(**options)
    def fails() -> None:
        fake_clock.advance(1.0)
        gpu.add_j("gpu:0", KWH_J)
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        fails()
    (row,) = _csv(tmp_path).to_dict("records")
    assert row["energy_consumed"] == pytest.approx(1.0)  # the energy was spent all the same
    assert row["genwatt_status"] == "failed"
    (run,) = _runs(tmp_path)
    assert run.status == "failed" and run.error == "ValueError: boom"


def test_codecarbon_itself_records_and_propagates_the_same_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options
) -> None:
    """What the drop-in matches: CodeCarbon's own decorator, offline, on a function that
    raises, writes its row and lets the exception through; so does genwatt's, and the
    two files share CodeCarbon's columns."""
    codecarbon = pytest.importorskip("codecarbon")
    theirs, ours = tmp_path / "theirs", tmp_path / "ours"
    theirs.mkdir()
    ours.mkdir()
    monkeypatch.chdir(theirs)  # CodeCarbon may leave files in the working folder

    @codecarbon.track_emissions(
        offline=True, country_iso_code="FRA", output_dir=str(theirs), log_level="error"
    )
    def their_fails() -> None:
        raise ValueError("boom")

    @track_emissions(**{**options, "output_dir": ours})
    def our_fails() -> None:
        raise ValueError("boom")

    for fails in (their_fails, our_fails):
        with pytest.raises(ValueError, match="boom"):
            fails()
    their_rows = pd.read_csv(theirs / "emissions.csv")
    our_rows = pd.read_csv(ours / "emissions.csv")
    assert len(their_rows) == len(our_rows) == 1
    assert list(their_rows.columns) == list(CODECARBON_COLUMNS)
    assert list(our_rows.columns[: len(CODECARBON_COLUMNS)]) == list(their_rows.columns)


def test_a_store_failure_does_not_hide_the_functions_exception(options, tmp_path: Path) -> None:
    tracker_options = {**options, "store": tmp_path / "store.db"}

    @track_emissions(**tracker_options)
    def fails() -> None:
        (tmp_path / "store.db").unlink()
        (tmp_path / "store.db").mkdir()  # the store cannot be opened at the end
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom") as caught:
        fails()
    assert any(note.startswith("genwatt: ") for note in caught.value.__notes__)
    assert len(_csv(tmp_path)) == 1  # the row is still written


# ------------------------------------------------------------------------ options


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_codecarbon_options_are_refused_in_one_line(name: str, tmp_path) -> None:
    with pytest.raises(ConfigError) as caught:
        EmissionsTracker(output_dir=tmp_path, **{name: "x"})
    message = str(caught.value)
    assert name in message and "\n" not in message


def test_none_counts_as_not_given_as_in_codecarbon(tmp_path: Path) -> None:
    EmissionsTracker(output_dir=tmp_path, api_key=None, gpu_ids=None)


def test_an_option_codecarbon_does_not_have_is_a_type_error(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="bogus"):
        EmissionsTracker(output_dir=tmp_path, bogus=1)


def test_the_decorator_refuses_options_when_decorating(tmp_path: Path) -> None:
    ran = []
    with pytest.raises(ConfigError, match="api_key"):

        @track_emissions(output_dir=tmp_path, api_key="secret")
        def work() -> None:
            ran.append(1)

    assert not ran


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"output_dir": "no/such/folder"}, "not a folder"),
        ({"on_csv_write": "update"}, "appends one row per run"),
        ({"pue": 0.5}, "PUE must be between"),
        ({"wue": -1.0}, "wue must be"),
        ({"cloud_provider": "gcp"}, "together"),
        ({"country_iso_code": "XX-not-a-country"}, "No grid carbon intensity"),
    ],
)
def test_bad_values_are_refused_at_construction(tmp_path: Path, kwargs, words) -> None:
    with pytest.raises(GenwattError, match=words):
        EmissionsTracker(**{"output_dir": tmp_path, **kwargs})


def test_cloud_region_and_pue_and_wue_are_honoured(options, gpu, fake_clock, tmp_path) -> None:
    kwargs = {k: v for k, v in options.items() if k != "country_iso_code"}
    with EmissionsTracker(
        cloud_provider="gcp", cloud_region="europe-west1", pue=1.5, wue=2.0, **kwargs
    ):
        fake_clock.advance(1.0)
        gpu.add_j("gpu:0", KWH_J)
    (row,) = _csv(tmp_path).to_dict("records")
    assert (row["cloud_provider"], row["cloud_region"], row["on_cloud"]) == (
        "gcp",
        "europe-west1",
        "Y",
    )
    assert row["energy_consumed"] == pytest.approx(1.5)
    assert row["water_consumed"] == pytest.approx(3.0)  # 2 L/kWh x 1.5 kWh
    assert row["pue"] == 1.5


def test_accepted_options_without_effect(options) -> None:
    EmissionsTracker("p", 15, offline=True, log_level="error", allow_multiple_runs=True, **options)


def test_nothing_saved_when_asked(options, gpu, fake_clock, tmp_path: Path) -> None:
    tracker = EmissionsTracker(save_to_file=False, save_to_store=False, **options)
    tracker.start()
    gpu.add_j("gpu:0", KWH_J)
    assert tracker.stop() == pytest.approx(FRANCE_KG_PER_KWH)
    assert not (tmp_path / "emissions.csv").exists()
    assert not (tmp_path / "genwatt.db").exists()
    assert tracker.run_id is None


# ---------------------------------------------------------------- start and stop


def test_a_csv_of_another_schema_is_refused_before_the_code_runs(options, tmp_path) -> None:
    (tmp_path / "emissions.csv").write_text("a,b\n1,2\n")
    ran = []

    @track_emissions(**options)
    def work() -> None:
        ran.append(1)

    with pytest.raises(StoreError, match="refusing to append"):
        work()
    assert not ran
    assert not options["meter"].open_windows


def test_stop_twice_returns_the_first_figure_and_stop_before_start_fails(options, gpu) -> None:
    tracker = EmissionsTracker(**options)
    with pytest.raises(GenwattError, match="never started"):
        tracker.stop()
    tracker.start()
    with pytest.raises(GenwattError, match="already started"):
        tracker.start()
    gpu.add_j("gpu:0", KWH_J)
    first = tracker.stop()
    assert tracker.stop() == first


def test_a_meter_the_tracker_made_is_closed(tmp_path, monkeypatch, fake_source) -> None:
    source = fake_source("gpu:0")
    monkeypatch.setattr(
        "genwatt.run.emissions_tracker.Meter", lambda: Meter([source], synchronize=False)
    )
    with EmissionsTracker(output_dir=tmp_path, store=tmp_path / "g.db"):
        pass
    assert source.closed


def test_the_package_names_them_lazily() -> None:
    assert genwatt.EmissionsTracker is EmissionsTracker
    assert genwatt.track_emissions is track_emissions
    assert {"EmissionsTracker", "track_emissions"} <= set(genwatt.__all__)


def test_importing_genwatt_loads_no_tracker(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = "import genwatt, sys; print('genwatt.run.emissions_tracker' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    assert done.stdout.strip() == "False"
