"""The W&B adapter against a fake ``wandb`` module that records calls (W&B itself is
not installed here, so this is the only way it is tested)."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from genwatt.carbon.setting import CarbonSetting
from genwatt.meter.meter import Meter


class FakeRun:
    """What genwatt uses of ``wandb.run``: ``log`` and the ``summary`` mapping."""

    def __init__(self) -> None:
        self.logged: list[dict[str, Any]] = []
        self.summary: dict[str, Any] = {}

    def log(self, data: dict[str, Any], step: int | None = None, commit: bool | None = None):
        assert step is None and commit is None  # W&B counts its own steps
        self.logged.append(dict(data))


@pytest.fixture
def wandb(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A ``wandb`` module in sys.modules, as after the user's ``import wandb``; no run."""
    module = types.ModuleType("wandb")
    module.run = None
    monkeypatch.setitem(sys.modules, "wandb", module)
    return module


def test_a_window_goes_to_the_active_run(wandb, fake_source, fake_clock) -> None:
    wandb.run = FakeRun()
    meter = Meter([fake_source("gpu:0", rate_w=5.0, clock=fake_clock.perf_counter)])
    with meter.window("step:1"):
        fake_clock.advance(2.0)
    world = CarbonSetting.resolve()
    assert wandb.run.logged == [
        {
            "genwatt.duration_s.step_1": 2.0,
            "genwatt.energy_j.step_1": 10.0,
            "genwatt.co2e_g.step_1": pytest.approx(world.co2e(10.0).co2e_g, rel=1e-12),
            "genwatt.domain_energy_j.step_1.gpu_0": 10.0,
        }
    ]
    assert wandb.run.summary == {
        "genwatt.provenance.step_1": "measured",
        "genwatt.provenance.step_1.domains": "gpu:0=measured",
        "genwatt.carbon": world.describe(),
    }


def test_nothing_is_logged_before_wandb_init(wandb, fake_source) -> None:
    meter = Meter([fake_source("gpu:0")], synchronize=False)
    with meter.window("w"):
        pass
    run = wandb.run = FakeRun()
    wandb.run = None  # wandb.finish()
    with meter.window("w"):
        pass
    assert run.logged == [] and run.summary == {}


def test_a_failing_run_is_warned_about_once(wandb, fake_source, caplog) -> None:
    class Offline(FakeRun):
        def log(self, *_args: Any, **_kwargs: Any) -> None:
            raise OSError("wandb service crashed")

    wandb.run = Offline()
    meter = Meter([fake_source("gpu:0", rate_w=1.0)], synchronize=False)
    for _ in range(2):
        with meter.window("w") as w:
            pass
        assert w.result is not None and "gpu:0" in w.result.energy_j
    warnings = [r for r in caplog.records if "logging energy to wandb failed" in r.getMessage()]
    assert len(warnings) == 1


def test_an_unknown_grid_logs_energy_without_co2e_and_warns_once(
    wandb, fake_source, fake_clock, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    monkeypatch.setenv("GENWATT_COUNTRY", "Atlantis")
    wandb.run = FakeRun()
    meter = Meter([fake_source("gpu:0", rate_w=1.0, clock=fake_clock.perf_counter)])
    for _ in range(2):
        with meter.window("w"):
            fake_clock.advance(1.0)
    assert [entry["genwatt.energy_j.w"] for entry in wandb.run.logged] == [1.0, 1.0]
    assert not any(k.startswith("genwatt.co2e_g") for e in wandb.run.logged for k in e)
    assert "ATLANTIS" in wandb.run.summary["genwatt.co2e_error"]
    warnings = [r for r in caplog.records if "no CO2e logged to trackers" in r.getMessage()]
    assert len(warnings) == 1


def test_both_trackers_get_the_same_record(wandb, fake_source, fake_clock, monkeypatch) -> None:
    calls: list[tuple[str, dict[str, float]]] = []
    fake_mlflow = types.ModuleType("mlflow")
    fake_mlflow.active_run = lambda: types.SimpleNamespace(info=types.SimpleNamespace(run_id="r"))
    fake_mlflow.log_metrics = lambda metrics, step: calls.append(("mlflow", dict(metrics)))
    fake_mlflow.set_tags = lambda tags: None
    monkeypatch.setitem(sys.modules, "mlflow", fake_mlflow)
    wandb.run = FakeRun()
    meter = Meter([fake_source("gpu:0", rate_w=3.0, clock=fake_clock.perf_counter)])
    with meter.window("w"):
        fake_clock.advance(1.0)
    assert calls == [("mlflow", wandb.run.logged[0])]
