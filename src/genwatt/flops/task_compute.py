"""The compute of one pipeline call of any suite model, phase by phase, counted on meta.

``task_compute(spec, task)`` builds the real-size architecture on the meta device (no
memory, well under a second, cached per model and precision), calls it as its pipeline
does with inputs of the right shapes (``genwatt.flops.task_inputs``) and counts every
operation (``genwatt.flops.task_counter``): FLOPs, kernel launches, weight bytes read,
bytes of tensors produced and, while decoding, KV-cache bytes read. These are what a
roofline and a launch-overhead model need: at batch 1 most suite models are bound by
launches and memory, not by arithmetic.

Phases follow the suite's windows (docs/tasks.md):

- ``forward``: one pass of an encoder, classifier, detector or CTC model per batch
  (times the QA windows of a long context).
- ``encode``: a generating model's encoder, once per query: T5's and BART's encoder,
  Whisper's audio encoder, a captioner's vision tower (BLIP-2's Q-Former and
  projection included; GIT's image encoder, which runs inside its first forward, is
  split off it by a hook).
- ``prefill``: the decoder's first forward: the whole prompt of a decoder-only model;
  the decoder start token of T5, BART and BLIP; Whisper's four prompt tokens; BLIP-2's
  32 query embeddings and its start token.
- ``decode``: the ``new_tokens - 1`` further forwards, each one token against a KV
  cache one longer than the last. Every count but attention's is the same at each step
  and attention's grows by one position a step, so the sum is exact from two counted
  steps: the first and the last (``steps x (first + last) / 2``).

Beam search (BART-CNN's 4 beams from its generation config; Whisper's 5, the speech
pipeline's default) runs the decoder on ``batch x beams`` sequences from the prefill
on; the encoder runs once per query. After every decoder forward, beam search reorders
the cache (one gather per cached tensor, the whole cache read and written), which is
counted too. What ``generate`` does around the model (logits processors, the choice of
the next token, beam bookkeeping) is not: it is host-side work and small kernels that
the predictor's fixed per-token terms stand for.
"""

from __future__ import annotations

from genwatt.errors import ConfigError
from genwatt.flops.task_inputs import QueryShape, query_shape
from genwatt.flops.task_result import PHASES, PassCompute, TaskCompute
from genwatt.models.tasks.spec import TaskModelSpec


def task_compute(
    spec: TaskModelSpec,
    task: str,
    *,
    batch: int = 1,
    input_tokens: float | None = None,
    new_tokens: int | None = None,
    image_hw: tuple[int, int] | None = None,
    audio_s: float | None = None,
    dtype: str | None = None,
    weights: str = "random",
    beams: int | None = None,
    workload: str | None = None,
) -> TaskCompute:
    """The compute of one call of ``spec``'s pipeline on ``task`` with ``batch`` queries.

    Unset sizes are the task's typical query; ``new_tokens`` defaults to the task's
    fixed length; ``dtype`` to the precision the model runs in (``spec.torch_dtype``).
    ``weights="tiny"`` counts the tiny form (for checks against a real run); ``beams``
    overrides the checkpoint's beam search (1: greedy, as AI Energy Score generates);
    ``workload`` names the protocol whose datasets the typical query is drawn from.
    """
    from genwatt.flops.task_drivers import count_call

    if weights not in ("random", "tiny"):
        raise ConfigError(f"weights must be 'random' or 'tiny', got {weights!r}.")
    shape = query_shape(
        spec,
        task,
        batch=batch,
        input_tokens=input_tokens,
        new_tokens=new_tokens,
        image_hw=image_hw,
        audio_s=audio_s,
        weights=weights,
        beams=beams,
        workload=workload,
    )
    dtype_name = _dtype_name(dtype or spec.torch_dtype)
    phases, notes, params = count_call(spec, shape, weights, dtype_name)
    return TaskCompute(
        model=spec.repo_id,
        task=task,
        batch=batch,
        inputs=dict(shape.inputs),
        dtype=dtype_name,
        params=params,
        phases=phases,
        notes=(*shape.notes, *notes),
    )


def _dtype_name(dtype: str) -> str:
    names = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16", "half": "float16"}
    name = names.get(dtype.lower().removeprefix("torch."), dtype.lower().removeprefix("torch."))
    if name not in ("float32", "float16", "bfloat16"):
        raise ConfigError(f"dtype must be float32, float16 or bfloat16, got {dtype!r}.")
    return name


__all__ = ["PHASES", "PassCompute", "QueryShape", "TaskCompute", "task_compute"]
