import json
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import _get_current_dispatch_mode

from genwatt.errors import ConfigError
from genwatt.meter.meter import Meter
from genwatt.mitigate.adaptive_cache import AdaptiveStepCache
from genwatt.mitigate.baselines import FewerSteps, NoGuidance, default_baselines
from genwatt.mitigate.caching import FirstBlockCache, TaylorSeer, default_cache_strategies
from genwatt.mitigate.comparison.compare import Case, caption_cases, compare
from genwatt.mitigate.comparison.conventions import COUNTED_RUN, SEPARATE_PASS
from genwatt.mitigate.comparison.timing import max_abs_diff
from genwatt.mitigate.reuse import ExactPromptReuse, SemanticReuse
from genwatt.mitigate.strategy import Strategy
from genwatt.models.reference.architecture import DEFAULTS
from genwatt.models.reference.captions import Caption
from genwatt.models.reference.pipeline import build_pipeline

CALL = {**DEFAULTS.call_kwargs(), "num_inference_steps": 4}
PROMPT = "a red circle moves left"


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


# ------------------------------------------------------------------ timing, on a fake pipe


class _RecordingMeter:
    """A real ``Meter`` that also says which window is open, for the denoiser to log."""

    def __init__(self) -> None:
        self.meter = Meter()
        self.open: str | None = None

    @contextmanager
    def window(self, name: str) -> Iterator[Any]:
        with self.meter.window(name) as handle:
            self.open = name
            try:
                yield handle
            finally:
                self.open = None


