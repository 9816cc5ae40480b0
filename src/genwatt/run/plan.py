"""From a sweep spec to the exact list of configurations to run, all checked up front.

Every configuration gets a deterministic key (a hash of what was asked for), so a
sweep that is killed and restarted recognises what it already stored. Parameters are
resolved through the model registry before anything runs: frames rounded the way the
pipeline rounds them (both values kept), impossible sizes rejected with the reason.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genwatt.errors import ConfigError
from genwatt.labels import settings_label
from genwatt.run.spec import SweepSpec

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


def plan_sweep(spec: SweepSpec, base: Path | None = None) -> list[PlannedConfig]:
    """Every (grid point x prompt x seed), resolved; all invalid points reported at once."""
    from genwatt.models import get_model, resolve_params

    model = get_model(spec.model)
    weights = resolve_weights(spec, model)
    axes = spec.grid.axes()
    fixed = {p: getattr(spec, p) for p in PARAMS if p not in axes}
    names = list(axes)
    prompts = spec.prompt_list(base)
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
                    notes=list(resolved.notes),
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


def _describe(requested: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in requested.items() if v is not None) or "defaults"
