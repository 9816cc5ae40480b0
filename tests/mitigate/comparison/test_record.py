from pathlib import Path

import torch

from genwatt.meter.meter import Meter
from genwatt.mitigate.baselines import FewerSteps
from genwatt.mitigate.comparison.compare import Case, compare
from genwatt.mitigate.comparison.record import RUN_KIND, load_mitigation_runs, save_comparison
from genwatt.models.reference.architecture import DEFAULTS
from genwatt.models.reference.pipeline import build_pipeline
from genwatt.store.store import ResultsStore


def test_comparison_round_trips_through_the_store(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    call = {**DEFAULTS.call_kwargs(), "num_inference_steps": 2}
    comparison = compare(
        build_pipeline(seed=0),
        [FewerSteps(1)],
        [Case("a red circle moves left", 0)],
        call=call,
        meter=Meter(),
        model="wan-reference",
    )
    with ResultsStore(tmp_path / "s.db") as store:
        ids = save_comparison(comparison, store, "mitigate-test")
        assert len(ids) == 2
        runs = store.runs(kind=RUN_KIND)
        rows = load_mitigation_runs(store, sweep="mitigate-test")
    assert [r.config["strategy"] for r in runs] == ["unmitigated", "fewer-steps-1"]
    assert runs[1].main_window is not None and runs[1].main_window.name == "run"
    assert runs[1].main_window.total_energy_j == comparison.strategies[0].energy_j
    fewer = next(r for r in rows if r["name"] == "fewer-steps-1")
    assert fewer["flops_ratio"] == 2.0 and fewer["sweep"] == "mitigate-test"
    assert fewer["model"] == "wan-reference" and len(fewer["cases"]) == 1