class _Denoiser(torch.nn.Module):
    """A one-layer denoiser that logs, per forward, the open meter window and the counter."""

    def __init__(self, meter: _RecordingMeter) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(4, 4)
        self.meter = meter
        self.log: list[tuple[str | None, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        counting = _get_current_dispatch_mode() is not None  # count_denoising's tally
        self.log.append((self.meter.open, counting))
        return self.linear(x)


class _FakePipe:
    """Enough of a diffusers pipeline for ``run_pipeline`` and ``count_denoising``."""

    def __init__(self, meter: _RecordingMeter) -> None:
        self.transformer = _Denoiser(meter)

    def __call__(self, prompt: str, *, generator: Any, output_type: str, **call: Any) -> Any:
        x = torch.rand(1, 4, generator=generator)
        with torch.no_grad():
            for _ in range(call["num_inference_steps"]):
                x = torch.tanh(self.transformer(x))
        level = float(torch.sigmoid(x).mean())
        return ([np.full((2, 16, 16, 3), level, dtype=np.float32)],)


class _Probe(Strategy):
    """Counts its generations; ``drift`` adds that much to every later output."""

    kind = "cache"

    def __init__(self, name: str, *, repeatable: bool = True, drift: float = 0.0) -> None:
        self.name = name
        self.repeatable = repeatable
        self.drift = drift
        self.generations = 0

    def generate(self, pipe: Any, prompt: str, *, seed: int, call: Mapping[str, Any]) -> Any:
        video = super().generate(pipe, prompt, seed=seed, call=call)
        self.generations += 1
        return video + self.drift * (self.generations - 1)


FAKE_CALL = {"num_inference_steps": 3}
FAKE_CASES = [Case("a", 0), Case("b", 1)]


def _fake_compare(strategies: list[Strategy], timing: str = "separate") -> tuple[Any, Any]:
    meter = _RecordingMeter()
    pipe = _FakePipe(meter)
    result = compare(
        pipe, strategies, FAKE_CASES, call=FAKE_CALL, meter=meter, model="fake", timing=timing
    )
    return result, pipe.transformer.log


def _windows(log: list[tuple[str | None, bool]]) -> dict[str | None, set[bool]]:
    """Per open window (``None``: none open), whether its forwards ran counted."""
    out: dict[str | None, set[bool]] = {}
    for window, counting in log:
        out.setdefault(window, set()).add(counting)
    return out


def test_separate_timing_reports_the_uncounted_run() -> None:
    probe = _Probe("probe")
    comparison, log = _fake_compare([probe])
    windows = _windows(log)
    assert windows.pop(None) == {True}  # every counted run ran outside any window
    assert windows == {f"{n}:{i}": {False} for n in ("unmitigated", "probe") for i in (0, 1)}
    assert probe.generations == 2 * len(FAKE_CASES)
    (result,) = comparison.strategies
    for i, case in enumerate([*result.cases, *comparison.baseline.cases]):
        assert case.window.name.endswith(f":{i % 2}") and case.window.name in windows
        assert case.timing == SEPARATE_PASS and case.timed_output_matches is True
        assert case.flops > 0 and case.transformer_calls == FAKE_CALL["num_inference_steps"]
    assert result.timing == SEPARATE_PASS and result.ratio_baseline_timing == SEPARATE_PASS
    assert result.timed_output_matches is True
    assert result.flops_ratio == pytest.approx(1.0)


def test_a_strategy_that_cannot_repeat_runs_once_and_is_compared_like_with_like() -> None:
    once = _Probe("once", repeatable=False)
    comparison, log = _fake_compare([_Probe("twice"), once])
    assert once.generations == len(FAKE_CASES)
    windows = _windows(log)
    assert windows["once:0"] == windows["once:1"] == {True}  # counted and timed in one run
    assert windows["unmitigated:0:counted"] == {True}  # the baseline's, kept for "once"
    assert windows["twice:0"] == windows["unmitigated:0"] == {False}
    twice, result = comparison.strategies
    assert result.timing == COUNTED_RUN and result.timed_output_matches is None
    assert all(c.timing == COUNTED_RUN for c in result.cases)
    assert result.ratio_baseline_timing == COUNTED_RUN
    counted_s = sum(c.counted_window.duration_s for c in comparison.baseline.cases)
    assert result.latency_ratio == pytest.approx(counted_s / result.seconds)
    assert twice.latency_ratio == pytest.approx(comparison.baseline.seconds / twice.seconds)
    rows = {r["name"]: r for r in comparison.as_dict()["strategies"]}
    assert rows["once"]["timing"] == COUNTED_RUN
    assert rows["once"]["ratio_baseline_timing"] == COUNTED_RUN
    assert rows["twice"]["timing"] == SEPARATE_PASS


def test_the_baseline_counted_run_is_unmetered_when_every_strategy_repeats() -> None:
    comparison, log = _fake_compare([_Probe("probe")])
    assert not any(w and w.endswith(":counted") for w, _ in log)
    assert all(c.counted_window is None for c in comparison.baseline.cases)


def test_instrumented_timing_runs_each_case_once_with_the_counter() -> None:
    probe = _Probe("probe")
    comparison, log = _fake_compare([probe], timing="instrumented")
    assert probe.generations == len(FAKE_CASES)
    windows = _windows(log)
    assert None not in windows and set(map(frozenset, windows.values())) == {frozenset({True})}
    data = json.loads(json.dumps(comparison.as_dict(with_cases=True)))
    assert data["timing_mode"] == "instrumented"
    for row in (data["baseline"], *data["strategies"]):
        assert row["timing"] == COUNTED_RUN and row["timed_output_matches"] is None
        assert all(c["timing"] == COUNTED_RUN for c in row["cases"])


def test_a_timed_run_that_differs_from_the_counted_one_is_flagged() -> None:
    drifting = _Probe("drifting", drift=0.01)
    comparison, _ = _fake_compare([drifting, _Probe("steady")])
    drift, steady = comparison.strategies
    assert drift.timed_output_matches is False and steady.timed_output_matches is True
    assert all(c.timed_output_matches is False for c in drift.cases)
    assert drift.cases[0].timed_output_diff == pytest.approx(0.01)
    data = json.loads(json.dumps(comparison.as_dict(with_cases=True)))
    rows = {r["name"]: r for r in data["strategies"]}
    assert rows["drifting"]["timed_output_matches"] is False
    assert rows["drifting"]["cases"][0]["timed_output_max_abs_diff"] == pytest.approx(0.01)
    assert rows["steady"]["timed_output_matches"] is True
    assert data["baseline"]["timed_output_matches"] is True


def test_an_unknown_timing_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="separate, instrumented"):
        _fake_compare([], timing="sometimes")


def test_output_difference_is_inf_when_shapes_or_nans_disagree() -> None:
    a = np.zeros((2, 3))
    assert max_abs_diff(a, a + 1e-3) == pytest.approx(1e-3)
    assert max_abs_diff(a, np.zeros((3, 2))) == math.inf
    b = a.copy()
    b[0, 0] = np.nan
    assert max_abs_diff(b, b) == 0.0 and max_abs_diff(a, b) == math.inf


def test_only_reuse_strategies_are_not_repeatable() -> None:
    assert not ExactPromptReuse.repeatable and not SemanticReuse.repeatable
    others = [*default_cache_strategies(), *default_baselines(CALL), Strategy()]
    assert all(s.repeatable for s in others)


def test_step_caches_make_the_same_output_when_run_again(pipe: Any, call: dict[str, Any]) -> None:
    """Their state is reset between pipeline calls, so the timed pass repeats the counted run."""
    caches = [AdaptiveStepCache(2.0), FirstBlockCache(0.3), TaylorSeer(2, warmup=2)]
    comparison = compare(
        pipe, caches, [Case(PROMPT, 0)], call=call, meter=Meter(), model="wan-reference"
    )
    for result in comparison.strategies:
        assert result.ok, result.error
        assert result.timing == SEPARATE_PASS and result.timed_output_matches is True
        assert result.flops_ratio > 1.0  # the counted run did skip work


def test_the_table_says_how_time_was_taken(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    from genwatt.cli.render_mitigation import print_mitigation

    strategies = [_Probe("steady"), _Probe("once", repeatable=False), _Probe("drifting", drift=1)]
    comparison, _ = _fake_compare(strategies)
    print_mitigation(comparison, notes=[], sweep="s", store=tmp_path / "m.db")
    out = " ".join(capsys.readouterr().out.split())
    assert f"time and energy: {SEPARATE_PASS}" in out
    assert f"once: {COUNTED_RUN}" in out
    assert "drifting: the timed run's output differed from the counted run's in 2 of 2" in out
    assert "steady: the timed run" not in out


# ------------------------------------------------------- adherence parts, no saving, quiet


def test_adherence_is_reported_part_by_part(comparison) -> None:
    fewer = next(s for s in comparison.strategies if s.name == "fewer-steps-2")
    parts = fewer.as_dict()["adherence"]
    rates = fewer.adherence_rates()
    assert parts == {
        "colour": rates["colour_rate"],
        "direction": rates["direction_rate"],
        "shape": rates["shape_rate"],
        "all_three": rates["overall_rate"],
        "clips": 2,
    }
    assert parts["all_three"] <= min(parts["colour"], parts["direction"], parts["shape"])


def test_a_strategy_that_saved_no_work_says_so() -> None:
    plain, _ = _fake_compare([_Probe("same")])
    (same,) = plain.strategies
    assert same.flops_ratio == pytest.approx(1.0)
    assert same.saves_work is False and same.as_dict()["saves_work"] is False
    assert plain.baseline.saves_work is None  # the reference saves nothing by definition
    fewer, _ = _fake_compare([FewerSteps(2)])
    assert fewer.strategies[0].saves_work is True  # 3 steps down to 2


def test_diffusers_notices_stay_out_of_a_comparison(caplog: pytest.LogCaptureFixture) -> None:
    import diffusers.utils.logging as dlog

    from genwatt.mitigate.caching import CACHE_FACTORIES

    level = dlog.get_verbosity()
    dlog.set_verbosity_warning()
    try:
        torch.set_num_threads(1)
        result = compare(
            build_pipeline(seed=0),
            [CACHE_FACTORIES["fastercache"](None)],
            [Case(PROMPT, 0)],
            call=CALL,
            meter=Meter(),
            model="wan-reference",
            timing="instrumented",
        )
        assert dlog.get_verbosity() == dlog.WARNING  # the user's setting, back
    finally:
        dlog.set_verbosity(level)
    assert result.strategies[0].ok, result.strategies[0].error
    assert not [r for r in caplog.records if r.name.startswith("diffusers")]
