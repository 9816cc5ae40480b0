import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
import torch

from genwatt.errors import ConfigError
from genwatt.meter.meter import Meter
from genwatt.mitigate.baselines import FewerSteps, NoGuidance
from genwatt.mitigate.compare import Case, caption_cases, compare
from genwatt.mitigate.reference import DEFAULTS, build_pipeline
from genwatt.mitigate.strategy import Strategy
from genwatt.mitigate.synthetic import Caption

CALL = {**DEFAULTS.call_kwargs(), "num_inference_steps": 4}


class Broken(Strategy):
    name = "broken"
    kind = "cache"

    @contextmanager
    def applied(self, pipe: Any, *, call: Mapping[str, Any], calibration: Any) -> Iterator[None]:
        raise RuntimeError("this hook does not fit the model")
        yield  # pragma: no cover


@pytest.fixture(scope="module")
def comparison():
    torch.set_num_threads(1)
    pipe = build_pipeline(seed=0)
    cases = caption_cases([Caption("red", "circle", "left")], seeds=[0, 1])
    return compare(
        pipe,
        [FewerSteps(2), NoGuidance(), Broken()],
        cases,
        call=CALL,
        meter=Meter(),
        model="wan-reference",
    )


def test_work_ratios_are_exact_for_plain_baselines(comparison) -> None:
    by_name = {s.name: s for s in comparison.strategies}
    assert comparison.baseline.flops > 0
    assert by_name["fewer-steps-2"].flops_ratio == pytest.approx(2.0)
    assert by_name["no-guidance"].flops_ratio == pytest.approx(2.0)
    assert by_name["fewer-steps-2"].cases[0].transformer_calls == 4  # 2 steps x 2 branches


def test_a_failing_strategy_is_recorded_and_the_rest_run(comparison) -> None:
    broken = next(s for s in comparison.strategies if s.name == "broken")
    assert not broken.ok and "does not fit" in broken.error
    assert broken.flops_ratio is None
    assert all(s.ok for s in comparison.strategies if s.name != "broken")


def test_quality_is_against_the_baseline_of_the_same_case(comparison) -> None:
    fewer = next(s for s in comparison.strategies if s.name == "fewer-steps-2")
    assert len(fewer.cases) == 2
    assert all(c.psnr_db is not None and c.psnr_db < 100 for c in fewer.cases)
    assert fewer.psnr_db_min <= fewer.psnr_db_mean
    assert -1.0 <= fewer.ssim_mean <= 1.0
    assert set(fewer.adherence_rates()) >= {"colour_rate", "direction_rate", "overall_rate"}


def test_json_has_the_documented_fields(comparison) -> None:
    data = json.loads(json.dumps(comparison.as_dict()))
    assert data["baseline"]["name"] == "unmitigated"
    required = {"name", "kind", "flops_ratio", "energy_ratio", "psnr_db", "psnr_db_min"}
    required |= {"ssim", "adherence", "energy_provenance"}
    for row in data["strategies"]:
        assert required <= set(row)
        assert row["kind"] in ("cache", "reuse", "baseline")
    ok = [r for r in data["strategies"] if r["ok"]]
    assert all(r["energy_provenance"] == "estimated" for r in ok)  # no counter here


def test_names_must_be_unique_and_cases_present() -> None:
    pipe = build_pipeline(seed=0)
    with pytest.raises(ConfigError, match="unique"):
        compare(
            pipe,
            [FewerSteps(2), FewerSteps(2)],
            [Case("a", 0)],
            call=CALL,
            meter=Meter(),
            model="m",
        )
    with pytest.raises(ConfigError, match="at least one"):
        compare(pipe, [], [], call=CALL, meter=Meter(), model="m")
