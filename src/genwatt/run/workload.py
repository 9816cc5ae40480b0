"""A model built once for a sweep, and one instrumented generation per call.

The weights note says what the numbers mean: with random or tiny weights the compute
(and so latency and energy) is that of the real architecture at the given size, but
the output is noise, so no quality figure may be drawn from it.
"""

from __future__ import annotations

import gc
from typing import Any

from genwatt.meter.meter import Meter
from genwatt.models import (
    build_pipeline,
    build_text_model,
    generate_kwargs,
    get_model,
    pipeline_call_kwargs,
)
from genwatt.run.instrument import GenerationRecord, instrument
from genwatt.run.plan import PlannedConfig
from genwatt.run.sweep_spec import SweepSpec
from genwatt.run.text_instrument import InstrumentedTextModel

WEIGHTS_NOTES = {
    "pretrained": "pretrained weights",
    "random": (
        "random weights at the real architecture's size: latency and energy are those of the "
        "real model (compute does not depend on weight values); the output is noise"
    ),
    "tiny": (
        "built-in miniature of the architecture with random weights: for exercising the "
        "pipeline and the meter, not for real-model figures"
    ),
}


# Miniature models are too small to gain from intra-op parallelism: on a 2-vCPU machine
# two torch threads made them 5-10x slower and erratic (thread hand-offs dominate).
# genwatt's own trained reference model is as small, whatever its weights are called.
TINY_CPU_THREADS = 1
SMALL_MODELS = frozenset({"wan-reference"})


def _pin_threads_for_tiny(config: PlannedConfig) -> int:
    import torch

    small = config.weights == "tiny" or config.model in SMALL_MODELS
    if small and config.device == "cpu":
        torch.set_num_threads(TINY_CPU_THREADS)
    return torch.get_num_threads()


def free_accelerator_memory() -> None:
    """After a failed run: free what it held (the CUDA cache above all)."""
    gc.collect()
    import torch

    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()


class DiffusionWorkload:
    def __init__(self, spec: SweepSpec, first: PlannedConfig, meter: Meter) -> None:
        self.model = get_model(first.model)
        self.device = first.device
        self.torch_threads = _pin_threads_for_tiny(first)
        self.weights_note = WEIGHTS_NOTES[first.weights]
        self.pipe = build_pipeline(
            self.model, first.weights, device=first.device, dtype=first.dtype
        )
        if hasattr(self.pipe, "set_progress_bar_config"):
            self.pipe.set_progress_bar_config(disable=True)
        self.instrumented = instrument(self.pipe, meter, per_forward=spec.per_forward)

    def _call_kwargs(self, config: PlannedConfig) -> dict[str, Any]:
        import torch

        generator = torch.Generator(device="cpu").manual_seed(config.seed)
        return pipeline_call_kwargs(self.model, config.params, config.prompt, generator)

    def warm_up(self, config: PlannedConfig) -> None:
        """One unrecorded generation (the meter still runs; its results are dropped)."""
        self.pipe(**self._call_kwargs(config))

    def generate(self, config: PlannedConfig) -> GenerationRecord:
        self.instrumented(**self._call_kwargs(config))
        return self.instrumented.last

    def recover(self) -> None:
        free_accelerator_memory()

    def reset(self) -> None:
        """After every run: close and drop any window the instrumentation left open."""
        self.instrumented.reset()


def fill_prompt(prompt: str, tokens: int, tokenizer: Any) -> str:
    """Repeat ``prompt`` until it has at least ``tokens`` tokens; truncation trims the rest.

    A prompt-length sweep must run the lengths it names: a short prompt under a large
    ``max_text_tokens`` would otherwise measure the short prompt every time.
    """
    text = prompt
    while len(tokenizer(text, add_special_tokens=False)["input_ids"]) < tokens:
        text = f"{text} {prompt}"
    return text


class TextWorkload:
    """A transformers causal LM; prefill and every decoded token are windows."""

    def __init__(self, spec: SweepSpec, first: PlannedConfig, meter: Meter) -> None:
        self.model = get_model(first.model)
        self.device = first.device
        self.weights_note = WEIGHTS_NOTES[first.weights]
        self.torch_threads = _pin_threads_for_tiny(first)
        self.lm, self.tokenizer = build_text_model(
            self.model, first.weights, device=first.device, dtype=first.dtype
        )
        self.instrumented = InstrumentedTextModel(self.lm, meter)

    def _kwargs(self, config: PlannedConfig) -> dict[str, Any]:
        params = config.params
        prompt = fill_prompt(config.prompt, params.max_text_tokens, self.tokenizer)
        return generate_kwargs(self.model, params, prompt, self.tokenizer, device=self.device)

    def warm_up(self, config: PlannedConfig) -> None:
        self.lm.generate(**self._kwargs(config))

    def generate(self, config: PlannedConfig) -> GenerationRecord:
        self.instrumented.generate(**self._kwargs(config))
        return self.instrumented.last

    def recover(self) -> None:
        free_accelerator_memory()

    def reset(self) -> None:
        """After every run: close and drop any window the instrumentation left open."""
        self.instrumented.reset()


def build_workload(
    spec: SweepSpec, first: PlannedConfig, meter: Meter
) -> DiffusionWorkload | TextWorkload:
    if get_model(first.model).task == "text":
        return TextWorkload(spec, first, meter)
    return DiffusionWorkload(spec, first, meter)
