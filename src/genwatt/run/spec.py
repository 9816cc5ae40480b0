"""A sweep: what to run, over which grid, how often. YAML or CLI flags, checked by pydantic.

Unknown or mistyped keys are errors that name the key and list the allowed ones, so a
typo never silently falls back to a default and wastes a night of GPU time.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from genwatt.errors import ConfigError

Weights = Literal["pretrained", "random", "tiny"]

# A small, fixed prompt set in the style of the studies' prompts: short scene
# descriptions, so text-encoder cost stays comparable across runs.
DEFAULT_PROMPTS = (
    "a red circle moves left across a plain background",
    "a blue square drifts slowly to the right",
    "a cat walks along a sunny windowsill",
    "waves roll onto a sandy beach at sunset",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Grid(_Strict):
    """Values to sweep over; every combination is one configuration."""

    num_frames: list[int] | None = None
    height: list[int] | None = None
    width: list[int] | None = None
    steps: list[int] | None = None
    guidance: list[float] | None = None
    batch_size: list[int] | None = None
    max_text_tokens: list[int] | None = None  # text models: prompt tokens (filled exactly)
    max_new_tokens: list[int] | None = None  # text models: generated tokens

    @field_validator("*")
    @classmethod
    def _non_empty(cls, value: list | None) -> list | None:
        if value is not None and not value:
            raise ValueError("must list at least one value (or be left out)")
        return value

    def axes(self) -> dict[str, list[Any]]:
        return {k: list(v) for k, v in self.model_dump().items() if v is not None}


class AdaptiveRepeats(_Strict):
    """Repeat a configuration until its energy is known well enough.

    Stops once the 95 % confidence half-width of the generation energy is below
    ``target_ci_pct`` percent of the mean, after at least ``min_repeats`` and at most
    ``max_repeats`` runs.
    """

    target_ci_pct: float = Field(5.0, gt=0, le=100)
    min_repeats: int = Field(3, ge=2)
    max_repeats: int = Field(10, ge=2)

    @model_validator(mode="after")
    def _ordered(self) -> AdaptiveRepeats:
        if self.max_repeats < self.min_repeats:
            raise ValueError("max_repeats must be >= min_repeats")
        return self


class SweepSpec(_Strict):
    name: str | None = Field(None, description="sweep id in the store; resumes by this id")
    model: str
    weights: Weights | None = None
    device: str = "cpu"
    dtype: Literal["float32", "bfloat16", "float16"] | None = None
    grid: Grid = Grid()
    num_frames: int | None = None
    height: int | None = None
    width: int | None = None
    steps: int | None = None
    guidance: float | None = None
    max_text_tokens: int | None = None
    max_new_tokens: int | None = None
    batch_size: int = Field(1, ge=1)
    prompts: list[str] | str | None = None
    seeds: list[int] = Field(default_factory=lambda: [0])
    repeats: int = Field(1, ge=1)
    adaptive: AdaptiveRepeats | None = None
    warmup: int = Field(0, ge=0)
    shuffle: bool = False
    order_seed: int = 0
    cooldown_s: float = Field(0.0, ge=0)
    per_forward: bool = True
    timeline: bool = False

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, value: list[int]) -> list[int]:
        if not value:
            raise ValueError("must list at least one seed")
        return value

    @property
    def runs_per_config(self) -> int:
        """Measured runs each configuration gets at least (adaptive repeats may add more)."""
        return self.adaptive.min_repeats if self.adaptive else self.repeats

    def prompt_list(self, base: Path | None = None) -> list[str]:
        """The prompts: a list, a file of one per line (relative to ``base``), or the default."""
        if self.prompts is None:
            return list(DEFAULT_PROMPTS[:1])
        if isinstance(self.prompts, list):
            if not self.prompts:
                raise ConfigError("prompts: the list is empty")
            return list(self.prompts)
        path = Path(self.prompts)
        if base is not None and not path.is_absolute():
            path = base / path
        try:
            lines = [ln.strip() for ln in path.read_text().splitlines()]
        except OSError as exc:
            raise ConfigError(f"prompts: cannot read prompt file {path}: {exc}") from exc
        prompts = [ln for ln in lines if ln]
        if not prompts:
            raise ConfigError(f"prompts: {path} holds no prompt")
        return prompts

    def fingerprint(self) -> str:
        """A short hash of the whole spec, for sweep ids that were not named."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:10]


def _describe(error: dict[str, Any], model: type[BaseModel]) -> str:
    location = ".".join(str(p) for p in error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        owner: type[BaseModel] = model
        for part in error["loc"][:-1]:
            field = owner.model_fields.get(str(part))
            annotation = getattr(field, "annotation", None)
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                owner = annotation
        allowed = list(owner.model_fields)
        close = difflib.get_close_matches(str(error["loc"][-1]), allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown key {location!r}{hint}; allowed keys here: {', '.join(allowed)}"
    return f"{location}: {error['msg']} (got {error.get('input')!r})"


def parse_spec(data: Any, source: str = "sweep spec") -> SweepSpec:
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: expected a mapping of keys to values, got {type(data).__name__}"
        )
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as exc:
        lines = [_describe(e, SweepSpec) for e in exc.errors()]
        raise ConfigError(f"{source} is invalid:\n  " + "\n  ".join(lines)) from None


def load_spec(path: Path) -> SweepSpec:
    """Read and validate a YAML sweep spec."""
    import yaml

    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read sweep spec {path}: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    return parse_spec(data, source=str(path))
