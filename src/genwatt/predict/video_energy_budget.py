"""The published H100 measurements of "Video Killed the Energy Budget", as observations.

Delavande, Pierrard, Luccioni (2025), arXiv 2509.19222; the CSVs live in
shared/reference/video_energy_budget (see its README). This module knows what those
files mean and what they get wrong, so that calibration, validation and
``genwatt check-reference`` read them the same way:

- The WAN sweeps ran at 1280x720, guidance 5, with frame counts rounded by WanPipeline
  (``n // 4 * 4 + 1``: 52 runs as 53, 20 as 21, 92 as 93; the README's "52 runs as 49"
  is not what the formula gives, and the measured latencies side with the formula).
- The resolution sweep is known only by two energies quoted in the README.
- In the cross-model table the two WAN models are mislabelled (480x832, 60 steps);
  the job ran 1280x720, 81 frames, 50 steps (``WAN_MISLABEL``).
- AnimateDiff-Lightning is the v1-5-2 motion-adapter architecture on an SD 1.5 base,
  run with 4 steps and guidance 1; LTX-Video-0.9.7-dev is the 13B LTX transformer in a
  two-pass recipe (``ltx_097_workload``) whose energies are summed over its stages.

Nothing here is needed at prediction time: the shipped calibration keeps the
workloads it was fitted on. ``find_reference_dir`` locates shared/ for tools and tests;
``CSV_LAYOUTS`` tells ``genwatt.predict.observations.from_csv`` how to read the
cross-model table, so that the generic reader needs to know nothing about this paper.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections import defaultdict
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from genwatt.flops import generation_flops
from genwatt.models import get_model, resolve_params
from genwatt.predict.generation_compute import (
    Workload,
    config_of,
    stage_from_flops,
    workload_for,
)
from genwatt.predict.observations import (
    CsvLayout,
    Observation,
    float_or_none,
    merge,
    observation_for,
    read_csv_rows,
    row_measurements,
)
from genwatt.predict.shared_reference import find_shared, require_shared
from genwatt.units import kwh_to_j, wh_to_j

CITATION = (
    "Delavande, Pierrard, Luccioni (2025), Video Killed the Energy Budget, "
    "arXiv 2509.19222; one H100 SXM, CodeCarbon/NVML"
)
SUBDIR = "reference/video_energy_budget"
SWEEP_FILE = "wan21_1.3b_sweep_points_h100.csv"
CROSS_MODEL_FILE = "cross_model_h100.csv"
WAN_MODEL = "wan2.1-t2v-1.3b"
WAN_GUIDANCE = 5.0

# The paper's own analytical model and its published MAPE (energy %, latency %).
PAPER_MAPE_PCT: dict[str, tuple[float, float]] = {
    "frames": (6.60, 10.45),
    "resolution": (11.60, 14.01),
    "steps": (1.90, 1.90),
}

# Quoted in shared/reference/README.md: the resolution sweep's GPU energy at 81
# frames, 50 steps (no latency published in the files).
RESOLUTION_POINTS_WH: tuple[tuple[int, int, float], ...] = ((480, 832, 19.2), (720, 1280, 76.1))

# What the two WAN rows of the cross-model table really ran (README "Known mislabel").
WAN_MISLABEL: dict[str, Any] = {"height": 720, "width": 1280, "num_frames": 81, "steps": 50}


def find_reference_dir(start: Path | None = None) -> Path | None:
    """shared/reference/video_energy_budget inside or beside the repository, or None."""
    return find_shared(SUBDIR, start)


def require_reference_dir(folder: Path | None = None) -> Path:
    return require_shared(SUBDIR, folder)


# --------------------------------------------------------------------------- sweeps


def sweep_observations(folder: Path | None = None) -> list[Observation]:
    """The frames and steps sweep points (WAN2.1-T2V-1.3B at 1280x720, guidance 5)."""
    path = require_reference_dir(folder) / SWEEP_FILE
    observations = []
    for row in read_csv_rows(path):
        latency_s, energy_j = row_measurements(row)
        sweep = row["sweep"]
        varied = row["num_frames"] if sweep == "frames" else row["steps"]
        obs = observation_for(
            WAN_MODEL,
            {**row, "guidance": WAN_GUIDANCE},
            latency_s=latency_s,
            energy_gpu_j=energy_j,
            label=f"{sweep} {varied}",
            group=sweep,
            source=f"{SWEEP_FILE} ({CITATION})",
        )
        ran = obs.workload.config["num_frames"]
        if sweep == "frames" and ran != int(row["num_frames"]):
            obs = dataclasses.replace(obs, label=f"frames {varied} (runs {ran})")
        observations.append(obs)
    return merge(observations)


def resolution_observations() -> list[Observation]:
    """The README's two resolution-sweep energies (81 frames, 50 steps; no latency)."""
    return [
        observation_for(
            WAN_MODEL,
            {"height": h, "width": w, "num_frames": 81, "steps": 50, "guidance": WAN_GUIDANCE},
            latency_s=None,
            energy_gpu_j=wh_to_j(wh),
            label=f"resolution {w}x{h}",
            group="resolution",
            source=f"shared/reference/README.md ({CITATION})",
        )
        for h, w, wh in RESOLUTION_POINTS_WH
    ]


