"""One model built for a task, and one measured call over a list of queries.

Transformers tasks run through the task's pipeline (``build_task_pipeline``) with
its own batching, under ``InstrumentedTaskPipeline``; text-to-image and text-to-video
run the diffusion registry's pipeline under ``genwatt.run.instrument``, one call per
batch of prompts. Either way the result is every window of the measured queries, to
be added up per phase by the runner, and the outputs, for quality.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from genwatt.errors import ConfigError
from genwatt.meter.meter import Meter
from genwatt.meter.phases import PhaseBreakdown, breakdown
from genwatt.models.tasks.calls import model_generation_kwargs
from genwatt.models.tasks.protocols import get_protocol
from genwatt.models.tasks.spec import TaskModelSpec
from genwatt.run.suite.plan import SuiteConfig
from genwatt.run.suite.query import MASK_PLACEHOLDER, Query
from genwatt.run.suite.task_instrument import InstrumentedTaskPipeline
from genwatt.run.workload import WEIGHTS_NOTES, free_accelerator_memory

# Settings some pipelines need for the anchors' longest inputs: IMDB reviews run past
# BERT's 512 tokens (the anchors truncated them); LibriSpeech has utterances up to 35 s,
# past Whisper's 30 s window, which transformers' pipeline refuses unless it may cut
# them into 30 s chunks (one chunk, the same compute, for every shorter clip).
_CALL_KWARGS: dict[tuple[str, str | None], dict[str, Any]] = {
    ("text-classification", None): {"truncation": True},
    ("automatic-speech-recognition", "whisper"): {"chunk_length_s": 30},
}


@dataclass
class TaskMeasurement:
    """The phase breakdown of each pipeline call of the measurement (one for a
    transformers pipeline, which batches internally; one per batch of prompts for a
    diffusion pipeline), the outputs in query order, and the number of queries."""

    calls: list[PhaseBreakdown]
    outputs: list[Any]
    queries: int
    unattached: list[str] = field(default_factory=list)


def pipeline_input(task: str, model: TaskModelSpec, query: Query, mask_token: str | None) -> Any:
    """What the task's pipeline takes for ``query``: the model's prompt for a
    multi-purpose model, else the task's own input shape."""
    fields = {
        k: v
        for k, v in (("text", query.text), ("question", query.question), ("context", query.context))
        if v is not None
    }
    prompt = model.prompt_for(task, **fields)
    if prompt is not None:
        return prompt
    if task == "question-answering":
        return {"question": query.question, "context": query.context}
    if task == "sentence-similarity":
        return {"text": query.text, "text_pair": query.text_pair}
    if task == "fill-mask":
        return (query.text or "").replace(MASK_PLACEHOLDER, mask_token or "[MASK]")
    if task in ("image-classification", "object-detection", "image-to-text"):
        return query.image
    if task == "automatic-speech-recognition":
        return {"raw": query.audio, "sampling_rate": query.sampling_rate}
    return query.text


