"""The H100 calibration that ships in the package: self-contained, current, honest."""

import pytest

from genwatt.models import get_model
from genwatt.predict.calibration import calibration_for, shipped, transfer
from genwatt.predict.fit import fit
from genwatt.predict.generation_compute import workload_for
from genwatt.predict.hardware import get_profile
from genwatt.predict.model import get_form
from genwatt.predict.observations import Observation

RERUN = "rerun `python benchmarks/validate_predictor.py --write-calibration`"


@pytest.fixture(scope="module")
def h100():
    calibration = shipped("h100-sxm")
    assert calibration is not None, "src/genwatt/predict/calibrations/h100-sxm.json is missing"
    return calibration


def test_it_records_its_data_and_cross_validated_error(h100) -> None:
    assert h100.fitted and h100.gpu == "h100-sxm"
    assert "video_energy_budget" in h100.source
    groups = {o["group"] for o in h100.observations}
    assert groups == {"frames", "steps", "resolution", "cross-model"}
    cv = h100.cv
    assert cv["method"] == "leave-one-configuration-out"
    assert cv["points"] == len(h100.observations)
    assert 0 < cv["latency_mape_pct"] < 10
    assert 0 < cv["energy_gpu_mape_pct"] < 10
    assert {c["form"] for c in h100.candidates} >= {"single-efficiency", h100.form.name}


def test_the_wan_mislabel_is_corrected_in_its_data(h100) -> None:
    wan = next(o for o in h100.observations if o["label"] == "WAN2.1-T2V-1.3B")
    assert (wan["config"]["height"], wan["config"]["width"]) == (720, 1280)
    assert wan["config"]["steps"] == 50
    assert wan["config"]["num_frames"] == 81


def test_refitting_its_own_data_gives_its_parameters(h100) -> None:
    """Everything needed to refit is inside the JSON: no shared/ at run time."""
    observations = [Observation.from_dict(o) for o in h100.observations]
    params = fit(observations, get_profile("h100-sxm"), get_form(h100.form.name))
    for name in h100.form.free:
        assert getattr(params, name) == pytest.approx(getattr(h100.params, name), rel=2e-2)


def test_its_workloads_match_the_current_flop_counter(h100) -> None:
    """If genwatt.flops changes its counts, the shipped fit is stale."""
    checked = 0
    for data in h100.observations:
        stored = Observation.from_dict(data).workload
        try:
            get_model(stored.model)
        except Exception:
            continue  # a model the registry does not hold (LTX-Video 0.9.7)
        c = stored.config
        current = workload_for(
            stored.model,
            num_frames=c["num_frames"],
            height=c["height"],
            width=c["width"],
            steps=c["steps"],
            guidance=c["guidance"],
            max_text_tokens=c["max_text_tokens"],
        )
        for key, value in current.flops.items():
            assert stored.flops[key] == pytest.approx(value, rel=1e-6), f"{stored.model}; {RERUN}"
        checked += 1
    assert checked >= 20


def test_other_gpus_get_the_fit_transferred_and_marked(h100) -> None:
    a100 = calibration_for("a100-sxm-80gb")
    assert not a100.fitted and a100.derived_from == "h100-sxm"
    assert a100.params == h100.params
    assert a100.cv is None and a100.source.startswith("uncalibrated")
    cpu = transfer(h100, get_profile("cpu-2vcpu"))
    assert not cpu.fitted and "CPU defaults" in cpu.source
