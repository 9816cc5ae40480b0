"""Predict one query of any suite model before it runs: latency, GPU and machine energy.

``predict_task("distilbert-sst2", "h100-sxm")`` counts the compute of the task's typical
query on the meta device (``genwatt.flops.task_compute``: FLOPs, bytes, kernel launches,
per phase), applies the task model (``genwatt.predict.task_model``: roofline plus launch,
step and host times; idle plus load-dependent power) with the GPU's calibration
(``genwatt.predict.task_calibration``), and returns a ``TaskPrediction`` whose every
figure is labelled ``predicted``.

With ``protocol`` the prediction is for a run of that protocol on the model's task: its
batch size, precision and the typical inputs of its datasets, stated in the output;
per-1,000-query figures are on the protocol's basis (GPU only for AI Energy Score, the
whole machine for Power Hungry Processing), and the queries are driven as the protocol's
own benchmark drives them (``genwatt.predict.harness``; AI Energy Score generates
greedily too).

The uncertainty band is the spread of the calibration's leave-one-model-out errors: the
10th to 90th percentile of predicted over measured energy on queries of models the fit
never saw. A calibration carried to another GPU by its datasheet has no error of its own
there; the band is then the reference GPU's, and says so.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genwatt.errors import ConfigError
from genwatt.flops.task_inputs import generation_settings
from genwatt.models.tasks.catalog import get_task
from genwatt.models.tasks.protocols import get_protocol, protocol_dtype
from genwatt.models.tasks.registry import get_task_model
from genwatt.models.tasks.spec import TaskModelSpec
from genwatt.models.tasks.workloads import workload_stats
from genwatt.predict.hardware import get_profile
from genwatt.predict.harness import ENERGY_STAR, HARNESSES, PIPELINE, energy_star_cost
from genwatt.predict.task_model import HOST_PHASE, PREPROCESS_PHASE
from genwatt.predict.typical_compute import protocol_overrides
from genwatt.units import j_to_wh

PROVENANCE = "predicted"
PER = 1000
BAND_QUANTILES = (0.1, 0.9)


@dataclass(frozen=True)
class TaskPrediction:
    """One query's predicted latency and energy, how they were derived, and their band.

    Energies are per query (a batch's energy over its queries); ``error_low_frac`` and
    ``error_high_frac`` bound the truth as ``energy x (1 - low)`` to ``energy x (1 +
    high)``, None where no cross-validation exists.
    """

    model: str
    task: str
    gpu: str
    batch: int
    dtype: str
    protocol: str | None
    compute: dict[str, Any]
    estimate: dict[str, Any]
    latency_s: float
    energy_gpu_j: float
    energy_machine_j: float | None
    floor_j: float
    calibration: dict[str, Any]
    error_low_frac: float | None
    error_high_frac: float | None
    band_source: str
    notes: tuple[str, ...] = ()
    provenance: str = PROVENANCE
    settings: dict[str, Any] = field(default_factory=dict)
    harness: str = PIPELINE

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: joules and seconds, plus Wh per 1,000 queries at the edges."""
        basis = get_protocol(self.protocol).basis if self.protocol else "both"
        data: dict[str, Any] = {
            "model": self.model,
            "task": self.task,
            "gpu": self.gpu,
            "batch": self.batch,
            "dtype": self.dtype,
            "protocol": self.protocol,
            "harness": self.harness,
            "settings": dict(self.settings),
            "latency_s": self.latency_s,
            "energy_gpu_j": self.energy_gpu_j,
            "energy_machine_j": self.energy_machine_j,
            "energy_gpu_wh_per_1000": j_to_wh(self.energy_gpu_j) * PER,
            "energy_floor_j": self.floor_j,
            "flops": self.compute.get("total", {}).get("flops"),
            "compute": self.compute,
            "estimate": self.estimate,
            "error_low_frac": self.error_low_frac,
            "error_high_frac": self.error_high_frac,
            "band_source": self.band_source,
            "calibration": self.calibration,
            "notes": list(self.notes),
            "provenance": self.provenance,
        }
        if basis in ("machine", "both") and self.energy_machine_j is not None:
            data["energy_wh_per_1000"] = j_to_wh(self.energy_machine_j) * PER
        if self.harness == ENERGY_STAR:
            data["ai_energy_score_summary"] = ai_energy_score_summary(
                self.estimate["energy_by_phase_j"], self.batch
            )
        return data


def ai_energy_score_summary(energy_by_phase_j: dict[str, float], batch: int) -> dict[str, Any]:
    """The predicted GPU energy in the shape of AI Energy Score's ``GPU_ENERGY_SUMMARY.json``
    (Wh per 1,000 queries): ``preprocess_wh``, then ``forward_wh``, or ``prefill_wh`` and
    ``decode_wh`` for a generating model, and ``total``.

    Its prefill run is ``generate`` with one new token (the encoder, the first forward
    and the per-query host work) and its decode the full run less that, so the host time
    lands in prefill; in a forward task, in forward.
    """

    def wh(*names: str) -> float:
        return j_to_wh(sum(energy_by_phase_j.get(n, 0.0) for n in names)) * PER / batch

    summary: dict[str, Any] = {"unit": "Wh per 1,000 queries"}
    summary["preprocess_wh"] = wh(PREPROCESS_PHASE)
    if "decode" in energy_by_phase_j or "prefill" in energy_by_phase_j:
        summary["prefill_wh"] = wh("encode", "prefill", HOST_PHASE)
        summary["decode_wh"] = wh("decode")
    else:
        summary["forward_wh"] = wh(*(n for n in energy_by_phase_j if n != PREPROCESS_PHASE))
    summary["total"] = wh(*energy_by_phase_j)
    summary["provenance"] = PROVENANCE
    return summary


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def error_band(calibration: Any) -> tuple[float | None, float | None, str]:
    """(low, high, where from): the relative band of the leave-one-model-out energy errors
    of ``calibration``, or of the reference GPU's when it was carried over."""
    from genwatt.predict.task_calibration import REFERENCE_GPU, shipped_task_calibration

    source = calibration
    where = f"leave-one-model-out on {calibration.gpu}"
    if "leave-one-model-out" not in calibration.cv:
        source = shipped_task_calibration(REFERENCE_GPU)
        where = f"leave-one-model-out on {REFERENCE_GPU} (no error is known on {calibration.gpu})"
    points = (source.cv.get("leave-one-model-out", {}) if source else {}).get("per_point", [])
    # predicted / measured = 1 + error; the truth is predicted / ratio.
    ratios = [1.0 + p["energy_error"] for p in points if p.get("energy_error") is not None]
    ratios = [r for r in ratios if r > 0]
    if len(ratios) < 5:
        return None, None, "no cross-validated error"
    low_ratio, high_ratio = (_quantile(ratios, q) for q in BAND_QUANTILES)
    # truth between predicted / high_ratio and predicted / low_ratio
    return (
        1.0 - 1.0 / high_ratio,
        1.0 / low_ratio - 1.0,
        where
        + (
            f", {len(ratios)} points, 10th-90th percentile; median ratio "
            f"{statistics.median(ratios):.2f}"
        ),
    )


def cache_dir() -> Path:
    """Where counted compute is kept between processes: ``$GENWATT_CACHE_DIR`` or
    ``~/.cache/genwatt``, one folder per genwatt version (a new version recounts)."""
    import os

    from genwatt.version import __version__

    root = os.environ.get("GENWATT_CACHE_DIR")
    base = Path(root) if root else Path("~/.cache/genwatt").expanduser()
    return base / "task-compute" / __version__


def cached_compute(spec: TaskModelSpec, task: str, **settings: Any) -> Any:
    """``task_compute`` for these settings: shipped for a typical query
    (``genwatt.predict.typical_compute``), else from the disk cache when it was counted
    before, else counted now.

    Counting builds the model on the meta device, which needs torch and transformers
    (seconds to import); a cached count needs neither, so a repeated prediction answers
    at once. The cache is a convenience: an unreadable or unwritable one is skipped.
    """
    import hashlib
    import json

    from genwatt.flops.task_result import TaskCompute
    from genwatt.predict.typical_compute import compute_key, shipped_counts

    key = compute_key(spec, task, settings)
    shipped = shipped_counts().get(key)
    if shipped is not None:
        return TaskCompute.from_dict(shipped)
    path = cache_dir() / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"
    try:
        return TaskCompute.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    from genwatt.flops.task_compute import task_compute

    compute = task_compute(spec, task, **settings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(compute.to_dict(), default=str))
    except OSError:
        pass  # a read-only home: count again next time
    return compute


def processed_pixels(inputs: dict[str, Any]) -> float:
    """The model's input image in pixels (height x width), 0 without one."""
    hw = inputs.get("model_image_hw")
    return float(hw[0]) * float(hw[1]) if hw else 0.0


def _check_task(spec: TaskModelSpec, task: str | None) -> str:
    if spec.is_diffusion:
        raise ConfigError(
            f"{spec.repo_id} is a diffusion model: predict it with `genwatt predict --model "
            f"{spec.diffusion_model}` and its diffusion settings."
        )
    if task is None:
        return spec.tasks[0]
    name = get_task(task).name
    if name not in spec.tasks:
        raise ConfigError(f"{spec.repo_id} does not run {name}; it runs {', '.join(spec.tasks)}.")
    return name


def predict_task(
    model: str,
    gpu: str = "h100-sxm",
    *,
    task: str | None = None,
    batch: int = 1,
    input_tokens: float | None = None,
    new_tokens: int | None = None,
    image_hw: tuple[int, int] | None = None,
    audio_s: float | None = None,
    dtype: str | None = None,
    protocol: str | None = None,
    calibration: Path | None = None,
    harness: str | None = None,
) -> TaskPrediction:
    """Latency and energy of one query of ``model`` on ``gpu``, predicted.

    Unset inputs take the task's typical query (its anchor datasets' mean sizes) and its
    fixed generation length. ``protocol`` fixes batch size and precision as that protocol
    runs them. Raises ``ConfigError`` for an unknown model, task or GPU, or an input the
    model does not take. ``harness`` is how the queries are driven: ``"pipeline"`` (a
    transformers pipeline per query, as genwatt's suite and Power Hungry Processing run
    them) or ``"energy-star"`` (AI Energy Score's harness, ``genwatt.predict.harness``);
    unset, the protocol's own (a pipeline without a protocol).
    """
    from genwatt.predict.task_calibration import estimate_with, task_calibration_for

    spec = get_task_model(model)
    name = _check_task(spec, task)
    hardware = get_profile(gpu)
    notes: list[str] = []
    chosen = get_protocol(protocol) if protocol is not None else None
    overrides: dict[str, Any] = {}
    if chosen is not None:
        if batch not in chosen.batch_sizes and chosen.fixed:
            raise ConfigError(f"--protocol {protocol} runs batch size 1; drop --batch {batch}.")
        dtype = protocol_dtype(chosen, name, dtype)
        sizes_given = any(v is not None for v in (input_tokens, image_hw, audio_s))
        overrides = protocol_overrides(
            chosen, spec, name, sizes_given=sizes_given, new_tokens_given=new_tokens is not None
        )
        new_tokens = overrides.pop("new_tokens", new_tokens)
        datasets = ", ".join(workload_stats(name, chosen.name).dataset_names)
        notes.append(
            f"{chosen.name}: {chosen.description}; "
            + ("the sizes given" if sizes_given else f"the typical query of {datasets}")
        )
        if "beams" in overrides:
            notes.append(
                f"{chosen.name} generates greedily (one beam, no sampling), not with the "
                f"{generation_settings(spec, name)[1]} beams the model's pipeline uses"
            )
        if new_tokens is not None and new_tokens == chosen.new_tokens_for(name):
            notes.append(
                f"{chosen.name} generates {new_tokens} tokens per query on {name} (its "
                f"benchmark's fixed length), not the catalog's {generation_settings(spec, name)[0]}"
            )
    if batch < 1:
        raise ConfigError(f"--batch must be 1 or more, got {batch}.")
    compute = cached_compute(
        spec,
        name,
        batch=batch,
        input_tokens=input_tokens,
        new_tokens=new_tokens,
        image_hw=image_hw,
        audio_s=audio_s,
        dtype=dtype,
        **overrides,
    )
    cal = task_calibration_for(hardware, calibration)
    driven_by = harness or (chosen.harness if chosen is not None else PIPELINE)
    if driven_by not in HARNESSES:
        raise ConfigError(f"--harness must be one of {', '.join(HARNESSES)}, got {harness!r}.")
    cost = None
    if driven_by == ENERGY_STAR:
        cost = energy_star_cost(name, processed_pixels(compute.inputs))
        notes.append(
            "driven as AI Energy Score does (optimum-benchmark's energy_star harness), not "
            "by a pipeline: the dataset is preprocessed first (GPU at rest), then "
            "model.forward/generate per query; host time per query "
            f"{cost.loop_delta_s * 1e3:+.2f} ms against a pipeline, "
            f"{cost.preprocess_s * 1e3:.2f} ms of preprocessing ({cost.source})"
        )
    est = estimate_with(compute, cal, batch=batch, task=name, harness=cost)
    low, high, band = error_band(cal)
    notes.extend(compute.notes)
    return TaskPrediction(
        model=spec.repo_id,
        task=name,
        gpu=hardware.name,
        batch=batch,
        dtype=compute.dtype,
        protocol=protocol,
        compute=compute.to_dict(),
        estimate=est.to_dict(),
        latency_s=est.latency_s_per_query,
        energy_gpu_j=est.energy_gpu_j_per_query,
        energy_machine_j=est.energy_machine_j_per_query,
        floor_j=est.floor_j / batch,
        calibration=cal.summary(),
        error_low_frac=low,
        error_high_frac=high,
        band_source=band,
        notes=tuple(notes),
        settings=dict(compute.inputs),
        harness=driven_by,
    )
