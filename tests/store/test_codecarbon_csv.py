"""CodeCarbon's emissions.csv from stored runs: its columns first, its units, genwatt's
provenance and phases after, append without a second header, foreign files refused."""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from genwatt.carbon.setting import RECORD_KEY, CarbonSetting
from genwatt.errors import StoreError
from genwatt.meter.result import Method, Provenance, WindowResult
from genwatt.store.codecarbon_csv import (
    CODECARBON_COLUMNS,
    CODECARBON_VERSION,
    COLUMNS,
    EXTRA_KEY,
    GENWATT_COLUMNS,
    append_rows,
    codecarbon_row,
    codecarbon_rows,
    run_uuid,
)
from genwatt.store.records import RunRecord

START = 1_700_000_000.0
DURATION_S = 100.0
# A stored grid of 400 g/kWh: 1 kWh is 0.4 kg CO2eq, exactly.
GRID = {
    "country": "FRA",
    "country_iso2": "FR",
    "country_name": "France",
    "g_per_kwh": 400.0,
    "source": "test table",
    "year": 2023,
    "is_default": False,
    "cloud_region": "",
    "pue": 1.0,
}
ENVIRONMENT: dict[str, Any] = {
    "os": {"system": "Linux", "release": "6.1.0", "version": "#1", "machine": "x86_64"},
    "python": {"version": "3.11.7", "implementation": "CPython"},
    "cpu": {"model": "Test CPU 9000", "logical_cores": 16, "physical_cores": 8},
    "memory_bytes": 64 * 1024**3,
    "gpus": [
        {"index": 0, "name": "NVIDIA H100 80GB HBM3"},
        {"index": 1, "name": "NVIDIA H100 80GB HBM3"},
    ],
    "nvml_error": None,
}


def _window(name: str = "run", parent: str | None = None, scale: float = 1.0) -> WindowResult:
    """3.6e6 J in all (1 kWh): GPU 0.7 kWh measured, CPU 0.2 estimated, DRAM 0.1
    measured, over 100 s."""
    return WindowResult(
        name=name,
        started_at=START,
        duration_s=DURATION_S,
        energy_j={"gpu:0": 2.52e6 * scale, "cpu:0": 0.72e6 * scale, "dram:0": 0.36e6 * scale},
        provenance={
            "gpu:0": Provenance.MEASURED,
            "cpu:0": Provenance.ESTIMATED,
            "dram:0": Provenance.MEASURED,
        },
        method={"gpu:0": Method.COUNTER, "cpu:0": Method.ESTIMATE, "dram:0": Method.COUNTER},
        parent=parent,
    )


def _record(**fields: Any) -> RunRecord:
    base: dict[str, Any] = {
        "id": 7,
        "kind": "sweep",
        "started_at": START,
        "duration_s": DURATION_S,
        "config": {"model": "tiny-sd", "steps": 4},
        "windows": [_window()],
        "environment": ENVIRONMENT,
        "sweep": "s1",
        "config_key": "steps=4",
        "repeat": 2,
        "extra": {RECORD_KEY: GRID},
    }
    return RunRecord(**{**base, **fields})


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=True)


# ------------------------------------------------------------------------ the schema


def test_columns_are_the_installed_codecarbons_in_its_order() -> None:
    """The column tuple is copied, not imported: this is where a new CodeCarbon release
    that changes its schema is noticed."""
    codecarbon = pytest.importorskip("codecarbon")
    from codecarbon.output_methods.emissions_data import EmissionsData

    assert codecarbon.__version__ == CODECARBON_VERSION
    assert tuple(f.name for f in dataclasses.fields(EmissionsData)) == CODECARBON_COLUMNS
    assert COLUMNS[: len(CODECARBON_COLUMNS)] == CODECARBON_COLUMNS
    assert not set(CODECARBON_COLUMNS) & set(GENWATT_COLUMNS)


def test_pandas_reads_codecarbons_columns_first_then_genwatts(tmp_path: Path) -> None:
    path = tmp_path / "emissions.csv"
    append_rows(path, codecarbon_rows([_record()]).rows)
    frame = _read(path)
    assert list(frame.columns[: len(CODECARBON_COLUMNS)]) == list(CODECARBON_COLUMNS)
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 1


