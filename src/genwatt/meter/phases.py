"""Where a generation's energy went, phase by phase and step by step.

Diffusion: ``text_encode``, ``denoise`` (the ``step:<i>`` windows, each holding its
``forward:<label>`` windows) and ``vae_decode``. Text generation: ``prefill`` (the prompt
and the first token) and ``decode`` (the ``token:<i>`` windows, one per further token).
Works on live windows and on windows read back from the store, since it relies only on
their names. Energy outside every phase (scheduler set-up, latents preparation,
post-processing) is ``other``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from genwatt.meter.aggregate import combine, remainder
from genwatt.meter.result import WindowResult

GENERATION = "generation"
TEXT_ENCODE = "text_encode"
DENOISE = "denoise"
VAE_DECODE = "vae_decode"
PREFILL = "prefill"
DECODE = "decode"
OTHER = "other"
PHASES = (TEXT_ENCODE, DENOISE, VAE_DECODE, PREFILL, DECODE)
STEP_PREFIX = "step:"
TOKEN_PREFIX = "token:"
FORWARD_PREFIX = "forward:"

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
        return {
            "total": _summary(self.total),
            "phases": {name: _summary(w) for name, w in self.phases.items()},
            OTHER: _summary(self.other),
            "steps": [_summary(w) for w in self.steps],
            "adds_up": self.adds_up,
            "tolerance": ADDITIVITY_TOLERANCE,
        }


def _summary(window: WindowResult) -> dict[str, Any]:
    return {
        "duration_s": window.duration_s,
        "energy_j": dict(window.energy_j),
        "energy_j_total": window.total_energy_j,
        "provenance": {d: str(p) for d, p in window.provenance.items()},
    }


def step_index(window: WindowResult) -> int:
    return int(window.name.split(":", 1)[1])


def _is_step(window: WindowResult) -> bool:
    return window.name.startswith((STEP_PREFIX, TOKEN_PREFIX))


def breakdown(windows: list[WindowResult]) -> PhaseBreakdown:
    """Split one generation's windows into phases; raises if there is no generation window."""
    total = next((w for w in windows if w.name == GENERATION), None)
    if total is None:
        raise ValueError(f"no {GENERATION!r} window among {[w.name for w in windows][:5]}...")
    steps = sorted((w for w in windows if _is_step(w)), key=step_index)
    forwards = [w for w in windows if w.name.startswith(FORWARD_PREFIX)]
    phases: dict[str, WindowResult] = {}
    for phase, parts in (
        (TEXT_ENCODE, [w for w in windows if w.name == TEXT_ENCODE]),
        (DENOISE, [w for w in steps if w.name.startswith(STEP_PREFIX)]),
        (VAE_DECODE, [w for w in windows if w.name == VAE_DECODE]),
        (PREFILL, [w for w in windows if w.name == PREFILL]),
        (DECODE, [w for w in steps if w.name.startswith(TOKEN_PREFIX)]),
    ):
        if parts:
            phases[phase] = combine(phase, parts, parent=GENERATION)
    inside = combine("phases", phases.values(), parent=GENERATION)
    return PhaseBreakdown(
        total=total,
        phases=phases,
        other=remainder(OTHER, total, inside),
        steps=steps,
        forwards=forwards,
    )
