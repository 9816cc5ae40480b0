"""From a sweep spec to the exact list of configurations to run, all checked up front.

Every configuration gets a deterministic key (a hash of what was asked for), so a
sweep that is killed and restarted recognises what it already stored. Parameters are
resolved through the model registry before anything runs: frames rounded the way the
pipeline rounds them (both values kept), impossible sizes rejected with the reason. The
plan is also bounded (a spec cannot ask for millions of runs), checked against the
device's memory (a size whose tensors cannot fit is refused before any model is built)
and, for a run, against the device itself (``cuda`` where there is no CUDA).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genwatt.errors import ConfigError, PlanTooLargeError
from genwatt.labels import settings_label
from genwatt.run.device_check import DeviceMemory, check_device, device_memory
from genwatt.run.spec import SweepSpec

if TYPE_CHECKING:
    from genwatt.models.params import ResolvedParams
    from genwatt.models.spec import ModelSpec

PARAMS = (
    "num_frames",
    "height",
    "width",
    "steps",
    "guidance",
    "max_text_tokens",
    "max_new_tokens",
    "batch_size",
)
# What a resolved configuration records as "effective": the values the pipeline runs.
EFFECTIVE = (
    "num_frames",
    "latent_frames",
    "height",
    "width",
    "steps",
    "guidance",
    "max_text_tokens",
    "max_new_tokens",
)
# The subset that can be fed back into ``resolve_params`` to rebuild the call.
RESOLVABLE = tuple(k for k in EFFECTIVE if k != "latent_frames")
# Most runs (measured and warm-up) one sweep may plan: months of GPU time for a real
# model, a day for a tiny one. More is a mistake (or a YAML bomb), refused up front.
MAX_PLANNED_RUNS = 100_000


@dataclass(frozen=True)
class PlannedConfig:
    key: str
    model: str
    weights: str
    device: str
    dtype: str | None
    requested: dict[str, Any]
    effective: dict[str, Any]
    prompt: str
    seed: int
    notes: list[str] = field(default_factory=list)

    def as_config(self) -> dict[str, Any]:
        """What the store keeps as the run's config (flat, JSON-ready)."""
        return {
            "model": self.model,
            "weights": self.weights,
            "device": self.device,
            "dtype": self.dtype,
            **self.effective,
            "requested": dict(self.requested),
            "prompt": self.prompt,
            "seed": self.seed,
            "notes": list(self.notes),
        }

    def label(self) -> str:
        return settings_label(self.effective, guidance=True)


def config_key(identity: dict[str, Any]) -> str:
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def resolve_weights(spec: SweepSpec, model: Any) -> str:
    return spec.weights or model.default_weights