# ---------------------------------------------------------------------- cross-model

# The 13B transformer of Lightricks/LTX-Video-0.9.7-dev (transformer/config.json):
# 32 heads x 128 = 4096, 48 layers. The registry holds the 2B 0.9.0 model; its VAE
# (same 32x/8x compression) stands in for the 0.9.7 decoder.
LTX_13B_TRANSFORMER: dict[str, Any] = {
    "num_attention_heads": 32,
    "attention_head_dim": 128,
    "cross_attention_dim": 4096,
    "num_layers": 48,
}


@cache
def ltx_097_spec() -> Any:
    """LTX-Video-0.9.7-dev as a ModelSpec: the registry's LTX with the 13B transformer."""
    base = get_model("ltx-video")
    components = tuple(
        dataclasses.replace(
            c,
            config={**c.config, **LTX_13B_TRANSFORMER},
            params=None,
            published_params=13e9,
            source="config.json of the transformer/ folder in Lightricks/LTX-Video-0.9.7-dev",
        )
        if c.role == "denoiser"
        else c
        for c in base.components
    )
    return dataclasses.replace(
        base,
        name="ltx-video-0.9.7-dev",
        repo_id="Lightricks/LTX-Video-0.9.7-dev",
        components=components,
        aliases=(),
        published_params=13e9,
    )


def ltx_097_workload(row: Mapping[str, Any]) -> Workload:
    """The diffusers recipe for LTX-Video 0.9.7-dev, as the paper ran it (three stages).

    1. LTXConditionPipeline at the downscaled size, ``generate_steps``, latents out;
    2. the latent spatial upsampler (2x; 0.006 s measured, its FLOPs are neglected);
    3. LTXConditionPipeline at twice the downscaled size with ``denoise_strength``:
       ``int(denoise_steps x strength)`` steps are run, then the VAE decodes.
    """
    spec = ltx_097_spec()
    frames = int(float(row["num_frames"]))
    guidance = float_or_none(row.get("guidance_scale"))
    low_h, low_w = int(float(row["downscaled_height"])), int(float(row["downscaled_width"]))
    first = resolve_params(
        spec,
        height=low_h,
        width=low_w,
        num_frames=frames,
        steps=int(float(row["generate_steps"])),
        guidance=guidance,
    )
    refine = resolve_params(
        spec,
        height=2 * low_h,
        width=2 * low_w,
        num_frames=frames,
        steps=int(float(row["denoise_steps"])),
        guidance=guidance,
    )
    refine_steps = int(int(float(row["denoise_steps"])) * float(row["denoise_strength"]))
    stages = (
        stage_from_flops("generate", spec, generation_flops(spec, first), decode=False),
        stage_from_flops("refine", spec, generation_flops(spec, refine), steps=refine_steps),
    )
    config = {**config_of(refine, 1), "stages": f"{low_w}x{low_h} then {2 * low_w}x{2 * low_h}"}
    return Workload(spec.name, stages, config, (*first.notes, *refine.notes))


# The cross-model table names its models in this column (the paper's names, not the
# registry's); no genwatt layout has it.
MODEL_COLUMN = "model_name"

# CSV model_name -> registry model (or a builder) and what to know about it.
_REGISTRY_NAMES: dict[str, str] = {
    "AnimateDiff": "animatediff-v1-5-2",
    "CogVideoX-2b": "cogvideox-2b",
    "CogVideoX-5b": "cogvideox-5b",
    "Mochi-1-preview": "mochi-1-preview",
    "WAN2.1-T2V-1.3B": "wan2.1-t2v-1.3b",
    "WAN2.1-T2V-14B": "wan2.1-t2v-14b",
}
_BUILDERS: dict[str, Callable[[Mapping[str, Any]], Workload]] = {
    "LTX-Video-0.9.7-dev": ltx_097_workload,
}
NOTES: dict[str, str] = {
    "AnimateDiff": "AnimateDiff-Lightning (4-step distilled): v1-5-2 adapter architecture on "
    "an SD 1.5 base, guidance 1 (one pass per step)",
    "CogVideoX-2b": "run with enable_model_cpu_offload (weights cross PCIe every call)",
    "CogVideoX-5b": "run with enable_model_cpu_offload (weights cross PCIe every call)",
    "LTX-Video-0.9.7-dev": "13B transformer; generate, upsample and refine stages summed",
    "Mochi-1-preview": "84 requested frames (Mochi's VAE rounds them); guidance 4.5 default",
    "WAN2.1-T2V-1.3B": "labelled 480x832, 60 steps",
    "WAN2.1-T2V-14B": "labelled 480x832, 60 steps",
}
MISLABELLED = ("WAN2.1-T2V-1.3B", "WAN2.1-T2V-14B")

