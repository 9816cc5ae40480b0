"""The configurations a suite runs: task x model x batch size, checked before anything runs.

With ``tiny`` weights, models that share a tiny form run once per task, named after
the form (``bert-tiny``): a miniature labelled as bert-large would read as bert-large's
figure. Every configuration has a key that identifies it in the store, so that a suite
run again with the same settings skips what is stored (resume), and one run with other
settings (weights, device, data) never collides with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from genwatt.errors import ConfigError
from genwatt.models.build import check_weights
from genwatt.models.tasks.catalog import MULTI_PURPOSE_NEW_TOKENS, TASK_NAMES, get_task
from genwatt.models.tasks.protocols import (
    Protocol,
    check_batch_sizes,
    protocol_dtype,
    protocol_queries,
)
from genwatt.models.tasks.registry import get_task_model, list_task_models
from genwatt.models.tasks.spec import TaskModelSpec, TaskSpec


@dataclass(frozen=True)
class SuiteConfig:
    """One configuration: a model on a task at one batch size, and everything that fixes
    its energy (weights, device, precision, generation length, the queries)."""

    task: TaskSpec
    model: TaskModelSpec
    label: str  # the model as reported: its repo id, or its tiny form's name
    batch_size: int
    weights: str
    device: str
    dtype: str | None
    queries: int
    warmup: int
    new_tokens: int | None
    steps: int | None
    data: str  # "builtin" or the user's --data
    seed: int
    protocol: str
    # A diffusion pipeline's guidance where the protocol sets one the registry's default
    # does not hold (None: the model's own).
    guidance: float | None = None

    @property
    def key(self) -> str:
        """Identifies the configuration within a suite in the store."""
        parts = [
            self.task.name,
            self.label,
            f"b{self.batch_size}",
            self.weights,
            self.device,
            self.dtype or "auto",
            f"q{self.queries}",
            f"t{self.new_tokens}",
            f"s{self.steps}",
            self.data,
            f"seed{self.seed}",
        ]
        if self.guidance is not None:  # only then: earlier keys stay as they were
            parts.append(f"g{self.guidance:g}")
        return "|".join(str(v) for v in parts)

    @property
    def generates(self) -> bool:
        """Whether the model generates token by token (a CTC speech model, say, does not,
        though its task is one that generates)."""
        return self.model.is_diffusion or self.model.decoder is not None

    def as_config(self) -> dict[str, Any]:
        return {
            "task": self.task.name,
            "model": self.label,
            # A tiny form stands for every model of its family: no one repo is it.
            "repo_id": None if self.weights == "tiny" else self.model.repo_id,
            "kind": self.model.kind,
            "family": self.model.family,
            "params": self.model.tiny_params if self.weights == "tiny" else self.model.params,
            "batch_size": self.batch_size,
            "weights": self.weights,
            "device": self.device,
            "dtype": self.dtype,
            "queries": self.queries,
            "warmup": self.warmup,
            "new_tokens": self.new_tokens,
            "steps": self.steps,
            "guidance": self.guidance,
            "data": self.data,
            "seed": self.seed,
            "protocol": self.protocol,
        }


def tiny_label(spec: TaskModelSpec) -> str:
    """The name of a model's tiny form, shared by every model of its family."""
    if spec.diffusion_model is not None:
        from genwatt.models.registry import get_model

        return get_model(spec.diffusion_model).tiny_name
    return f"{spec.family}-tiny"


def _models_for(task: TaskSpec, names: list[str] | None) -> list[TaskModelSpec]:
    if not names:
        return list_task_models(task.name)
    chosen = [get_task_model(n) for n in names]
    return [m for m in chosen if task.name in m.tasks]