def plan_sweep(
    spec: SweepSpec, base: Path | None = None, *, require_device: bool = False
) -> list[PlannedConfig]:
    """Every (grid point x prompt x seed), resolved; all invalid points reported at once.

    ``require_device``: the plan is about to run here, so a device this machine cannot
    use is an error (DeviceUnavailableError). Without it (a dry run, planning a GPU
    sweep on a laptop) every configuration notes that the device is missing, and sizes
    are judged against the largest memory of any GPU genwatt knows.
    """
    from genwatt.models import get_model, resolve_params

    model = get_model(spec.model)
    weights = resolve_weights(spec, model)
    axes = spec.grid.axes()
    fixed = {p: getattr(spec, p) for p in PARAMS if p not in axes}
    names = list(axes)
    prompts = spec.prompt_list(base)
    check_plan_size(spec, axes, len(prompts))
    memory, device_notes = _memory_for(spec.device, require_device)
    planned: list[PlannedConfig] = []
    problems: list[str] = []
    for values in itertools.product(*(axes[n] for n in names)):
        requested = {**fixed, **dict(zip(names, values, strict=True))}
        batch = requested.pop("batch_size") or 1
        try:
            resolved = resolve_params(
                model, **{k: v for k, v in requested.items() if v is not None}
            )
        except ConfigError as exc:
            problems.append(f"{_describe(requested)}: {exc}")
            continue
        refused, memory_notes = _memory_fit(model, resolved, batch, spec, memory)
        if refused:
            problems.append(f"{_describe(requested)}: {refused}")
            continue
        notes = [*resolved.notes, *memory_notes, *device_notes]
        effective = {k: getattr(resolved, k) for k in EFFECTIVE} | {"batch_size": batch}
        asked = {**{k: v for k, v in requested.items() if v is not None}, "batch_size": batch}
        for prompt, seed in itertools.product(prompts, spec.seeds):
            identity = {
                "model": model.name,
                "weights": weights,
                "device": spec.device,
                "dtype": spec.dtype,
                "requested": asked,
                "prompt": prompt,
                "seed": seed,
            }
            planned.append(
                PlannedConfig(
                    key=config_key(identity),
                    model=model.name,
                    weights=weights,
                    device=spec.device,
                    dtype=spec.dtype,
                    requested=asked,
                    effective=effective,
                    prompt=prompt,
                    seed=seed,
                    notes=list(notes),
                )
            )
    if problems:
        raise ConfigError(
            f"{len(problems)} configuration(s) of the sweep are invalid for {model.name}; "
            "nothing was run:\n  " + "\n  ".join(problems)
        )
    if spec.shuffle:
        random.Random(spec.order_seed).shuffle(planned)
    return planned


def check_plan_size(spec: SweepSpec, axes: dict[str, list[Any]], prompts: int) -> None:
    """Refuse, before any configuration is built, a sweep of more than MAX_PLANNED_RUNS."""
    configs = math.prod(len(v) for v in axes.values()) * prompts * len(spec.seeds)
    per_config = (spec.adaptive.max_repeats if spec.adaptive else spec.repeats) + spec.warmup
    runs = configs * per_config
    if runs > MAX_PLANNED_RUNS:
        raise PlanTooLargeError(
            f"the sweep would make {runs:,} runs ({configs:,} configurations x {per_config} "
            f"runs each, warm-ups included); genwatt plans at most {MAX_PLANNED_RUNS:,}. "
            "Shorten the grid, prompts, seeds or repeats, or split the sweep."
        )


def _memory_for(device: str, require_device: bool) -> tuple[DeviceMemory, list[str]]:
    """The memory to judge sizes against, and the note for a device missing here."""
    if require_device:
        check_device(device)
    memory = device_memory(device)
    if memory is not None:
        return memory, []
    from genwatt.predict.hardware import list_profiles

    largest = max(p.memory_gb for p in list_profiles() if p.kind == "gpu")
    note = f"device {device} is not available on this machine: the plan cannot run here"
    return DeviceMemory(int(largest * 1e9), "the most of any GPU genwatt knows"), [note]


def _memory_fit(
    model: ModelSpec,
    resolved: ResolvedParams,
    batch: int,
    spec: SweepSpec,
    memory: DeviceMemory,
) -> tuple[str | None, list[str]]:
    """(why the configuration cannot fit, or None; notes for a borderline one)."""
    from genwatt.run.memory_check import bytes_text, fit_verdict, memory_need

    need = memory_need(model, resolved, batch, spec.dtype)
    verdict = fit_verdict(need, memory.bytes) if need is not None else None
    if need is None or verdict is None:
        return None, []
    size = f"{resolved.height}x{resolved.width}"
    if resolved.num_frames:
        size += f" at {resolved.num_frames} frames"
    if batch > 1:
        size += f", batch {batch}"
    claim = (
        f"height x width {size} needs at least about {bytes_text(need.bytes)} for "
        f"{need.what}; device {spec.device} offers {bytes_text(memory.bytes)} ({memory.what})"
    )
    if verdict == "refuse":
        return f"{claim}: lower height, width or frames", []
    return None, [f"memory: {claim}; it may not fit"]


def _describe(requested: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in requested.items() if v is not None) or "defaults"
