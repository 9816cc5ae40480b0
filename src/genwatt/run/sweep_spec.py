"""A sweep: what to run, over which grid, how often. YAML or CLI flags, checked by pydantic.

Unknown or mistyped keys are errors that name the key and list the allowed ones, so a
typo never silently falls back to a default and wastes a night of GPU time. Numbers must
be finite (a NaN guidance scale would pass every bound and run unguided), and a spec
file is bounded before it becomes Python objects: its size, its encoding (UTF-8) and
how many values its YAML aliases expand to (an "alias bomb" of a few lines expands to
billions of strings the moment anything walks it).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import reprlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from genwatt.errors import ConfigError, PlanTooLargeError
from genwatt.models.spec import Weights
from genwatt.run.device_check import parse_device

if TYPE_CHECKING:
    import yaml

# A small, fixed prompt set in the style of the studies' prompts: short scene
# descriptions, so text-encoder cost stays comparable across runs.
DEFAULT_PROMPTS = (
    "a red circle moves left across a plain background",
    "a blue square drifts slowly to the right",
    "a cat walks along a sunny windowsill",
    "waves roll onto a sandy beach at sunset",
)

# Bounds on what a spec may hold. A real spec is a few hundred bytes and a few dozen
# values; a prompt file a few thousand prompts.
MAX_SPEC_BYTES = 1 << 20
MAX_SPEC_VALUES = 100_000  # YAML nodes after alias expansion
MAX_PROMPT_FILE_BYTES = 8 << 20


class _Strict(BaseModel):
    """Unknown keys and non-finite numbers (NaN, infinities) are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


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

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        try:
            parse_device(value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
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
        text = read_text(path, "prompt file", MAX_PROMPT_FILE_BYTES)
        prompts = [ln.strip() for ln in text.splitlines() if ln.strip()]
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
    # reprlib: the input may be huge (or a structure shared many times over by aliases)
    return f"{location}: {error['msg']} (got {_short.repr(error.get('input'))})"


_short = reprlib.Repr()
_short.maxlevel, _short.maxlist, _short.maxdict = 2, 4, 4
_short.maxstring = _short.maxother = 60


def parse_spec(data: Any, source: str = "sweep spec") -> SweepSpec:
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: expected a mapping of keys to values, got {type(data).__name__}"
        )
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise spec_error(exc, source) from None


def spec_error(exc: ValidationError, source: str = "sweep spec") -> ConfigError:
    """A ConfigError naming every invalid or unknown key of a SweepSpec's validation."""
    lines = [_describe(e, SweepSpec) for e in exc.errors()]
    return ConfigError(f"{source} is invalid:\n  " + "\n  ".join(lines))


def read_text(path: Path, what: str, max_bytes: int) -> str:
    """A user's text file as UTF-8, at most ``max_bytes``; ConfigError naming the fault."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc}") from exc
    if len(raw) > max_bytes:
        raise PlanTooLargeError(
            f"{what} {path} is larger than {max_bytes // 1024:,} KiB; genwatt reads no more."
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{what} {path} is not UTF-8 text: byte {exc.start} is 0x{raw[exc.start]:02x}; "
            "save it as UTF-8."
        ) from None


def expanded_size(node: yaml.Node | None, limit: int) -> int:
    """How many YAML values ``node`` stands for once aliases are expanded (up to ``limit``).

    PyYAML shares an aliased node instead of copying it, so the count is memoised per
    node: a few-line document whose aliases nest nine deep is counted in microseconds
    and found to stand for hundreds of millions of values.
    """
    sizes: dict[int, int] = {}

    def size(n: yaml.Node) -> int:
        if id(n) in sizes:
            return sizes[id(n)]
        sizes[id(n)] = limit + 1  # a node that contains itself expands without end
        total = 1
        if isinstance(n.value, list):
            for child in n.value:
                parts = child if isinstance(child, tuple) else (child,)
                total += sum(size(p) for p in parts)
                if total > limit:
                    break
        sizes[id(n)] = min(total, limit + 1)
        return sizes[id(n)]

    return 0 if node is None else size(node)


def _yaml_data(text: str, path: Path) -> Any:
    """The YAML document in ``text``, refused before construction if it expands too far."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if expanded_size(node, MAX_SPEC_VALUES) > MAX_SPEC_VALUES:
            raise PlanTooLargeError(
                f"{path} expands to more than {MAX_SPEC_VALUES:,} values (YAML aliases "
                "repeating lists?); write the spec out plainly."
            )
        return loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path} is not valid YAML{where}: {problem}") from None
    finally:
        loader.dispose()


def load_spec(path: Path) -> SweepSpec:
    """Read and validate a YAML sweep spec (UTF-8, bounded in size and expansion)."""
    text = read_text(path, "sweep spec", MAX_SPEC_BYTES)
    return parse_spec(_yaml_data(text, path), source=str(path))
