"""A service's energy and CO2e at scale: one query's energy times a volume of queries.

Press coverage of the field's studies turns per-query figures into fleet figures (40
million clips in seven weeks for one commercial video model; data centres near 1 % of
the world's electricity); users ask the same of their own service. A footprint is:

- one query's energy, either **predicted** (diffusion models through
  ``genwatt.predict.predictor``, every other suite model through
  ``genwatt.predict.task_predictor``) or taken from the **store** (the measured or
  estimated energy per query of stored suite and sweep runs, as stored);
- times a count of queries, once or per day, week or year (a year is a day's count x
  365, a week's x 52.18);
- with a low-high range: for a prediction, the predictor's cross-validated error; for
  stored runs, the spread between the runs;
- priced on a grid (``genwatt.carbon.setting``), after the facility's PUE, with
  everyday equivalents at the scale of a service (households' yearly electricity first)
  and the share of the grid's country's yearly electricity generation.

Joules inside; kWh, TWh and kg CO2e only in ``to_dict`` and the text. Every figure
carries the provenance of the per-query energy it was scaled from.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from genwatt import formatting as fmt
from genwatt.carbon import grid_data
from genwatt.carbon.equivalents import FLEET_ORDER, Equivalent, fleet_equivalents, most_relatable
from genwatt.carbon.generation import J_PER_TWH, GenerationShare, share_of_generation
from genwatt.carbon.intensity import Co2eResult, GridIntensity
from genwatt.carbon.setting import CarbonSetting, choose_setting, stored_setting
from genwatt.errors import ConfigError, GenwattError
from genwatt.labels import settings_label
from genwatt.meter.aggregate import weakest
from genwatt.meter.phases import GENERATION
from genwatt.meter.result import Provenance, WindowResult
from genwatt.units import j_to_kwh, j_to_wh

if TYPE_CHECKING:
    from genwatt.predict.calibration import Calibration
    from genwatt.store.records import RunRecord

Period = Literal["day", "week", "year"]
Scope = Literal["gpu", "machine"]

PREDICTED = "predicted"
DAYS_PER_YEAR = 365.0
# 365.25 days a year over 7 days a week, rounded as the brief of issue 20 states it.
WEEKS_PER_YEAR = 52.18
PER_YEAR: dict[str, float] = {"day": DAYS_PER_YEAR, "week": WEEKS_PER_YEAR, "year": 1.0}
SCOPE_WORDS: dict[str, str] = {"gpu": "GPU energy", "machine": "whole-machine energy"}

# Kinds of stored runs that hold generations: ``genwatt suite`` (many queries per run)
# and ``genwatt bench`` / ``genwatt sweep`` (one pipeline call per run).
SUITE_KIND = "suite"
SWEEP_KIND = "sweep"

# The settings that identify a stored configuration, per kind of run (keys of its config).
_SUITE_SETTINGS = (
    "task",
    "batch_size",
    "weights",
    "device",
    "dtype",
    "protocol",
    "new_tokens",
    "steps",
)
_SWEEP_SETTINGS = (
    "num_frames",
    "height",
    "width",
    "steps",
    "guidance",
    "max_text_tokens",
    "max_new_tokens",
    "batch_size",
    "weights",
    "device",
    "dtype",
)


class FootprintError(ConfigError):
    """A footprint cannot be made as asked: no stored run matches, no figure for the
    asked scope, an impossible count or period. The message says what to do."""


# ------------------------------------------------------------------ one query's energy


@dataclass(frozen=True)
class QueryEnergy:
    """The energy of one query that a footprint scales up, and where it comes from.

    ``energy_j`` is per query at the device (``scope``: the GPU, or every domain the
    meter read); ``low_j`` and ``high_j`` bound it as ``range_note`` says, or are None
    when nothing bounds it (a GPU without a cross-validated calibration). ``provenance``
    is ``predicted``, or ``measured`` / ``estimated`` as the runs were stored.
    ``stored_setting`` is the carbon setting the newest stored run kept (None for a
    prediction).
    """

    model: str
    energy_j: float
    low_j: float | None
    high_j: float | None
    provenance: str
    scope: Scope
    source: str
    range_note: str
    settings: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    stored_setting: CarbonSetting | None = None

    @property
    def from_store(self) -> bool:
        return self.provenance != PREDICTED

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "energy_j": self.energy_j,
            "energy_wh": j_to_wh(self.energy_j),
            "energy_low_j": self.low_j,
            "energy_high_j": self.high_j,
            "provenance": self.provenance,
            "scope": self.scope,
            "source": self.source,
            "range": self.range_note,
            "settings": dict(self.settings),
            "notes": list(self.notes),
            "detail": dict(self.detail),
        }


def _check_scope(scope: str | None) -> None:
    if scope is not None and scope not in SCOPE_WORDS:
        raise FootprintError(f"scope must be one of {', '.join(SCOPE_WORDS)}, got {scope!r}")


def _diffusion_band(calibration: Calibration) -> tuple[float, float, str] | None:
    """(low factor, high factor, words) from the calibration's cross-validation.

    A point's error is (predicted - measured) / measured, so the truth behind a
    prediction P lies at P / (1 + error): the band between the most positive and the
    most negative held-out error holds every point the calibration was checked on. Where
    only the mean absolute percentage error is kept, the band is plus or minus it. None
    for a GPU whose calibration was never cross-validated (carried over by datasheet).
    """
    cv = calibration.cv
    if not cv:
        return None
    errors = [
        float(p["energy_error"])
        for p in cv.get("per_point") or []
        if isinstance(p.get("energy_error"), int | float) and math.isfinite(p["energy_error"])
    ]
    what = f"{cv.get('method', 'cross-validation')}, {cv.get('points', len(errors))} points"
    mape = cv.get("energy_gpu_mape_pct")
    if errors:
        top, bottom = max(max(errors), 0.0), min(min(errors), 0.0)
        if bottom <= -1.0:
            return None
        return (
            1.0 / (1.0 + top),
            1.0 / (1.0 + bottom),
            f"every held-out error of the calibration's cross-validation ({what}: "
            f"{bottom * 100:+.1f} % to {top * 100:+.1f} %"
            + (f", mean absolute {mape:.1f} %" if isinstance(mape, int | float) else "")
            + ")",
        )
    if isinstance(mape, int | float) and 0 <= mape < 100:
        frac = mape / 100.0
        return 1.0 - frac, 1.0 + frac, f"plus or minus the cross-validated MAPE ({what})"
    return None


def _resolve_route(model: str) -> tuple[str, str]:
    """("diffusion", name) or ("task", repo id): which predictor covers ``model``.

    The suite's registry is asked first (its text-to-image and text-to-video entries
    point at the diffusion registry); a name only the diffusion registry knows (a tiny
    form) goes to the diffusion predictor. Unknown everywhere: the suite's error, which
    suggests close names.
    """
    from genwatt.models.registry import get_model
    from genwatt.models.tasks import get_task_model

    try:
        spec = get_task_model(model)
    except ConfigError as exc:
        try:
            return "diffusion", get_model(model).name
        except ConfigError:
            raise exc from None
    if spec.diffusion_model is not None:
        return "diffusion", spec.diffusion_model
    return "task", spec.repo_id


def _predicted_diffusion(
    name: str,
    gpu: str,
    batch: int,
    settings: Mapping[str, Any],
    calibration: Calibration | Path | None,
    scope: str | None,
) -> QueryEnergy:
    from genwatt.predict.predictor import predict

    if scope == "machine":
        raise FootprintError(
            f"the diffusion predictor gives GPU energy only, not the whole machine's, for "
            f"{name}; drop --scope machine, or use --from-store with runs that metered it"
        )
    prediction = predict(name, gpu, batch_size=batch, calibration=calibration, **settings)
    per_query = prediction.energy_gpu_j / batch
    band = _diffusion_band(prediction.calibration)
    summary = prediction.calibration.summary()
    if band is None:
        low = high = None
        range_note = (
            f"unknown: the {prediction.hardware.name} calibration has no cross-validated "
            f"error ({summary['source']})"
        )
    else:
        low, high = per_query * band[0], per_query * band[1]
        range_note = band[2]
    return QueryEnergy(
        model=name,
        energy_j=per_query,
        low_j=low,
        high_j=high,
        provenance=PREDICTED,
        scope="gpu",
        source=f"predicted by genwatt's diffusion predictor on {prediction.hardware.name} "
        f"(calibration: {summary['source']})",
        range_note=range_note,
        settings={**prediction.workload.config},
        detail=prediction.to_dict(),
        notes=tuple(prediction.workload.notes) + tuple(prediction.warnings),
    )


def _predict_task(model: str, gpu: str, **settings: Any) -> Any:
    """``genwatt.predict.task_predictor.predict_task``, imported when first needed."""
    try:
        from genwatt.predict.task_predictor import predict_task
    except ModuleNotFoundError as exc:  # pragma: no cover - before the task predictor lands
        if exc.name != "genwatt.predict.task_predictor":
            raise  # a module it needs is missing: our bug, not the user's
        raise FootprintError(
            f"this genwatt has no task predictor for {model}; use --from-store with "
            "stored `genwatt suite` runs of it"
        ) from exc
    return predict_task(model, gpu, **settings)


def _finite_or_none(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _predicted_task(
    name: str,
    gpu: str,
    task: str | None,
    batch: int,
    settings: Mapping[str, Any],
    scope: str | None,
) -> QueryEnergy:
    prediction = _predict_task(name, gpu, task=task, batch=batch, **settings)
    machine_j = _finite_or_none(getattr(prediction, "energy_machine_j", None))
    if scope == "machine":
        if machine_j is None:
            raise FootprintError(
                f"the task predictor gives no whole-machine energy for {name}; drop "
                "--scope machine (GPU energy), or ask for a whole-machine --protocol"
            )
        chosen: Scope = "machine"
        per_query = machine_j
    else:
        chosen = "gpu"
        per_query = float(prediction.energy_gpu_j)
    low_frac = _finite_or_none(getattr(prediction, "error_low_frac", None))
    high_frac = _finite_or_none(getattr(prediction, "error_high_frac", None))
    if low_frac is None or high_frac is None:
        low = high = None
        range_note = "unknown: the task predictor states no cross-validated error here"
    else:
        low = per_query * max(0.0, 1.0 - low_frac)
        high = per_query * (1.0 + high_frac)
        range_note = (
            f"the task predictor's cross-validated error band (-{low_frac * 100:.0f} % / "
            f"+{high_frac * 100:.0f} %)"
        )
    asked = {"task": task, "batch": batch, **settings}
    return QueryEnergy(
        model=name,
        energy_j=per_query,
        low_j=low,
        high_j=high,
        provenance=PREDICTED,
        scope=chosen,
        source=f"predicted by genwatt's task predictor on {gpu}",
        range_note=range_note,
        settings={k: v for k, v in asked.items() if v is not None},
        detail=prediction.to_dict(),
    )


def predicted_query_energy(
    model: str,
    gpu: str = "h100-sxm",
    *,
    task: str | None = None,
    batch: int | None = None,
    input_tokens: int | None = None,
    new_tokens: int | None = None,
    image_hw: tuple[int, int] | None = None,
    audio_s: float | None = None,
    protocol: str | None = None,
    num_frames: int | None = None,
    height: int | None = None,
    width: int | None = None,
    steps: int | None = None,
    guidance: float | None = None,
    scope: Scope | None = None,
    calibration: Calibration | Path | None = None,
) -> QueryEnergy:
    """One query of ``model`` on ``gpu``, predicted (provenance ``predicted``).

    Diffusion models (``--frames``, ``--height``, ``--width``, ``--steps``,
    ``--guidance``) go to the diffusion predictor, whose figure per pipeline call is
    divided by the batch; every other suite model (``task``, ``input_tokens``,
    ``new_tokens``, ``image_hw``, ``audio_s``, ``protocol``) to the task predictor. A
    setting of the other kind is refused rather than ignored. ``scope`` ``machine``
    needs a predictor that gives whole-machine energy (the task predictor, under a
    whole-machine protocol); the default is the GPU's.

    Raises:
        ConfigError: an unknown model or GPU, an impossible setting, or one that does
            not apply to the model.
    """
    _check_scope(scope)
    if batch is not None and (isinstance(batch, bool) or batch < 1):
        raise FootprintError(f"batch must be a whole number >= 1, got {batch!r}")
    route, name = _resolve_route(model)
    diffusion = {
        "num_frames": num_frames,
        "height": height,
        "width": width,
        "steps": steps,
        "guidance": guidance,
    }
    task_settings = {
        "input_tokens": input_tokens,
        "new_tokens": new_tokens,
        "image_hw": image_hw,
        "audio_s": audio_s,
        "protocol": protocol,
    }
    if route == "diffusion":
        wrong = [k for k, v in task_settings.items() if v is not None]
        if wrong:
            raise FootprintError(
                f"{name} is a diffusion model: {', '.join(wrong)} do not apply to it; "
                "give --frames, --height, --width, --steps or --guidance instead"
            )
        given = {k: v for k, v in diffusion.items() if v is not None}
        return _predicted_diffusion(name, gpu, batch or 1, given, calibration, scope)
    wrong = [k for k, v in diffusion.items() if v is not None]
    if wrong:
        raise FootprintError(
            f"{name} is not a diffusion model: {', '.join(wrong)} do not apply to it; "
            "give --input-tokens, --new-tokens, --image-size, --audio-seconds or --protocol"
        )
    return _predicted_task(name, gpu, task, batch or 1, task_settings, scope)


# ------------------------------------------------------------------ from the store


@dataclass(frozen=True)
class RunQueryEnergy:
    """One stored run's energy per query: a suite run's over the queries it ran, a
    sweep run's over its batch (a batch of four counts as four generations).

    ``gpu_j`` is the ``gpu*`` domains of the run's generation window per query (None
    when no GPU was read), ``machine_j`` every domain; each with its provenance.
    ``settings`` identify the configuration, ``label`` says it in words.
    """

    run_id: int | None
    model: str
    kind: str
    queries: int
    gpu_j: float | None
    gpu_provenance: str | None
    machine_j: float
    machine_provenance: str
    settings: dict[str, Any]
    label: str
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)
    started_at: float = 0.0


def _domains_j(window: WindowResult, gpu_only: bool) -> tuple[float | None, str | None]:
    chosen = [d for d in window.energy_j if d.startswith("gpu") or not gpu_only]
    if not chosen:
        return None, None
    provenance = Provenance(window.provenance[chosen[0]])
    for domain in chosen[1:]:
        provenance = weakest(provenance, Provenance(window.provenance[domain]))
    return sum(window.energy_j[d] for d in chosen), str(provenance)


def _label(kind: str, settings: Mapping[str, Any]) -> str:
    batch = settings.get("batch_size") or 1
    weights = settings.get("weights")
    if kind == SUITE_KIND:
        parts = [str(settings.get("task") or "?"), f"batch {batch}"]
        if settings.get("protocol"):
            parts.append(f"protocol {settings['protocol']}")
    else:
        parts = [settings_label(settings, guidance=True) or "default settings"]
        if batch != 1:
            parts.append(f"batch {batch}")
    if weights:
        parts.append(f"{weights} weights")
    if settings.get("device"):
        parts.append(str(settings["device"]))
    return ", ".join(parts)


def run_query_energy(record: RunRecord) -> RunQueryEnergy | None:
    """The energy per query of a stored suite or sweep run; None for any other run (a
    failure, a measured command, a mitigation comparison) or one without a generation
    window with energy."""
    if not record.ok or record.kind not in (SUITE_KIND, SWEEP_KIND):
        return None
    model = record.config.get("model")
    window = record.window(GENERATION)
    if not model or window is None or not window.energy_j:
        return None
    if record.kind == SUITE_KIND:
        queries = int(record.extra.get("queries_run") or record.config.get("queries") or 0)
        keys = _SUITE_SETTINGS
    else:
        queries = int(record.config.get("batch_size") or 1)
        keys = _SWEEP_SETTINGS
    if queries < 1:
        return None
    machine_j, machine_provenance = _domains_j(window, gpu_only=False)
    gpu_j, gpu_provenance = _domains_j(window, gpu_only=True)
    assert machine_j is not None and machine_provenance is not None  # window.energy_j is set
    settings = {k: record.config.get(k) for k in keys if record.config.get(k) is not None}
    return RunQueryEnergy(
        run_id=record.id,
        model=str(model),
        kind=record.kind,
        queries=queries,
        gpu_j=None if gpu_j is None else gpu_j / queries,
        gpu_provenance=gpu_provenance,
        machine_j=machine_j / queries,
        machine_provenance=machine_provenance,
        settings=settings,
        label=_label(record.kind, settings),
        extra=record.extra,
        started_at=record.started_at,
    )


def model_names(model: str) -> set[str]:
    """Every name a stored run of ``model`` may carry (lower case): its repo id, short
    name and aliases in both registries; the name as given when neither knows it."""
    from genwatt.models.registry import get_model
    from genwatt.models.tasks import get_task_model

    names = {model.strip().lower()}
    diffusion = [model]
    try:
        spec = get_task_model(model)
    except ConfigError:
        pass
    else:
        names.update(n.lower() for n in (spec.repo_id, *spec.aliases))
        if spec.diffusion_model:
            diffusion.append(spec.diffusion_model)
    for name in diffusion:
        try:
            found = get_model(name)
        except ConfigError:
            continue
        names.update(n.lower() for n in (found.name, found.repo_id or "", *found.aliases) if n)
    return names


def _filters(
    task: str | None,
    batch: int | None,
    protocol: str | None,
    new_tokens: int | None,
    diffusion: Mapping[str, Any],
) -> dict[str, Any]:
    wanted = {
        "task": task,
        "batch_size": batch,
        "protocol": protocol,
        "new_tokens": new_tokens,
        **diffusion,
    }
    return {k: v for k, v in wanted.items() if v is not None}


def _matches(run: RunQueryEnergy, wanted: Mapping[str, Any]) -> bool:
    for key, value in wanted.items():
        if key == "task" and run.kind == SWEEP_KIND:
            continue  # a diffusion model's sweep runs are all of its one task
        have = run.settings.get(key)
        if key == "new_tokens" and run.kind == SWEEP_KIND:
            have = run.settings.get("max_new_tokens")
        if key == "batch_size" and have is None:
            have = 1
        if have is None or have != value:
            return False
    return True


def matching_runs(
    runs: Iterable[RunQueryEnergy], model: str, wanted: Mapping[str, Any] | None = None
) -> list[RunQueryEnergy]:
    """The runs of ``model`` (any of its names) whose settings equal every ``wanted``
    one (keys as stored: ``task``, ``batch_size``, ``protocol``, ``new_tokens``,
    ``num_frames``, ``height``, ``width``, ``steps``, ``guidance``)."""
    names = model_names(model)
    return [r for r in runs if r.model.lower() in names and _matches(r, wanted or {})]


def measured_query_energy(
    runs: Sequence[RunQueryEnergy], scope: Scope | None = None
) -> QueryEnergy:
    """One query's energy from stored runs of one model, as they were stored.

    The energy is the query-weighted mean over the runs (every query counts once); the
    range is the lowest and the highest run, a spread between runs rather than a bound.
    ``scope`` ``gpu`` needs GPU energy in every run, ``machine`` takes every domain;
    None takes the GPU's where every run has it, else the whole machine's. Runs of
    several configurations are averaged, and a note says so.

    Raises:
        FootprintError: no runs, or GPU energy asked of runs that read no GPU.
    """
    _check_scope(scope)
    if not runs:
        raise FootprintError("no stored run to take the energy per query from")
    has_gpu = all(r.gpu_j is not None for r in runs)
    if scope == "gpu" and not has_gpu:
        raise FootprintError(
            "the matching stored runs read no GPU energy (CPU runs, or no GPU counter); "
            "use --scope machine for their whole-machine energy"
        )
    chosen: Scope = scope or ("gpu" if has_gpu else "machine")
    per_run = [(r.gpu_j if chosen == "gpu" else r.machine_j) or 0.0 for r in runs]
    provenances = [
        Provenance((r.gpu_provenance if chosen == "gpu" else r.machine_provenance) or "estimated")
        for r in runs
    ]
    provenance = provenances[0]
    for kind in provenances[1:]:
        provenance = weakest(provenance, kind)
    queries = sum(r.queries for r in runs)
    energy_j = sum(e * r.queries for e, r in zip(per_run, runs, strict=True)) / queries
    labels = list(dict.fromkeys(r.label for r in runs))
    notes: list[str] = []
    if len(labels) > 1:
        notes.append(
            f"averaged over {len(labels)} stored configurations ({'; '.join(labels)}); "
            "narrow with --task, --batch, --protocol, --new-tokens or the diffusion settings"
        )
    if any(r.settings.get("weights") == "tiny" for r in runs):
        notes.append(
            "tiny weights: miniatures of the real models, whose energy says nothing of a "
            "real service"
        )
    newest = max(runs, key=lambda r: r.started_at)
    try:
        setting = stored_setting(dict(newest.extra))
    except GenwattError as exc:  # a grid this version's table does not know
        setting = None
        notes.append(f"the stored grid is unusable ({exc}); priced as asked or on the world")
    if len(runs) == 1:
        range_note = "one stored run: no spread between runs to show"
    else:
        range_note = f"the lowest and highest of {len(runs)} stored runs (spread, not a bound)"
    words = "measured" if provenance == Provenance.MEASURED else str(provenance)
    return QueryEnergy(
        model=runs[0].model,
        energy_j=energy_j,
        low_j=min(per_run),
        high_j=max(per_run),
        provenance=str(provenance),
        scope=chosen,
        source=f"{words} in {len(runs)} stored run(s), {queries:,} queries "
        f"({SCOPE_WORDS[chosen]}, as stored, not predicted)",
        range_note=range_note,
        settings=dict(runs[0].settings) if len(labels) == 1 else {},
        detail={
            "run_ids": [r.run_id for r in runs],
            "configurations": labels,
            "queries": queries,
            "kinds": sorted({r.kind for r in runs}),
        },
        notes=tuple(notes),
        stored_setting=setting,
    )


def stored_query_energy(
    model: str,
    store: str | os.PathLike[str] | None = None,
    *,
    task: str | None = None,
    batch: int | None = None,
    protocol: str | None = None,
    new_tokens: int | None = None,
    num_frames: int | None = None,
    height: int | None = None,
    width: int | None = None,
    steps: int | None = None,
    guidance: float | None = None,
    scope: Scope | None = None,
) -> QueryEnergy:
    """One query of ``model`` from the stored suite and sweep runs of ``store`` (the
    default store when None) that match every setting given; see
    ``measured_query_energy``.

    Raises:
        FootprintError: no successful stored run of the model matches (one line, naming
            what the store holds of it).
        StoreError: the store cannot be opened.
    """
    from genwatt.store.store import ResultsStore

    diffusion = {
        "num_frames": num_frames,
        "height": height,
        "width": width,
        "steps": steps,
        "guidance": guidance,
    }
    wanted = _filters(task, batch, protocol, new_tokens, diffusion)
    with ResultsStore(store, create=False) as opened:
        path = opened.path
        records = [
            *opened.runs(kind=SUITE_KIND, status="ok"),
            *opened.runs(kind=SWEEP_KIND, status="ok"),
        ]
    runs = [r for r in (run_query_energy(rec) for rec in records) if r is not None]
    of_model = matching_runs(runs, model)
    found = matching_runs(of_model, model, wanted)
    if not found:
        raise FootprintError(_no_runs_message(model, path, wanted, of_model))
    return measured_query_energy(found, scope)


def _no_runs_message(
    model: str, path: Path, wanted: Mapping[str, Any], of_model: Sequence[RunQueryEnergy]
) -> str:
    asked = ", ".join(f"{k} {v}" for k, v in wanted.items())
    if of_model:
        stored = "; ".join(dict.fromkeys(r.label for r in of_model))
        return (
            f"no stored run of {model} in {path} matches {asked}: stored are {stored}; "
            "change the settings, or drop --from-store to predict"
        )
    return (
        f"no successful suite or sweep run of {model} in {path}: run `genwatt suite --models "
        f"{model}` or `genwatt bench --model {model}` first, or drop --from-store to predict "
        "(`genwatt results` lists what is stored)"
    )


# ------------------------------------------------------------------ at scale


def carbon_for(
    basis: QueryEnergy,
    country: str | None = None,
    pue: float | None = None,
    cloud: str | None = None,
) -> tuple[CarbonSetting, str]:
    """The grid and PUE to price a footprint on, and where they come from, in words.

    Stored runs keep the setting they were stored with, and what is asked now replaces
    its parts (``choose_setting``), as in ``genwatt report``. A prediction, or runs
    stored without a setting, take the flags, else ``$GENWATT_COUNTRY`` /
    ``$GENWATT_CLOUD`` and ``$GENWATT_PUE``, else the world average and a PUE of 1.
    """
    if basis.stored_setting is not None:
        return choose_setting(basis.stored_setting, country=country, pue=pue, cloud=cloud)
    setting = CarbonSetting.resolve(country, pue, cloud=cloud)
    if country or cloud:
        origin = "as asked"
    elif setting.is_default:
        origin = "no grid given: the world average"
    else:
        origin = "from the environment"
    return setting, origin


def _world_share(energy_j: float) -> GenerationShare:
    """``energy_j`` as a share of every country's latest yearly generation, summed."""
    rows = grid_data.countries()
    total_twh = sum(r.generation_twh for r in rows)
    return GenerationShare(
        energy_j=energy_j,
        fraction=energy_j / (total_twh * J_PER_TWH),
        iso3="WLD",
        name="the world",
        year=max(r.year for r in rows),
        generation_twh=total_twh,
        source=f"{grid_data.GENERATION_SOURCE}, summed over {len(rows)} countries' latest years",
    )


