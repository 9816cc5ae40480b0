"""From a sweep spec to the exact list of configurations to run, all checked up front.

Every configuration gets a deterministic key (a hash of what was asked for), so a
sweep that is killed and restarted recognises what it already stored. Parameters are
resolved through the model registry before anything runs: frames rounded the way the
pipeline rounds them (both values kept), impossible sizes rejected with the reason.
Each configuration carries its ``ResolvedParams`` to the pipeline call, so a setting
is resolved once, here, and never again from a copy. The plan is also bounded (a spec
cannot ask for millions of runs), checked against the device's memory (a size whose
tensors cannot fit is refused before any model is built) and, for a run, against the
device itself (``cuda`` where there is no CUDA).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genwatt.errors import ConfigError, PlanTooLargeError
from genwatt.labels import settings_label
from genwatt.models import ModelSpec, ResolvedParams, get_model, resolve_params
from genwatt.predict.hardware import list_profiles
from genwatt.run.device_check import DeviceMemory, check_device, device_memory
from genwatt.run.memory_check import bytes_text, fit_verdict, memory_need
from genwatt.run.sweep_spec import SweepSpec

# Most runs (measured and warm-up) one sweep may plan: months of GPU time for a real
# model, a day for a tiny one. More is a mistake (or a YAML bomb), refused up front.
MAX_PLANNED_RUNS = 100_000


@dataclass(frozen=True)
class PlannedConfig:
    """One configuration of a plan: its resolved parameters, prompt and seed.

    ``params`` is what the pipeline call is built from. ``requested`` is what the sweep
    asked for, in the order it was asked (with the batch size always named): with the
    model, weights, device, dtype, prompt and seed it is the identity ``key`` hashes.
    """

    key: str
    weights: str
    device: str
    dtype: str | None
    params: ResolvedParams
    requested: dict[str, Any]
    prompt: str
    seed: int
    notes: list[str] = field(default_factory=list)

    @property
    def model(self) -> str:
        return self.params.model

    @property
    def effective(self) -> dict[str, Any]:
        """The settings that run (``ResolvedParams.effective_settings``)."""
        return self.params.effective_settings()

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
    model = get_model(spec.model)
    weights = resolve_weights(spec, model)
    axes = spec.grid.axes()
    fixed = {p: getattr(spec, p) for p in ResolvedParams.parameter_names() if p not in axes}
    names = list(axes)
    prompts = spec.prompt_list(base)
    check_plan_size(spec, axes, len(prompts))
    memory, device_notes = _memory_for(spec.device, require_device)
    planned: list[PlannedConfig] = []
    problems: list[str] = []
    for values in itertools.product(*(axes[n] for n in names)):
        requested = {**fixed, **dict(zip(names, values, strict=True))}
        batch = requested.pop("batch_size") or None  # 0 in a grid means the default, 1
        asked = {k: v for k, v in requested.items() if v is not None}
        try:
            resolved = resolve_params(model, **asked, batch_size=batch)
        except ConfigError as exc:
            problems.append(f"{_describe(requested)}: {exc}")
            continue
        refused, memory_notes = _memory_fit(model, resolved, spec, memory)
        if refused:
            problems.append(f"{_describe(requested)}: {refused}")
            continue
        notes = [*resolved.notes, *memory_notes, *device_notes]
        asked = {**asked, "batch_size": resolved.batch_size}
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
                    weights=weights,
                    device=spec.device,
                    dtype=spec.dtype,
                    params=resolved,
                    requested=asked,
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
    largest = max(p.memory_gb for p in list_profiles() if p.kind == "gpu")
    note = f"device {device} is not available on this machine: the plan cannot run here"
    return DeviceMemory(int(largest * 1e9), "the most of any GPU genwatt knows"), [note]


def _memory_fit(
    model: ModelSpec,
    resolved: ResolvedParams,
    spec: SweepSpec,
    memory: DeviceMemory,
) -> tuple[str | None, list[str]]:
    """(why the configuration cannot fit, or None; notes for a borderline one)."""
    need = memory_need(model, resolved, spec.dtype)
    verdict = fit_verdict(need, memory.bytes) if need is not None else None
    if need is None or verdict is None:
        return None, []
    size = f"{resolved.height}x{resolved.width}"
    if resolved.num_frames:
        size += f" at {resolved.num_frames} frames"
    if resolved.batch_size > 1:
        size += f", batch {resolved.batch_size}"
    claim = (
        f"height x width {size} needs at least about {bytes_text(need.bytes)} for "
        f"{need.what}; device {spec.device} offers {bytes_text(memory.bytes)} ({memory.what})"
    )
    if verdict == "refuse":
        return f"{claim}: lower height, width or frames", []
    return None, [f"memory: {claim}; it may not fit"]


def _describe(requested: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in requested.items() if v is not None) or "defaults"
