"""A plan resolves each configuration once and carries that ``ResolvedParams`` to the
pipeline call; its keys and stored configs stay those of earlier versions."""

from __future__ import annotations

import pytest

from genwatt.errors import ConfigError
from genwatt.models import ResolvedParams, get_model, pipeline_call_kwargs
from genwatt.run.plan import plan_sweep
from genwatt.run.sweep_spec import parse_spec

SMALL = {
    "model": "wan-tiny",
    "grid": {"num_frames": [5, 6], "steps": [1]},
    "height": 32,
    "width": 32,
    "guidance": 5.0,
}


def test_keys_are_those_of_runs_stored_by_earlier_versions() -> None:
    """A resumed sweep finds its stored runs by key: the hash of the identity dict must
    not change (these keys were computed by the version before ``PlannedConfig.params``)."""
    keys = {c.requested["num_frames"]: c.key for c in plan_sweep(parse_spec(SMALL))}
    assert keys == {5: "ac0157f0a8bd12ad", 6: "f5ab9ba25f533aaf"}
    text = parse_spec(
        {
            "model": "qwen2-tiny",
            "grid": {"max_text_tokens": [16], "max_new_tokens": [8]},
            "batch_size": 2,
        }
    )
    assert [c.key for c in plan_sweep(text)] == ["7f5d78046f765d0c"]


def test_a_configuration_carries_its_resolved_params_to_the_pipeline_call() -> None:
    (rounded,) = [c for c in plan_sweep(parse_spec(SMALL)) if c.requested["num_frames"] == 6]
    assert isinstance(rounded.params, ResolvedParams)
    assert rounded.params.num_frames == 5 and rounded.params.requested_num_frames == 6
    assert rounded.effective == rounded.params.effective_settings()
    assert rounded.as_config()["num_frames"] == 5 and rounded.model == "wan-tiny"
    kwargs = pipeline_call_kwargs(get_model("wan-tiny"), rounded.params, rounded.prompt)
    assert kwargs["num_frames"] == 5 and kwargs["num_inference_steps"] == 1


def test_the_batch_size_is_resolved_with_the_rest() -> None:
    spec = parse_spec({**SMALL, "grid": {"batch_size": [0, 2]}})
    batches = sorted(c.params.batch_size for c in plan_sweep(spec))
    assert batches == [1, 2]  # 0 in a grid has always meant the default
    (two,) = [c for c in plan_sweep(spec) if c.params.batch_size == 2]
    assert two.requested["batch_size"] == two.effective["batch_size"] == 2
    prompts = pipeline_call_kwargs(get_model("wan-tiny"), two.params, "a cat")["prompt"]
    assert prompts == ["a cat", "a cat"]
    with pytest.raises(ConfigError, match="batch_size for wan-tiny must be at least 1"):
        plan_sweep(parse_spec({**SMALL, "grid": {"batch_size": [-1]}}))
