"""One query's energy, the figure a service footprint scales up: predicted or stored.

- **predicted**: diffusion models through ``genwatt.predict.predictor`` (its figure per
  pipeline call over the batch), every other suite model through
  ``genwatt.predict.task_predictor``; the low-high range is the predictor's
  cross-validated error;
- **from the store**: the measured or estimated energy per query of stored suite and
  sweep runs, as stored; the low-high range is the spread between the runs.

Joules inside; every ``QueryEnergy`` carries the provenance of its figure.
``genwatt.predict.footprint`` turns one into a service's yearly or one-off total.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from genwatt.carbon.setting import CarbonSetting, stored_setting
from genwatt.errors import ConfigError, GenwattError
from genwatt.labels import settings_label
from genwatt.meter.aggregate import weakest
from genwatt.meter.phases import GENERATION
from genwatt.meter.result import Provenance, WindowResult
from genwatt.predict.harness import PIPELINE
from genwatt.units import j_to_wh

if TYPE_CHECKING:
    from genwatt.predict.calibration import Calibration
    from genwatt.predict.diffusion_protocol import DiffusionRun
    from genwatt.store.records import RunRecord

Scope = Literal["gpu", "machine"]

PREDICTED = "predicted"
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


def _predicted_diffusion(
    name: str,
    gpu: str,
    batch: int,
    settings: Mapping[str, Any],
    calibration: Calibration | Path | None,
    scope: str | None,
    run: DiffusionRun | None = None,
) -> QueryEnergy:
    """The diffusion predictor's figure per image or clip; under a protocol (``run``) its
    settings, and the whole machine's energy where the protocol scores it."""
    from genwatt.predict.calibration import uncalibrated_precision
    from genwatt.predict.diffusion_protocol import protocol_fields
    from genwatt.predict.predictor import predict

    machine = run is not None and run.machine_energy
    if scope == "machine" and not machine:
        raise FootprintError(
            f"the diffusion predictor gives GPU energy only, not the whole machine's, for "
            f"{name}; drop --scope machine, ask for a whole-machine --protocol, or use "
            "--from-store with runs that metered it"
        )
    prediction = predict(name, gpu, batch_size=batch, calibration=calibration, **settings)
    detail = prediction.to_dict()
    chosen: Scope = "gpu"
    per_query = prediction.energy_gpu_j / batch
    notes: tuple[str, ...] = ()
    if run is not None:
        detail |= protocol_fields(run, prediction.energy_gpu_j, prediction.latency_s, batch)
        notes = run.notes
        if scope == "machine":
            chosen = "machine"
            per_query = detail["energy_machine_j"] / batch
    band = _diffusion_band(prediction.calibration)
    summary = prediction.calibration.summary()
    precision = uncalibrated_precision(prediction.workload, prediction.calibration)
    if precision is not None:
        low = high = None
        range_note = (
            f"unknown: the {prediction.hardware.name} calibration's cross-validated error "
            f"covers no {precision} run (see docs/validation.md for a check of that transfer)"
        )
    elif band is None:
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
        scope=chosen,
        source=f"predicted by genwatt's diffusion predictor on {prediction.hardware.name} "
        f"(calibration: {summary['source']})",
        range_note=range_note,
        settings={**prediction.workload.config},
        detail=detail,
        notes=notes + tuple(prediction.workload.notes) + tuple(prediction.warnings),
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
    calibration: Path | None = None,
) -> QueryEnergy:
    # A service drives its model as a pipeline does, not through a benchmark's harness
    # (AI Energy Score's round trip of preprocessed images through Arrow is not a
    # service's cost): a protocol fixes settings and datasets here, never the harness.
    prediction = _predict_task(
        name,
        gpu,
        task=task,
        batch=batch,
        calibration=calibration,
        harness=PIPELINE,
        **settings,
    )
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
        notes=tuple(prediction.notes),
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
    from genwatt.predict.route import predictor_route

    route, name = predictor_route(model)
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
        wrong = [k for k, v in task_settings.items() if v is not None and k != "protocol"]
        if wrong:
            raise FootprintError(
                f"{name} is a diffusion model: {', '.join(wrong)} do not apply to it; "
                "give --frames, --height, --width, --steps or --guidance instead"
            )
        run = None
        if task is not None or protocol is not None:
            from genwatt.predict.diffusion_protocol import diffusion_run

            run = diffusion_run(
                name,
                task=task,
                protocol=protocol,
                batch=batch or 1,
                steps=steps,
                guidance=guidance,
            )
            diffusion |= run.settings
        given = {k: v for k, v in diffusion.items() if v is not None}
        return _predicted_diffusion(name, gpu, batch or 1, given, calibration, scope, run)
    wrong = [k for k, v in diffusion.items() if v is not None]
    if wrong:
        raise FootprintError(
            f"{name} is not a diffusion model: {', '.join(wrong)} do not apply to it; "
            "give --input-tokens, --new-tokens, --image-size, --audio-seconds or --protocol"
        )
    if calibration is not None and not isinstance(calibration, Path):
        raise FootprintError(
            f"{name} is predicted by the task model: --calibration takes the JSON file "
            "`genwatt calibrate --tasks --out` writes"
        )
    return _predicted_task(name, gpu, task, batch or 1, task_settings, scope, calibration)


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


__all__ = [
    "PREDICTED",
    "SCOPE_WORDS",
    "FootprintError",
    "QueryEnergy",
    "RunQueryEnergy",
    "Scope",
    "matching_runs",
    "measured_query_energy",
    "model_names",
    "predicted_query_energy",
    "run_query_energy",
    "stored_query_energy",
]