def generation_share(energy_j: float, grid: GridIntensity) -> GenerationShare | None:
    """``energy_j`` as a share of the yearly generation of ``grid``'s country (a cloud
    region's country; the world's for the world average); None when the country is not
    in today's table (a stored snapshot of an older one)."""
    if grid.is_default or grid.iso3 == "WLD":
        return _world_share(energy_j)
    try:
        return share_of_generation(energy_j, grid.iso3)
    except GenwattError:
        return None


@dataclass(frozen=True)
class Footprint:
    """``queries`` queries of ``basis``: once (``per`` None) or a year of ``count`` per
    ``per``. Energies in joules: ``energy_j`` at the device, ``co2e`` holds the
    facility energy (after the PUE) and its grams; the low and high figures scale with
    the per-query range and are None without one. ``provenance`` is the basis's."""

    basis: QueryEnergy
    count: float
    per: Period | None
    queries: float
    carbon: CarbonSetting
    grid_origin: str
    energy_j: float
    energy_low_j: float | None
    energy_high_j: float | None
    co2e: Co2eResult
    equivalents: tuple[Equivalent, ...]
    share: GenerationShare | None

    @property
    def provenance(self) -> str:
        return self.basis.provenance

    @property
    def energy_facility_j(self) -> float:
        return self.co2e.energy_j_facility

    def _facility(self, energy_j: float | None) -> float | None:
        return None if energy_j is None else energy_j * self.carbon.pue

    def _grams(self, energy_j: float | None) -> float | None:
        return None if energy_j is None else self.carbon.co2e(energy_j).co2e_g

    @property
    def period_words(self) -> str:
        """``a year`` for a yearly footprint, ``in total`` for a one-off count."""
        return "a year" if self.per is not None else "in total"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: kWh and kg at this edge. ``energy_kwh`` is what the grid delivers
        (device energy x PUE); ``energy_kwh_device`` what the device used."""

        def kwh(energy_j: float | None) -> float | None:
            return None if energy_j is None else j_to_kwh(energy_j)

        def kg(grams: float | None) -> float | None:
            return None if grams is None else grams / 1000.0

        share = None
        if self.share is not None:
            share = self.share.to_dict() | {"percent": self.share.fraction * 100.0}
        return {
            "model": self.basis.model,
            "provenance": self.provenance,
            "count": self.count,
            "per": self.per,
            "queries": self.queries,
            "period": "year" if self.per is not None else "total",
            "energy_kwh": kwh(self.energy_facility_j),
            "energy_kwh_low": kwh(self._facility(self.energy_low_j)),
            "energy_kwh_high": kwh(self._facility(self.energy_high_j)),
            "energy_kwh_device": kwh(self.energy_j),
            "energy_scope": self.basis.scope,
            "energy_text": energy_text(self.energy_facility_j),
            "co2e_kg": kg(self.co2e.co2e_g),
            "co2e_kg_low": kg(self._grams(self.energy_low_j)),
            "co2e_kg_high": kg(self._grams(self.energy_high_j)),
            "per_query": self.basis.to_dict(),
            "grid": self.carbon.to_dict()
            | {"description": self.carbon.describe(), "origin": self.grid_origin},
            "equivalents": [e.to_dict() for e in self.equivalents],
            "share_of_generation": share,
        }

    def lines(self) -> list[str]:
        """The footprint in words, one fact a line, for a terminal or a page."""
        b = self.basis
        scope = SCOPE_WORDS[b.scope]
        out = [
            f"{b.model}: one query = {energy_text(b.energy_j)} ({b.provenance}, {scope}); "
            f"{b.source}"
        ]
        if self.per is not None:
            out.append(
                f"{count_text(self.count)} queries a {self.per} = {count_text(self.queries)} a year"
            )
        else:
            out.append(f"{count_text(self.queries)} queries")
        facility = " after the PUE" if self.carbon.pue != 1.0 else ""
        out.append(
            f"energy {self.period_words}: {energy_text(self.energy_facility_j)}{facility} "
            f"({self.provenance}){self._range_text()}"
        )
        low_g, high_g = self._grams(self.energy_low_j), self._grams(self.energy_high_j)
        spread = (
            f" (range {fmt.mass_g(low_g)} to {fmt.mass_g(high_g)})"
            if low_g is not None and high_g is not None and low_g != high_g
            else ""
        )
        out.append(
            f"CO2e {self.period_words}: {fmt.mass_g(self.co2e.co2e_g)}{spread} on "
            f"{self.carbon.describe()} ({self.grid_origin})"
        )
        if self.equivalents:
            out.append("≈ " + " · ".join(e.text() for e in self.equivalents))
            out.append("factors: " + "; ".join(e.citation for e in self.equivalents))
        if self.share is not None:
            out.append(f"= {share_text(self.share)}")
        out.extend(f"note: {note}" for note in b.notes)
        return out

    def _range_text(self) -> str:
        low, high = self._facility(self.energy_low_j), self._facility(self.energy_high_j)
        if low is None or high is None:
            return f"; range {self.basis.range_note}"
        if low == high:
            return f"; {self.basis.range_note}"
        return f", range {energy_text(low)} to {energy_text(high)} ({self.basis.range_note})"

    def relatable(self) -> str:
        """The one equivalent a reader pictures best: households first."""
        return most_relatable(list(self.equivalents), FLEET_ORDER)


def footprint(
    basis: QueryEnergy,
    count: float,
    per: Period | None = None,
    *,
    carbon: CarbonSetting | None = None,
    grid_origin: str = "",
    country: str | None = None,
    pue: float | None = None,
    cloud: str | None = None,
) -> Footprint:
    """``count`` queries of ``basis`` (per ``per``, scaled to a year), priced on
    ``carbon`` (else ``carbon_for(basis, country, pue, cloud)``).

    Raises:
        FootprintError: ``count`` is not a finite number above zero, or ``per`` is not
            ``day``, ``week`` or ``year``.
        ConfigError, UnknownCountryError: the grid or PUE asked for is unknown or
            impossible.
    """
    if isinstance(count, bool) or not isinstance(count, int | float):
        raise FootprintError(f"count must be a number of queries, got {count!r}")
    if not math.isfinite(count) or count <= 0:
        raise FootprintError(f"count must be a finite number of queries above 0, got {count!r}")
    if per is not None and per not in PER_YEAR:
        raise FootprintError(f"per must be one of {', '.join(PER_YEAR)}, got {per!r}")
    if carbon is None:
        carbon, grid_origin = carbon_for(basis, country, pue, cloud)
    queries = count * PER_YEAR[per] if per is not None else float(count)

    def scaled(energy_j: float | None) -> float | None:
        return None if energy_j is None else energy_j * queries

    energy_j = basis.energy_j * queries
    co2e = carbon.co2e(energy_j)
    return Footprint(
        basis=basis,
        count=float(count),
        per=per,
        queries=queries,
        carbon=carbon,
        grid_origin=grid_origin,
        energy_j=energy_j,
        energy_low_j=scaled(basis.low_j),
        energy_high_j=scaled(basis.high_j),
        co2e=co2e,
        equivalents=tuple(fleet_equivalents(co2e.energy_j_facility, co2e.co2e_g)),
        share=generation_share(co2e.energy_j_facility, carbon.intensity),
    )


def service_footprint(
    model: str,
    count: float,
    per: Period | None = None,
    *,
    gpu: str = "h100-sxm",
    from_store: bool = False,
    store: str | os.PathLike[str] | None = None,
    country: str | None = None,
    pue: float | None = None,
    cloud: str | None = None,
    scope: Scope | None = None,
    task: str | None = None,
    batch: int | None = None,
    input_tokens: int | None = None,
    new_tokens: int | None = None,
    image_hw: tuple[int, int] | None = None,
    audio_s: float | None = None,
    protocol: str | None = None,
    num_frames: int | None = None,
    height: int | None = None,
    width: int | None = None,
    steps: int | None = None,
    guidance: float | None = None,
    calibration: Calibration | Path | None = None,
) -> Footprint:
    """What ``genwatt footprint`` computes: ``count`` queries of ``model`` (per ``per``),
    from a prediction on ``gpu`` or, with ``from_store``, from the stored runs of
    ``store`` (``gpu`` then plays no part: the runs ran where they ran).

    Raises:
        FootprintError: see ``stored_query_energy`` and ``footprint``.
        ConfigError: see ``predicted_query_energy``.
    """
    if from_store:
        ignored = [
            name
            for name, value in (
                ("input_tokens", input_tokens),
                ("image_hw", image_hw),
                ("audio_s", audio_s),
                ("calibration", calibration),
            )
            if value is not None
        ]
        if ignored:
            raise FootprintError(
                f"{', '.join(ignored)} cannot select stored runs (the store keeps the "
                "queries' sizes per run, not as settings); drop them with --from-store"
            )
        basis = stored_query_energy(
            model,
            store,
            task=task,
            batch=batch,
            protocol=protocol,
            new_tokens=new_tokens,
            num_frames=num_frames,
            height=height,
            width=width,
            steps=steps,
            guidance=guidance,
            scope=scope,
        )
    else:
        basis = predicted_query_energy(
            model,
            gpu,
            task=task,
            batch=batch,
            input_tokens=input_tokens,
            new_tokens=new_tokens,
            image_hw=image_hw,
            audio_s=audio_s,
            protocol=protocol,
            num_frames=num_frames,
            height=height,
            width=width,
            steps=steps,
            guidance=guidance,
            scope=scope,
            calibration=calibration,
        )
    return footprint(basis, count, per, country=country, pue=pue, cloud=cloud)


# ------------------------------------------------------------------ words

# (joules per unit, unit), largest first: a service's energy from kWh up to TWh; a single
# query's down to µWh.
_ENERGY_UNITS = (
    (3.6e15, "TWh"),
    (3.6e12, "GWh"),
    (3.6e9, "MWh"),
    (3.6e6, "kWh"),
    (3.6e3, "Wh"),
    (3.6, "mWh"),
)


def energy_text(energy_j: float | None) -> str:
    """``7.04 GWh``: an energy in the unit that keeps its number at least 1 (µWh below
    a mWh), three significant figures, never an exponent."""
    if not fmt.is_number(energy_j):
        return fmt.DASH
    assert energy_j is not None
    if energy_j == 0:
        return "0 Wh"
    for factor, unit in _ENERGY_UNITS:
        if abs(energy_j) >= factor:
            return f"{fmt.sig(energy_j / factor)} {unit}"
    return f"{fmt.sig(energy_j / 3.6e-3)} µWh"


def count_text(count: float) -> str:
    """``40,000,000``; ``2.5`` for a count that is not whole."""
    if float(count).is_integer():
        return f"{count:,.0f}"
    return fmt.sig(count)


def share_text(share: GenerationShare) -> str:
    """``0.0042 % of the yearly electricity generation of France (514 TWh in 2023)``."""
    return (
        f"{fmt.sig(share.fraction * 100.0, 2)} % of the yearly electricity generation of "
        f"{share.name} ({fmt.sig(share.generation_twh)} TWh in {share.year})"
    )


__all__ = [
    "DAYS_PER_YEAR",
    "PER_YEAR",
    "WEEKS_PER_YEAR",
    "Footprint",
    "FootprintError",
    "QueryEnergy",
    "RunQueryEnergy",
    "carbon_for",
    "count_text",
    "energy_text",
    "footprint",
    "generation_share",
    "matching_runs",
    "measured_query_energy",
    "model_names",
    "predicted_query_energy",
    "run_query_energy",
    "service_footprint",
    "share_text",
    "stored_query_energy",
]
