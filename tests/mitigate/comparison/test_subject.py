"""Loading what a comparison runs on: quietly, and failing fast on a bad prompt count."""

from __future__ import annotations

from typing import Any

import diffusers.utils.logging as dlog
import pytest

from genwatt.errors import ConfigError
from genwatt.mitigate.comparison import subject
from genwatt.models import get_model
from genwatt.models.reference.architecture import DEFAULTS


def test_too_many_prompts_fail_before_the_weights_load(monkeypatch) -> None:
    def never(weights: str) -> Any:
        raise AssertionError("the weights loaded before the prompt count was checked")

    monkeypatch.setattr(subject, "_reference", never)
    with pytest.raises(ConfigError, match="held-out prompts; asked for 99"):
        subject.load_subject("wan-reference", prompts=99)
    with pytest.raises(ConfigError, match="at most 6 prompts for registered models"):
        subject.load_subject("wan-tiny", prompts=7)  # checked before the model is looked up


def test_steps_and_guidance_are_resolved_by_the_registry_before_the_weights_load(
    monkeypatch,
) -> None:
    def never(weights: str) -> Any:
        raise AssertionError("the weights loaded before the steps were checked")

    monkeypatch.setattr(subject, "_reference", never)
    with pytest.raises(ConfigError, match="steps for wan-reference must be at least 1, got 0"):
        subject.load_subject("wan-reference", prompts=1, steps=0)
    with pytest.raises(ConfigError, match="guidance for wan-reference must be a finite number"):
        subject.load_subject("wan-reference", prompts=1, guidance=-1.0)
    with pytest.raises(ConfigError, match="ltx-tiny needs at least 2 steps"):
        subject.load_subject("ltx-tiny", weights="tiny", prompts=1, steps=1)


def test_the_reference_baseline_is_its_registered_defaults_with_what_was_asked() -> None:
    call, params = subject.baseline_call(get_model("wan-reference"), None, None)
    assert list(call.items()) == list(DEFAULTS.call_kwargs().items())
    call, params = subject.baseline_call(get_model("wan-reference"), 4, 1.0)
    assert call["num_inference_steps"] == params.steps == 4
    assert call["guidance_scale"] == params.guidance == 1.0


def test_loading_is_quiet_and_leaves_diffusers_as_it_was(monkeypatch, caplog) -> None:
    class StopAfterLoadError(Exception):
        """Stops load_subject right after the weights, where the notices are printed."""

    def noisy(weights: str) -> Any:
        assert not dlog.is_progress_bar_enabled()
        dlog.get_logger("diffusers.pipelines").warning("Keyword arguments are not expected")
        raise StopAfterLoadError

    level, bars = dlog.get_verbosity(), dlog.is_progress_bar_enabled()
    dlog.set_verbosity_warning()
    dlog.enable_progress_bar()
    monkeypatch.setattr(subject, "_reference", noisy)
    try:
        with pytest.raises(StopAfterLoadError):
            subject.load_subject("wan-reference", prompts=2)
        assert dlog.get_verbosity() == dlog.WARNING and dlog.is_progress_bar_enabled()
    finally:
        dlog.set_verbosity(level)
        (dlog.enable_progress_bar if bars else dlog.disable_progress_bar)()
    assert not [r for r in caplog.records if r.name.startswith("diffusers")]
