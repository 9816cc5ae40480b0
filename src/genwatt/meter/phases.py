"""Where a generation's energy went, phase by phase and step by step.

Diffusion: ``text_encode``, ``image_encode`` and ``vae_encode`` (conditioning inputs),
``denoise`` (the ``step:<i>`` windows, each holding its ``forward:<label>`` windows and
the ``part:<component>`` windows of auxiliary networks such as a ControlNet, reported
as sub-phases) and ``vae_decode``. A pipeline of several stages (a prior, then a
decoder) names the steps of its secondary stages ``step:<stage>:<i>``; each stage's
steps are also reported on their own. Text generation: ``prefill`` (the prompt
and the first token) and ``decode`` (the ``token:<i>`` windows, one per further token).
The tasks of the multi-task suite: ``preprocess`` (tokenise, resize, featurise),
``forward`` (one pass of an encoder, a classifier, a detector) or, for generating
models, ``encode`` (an encoder-decoder's encoder, a captioner's vision encoder), then
``prefill`` and ``decode``; and ``postprocess`` (decode ids, pick labels and boxes).
Works on live windows and on windows read back from the store, since it relies only on
their names. Energy outside every phase (scheduler set-up, latents preparation,
post-processing) is ``other``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from genwatt.meter.aggregate import combine, remainder
from genwatt.meter.result import WindowResult

GENERATION = "generation"
TEXT_ENCODE = "text_encode"
IMAGE_ENCODE = "image_encode"
VAE_ENCODE = "vae_encode"
DENOISE = "denoise"
VAE_DECODE = "vae_decode"
PREFILL = "prefill"
DECODE = "decode"
PREPROCESS = "preprocess"
FORWARD = "forward"
ENCODE = "encode"
POSTPROCESS = "postprocess"
OTHER = "other"
PHASES = (
    PREPROCESS,
    TEXT_ENCODE,
    IMAGE_ENCODE,
    VAE_ENCODE,
    DENOISE,
    VAE_DECODE,
    FORWARD,
    ENCODE,
    PREFILL,
    DECODE,
    POSTPROCESS,
)
STEP_PREFIX = "step:"
TOKEN_PREFIX = "token:"
FORWARD_PREFIX = "forward:"
SUBPHASE_PREFIX = "part:"
MAIN_STAGE = "main"  # the stage whose steps are plain ``step:<i>``

# Phases are nested inside the generation window, so with monotone counters their sum
# cannot exceed it; it can only where a window's figure was estimated from power (a
# window shorter than the counter's update period). Beyond this share of the
# generation's energy, the breakdown is flagged as not adding up.
ADDITIVITY_TOLERANCE = 0.02


@dataclass(frozen=True)
class PhaseBreakdown:
    total: WindowResult
    phases: dict[str, WindowResult]
    other: WindowResult
    steps: list[WindowResult]
    forwards: list[WindowResult]
    # Auxiliary networks by component (``controlnet``), summed over the call; they are
    # inside the phases already (a ControlNet inside ``denoise``), so never added again.
    subphases: dict[str, WindowResult] = field(default_factory=dict)
    # Denoising steps per stage, only for pipelines of more than one stage.
    stages: dict[str, WindowResult] = field(default_factory=dict)

    @property
    def adds_up(self) -> bool:
        """True when no domain's phases exceed the whole by more than the tolerance."""
        return all(
            self.other.energy_j.get(d, 0.0) >= -ADDITIVITY_TOLERANCE * max(total, 0.0)
            for d, total in self.total.energy_j.items()
        )

    def energy_j(self, phase: str) -> float:
        window = self.other if phase == OTHER else self.phases.get(phase)
        return window.total_energy_j if window else 0.0

    def to_dict(self) -> dict[str, Any]:
        summary = {
            "total": _summary(self.total),
            "phases": {name: _summary(w) for name, w in self.phases.items()},
            OTHER: _summary(self.other),
            "steps": [_summary(w) for w in self.steps],
            "adds_up": self.adds_up,
            "tolerance": ADDITIVITY_TOLERANCE,
        }
        if self.subphases:
            summary["subphases"] = {name: _summary(w) for name, w in self.subphases.items()}
        if self.stages:
            summary["stages"] = {name: _summary(w) for name, w in self.stages.items()}
        return summary


def _summary(window: WindowResult) -> dict[str, Any]:
    return {
        "duration_s": window.duration_s,
        "energy_j": dict(window.energy_j),
        "energy_j_total": window.total_energy_j,
        "provenance": {d: str(p) for d, p in window.provenance.items()},
    }


def step_index(window: WindowResult) -> int:
    """The step's index within its stage: 3 for ``step:3`` and ``step:prior:3``."""
    return int(window.name.rsplit(":", 1)[1])


def step_stage(window: WindowResult) -> str:
    """The stage of a ``step:`` window: ``prior`` for ``step:prior:3``, else ``main``."""
    parts = window.name.split(":")
    return parts[1] if len(parts) == 3 else MAIN_STAGE


def _is_step(window: WindowResult) -> bool:
    return window.name.startswith((STEP_PREFIX, TOKEN_PREFIX))


def breakdown(windows: list[WindowResult]) -> PhaseBreakdown:
    """Split one generation's windows into phases; raises if there is no generation window."""
    total = next((w for w in windows if w.name == GENERATION), None)
    if total is None:
        raise ValueError(f"no {GENERATION!r} window among {[w.name for w in windows][:5]}...")
    stage_rank: dict[str, int] = {}  # stages in the order they ran
    for w in windows:
        if w.name.startswith(STEP_PREFIX):
            stage_rank.setdefault(step_stage(w), len(stage_rank))
    steps = sorted(
        (w for w in windows if _is_step(w)),
        key=lambda w: (stage_rank.get(step_stage(w), 0), step_index(w)),
    )
    forwards = [w for w in windows if w.name.startswith(FORWARD_PREFIX)]
    denoise_steps = [w for w in steps if w.name.startswith(STEP_PREFIX)]
    phases: dict[str, WindowResult] = {}
    for phase in PHASES:
        if phase == DENOISE:
            parts = denoise_steps
        elif phase == DECODE:
            parts = [w for w in steps if w.name.startswith(TOKEN_PREFIX)]
        else:
            parts = [w for w in windows if w.name == phase]
        if parts:
            phases[phase] = combine(phase, parts, parent=GENERATION)
    inside = combine("phases", phases.values(), parent=GENERATION)
    return PhaseBreakdown(
        total=total,
        phases=phases,
        other=remainder(OTHER, total, inside),
        steps=steps,
        forwards=forwards,
        subphases=_grouped(windows, SUBPHASE_PREFIX),
        stages=_stages(denoise_steps, list(stage_rank)),
    )


def _grouped(windows: list[WindowResult], prefix: str) -> dict[str, WindowResult]:
    """The windows named ``<prefix><x>``, combined per ``x``."""
    names = dict.fromkeys(w.name for w in windows if w.name.startswith(prefix))
    return {
        name.removeprefix(prefix): combine(
            name.removeprefix(prefix), [w for w in windows if w.name == name], parent=GENERATION
        )
        for name in names
    }


def _stages(steps: list[WindowResult], order: list[str]) -> dict[str, WindowResult]:
    if len(order) < 2:
        return {}
    return {
        stage: combine(stage, [w for w in steps if step_stage(w) == stage], parent=GENERATION)
        for stage in order
    }
