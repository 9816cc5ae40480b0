"""How a task's pipeline is called: the keyword arguments that fix generation length.

transformers' text-generation pipeline takes generation settings as plain keywords;
its speech, image-text and genwatt's own pipelines take them as ``generate_kwargs``.
Either way min = max new tokens, so every query generates exactly ``new_tokens``.

The rule is keyed on the pipeline that runs, not on the task: a decoder-only
multi-purpose model (BLOOMZ) summarises or answers a question through transformers'
text-generation pipeline (``TaskModelSpec.pipeline_task``), so it takes plain keywords
whatever the task; ``model_generation_kwargs`` reads that from the spec.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genwatt.models.tasks.spec import TaskModelSpec

# Pipelines that take generate() settings as plain keywords.
_PLAIN_KEYWORDS = frozenset({"text-generation"})


def generation_kwargs(
    task: str,
    new_tokens: int | None,
    *,
    pipeline_task: str | None = None,
    greedy: bool = False,
) -> dict[str, Any]:
    """Keywords that make ``task``'s pipeline generate exactly ``new_tokens`` tokens.

    ``pipeline_task`` names the transformers pipeline that runs ``task`` where it is
    another one (BLOOMZ's summarization runs through "text-generation"). ``greedy``
    overrides the checkpoint's beams and sampling with one beam, no sampling (AI Energy
    Score's protocol).
    """
    if new_tokens is None:
        return {}
    settings: dict[str, Any] = {"max_new_tokens": new_tokens, "min_new_tokens": new_tokens}
    if greedy:
        settings.update(num_beams=1, do_sample=False)
    if (pipeline_task or task) in _PLAIN_KEYWORDS:
        return {**settings, "return_full_text": False}
    return {"generate_kwargs": settings}


def model_generation_kwargs(
    spec: TaskModelSpec, task: str, new_tokens: int | None, *, greedy: bool = False
) -> dict[str, Any]:
    """``generation_kwargs`` for ``spec``'s pipeline on ``task``: a genwatt pipeline
    (``spec.pipeline``) takes ``generate_kwargs``; otherwise the transformers pipeline
    that runs is ``spec.pipeline_task`` or the task's own."""
    pipeline_task = None if spec.pipeline is not None else spec.pipeline_task
    return generation_kwargs(task, new_tokens, pipeline_task=pipeline_task, greedy=greedy)