def test_a_row_builds_codecarbons_own_emissions_data() -> None:
    """What CodeCarbon's dashboards load: its EmissionsData takes our row's first columns."""
    pytest.importorskip("codecarbon")
    from codecarbon.output_methods.emissions_data import EmissionsData

    row = codecarbon_row(_record())
    assert row is not None
    data = EmissionsData(**{c: row[c] for c in CODECARBON_COLUMNS})
    assert data.energy_consumed == pytest.approx(1.0)


# ----------------------------------------------------------------------------- units


def test_units_on_a_run_of_known_energy_and_intensity(tmp_path: Path) -> None:
    path = tmp_path / "emissions.csv"
    append_rows(path, [codecarbon_row(_record())])
    row = _read(path).iloc[0]
    assert row["energy_consumed"] == pytest.approx(1.0)  # 3.6e6 J in kWh
    assert row["gpu_energy"] == pytest.approx(0.7)
    assert row["cpu_energy"] == pytest.approx(0.2)
    assert row["ram_energy"] == pytest.approx(0.1)  # genwatt's dram is CodeCarbon's ram
    assert row["gpu_power"] == pytest.approx(2.52e6 / DURATION_S)  # W = J / s
    assert row["cpu_power"] == pytest.approx(0.72e6 / DURATION_S)
    assert row["ram_power"] == pytest.approx(0.36e6 / DURATION_S)
    assert row["duration"] == pytest.approx(DURATION_S)
    assert row["emissions"] == pytest.approx(0.4)  # kg: 1 kWh at 400 g/kWh
    assert row["emissions_rate"] == pytest.approx(0.4 / DURATION_S)  # kg/s
    assert row["pue"] == 1.0
    assert row["timestamp"] == datetime.fromtimestamp(START + DURATION_S).strftime(
        "%Y-%m-%dT%H:%M:%S"
    )


def test_the_pue_multiplies_energy_and_power_as_in_codecarbon() -> None:
    grid = {**GRID, "pue": 1.5}
    row = codecarbon_row(_record(extra={RECORD_KEY: grid}))
    assert row is not None
    assert row["energy_consumed"] == pytest.approx(1.5)
    assert row["gpu_power"] == pytest.approx(1.5 * 2.52e6 / DURATION_S)
    assert row["emissions"] == pytest.approx(0.6)
    assert row["emissions"] / row["energy_consumed"] == pytest.approx(0.4)  # the grid's kg/kWh
    assert row["genwatt_energy_device_kwh"] == pytest.approx(1.0)  # before the PUE
    assert row["pue"] == 1.5


def test_emissions_are_genwatts_own_co2e_of_the_run() -> None:
    """The same figure the store export and the report show (``stored_run_co2e``)."""
    from genwatt.store.export import runs_frame

    record = _record(extra={RECORD_KEY: CarbonSetting.resolve("DE", 1.2).to_dict()})
    row = codecarbon_row(record)
    assert row is not None
    exported = runs_frame([record]).iloc[0]
    assert row["emissions"] * 1000 == pytest.approx(exported["co2e_g_gross"])


# ------------------------------------------------------------- location, environment


def test_country_and_environment_fields(tmp_path: Path) -> None:
    row = codecarbon_row(_record())
    assert row is not None
    assert row["country_name"] == "France"
    assert row["country_iso_code"] == "FRA"
    assert row["os"] == "Linux-6.1.0-x86_64"
    assert row["python_version"] == "3.11.7"
    assert row["cpu_count"] == 16
    assert row["cpu_model"] == "Test CPU 9000"
    assert row["gpu_count"] == 2
    assert row["gpu_model"] == "2 x NVIDIA H100 80GB HBM3"
    assert row["ram_total_size"] == pytest.approx(64.0)  # GiB, as CodeCarbon


def test_what_genwatt_does_not_know_is_empty_never_invented(tmp_path: Path) -> None:
    path = tmp_path / "emissions.csv"
    append_rows(path, [codecarbon_row(_record())])
    row = _read(path).iloc[0]
    for column in (
        "experiment_id",
        "water_consumed",
        "region",
        "cloud_provider",
        "cloud_region",
        "on_cloud",
        "codecarbon_version",
        "longitude",
        "latitude",
        "tracking_mode",
        "cpu_utilization_percent",
        "gpu_utilization_percent",
        "ram_utilization_percent",
        "ram_used_gb",
        "wue",
    ):
        assert pd.isna(row[column]), column


