"""`genwatt sweep` on Ctrl-C: exit 130, say what is stored, resume on the next run."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from genwatt.cli.sweep import sweep
from genwatt.meter.meter import Meter
from genwatt.meter.sources.estimate import EstimateSource
from genwatt.run import workload as workload_module
from genwatt.store import ResultsStore

SPEC = (
    "name: demo\nmodel: wan-tiny\nheight: 32\nwidth: 32\nguidance: 5.0\n"
    "grid: {num_frames: [5, 9], steps: [1, 2]}\n"
)


class _Workload:
    """Runs nothing; Ctrl-C lands in the third generation when ``interrupt`` is set."""

    weights_note = "fake"
    torch_threads = 1
    interrupt = True
    calls = 0

    def __init__(self, meter: Meter) -> None:
        self.meter = meter

    def warm_up(self, config) -> None:
        pass

    def generate(self, config):
        from genwatt.meter.phases import GENERATION, breakdown
        from genwatt.run.instrument import GenerationRecord

        type(self).calls += 1
        if type(self).interrupt and type(self).calls == 3:
            raise KeyboardInterrupt
        with self.meter.window(GENERATION) as window:
            pass
        return GenerationRecord([window.result], breakdown([window.result]), "callback")

    def recover(self) -> None:
        pass

    def reset(self) -> None:
        pass


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setattr(_Workload, "calls", 0)
    monkeypatch.setattr(_Workload, "interrupt", True)
    monkeypatch.setattr(
        workload_module, "build_workload", lambda spec, first, meter: _Workload(meter)
    )
    # The real discovery would probe NVML and RAPL: an estimate is enough here.
    monkeypatch.setattr("genwatt.meter.meter.discover_sources", _estimate_only)
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """A group, as in the real app."""

    app.command("sweep")(sweep)
    return app


def _estimate_only(include_estimates: bool = True):
    from types import SimpleNamespace

    return SimpleNamespace(sources=[EstimateSource(cpu=True, dram=False)], missing=[])


def test_ctrl_c_exits_130_with_what_is_stored_and_a_rerun_resumes(app, tmp_path: Path) -> None:
    spec, store = tmp_path / "demo.yaml", tmp_path / "s.db"
    spec.write_text(SPEC)
    command = ["sweep", str(spec), "--store", str(store), "--json", "--no-report"]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 130, result.output
    assert "interrupted: 2 runs stored now, 2 of 4 planned in sweep 'demo'" in result.output
    assert "Rerun the same command to resume." in result.output
    with ResultsStore(store) as results:
        assert results.count(sweep="demo") == 2 and results.count(status="failed") == 0
    _Workload.interrupt = False
    again = CliRunner().invoke(app, command)
    assert again.exit_code == 0, again.output
    with ResultsStore(store) as results:
        runs = results.runs(sweep="demo")
    assert len(runs) == 4 and all(r.ok for r in runs)


def test_ctrl_c_before_any_run_also_exits_130(app, tmp_path: Path, monkeypatch) -> None:
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("genwatt.run.sweep_report.run_sweep", interrupted)
    spec = tmp_path / "demo.yaml"
    spec.write_text(SPEC)
    result = CliRunner().invoke(app, ["sweep", str(spec), "--store", str(tmp_path / "s.db")])
    assert result.exit_code == 130
    assert "interrupted: the runs of sweep 'demo' stored so far are kept" in result.output
