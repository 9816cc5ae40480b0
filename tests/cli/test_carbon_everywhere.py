"""One carbon setting per run: given once (flag or environment), stored with the run,
and the same CO2e in every command, report and JSON that shows it."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from genwatt.carbon import grid_intensity
from genwatt.carbon.setting import RECORD_KEY, CarbonSetting
from genwatt.formatting import mass_g
from genwatt.store.store import ResultsStore

pytestmark = pytest.mark.slow


def _gross_cell(html: str, run_id: int) -> str:
    """The gross CO2e cell of the other-runs row of ``run_id``."""
    row = re.search(rf"<tr><td>{run_id}</td>.*?</tr>", html, re.S)
    assert row is not None, "no row for the measured run"
    cells = re.findall(r"<td>(.*?)</td>", row.group(0), re.S)
    return re.sub(r"<[^>]+>", "", cells[5])


def test_measure_stores_its_grid_and_the_report_shows_the_same_gross_co2e(
    genwatt, tmp_path: Path
) -> None:
    store = tmp_path / "m.db"
    script = "import time; time.sleep(0.3)"
    result = genwatt(
        "measure",
        "--json",
        "--idle-seconds",
        "0.2",
        "--country",
        "FR",
        "--pue",
        "1.2",
        "--store",
        str(store),
        "--",
        sys.executable,
        "-c",
        script,
        env={"GENWATT_COUNTRY": "DE"},  # the flag wins over the environment
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["co2e_basis"] == "net of idle"
    assert report["carbon_setting"]["country"] == "FRA" and report["carbon_setting"]["pue"] == 1.2
    france = CarbonSetting(grid_intensity("FR"), 1.2)
    gross_j = sum(report["energy_j_gross"].values())
    assert report["co2e_g_gross"] == pytest.approx(france.co2e(gross_j).co2e_g)
    with ResultsStore(store) as results:
        (run,) = results.runs()
    assert CarbonSetting.from_dict(run.extra[RECORD_KEY]) == france
    assert run.extra["co2e_g"] == pytest.approx(report["co2e_g_gross"])
    # The report, read in another environment, prices the run on France, gross.
    out = tmp_path / "r.html"
    shown = genwatt("report", "--store", str(store), "-o", str(out), env={"GENWATT_COUNTRY": "PL"})
    assert shown.returncode == 0, shown.stderr
    html = out.read_text()
    assert "CO2e (gross)" in html
    assert _gross_cell(html, report["run_id"]) == mass_g(report["co2e_g_gross"])


def test_bench_stores_the_setting_and_reports_co2e_in_json(genwatt, tmp_path: Path) -> None:
    store = tmp_path / "b.db"
    one_config = "--frames 5 --height 32 --width 32 --steps 2 --repeats 1 --warmup 0"
    args = f"bench {one_config} --country FR --json --no-report".split()
    result = genwatt(*args, "--store", str(store), timeout_s=180)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["carbon"]["country"] == "FRA"
    (config,) = report["configs"]
    france = CarbonSetting(grid_intensity("FR"))
    assert config["co2e_g"] == pytest.approx(france.co2e(config["energy_j"]).co2e_g)
    with ResultsStore(store) as results:
        assert all(r.extra[RECORD_KEY]["country"] == "FRA" for r in results.runs())


def test_bench_dry_run_and_predict_price_predictions_on_the_setting(genwatt) -> None:
    real = "--model wan2.1-t2v-1.3b --weights random --device cuda --gpu h100-sxm"
    sizes = "--frames 17 --height 480 --width 832 --steps 10"
    plan = genwatt(*f"bench {real} {sizes} --dry-run --json".split(), env={"GENWATT_COUNTRY": "SE"})
    assert plan.returncode == 0, plan.stderr
    (row,) = json.loads(plan.stdout)
    sweden = CarbonSetting(grid_intensity("SE"))
    predicted = row["predicted"]
    assert predicted["carbon"]["country"] == "SWE"
    assert predicted["co2e_g"] == pytest.approx(sweden.co2e(predicted["energy_gpu_j"]).co2e_g)
    single = genwatt(
        "predict",
        "--model",
        "wan2.1-t2v-1.3b",
        "--frames",
        "17",
        "--country",
        "FR",
        "--pue",
        "1.5",
        "--json",
    )
    assert single.returncode == 0, single.stderr
    data = json.loads(single.stdout)
    france = CarbonSetting(grid_intensity("FR"), 1.5)
    assert data["co2e_g"] == pytest.approx(france.co2e(data["energy_gpu_j"]).co2e_g)
    assert data["carbon"]["pue"] == 1.5


@pytest.mark.parametrize("command", ["bench", "predict"])
def test_unknown_country_is_one_line_before_anything_runs(genwatt, command: str) -> None:
    args = ["--model", "wan2.1-t2v-1.3b"] if command == "predict" else ["--dry-run"]
    result = genwatt(command, *args, "--country", "Atlantis")
    assert result.returncode == 2
    assert "ATLANTIS" in result.stderr.upper() and "Traceback" not in result.stderr


def test_measure_stores_a_cloud_region_and_the_report_reprices_on_another(
    genwatt, tmp_path: Path
) -> None:
    store = tmp_path / "c.db"
    result = genwatt(
        "measure",
        "--json",
        "--cloud",
        "gcp:europe-west1",
        "--store",
        str(store),
        "--",
        sys.executable,
        "-c",
        "pass",
        env={"GENWATT_COUNTRY": "DE"},  # the flag wins over the environment
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    belgium_dc = CarbonSetting(grid_intensity(cloud="gcp:europe-west1"))
    assert report["carbon_setting"] == belgium_dc.to_dict()
    assert report["carbon_setting"]["cloud_region"] == "gcp:europe-west1"
    gross_j = sum(report["energy_j_gross"].values())
    assert report["co2e_g_gross"] == pytest.approx(belgium_dc.co2e(gross_j).co2e_g)
    with ResultsStore(store) as results:
        (run,) = results.runs()
    assert CarbonSetting.from_dict(run.extra[RECORD_KEY]) == belgium_dc
    out = tmp_path / "r.html"
    shown = genwatt("report", "--store", str(store), "-o", str(out))
    assert shown.returncode == 0, shown.stderr
    assert _gross_cell(out.read_text(), report["run_id"]) == mass_g(report["co2e_g_gross"])


def test_report_reprices_commands_on_a_cloud_region(genwatt, tmp_path: Path) -> None:
    store = tmp_path / "c.db"
    measured = genwatt("measure", "--json", "--store", str(store), "--", sys.executable, "-c", "")
    report = json.loads(measured.stdout)
    out = tmp_path / "r.html"
    shown = genwatt("report", "--store", str(store), "-o", str(out), "--cloud", "gcp:us-west1")
    assert shown.returncode == 0, shown.stderr
    oregon = CarbonSetting(grid_intensity(cloud="gcp:us-west1"))
    gross_j = sum(report["energy_j_gross"].values())
    assert _gross_cell(out.read_text(), report["run_id"]) == mass_g(oregon.co2e(gross_j).co2e_g)


def test_predict_and_bench_price_on_a_cloud_region(genwatt) -> None:
    data = json.loads(
        genwatt(
            *["predict", "--model", "wan2.1-t2v-1.3b", "--frames", "17", "--json"],
            env={"GENWATT_CLOUD": "gcp:europe-west9"},
        ).stdout
    )
    paris = CarbonSetting(grid_intensity(cloud="gcp:europe-west9"))
    assert data["carbon"]["cloud_region"] == "gcp:europe-west9"
    assert data["co2e_g"] == pytest.approx(paris.co2e(data["energy_gpu_j"]).co2e_g)
    real = "--model wan2.1-t2v-1.3b --weights random --device cuda --gpu h100-sxm"
    sizes = "--frames 17 --height 480 --width 832 --steps 10"
    plan = genwatt(*f"bench {real} {sizes} --dry-run --json --cloud gcp:europe-west9".split())
    assert plan.returncode == 0, plan.stderr
    (row,) = json.loads(plan.stdout)
    assert row["predicted"]["carbon"] == paris.to_dict()


@pytest.mark.parametrize("command", ["measure", "bench", "sweep", "predict", "report"])
def test_country_and_cloud_together_is_one_line(genwatt, command: str, tmp_path: Path) -> None:
    args = {
        "measure": ["--no-store", "--country", "FR", "--cloud", "gcp:europe-west1", "--", "true"],
        "bench": ["--dry-run", "--country", "FR", "--cloud", "gcp:europe-west1"],
        "sweep": ["examples/wan_tiny_sweep.yaml", "--dry-run", "--country", "FR", "--cloud", "x:y"],
        "predict": ["--model", "wan2.1-t2v-1.3b", "--country", "FR", "--cloud", "gcp:europe-west1"],
        "report": ["--country", "FR", "--cloud", "gcp:europe-west1"],
    }[command]
    if command == "sweep":
        args[0] = str(Path(__file__).resolve().parents[2] / args[0])
    if command == "report":  # a store with one run, so that the report gets to pricing
        store = tmp_path / "one.db"
        genwatt("measure", "--store", str(store), "--", "true")
        args += ["--store", str(store), "-o", str(tmp_path / "r.html")]
    result = genwatt(command, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "give one" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["measure", "predict"])
def test_unknown_cloud_region_names_the_nearest(genwatt, command: str) -> None:
    args = ["--no-store", "--", "true"] if command == "measure" else ["--model", "wan2.1-t2v-1.3b"]
    result = genwatt(command, "--cloud", "gcp:europe-wets1", *args)
    assert result.returncode == 2
    assert "gcp:europe-west1" in result.stderr and "Traceback" not in result.stderr
