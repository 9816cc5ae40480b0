import pytest
import torch

from genwatt.errors import ConfigError
from genwatt.mitigate.baselines import FewerSteps, LowerResolution, NoGuidance, default_baselines
from genwatt.models.reference.architecture import DEFAULTS
from genwatt.models.reference.pipeline import build_pipeline

CALL = {**DEFAULTS.call_kwargs(), "num_inference_steps": 4}


def test_fewer_steps_changes_only_the_steps() -> None:
    assert FewerSteps(2).call_kwargs(CALL) == {**CALL, "num_inference_steps": 2}
    with pytest.raises(ConfigError, match="saves nothing"):
        FewerSteps(4).call_kwargs(CALL)
    with pytest.raises(ConfigError):
        FewerSteps(0)


def test_no_guidance_needs_guidance_to_drop() -> None:
    assert NoGuidance().call_kwargs(CALL)["guidance_scale"] == 1.0
    with pytest.raises(ConfigError, match="already runs unguided"):
        NoGuidance().call_kwargs({**CALL, "guidance_scale": 1.0})


def test_lower_resolution_respects_the_pipeline_multiple() -> None:
    assert LowerResolution(0.5).call_kwargs(CALL)[["height", "width"][0]] == 16
    with pytest.raises(ConfigError, match="minimum"):
        LowerResolution(0.2).call_kwargs(CALL)
    with pytest.raises(ConfigError):
        LowerResolution(1.0)


def test_lower_resolution_output_is_upscaled_to_compare() -> None:
    torch.set_num_threads(1)
    pipe = build_pipeline(seed=0)
    video = LowerResolution(0.5).generate(pipe, "a red circle moves up", seed=0, call=CALL)
    assert video.shape == (3, 32, 32, 3)
    assert video.min() >= 0.0 and video.max() <= 1.0


def test_default_baselines_are_distinct_and_skip_no_guidance_when_unguided() -> None:
    names = [s.name for s in default_baselines({**CALL, "num_inference_steps": 30})]
    assert names == ["fewer-steps-15", "fewer-steps-10", "lower-resolution-0.5x", "no-guidance"]
    unguided = default_baselines({**CALL, "guidance_scale": 1.0})
    assert "no-guidance" not in [s.name for s in unguided]
    assert all(s.kind == "baseline" for s in unguided)