def _new_tokens(
    task: TaskSpec, model: TaskModelSpec, asked: int | None, protocol: Protocol, weights: str
) -> int | None:
    """Tokens each query generates: None for models that generate no text; else the
    user's, the protocol's own length for the task, or the catalog's. Tiny forms keep
    the catalog's: their decoders hold fewer positions (the tiny Whisper's 64 cannot
    take AI Energy Score's 100 tokens) and their figures stand for no length anyway."""
    if model.is_diffusion or model.decoder is None:
        return None
    if model.kind == "multi-purpose":
        return asked or MULTI_PURPOSE_NEW_TOKENS
    if task.new_tokens is None:
        return None
    fixed = None if weights == "tiny" else protocol.new_tokens_for(task.name)
    return asked or fixed or task.new_tokens


def _guidance(protocol: Protocol, model: TaskModelSpec, weights: str) -> float | None:
    """The pipeline class's own guidance where ``protocol`` calls pipelines without one
    and the model's card sets another (None: the model's own)."""
    if not protocol.pipeline_guidance or model.diffusion_model is None:
        return None
    from genwatt.models import get_model, spec_for_weights
    from genwatt.models.call_defaults import call_default_guidance

    return call_default_guidance(spec_for_weights(get_model(model.diffusion_model), weights))


def _dtype(
    protocol: Protocol, task: str, asked: str | None, weights: str, device: str
) -> str | None:
    """The precision to run in: the protocol's, the user's, or the model's own; tiny
    forms on a CPU in float32 (half precision is slower there, and they prove nothing
    about precision)."""
    chosen = protocol_dtype(protocol, task, asked)
    if chosen is None and weights == "tiny" and device == "cpu":
        return "float32"
    return chosen


def plan_suite(
    protocol: Protocol,
    *,
    tasks: list[str] | None = None,
    models: list[str] | None = None,
    batch_sizes: tuple[int, ...] | None = None,
    weights: str = "tiny",
    device: str = "cpu",
    dtype: str | None = None,
    queries: int | None = None,
    new_tokens: int | None = None,
    steps: int | None = None,
    data: str | None = None,
    seed: int = 0,
) -> list[SuiteConfig]:
    """Every configuration to run, in task order; ConfigError on anything invalid."""
    check_weights(weights)
    chosen_tasks = [get_task(t) for t in (tasks or TASK_NAMES)]
    sizes = check_batch_sizes(protocol, batch_sizes)
    if queries is not None and queries < 1:
        raise ConfigError(f"--queries must be 1 or more, got {queries}.")
    for name in models or []:
        get_task_model(name)  # an unknown name fails here, with suggestions
    if data is not None and len(chosen_tasks) > 1:
        raise ConfigError(
            "--data holds one task's queries; choose that task with --tasks "
            f"(got {len(chosen_tasks)} tasks)."
        )
    plan: list[SuiteConfig] = []
    for task in chosen_tasks:
        seen: set[str] = set()
        for model in _models_for(task, models):
            label = tiny_label(model) if weights == "tiny" else model.repo_id
            if label in seen:
                continue
            seen.add(label)
            if weights == "pretrained" and model.diffusion_model is None and not model.repo_id:
                raise ConfigError(f"{label} has no pretrained weights")
            tokens = _new_tokens(task, model, new_tokens, protocol, weights)
            count, warmup = protocol_queries(protocol, model.is_diffusion)
            for size in sizes:
                plan.append(
                    SuiteConfig(
                        task=task,
                        model=model,
                        label=label,
                        batch_size=size,
                        weights=weights,
                        device=device,
                        dtype=_dtype(protocol, task.name, dtype, weights, device),
                        queries=count if queries is None else queries,
                        warmup=warmup,
                        new_tokens=tokens,
                        steps=(steps or task.steps) if model.is_diffusion else None,
                        data=data or "builtin",
                        seed=seed,
                        protocol=protocol.name,
                        guidance=_guidance(protocol, model, weights),
                    )
                )
    if models and not plan:
        raise ConfigError(
            f"none of {', '.join(models)} runs the chosen tasks; `genwatt tasks` lists "
            "each task's models."
        )
    return plan
