"""Measurements from a genwatt store and from CSVs become observations to fit."""

import time
from pathlib import Path

import pytest

from genwatt.errors import ConfigError
from genwatt.meter.result import Method, Provenance, WindowResult
from genwatt.predict.fit import calibrate_from
from genwatt.predict.observations import from_csv, load
from genwatt.predict.predictor import predict
from genwatt.store import ResultsStore, RunRecord

H100_ENV = {"gpus": [{"index": 0, "name": "NVIDIA H100 80GB HBM3"}]}


def _record(frames: int, steps: int, repeat: int, *, estimated: bool = False, env=H100_ENV):
    truth = predict("wan2.1-t2v-1.3b", num_frames=frames, steps=steps, height=480, width=832)
    provenance = Provenance.ESTIMATED if estimated else Provenance.MEASURED
    window = WindowResult(
        name="generation",
        started_at=time.time(),
        duration_s=truth.latency_s * (1 + 0.01 * repeat),
        energy_j={"gpu:0": truth.energy_gpu_j * (1 + 0.01 * repeat), "cpu:0": 5.0},
        provenance={"gpu:0": provenance, "cpu:0": Provenance.ESTIMATED},
        method={"gpu:0": Method.COUNTER, "cpu:0": Method.ESTIMATE},
    )
    return RunRecord(
        kind="sweep",
        started_at=window.started_at,
        duration_s=window.duration_s,
        config={
            "model": "wan2.1-t2v-1.3b",
            "num_frames": frames,
            "height": 480,
            "width": 832,
            "steps": steps,
            "guidance": 5.0,
            "max_text_tokens": 512,
            "requested": {"num_frames": frames, "steps": steps, "batch_size": 1},
        },
        windows=[window],
        environment=env,
        sweep="wan-grid",
        config_key=f"{frames}-{steps}-{estimated}",
        repeat=repeat,
    )


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "runs.db"
    with ResultsStore(path) as store:
        for frames in (9, 33, 49, 81):
            for steps in (10, 30):
                for repeat in (0, 1):
                    store.add(_record(frames, steps, repeat))
        store.add(_record(17, 20, 0, estimated=True))  # no measured GPU figure: ignored
    return path


def test_store_runs_become_one_observation_per_configuration(store_path: Path) -> None:
    observations = load(store_path)
    assert len(observations) == 8
    obs = next(o for o in observations if o.workload.config["num_frames"] == 81)
    assert obs.runs == 2
    assert obs.group == "wan-grid"
    # The mean of the two repeats (+0 % and +1 %).
    assert obs.latency_s == pytest.approx(
        predict("wan2.1-t2v-1.3b", num_frames=81, steps=obs.workload.config["steps"]).latency_s
        * 1.005,
        rel=1e-9,
    )


def test_calibrate_from_a_store_recovers_the_shipped_fit(store_path: Path) -> None:
    calibration = calibrate_from(store_path, "h100-sxm", form="attention-split")
    assert calibration.fitted
    assert calibration.cv is not None
    assert calibration.cv["latency_mape_pct"] < 2.0
    assert calibration.cv["energy_gpu_mape_pct"] < 2.0


def test_a_store_from_another_gpu_is_refused(store_path: Path) -> None:
    with ResultsStore(store_path) as store:
        store.add(_record(5, 10, 0, env={"gpus": [{"index": 0, "name": "NVIDIA A100-SXM4-80GB"}]}))
    with pytest.raises(ConfigError, match="a100-sxm-80gb"):
        calibrate_from(store_path, "h100-sxm")


def test_csv_twins_are_merged(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text(
        "model,num_frames,height,width,steps,duration_s,energy_gpu_kwh\n"
        "wan2.1-t2v-1.3b,81,480,832,50,100,0.019\n"
        "wan2.1-t2v-1.3b,83,480,832,50,110,0.021\n"  # runs as 81 too
        "wan2.1-t2v-1.3b,49,480,832,50,50,0.010\n"
    )
    observations = from_csv(path)
    assert len(observations) == 2
    twin = next(o for o in observations if o.runs == 2)
    assert twin.latency_s == pytest.approx(105)
    assert twin.energy_gpu_j == pytest.approx(0.020 * 3.6e6)


def test_missing_inputs_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load(tmp_path / "nothing.csv")
    empty = tmp_path / "empty.db"
    ResultsStore(empty).close()
    with pytest.raises(ConfigError, match="no successful run"):
        load(empty)