def test_a_run_without_a_country_has_no_location_but_its_emissions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Priced on the world average, as everywhere in genwatt; the location stays unknown."""
    monkeypatch.delenv("GENWATT_COUNTRY", raising=False)
    monkeypatch.delenv("GENWATT_CLOUD", raising=False)
    setting = CarbonSetting.resolve()
    assert setting.is_default
    row = codecarbon_row(_record(extra={RECORD_KEY: setting.to_dict()}))
    assert row is not None
    assert row["country_name"] is None and row["country_iso_code"] is None
    assert "world average" in row["genwatt_carbon_setting"]
    assert row["emissions"] == pytest.approx(setting.intensity.g_per_kwh / 1000)


def test_a_cloud_region_fills_the_cloud_columns() -> None:
    setting = CarbonSetting.resolve(cloud="gcp:europe-west1")
    row = codecarbon_row(_record(extra={RECORD_KEY: setting.to_dict()}))
    assert row is not None
    assert row["cloud_provider"] == "gcp"
    assert row["cloud_region"] == "europe-west1"
    assert row["on_cloud"] == "Y"
    assert row["country_name"] == "Belgium"
    assert row["country_iso_code"] == "BEL"


def test_without_nvml_the_gpu_count_is_unknown_not_zero() -> None:
    environment = {**ENVIRONMENT, "gpus": [], "nvml_error": "NVMLError_LibraryNotFound"}
    row = codecarbon_row(_record(environment=environment))
    assert row is not None
    assert row["gpu_count"] is None and row["gpu_model"] is None
    answered = codecarbon_row(_record(environment={**ENVIRONMENT, "gpus": []}))
    assert answered is not None and answered["gpu_count"] == 0


def test_a_domain_genwatt_did_not_read_is_empty() -> None:
    window = dataclasses.replace(
        _window(),
        energy_j={"cpu:0": 3.6e6},
        provenance={"cpu:0": Provenance.ESTIMATED},
        method={"cpu:0": Method.ESTIMATE},
    )
    row = codecarbon_row(_record(windows=[window]))
    assert row is not None
    assert row["gpu_energy"] is None and row["gpu_power"] is None
    assert row["ram_energy"] is None
    assert row["cpu_energy"] == pytest.approx(1.0)


# ---------------------------------------------------------------- genwatt's columns


def test_genwatts_columns_carry_identity_and_provenance() -> None:
    row = codecarbon_row(_record())
    assert row is not None
    assert row["genwatt_run_id"] == 7
    assert row["genwatt_kind"] == "sweep"
    assert row["genwatt_status"] == "ok"
    assert row["genwatt_sweep"] == "s1"
    assert row["genwatt_config_key"] == "steps=4"
    assert row["genwatt_repeat"] == 2
    assert row["genwatt_model"] == "tiny-sd"
    assert row["genwatt_provenance"] == "estimated"  # the weakest of the domains
    assert row["genwatt_provenance_gpu"] == "measured"
    assert row["genwatt_provenance_cpu"] == "estimated"
    assert row["genwatt_provenance_ram"] == "measured"
    assert row["genwatt_complete"] is True
    assert "400 g CO2e/kWh" in row["genwatt_carbon_setting"]
    assert row["project_name"] == "genwatt"


def test_a_domain_that_failed_is_flagged() -> None:
    window = dataclasses.replace(_window(), errors={"gpu:1": "device lost"})
    row = codecarbon_row(_record(windows=[window]))
    assert row is not None
    assert row["genwatt_complete"] is False
    assert row["genwatt_errors"] == "gpu:1: device lost"


def test_phases_in_kwh_add_up_to_the_energy() -> None:
    windows = [
        _window("generation"),
        _window("text_encode", parent="generation", scale=0.1),
        _window("step:0", parent="generation", scale=0.3),
        _window("step:1", parent="generation", scale=0.3),
        _window("vae_decode", parent="generation", scale=0.2),
    ]
    row = codecarbon_row(_record(windows=windows, extra={RECORD_KEY: {**GRID, "pue": 2.0}}))
    assert row is not None
    assert row["genwatt_phase_text_encode_kwh"] == pytest.approx(0.2)  # 0.1 kWh x PUE 2
    assert row["genwatt_phase_denoise_kwh"] == pytest.approx(1.2)
    assert row["genwatt_phase_vae_decode_kwh"] == pytest.approx(0.4)
    assert row["genwatt_phase_other_kwh"] == pytest.approx(0.2)
    assert row["genwatt_phase_prefill_kwh"] is None  # not a phase of this run
    phases = [row[c] for c in COLUMNS if c.startswith("genwatt_phase_") and row[c] is not None]
    assert math.fsum(phases) == pytest.approx(row["energy_consumed"])


def test_a_run_without_phases_has_empty_phase_columns() -> None:
    row = codecarbon_row(_record())
    assert row is not None
    assert all(row[c] is None for c in COLUMNS if c.startswith("genwatt_phase_"))


def test_labels_of_the_drop_in_tracker_are_used() -> None:
    labels = {"project_name": "my-project", "experiment_id": "exp-1", "wue": 2.0}
    row = codecarbon_row(_record(extra={RECORD_KEY: GRID, EXTRA_KEY: labels}))
    assert row is not None
    assert row["project_name"] == "my-project"
    assert row["experiment_id"] == "exp-1"
    assert row["wue"] == 2.0
    assert row["water_consumed"] == pytest.approx(2.0)  # L/kWh x 1 kWh


# -------------------------------------------------------------------- failed runs


def test_failed_runs_without_a_window_are_skipped_and_counted() -> None:
    failed_early = _record(status="failed", error="OOM", windows=[])
    failed_metered = _record(status="failed", error="exit code 3")
    made = codecarbon_rows([_record(), failed_early, failed_metered])
    assert made.skipped_without_window == 1
    assert [r["genwatt_status"] for r in made.rows] == ["ok", "failed"]


# ------------------------------------------------------------------------ appending


def test_append_adds_rows_without_a_second_header(tmp_path: Path) -> None:
    path = tmp_path / "out" / "emissions.csv"
    first = append_rows(path, [codecarbon_row(_record(started_at=START))])
    second = append_rows(path, [codecarbon_row(_record(started_at=START + 1))])
    assert (first.written, second.written) == (1, 1)
    text = path.read_text()
    assert text.count("timestamp,project_name") == 1
    frame = _read(path)
    assert len(frame) == 2
    assert frame["energy_consumed"].tolist() == pytest.approx([1.0, 1.0])


def test_a_run_already_in_the_file_is_not_written_again(tmp_path: Path) -> None:
    path = tmp_path / "emissions.csv"
    rows = codecarbon_rows([_record(), _record(started_at=START + 5)]).rows
    append_rows(path, rows[:1])
    done = append_rows(path, rows)
    assert (done.written, done.already_present) == (1, 1)
    assert len(_read(path)) == 2


def test_an_empty_file_gets_the_header(tmp_path: Path) -> None:
    path = tmp_path / "emissions.csv"
    path.write_text("")
    append_rows(path, [codecarbon_row(_record())])
    assert list(_read(path).columns) == list(COLUMNS)


@pytest.mark.parametrize(
    ("header", "words"),
    [
        (",".join(CODECARBON_COLUMNS), "CodeCarbon's columns without genwatt's"),
        ("a,b,c", "other columns"),
    ],
)
def test_a_file_of_another_schema_is_refused_and_left_untouched(
    tmp_path: Path, header: str, words: str
) -> None:
    path = tmp_path / "emissions.csv"
    path.write_text(header + "\n1,2,3\n")
    before = path.read_bytes()
    with pytest.raises(StoreError, match=words) as caught:
        append_rows(path, [codecarbon_row(_record())])
    assert "\n" not in str(caught.value)  # one line
    assert "write to a new file" in str(caught.value)
    assert path.read_bytes() == before


def test_text_a_spreadsheet_would_run_is_quoted(tmp_path: Path) -> None:
    labels = {"project_name": '=HYPERLINK("http://x")'}
    path = tmp_path / "emissions.csv"
    append_rows(path, [codecarbon_row(_record(extra={RECORD_KEY: GRID, EXTRA_KEY: labels}))])
    assert _read(path).iloc[0]["project_name"].startswith("'=")


def test_run_ids_are_uuids_stable_per_run() -> None:
    import uuid

    one, again, other = _record(), _record(id=99), _record(started_at=START + 1)
    assert uuid.UUID(run_uuid(one))
    assert run_uuid(one) == run_uuid(again)  # the same run, copied to another store
    assert run_uuid(one) != run_uuid(other)
