"""How a suite is run and scored: genwatt's own protocol and the two anchors'.

``ai-energy-score`` reproduces Hugging Face's AI Energy Score
(shared/reference/ai_energy_score_protocol.md): batch size 1, FP32 except text
generation in FP16, 1,000 queries after 10 warm-up runs, the fixed generation lengths of
the catalog except where its benchmark forces another (``generation_lengths``), and a
score of GPU energy only (preprocess + forward, or prefill + decode). As
optimum-benchmark's ``energy_star`` scenario does, it generates greedily (one beam, no
sampling, whatever the checkpoint's generation config says: BART-CNN's 4 beams and the
speech pipeline's 5 become 1) and calls diffusion pipelines with the steps only
(guidance at the pipeline class's default, not a distilled model card's 0).
``power-hungry-processing`` reproduces Luccioni,
Jernite and Strubell (FAccT 2024): batch size 1, 1,000 queries, the whole machine's
energy (CodeCarbon in machine mode counted GPU, CPU and RAM). The paper states no
warm-up; genwatt runs AI Energy Score's 10 so that a first call's one-off costs (allocator
growth, kernel selection) do not land on the first query. ``genwatt`` (the default)
reports both energies side by side, takes any batch sizes, and runs 100 queries unless
told otherwise: per-query energy is a mean, and its spread over the queries is stored
with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from genwatt.errors import ConfigError

EnergyBasis = Literal["gpu", "machine", "both"]


@dataclass(frozen=True)
class Protocol:
    """The fixed settings of one way of running the suite.

    ``batch_sizes`` and ``queries`` are defaults (``fixed`` protocols refuse others);
    ``dtype`` is the precision of every task but text generation, which runs in
    ``text_generation_dtype`` (None: the model's own). ``basis`` is the energy its
    stars and headline figure score.
    """

    name: str
    queries: int
    warmup: int
    # Queries and warm-ups of the diffusion tasks, where they differ.
    diffusion_queries: int | None
    diffusion_warmup: int | None
    batch_sizes: tuple[int, ...]
    basis: EnergyBasis
    fixed: bool
    dtype: str | None
    text_generation_dtype: str | None
    description: str
    # How the protocol's own benchmark drives a model: "pipeline" (a transformers
    # pipeline per query) or "energy-star" (optimum-benchmark's scenario: the dataset
    # preprocessed first, then model.forward / generate per query). What a prediction
    # for the protocol models (``genwatt.predict.harness``).
    harness: str = "pipeline"
    # Generation with one beam and no sampling whatever the checkpoint's generation
    # config says (optimum-benchmark's energy_star passes num_beams=1, do_sample=False).
    greedy: bool = False
    # (task, tokens) pairs: tasks whose generation length the protocol's benchmark fixes
    # at another value than the catalog's.
    generation_lengths: tuple[tuple[str, int], ...] = ()
    # Diffusion pipelines called with the steps only, so that guidance is the pipeline
    # class's default, not the model card's (``genwatt.models.call_defaults``):
    # optimum-benchmark's energy_star passes num_inference_steps and
    # num_images_per_prompt alone.
    pipeline_guidance: bool = False

    def new_tokens_for(self, task: str) -> int | None:
        """The tokens every query of ``task`` generates under this protocol, where it
        fixes a length of its own (None: the catalog's)."""
        return dict(self.generation_lengths).get(task)


# optimum-benchmark 0.6.0's energy_star scenario generates exactly 100 new tokens
# (``TEXT_GENERATION_DEFAULT_KWARGS``: max_new_tokens = min_new_tokens = 100) for every
# task it drives through ``generate``, image-to-text and speech recognition included,
# unless a task's config sets its own; AI Energy Score's configs set lengths for text
# generation, summarization and T5 only (shared/reference/ai_energy_score_protocol.md).
# With random weights (``no_weights``) nothing stops earlier.
ENERGY_STAR_DEFAULT_NEW_TOKENS = 100


PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        Protocol(
            name="genwatt",
            queries=50,
            warmup=3,
            diffusion_queries=5,
            diffusion_warmup=1,
            batch_sizes=(1,),
            basis="both",
            fixed=False,
            dtype=None,
            text_generation_dtype=None,
            description="any batch sizes; GPU-only and whole-machine energy side by side",
        ),
        Protocol(
            name="ai-energy-score",
            queries=1000,
            warmup=10,
            diffusion_queries=None,
            diffusion_warmup=None,
            batch_sizes=(1,),
            basis="gpu",
            fixed=True,
            dtype="float32",
            text_generation_dtype="float16",
            description="AI Energy Score: batch 1, FP32 (text generation FP16), GPU energy",
            harness="energy-star",
            greedy=True,
            generation_lengths=(
                ("automatic-speech-recognition", ENERGY_STAR_DEFAULT_NEW_TOKENS),
                ("image-to-text", ENERGY_STAR_DEFAULT_NEW_TOKENS),
            ),
            pipeline_guidance=True,
        ),
        Protocol(
            name="power-hungry-processing",
            queries=1000,
            warmup=10,
            diffusion_queries=None,
            diffusion_warmup=None,
            batch_sizes=(1,),
            basis="machine",
            fixed=True,
            dtype=None,
            text_generation_dtype=None,
            description="Power Hungry Processing: batch 1, 1,000 queries, whole machine",
        ),
    )
}


def protocol_queries(protocol: Protocol, diffusion: bool) -> tuple[int, int]:
    """Measured queries and warm-up queries per configuration."""
    if diffusion:
        return (
            protocol.diffusion_queries or protocol.queries,
            protocol.warmup if protocol.diffusion_warmup is None else protocol.diffusion_warmup,
        )
    return protocol.queries, protocol.warmup


def get_protocol(name: str) -> Protocol:
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise ConfigError(
            f"Unknown protocol {name!r}; use one of: {', '.join(PROTOCOLS)}."
        ) from None


def protocol_dtype(protocol: Protocol, task: str, requested: str | None) -> str | None:
    """The precision a task runs in: the protocol's where it fixes one, else ``requested``
    (None: the model's own)."""
    fixed = protocol.text_generation_dtype if task == "text-generation" else protocol.dtype
    if protocol.fixed and fixed is not None:
        if requested is not None and requested != fixed:
            raise ConfigError(
                f"--protocol {protocol.name} runs {task} in {fixed}; drop --dtype {requested} "
                "or use --protocol genwatt."
            )
        return fixed
    return requested


def check_batch_sizes(protocol: Protocol, batch_sizes: tuple[int, ...] | None) -> tuple[int, ...]:
    """The batch sizes to run: the protocol's, or those asked for where it allows them."""
    if batch_sizes is None:
        return protocol.batch_sizes
    if any(b < 1 for b in batch_sizes):
        raise ConfigError(f"batch sizes must be 1 or more, got {list(batch_sizes)}.")
    if protocol.fixed and tuple(batch_sizes) != protocol.batch_sizes:
        raise ConfigError(
            f"--protocol {protocol.name} runs batch size 1 only; use --protocol genwatt "
            "for --batch-sizes."
        )
    return tuple(dict.fromkeys(batch_sizes))