class TransformersTaskWorkload:
    """A transformers pipeline for one (model, task), built once for every batch size."""

    def __init__(self, config: SuiteConfig, meter: Meter) -> None:
        from genwatt.models.tasks.build import build_task_pipeline

        self.config = config
        self.weights_note = WEIGHTS_NOTES[config.weights]
        self.pipe = build_task_pipeline(
            config.model, config.task.name, config.weights, config.device, config.dtype
        )
        generates = config.generates
        self.instrumented = InstrumentedTaskPipeline(
            self.pipe,
            meter,
            encoder=config.model.encoder if generates else None,
            decoder=config.model.decoder if generates else None,
        )

    def _inputs(self, queries: Sequence[Query]) -> list[Any]:
        tokenizer = getattr(self.pipe, "tokenizer", None)
        mask = getattr(tokenizer, "mask_token", None)
        return [pipeline_input(self.config.task.name, self.config.model, q, mask) for q in queries]

    def _kwargs(self, config: SuiteConfig) -> dict[str, Any]:
        task = config.task.name
        kwargs = {
            **_CALL_KWARGS.get((task, None), {}),
            **_CALL_KWARGS.get((task, config.model.family), {}),
        }
        if config.generates:
            kwargs.update(
                model_generation_kwargs(
                    config.model,
                    config.task.name,
                    config.new_tokens,
                    greedy=get_protocol(config.protocol).greedy,
                )
            )
        # num_workers 0: preprocessing in this process, inside the meter's windows.
        return {**kwargs, "batch_size": config.batch_size, "num_workers": 0}

    def warm_up(self, queries: Sequence[Query], config: SuiteConfig) -> None:
        if queries:
            list(self.pipe(self._inputs(queries), **self._kwargs(config)))  # run it through

    def run(
        self, queries: Sequence[Query], config: SuiteConfig, on_query: Callable[[], None]
    ) -> TaskMeasurement:
        if config.task.name == "object-detection" and config.batch_size > 1:
            # DETR and YOLOS keep each image's aspect ratio and transformers' pipeline
            # stacks a batch's pixels: images of different shapes cannot share a batch.
            raise ConfigError(
                "object detection runs batch size 1 only: transformers' pipeline cannot "
                "batch images of different shapes"
            )
        self.instrumented.on_query = on_query
        outputs = self.instrumented(self._inputs(queries), **self._kwargs(config))
        calls = [breakdown(self.instrumented.windows)]
        return TaskMeasurement(calls, list(outputs), len(queries))

    def recover(self) -> None:
        free_accelerator_memory()

    def reset(self) -> None:
        self.instrumented.reset()


class DiffusionTaskWorkload:
    """A diffusion pipeline of the registry; one call per batch of prompts."""

    def __init__(self, config: SuiteConfig, meter: Meter) -> None:
        from genwatt.models import build_pipeline, get_model, spec_for_weights
        from genwatt.run.instrument import instrument

        self.config = config
        self.weights_note = WEIGHTS_NOTES[config.weights]
        assert config.model.diffusion_model is not None
        self.spec = spec_for_weights(get_model(config.model.diffusion_model), config.weights)
        self.pipe = build_pipeline(self.spec, config.weights, config.device, config.dtype)
        self.instrumented = instrument(self.pipe, meter)

    def _calls(self, queries: Sequence[Query], config: SuiteConfig) -> list[dict[str, Any]]:
        import torch

        from genwatt.models import pipeline_call_kwargs, resolve_params

        params = resolve_params(self.spec, steps=config.steps, guidance=config.guidance)
        calls = []
        for start in range(0, len(queries), config.batch_size):
            prompts = [q.text or "" for q in queries[start : start + config.batch_size]]
            generator = torch.Generator(device="cpu").manual_seed(config.seed + start)
            calls.append(pipeline_call_kwargs(self.spec, params, prompts, generator))
        return calls

    def warm_up(self, queries: Sequence[Query], config: SuiteConfig) -> None:
        for call in self._calls(queries, config):
            self.pipe(**call)

    def run(
        self, queries: Sequence[Query], config: SuiteConfig, on_query: Callable[[], None]
    ) -> TaskMeasurement:
        calls: list[PhaseBreakdown] = []
        unattached: list[str] = []
        for call in self._calls(queries, config):
            self.instrumented(**call)
            record = self.instrumented.last
            calls.append(record.breakdown)
            unattached.extend(u for u in record.unattached if u not in unattached)
            for _ in call["prompt"]:
                on_query()
        return TaskMeasurement(calls, [], len(queries), unattached)

    def recover(self) -> None:
        free_accelerator_memory()

    def reset(self) -> None:
        self.instrumented.reset()


TaskWorkload = TransformersTaskWorkload | DiffusionTaskWorkload


def build_task_workload(config: SuiteConfig, meter: Meter) -> TaskWorkload:
    if config.model.is_diffusion:
        return DiffusionTaskWorkload(config, meter)
    return TransformersTaskWorkload(config, meter)