_STAGE_ENERGY_COLUMNS = ("energy_generate_gpu", "energy_upsample_gpu", "energy_denoise_gpu")
_STAGE_TIME_COLUMNS = ("duration_generate", "duration_upsample", "duration_denoise")


def registry_name(csv_name: str) -> str | None:
    return _REGISTRY_NAMES.get(csv_name)


def _sum_columns(row: Mapping[str, Any], columns: tuple[str, ...]) -> float | None:
    values = [float_or_none(row.get(c)) for c in columns]
    kept = [v for v in values if v is not None]
    return sum(kept) if kept else None


def row_totals(row: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """(latency s, GPU energy J) of a cross-model row, summed over its stages."""
    latency = _sum_columns(row, _STAGE_TIME_COLUMNS)
    kwh = _sum_columns(row, _STAGE_ENERGY_COLUMNS)
    return latency, None if kwh is None else kwh_to_j(kwh)


def stated_settings(row: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a cross-model row states, in registry names."""
    return {
        "num_frames": row.get("num_frames"),
        "height": row.get("height"),
        "width": row.get("width"),
        "steps": row.get("steps"),
        "guidance": row.get("guidance_scale"),
    }


def workload_of_row(
    row: Mapping[str, Any], settings: Mapping[str, Any] | None = None
) -> tuple[Workload, str]:
    """The workload a cross-model row describes (or ``settings`` instead of its own)."""
    name = row[MODEL_COLUMN]
    if name in _BUILDERS and settings is None:
        return _BUILDERS[name](row), NOTES.get(name, "")
    model = _REGISTRY_NAMES.get(name, name)
    s = {**stated_settings(row), **(settings or {})}

    def number(key: str, kind: type) -> Any:
        value = float_or_none(s.get(key))
        return None if value is None else kind(value)

    workload = workload_for(
        model if name not in _BUILDERS else ltx_097_spec(),
        num_frames=number("num_frames", int),
        height=number("height", int),
        width=number("width", int),
        steps=number("steps", int),
        guidance=number("guidance", float),
    )
    return workload, NOTES.get(name, "")


def cross_model_observations(
    path: Path | None = None, *, correct_mislabel: bool = True
) -> list[Observation]:
    """One observation per model of the cross-model table (means over its prompts).

    ``correct_mislabel`` runs the two WAN rows at what they really ran (``WAN_MISLABEL``)
    instead of what they state.
    """
    path = path or require_reference_dir() / CROSS_MODEL_FILE
    by_model: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in read_csv_rows(path):
        by_model[row[MODEL_COLUMN]].append(row)
    observations = []
    for name, rows in by_model.items():
        totals = [row_totals(r) for r in rows]
        fix = WAN_MISLABEL if correct_mislabel and name in MISLABELLED else None
        workload, note = workload_of_row(rows[0], fix)
        if fix:
            note = f"{note}; corrected to 1280x720, 81 frames, 50 steps (README)"
        observations.append(
            Observation(
                label=name,
                group="cross-model",
                workload=workload,
                latency_s=statistics.fmean(t[0] for t in totals if t[0] is not None),
                energy_gpu_j=statistics.fmean(t[1] for t in totals if t[1] is not None),
                runs=len(rows),
                source=f"{CROSS_MODEL_FILE} ({CITATION})",
                note="; ".join(n for n in (note, *workload.notes) if n),
            )
        )
    return observations


def all_observations(folder: Path | None = None) -> list[Observation]:
    """Every H100 point: sweeps, README resolution energies, cross-model (corrected)."""
    folder = require_reference_dir(folder)
    return [
        *sweep_observations(folder),
        *resolution_observations(),
        *cross_model_observations(folder / CROSS_MODEL_FILE),
    ]


def _as_stated(path: Path) -> list[Observation]:
    return cross_model_observations(path, correct_mislabel=False)


# The cross-model table as ``genwatt calibrate`` reads it: each model at the settings
# its rows state (a file given by the user is taken at its word).
CROSS_MODEL_LAYOUT = CsvLayout("video-energy-budget cross-model", MODEL_COLUMN, _as_stated)
CSV_LAYOUTS: tuple[CsvLayout, ...] = (CROSS_MODEL_LAYOUT,)
