"""The Meter and genwatt.instrument logging to a real MLflow run (mlflow-skinny, local
file store in a temporary folder), read back with MlflowClient."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from genwatt.carbon.setting import CarbonSetting
from genwatt.meter.meter import Meter
from genwatt.run.instrument import instrument

mlflow = pytest.importorskip("mlflow")
from mlflow.tracking import MlflowClient  # noqa: E402


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A local MLflow store of this test only; yields a client reading it back."""
    uri = (tmp_path / "mlruns").as_uri()
    # mlflow 3 keeps the file store in maintenance mode behind this switch; the sqlite
    # store needs SQLAlchemy, which mlflow-skinny does not bring.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_experiment(f"genwatt-{tmp_path.name}")
    yield MlflowClient(tracking_uri=uri)
    while mlflow.active_run() is not None:
        mlflow.end_run()


def genwatt_metrics(client: MlflowClient, run_id: str) -> dict[str, float]:
    metrics = client.get_run(run_id).data.metrics
    return {k: v for k, v in metrics.items() if k.startswith("genwatt.")}


def test_a_top_level_window_is_logged_exactly(store, fake_source, fake_clock) -> None:
    src = fake_source("gpu:0", rate_w=10.0, clock=fake_clock.perf_counter)
    meter = Meter([src], synchronize=False)
    with mlflow.start_run() as run, meter.window("batch"):
        fake_clock.advance(1.0)
        with meter.window("inner"):  # nested: its energy is inside "batch"
            fake_clock.advance(2.0)
    world = CarbonSetting.resolve()
    assert genwatt_metrics(store, run.info.run_id) == {
        "genwatt.energy_j.batch": 30.0,
        "genwatt.domain_energy_j.batch.gpu_0": 30.0,
        "genwatt.duration_s.batch": 3.0,
        "genwatt.co2e_g.batch": pytest.approx(world.co2e(30.0).co2e_g, rel=1e-12),
    }
    tags = store.get_run(run.info.run_id).data.tags
    assert tags["genwatt.provenance.batch"] == "measured"
    assert tags["genwatt.provenance.batch.domains"] == "gpu:0=measured"
    assert tags["genwatt.carbon"] == world.describe()


def test_each_window_of_a_name_is_the_next_step(store, fake_source, fake_clock) -> None:
    src = fake_source("gpu:0", rate_w=1.0, clock=fake_clock.perf_counter)
    meter = Meter([src], synchronize=False)
    with mlflow.start_run() as run:
        for seconds in (1.0, 4.0):
            with meter.window("generate"):
                fake_clock.advance(seconds)
    history = store.get_metric_history(run.info.run_id, "genwatt.energy_j.generate")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 4.0)]


def test_nothing_is_logged_without_an_active_run(store, fake_source, fake_clock) -> None:
    src = fake_source("gpu:0", rate_w=1.0, clock=fake_clock.perf_counter)
    meter = Meter([src], synchronize=False)
    with meter.window("before"):
        fake_clock.advance(1.0)
    with mlflow.start_run() as run:
        pass
    with meter.window("after"):
        fake_clock.advance(1.0)
    assert genwatt_metrics(store, run.info.run_id) == {}
    assert len(store.search_runs([run.info.experiment_id])) == 1  # none was started for us


def test_a_window_opened_with_trackers_off_is_not_logged(store, fake_source) -> None:
    meter = Meter([fake_source("gpu:0")], synchronize=False)
    with mlflow.start_run() as run:
        with meter.window("logged_elsewhere", trackers=False):
            pass
        meter.begin("named_too", trackers=False)
        meter.end("named_too")
    assert genwatt_metrics(store, run.info.run_id) == {}


def test_a_failing_tracker_never_breaks_the_measurement(
    store, fake_source, fake_clock, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    def refuse(*_args, **_kwargs):
        raise ConnectionError("tracking server unreachable")

    monkeypatch.setattr(mlflow, "log_metrics", refuse)
    src = fake_source("gpu:0", rate_w=2.0, clock=fake_clock.perf_counter)
    meter = Meter([src], synchronize=False)
    with mlflow.start_run():
        for _ in range(3):
            with meter.window("w") as w:
                fake_clock.advance(1.0)
            assert w.result is not None and w.result.energy_j == {"gpu:0": 2.0}
    assert len(meter.results) == 3
    warnings = [r for r in caplog.records if "logging energy to mlflow failed" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].exc_info is not None


# --------------------------------------------------------------- genwatt.instrument


class _Scheduler:
    def set_timesteps(self, steps: int) -> None:
        self.timesteps = list(range(steps))

    def step(self, noise: torch.Tensor, _t: int, latents: torch.Tensor) -> torch.Tensor:
        return latents - 0.1 * noise


class _Vae(torch.nn.Module):
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        return 2 * latents


class _TinyPipe:
    """The smallest loop genwatt.instrument attaches to: a denoiser, a scheduler, a VAE."""

    def __init__(self) -> None:
        torch.manual_seed(0)
        self.unet = torch.nn.Linear(4, 4)
        self.vae = _Vae()
        self.scheduler = _Scheduler()

    def __call__(self, steps: int = 3) -> torch.Tensor:
        self.scheduler.set_timesteps(steps)
        x = torch.ones(1, 4)
        with torch.no_grad():
            for t in self.scheduler.timesteps:
                x = self.scheduler.step(self.unet(x), t, x)
            return self.vae.decode(x)


def test_instrument_logs_each_generation_once_with_its_phases(store, fake_source) -> None:
    meter = Meter([fake_source("gpu:0", "cpu:0", rate_w=50.0)], synchronize=False)
    inst = instrument(_TinyPipe(), meter)
    with mlflow.start_run() as run:
        inst(steps=3)
        inst(steps=2)
    run_id = run.info.run_id
    totals = store.get_metric_history(run_id, "genwatt.energy_j.generation")
    # One point per call: the meter did not log the generation window a second time.
    assert [m.step for m in totals] == [0, 1]
    for point, record in zip(totals, inst.results, strict=True):
        assert point.value == record.breakdown.total.total_energy_j
    last = inst.last.breakdown
    logged = genwatt_metrics(store, run_id)
    for phase in ("denoise", "vae_decode", "other"):
        assert logged[f"genwatt.energy_j.generation.{phase}"] == pytest.approx(
            last.energy_j(phase), rel=1e-12
        )
        assert f"genwatt.co2e_g.generation.{phase}" in logged
    assert logged["genwatt.domain_energy_j.generation.cpu_0"] == (last.total.energy_j["cpu:0"])
    # Windows inside the generation (steps, forwards) are parts of it, never logged apart.
    assert not any("step" in name or "forward" in name for name in logged)
    tags = store.get_run(run_id).data.tags
    assert tags["genwatt.provenance.generation"] == "measured"
    assert tags["genwatt.provenance.generation.denoise"] == "measured"


def test_a_program_that_never_imported_mlflow_imports_nothing(
    monkeypatch: pytest.MonkeyPatch, fake_source
) -> None:
    for name in [m for m in sys.modules if m == "mlflow" or m.startswith("mlflow.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delitem(sys.modules, "wandb", raising=False)
    meter = Meter([fake_source("gpu:0")], synchronize=False)
    with meter.window("w"):
        pass
    assert "mlflow" not in sys.modules and "wandb" not in sys.modules
