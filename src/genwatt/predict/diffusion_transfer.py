"""The diffusion predictor on a GPU and a precision it was never fitted on.

The shipped diffusion calibration is fitted on one H100 SXM running video models in
bf16. Power Hungry Processing ran text-to-image models on an A100-SXM4-80GB in FP32
(its code loads each pipeline without a dtype), 1,000 prompts each at the pipelines'
defaults. Predicting those runs with no parameter refitted tests the two transfers a
user relies on: to another GPU by its datasheet, and to FP32 (convolutions on the TF32
tensor cores, as cuDNN runs them by default; matmuls and attention on the FP32 units),
which is the precision AI Energy Score generates images in.

Measured energy is the working GPU's: the node's eight GPUs less seven idle ones at the
task calibration's fitted idle power (``genwatt.predict.task_calibration``), as there.

    python -m genwatt.predict.diffusion_transfer [--doc docs/validation.md]
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from genwatt.predict import power_hungry_processing as php
from genwatt.predict.hardware import HardwareProfile

GPU = php.GPU
TASK = "text-to-image"
STEPS_NOTE = "the pipelines' defaults: 50 steps, guidance 7.5 (SDXL 5.0)"

# Checkpoints of the study that the registry does not hold, predicted as the registered
# model whose architecture and default size they share; each with why.
STAND_INS: dict[str, tuple[str, int | None, str]] = {
    "CompVis/stable-diffusion-v1-4": (
        "sd1.5",
        None,
        "Stable Diffusion 1.4: the same UNet, VAE and text encoder as 1.5, 512 px",
    ),
    "SG161222/Realistic_Vision_V1.4": (
        "sd1.5",
        None,
        "a fine-tune of Stable Diffusion 1.5 (its model card): its architecture, 512 px",
    ),
    "prompthero/openjourney": (
        "sd1.5",
        None,
        "a fine-tune of Stable Diffusion 1.5 (its model card): its architecture, 512 px",
    ),
    "stabilityai/stable-diffusion-2-1-base": (
        "sd2.1",
        512,
        "Stable Diffusion 2.1's architecture at the base model's 512 px",
    ),
}
# Left out, and why.
UNPREDICTED: dict[str, str] = {
    "dreamlike-art/dreamlike-photoreal-2.0": (
        "a Stable Diffusion 1.5 fine-tune whose pipeline default size is not at hand here"
    ),
    "nota-ai/bk-sdm-tiny": "a pruned UNet the registry does not hold",
    "segmind/tiny-sd": "a distilled UNet the registry does not hold",
}

DOC_BEGIN = "<!-- diffusion-transfer:begin (python -m genwatt.predict.diffusion_transfer) -->"
DOC_END = "<!-- diffusion-transfer:end -->"


@dataclass(frozen=True)
class TransferPoint:
    """One checkpoint's runs (all datasets) measured and predicted, per image."""

    checkpoint: str
    predicted_as: str
    basis: str
    runs: int
    latency_s: float  # median over the study's runs of every dataset
    energy_j: float  # the working GPU's, median likewise
    predicted_latency_s: float
    predicted_energy_j: float
    # The ablation: latency predicted with attention's ramp at the calibration's ridge
    # point (rho = 1), as if FP32 on an A100 filled the GPU like bf16 on an H100.
    unscaled_latency_s: float

    @property
    def latency_error(self) -> float:
        return self.predicted_latency_s / self.latency_s - 1.0

    @property
    def energy_error(self) -> float:
        return self.predicted_energy_j / self.energy_j - 1.0


def _idle_w() -> float:
    """One idle A100's power in the study's node, as the task calibration fitted it."""
    from genwatt.predict.hardware import get_profile
    from genwatt.predict.task_calibration import rest_power_frac, shipped_task_calibration

    calibration = shipped_task_calibration(GPU)
    if calibration is None:
        raise RuntimeError(f"no shipped task calibration for {GPU}")
    return rest_power_frac(calibration) * get_profile(GPU).tdp_w


def _unit_ridge(hardware: HardwareProfile) -> HardwareProfile:
    """``hardware`` with the bandwidth that puts its FP32 ridge point at the reference's
    (rho = 1): the diffusion model reads bandwidth for nothing else."""
    from genwatt.predict.model import ridge_ratio

    rho = ridge_ratio(hardware, "fp32")
    return replace(hardware, memory_bandwidth_bps=hardware.memory_bandwidth_bps * rho)


def transfer_points(folder: Path | None = None) -> tuple[list[TransferPoint], dict[str, str]]:
    """Every predictable text-to-image checkpoint of the study, and those left out."""
    from genwatt.models.tasks.registry import get_task_model
    from genwatt.predict.predictor import predict, predict_workload

    idle_w = _idle_w()
    by_checkpoint: dict[str, list[php.PhpConfiguration]] = {}
    for config in php.load(folder):
        if config.task == TASK:
            by_checkpoint.setdefault(config.model, []).append(config)
    points: list[TransferPoint] = []
    left_out: dict[str, str] = {}
    for checkpoint, configs in sorted(by_checkpoint.items()):
        if checkpoint in STAND_INS:
            name, size, basis = STAND_INS[checkpoint]
        elif configs[0].spec is not None and get_task_model(configs[0].spec).diffusion_model:
            name = str(get_task_model(configs[0].spec).diffusion_model)
            size, basis = None, "registered"
        else:
            left_out[checkpoint] = UNPREDICTED.get(checkpoint, "not in the registry")
            continue
        latency = [c.duration_s / php.QUERIES_PER_RUN for c in configs]
        energy = [c.one_gpu_energy_j(idle_w) for c in configs]
        sizes: dict[str, Any] = {} if size is None else {"height": size, "width": size}
        prediction = predict(name, GPU, dtype=php.DTYPE, **sizes)
        unscaled = predict_workload(prediction.workload, _unit_ridge(prediction.hardware))
        points.append(
            TransferPoint(
                checkpoint=checkpoint,
                predicted_as=name if size is None else f"{name} at {size} px",
                basis=basis,
                runs=sum(c.runs for c in configs),
                latency_s=statistics.median(latency),
                energy_j=statistics.median(energy),
                predicted_latency_s=prediction.latency_s,
                predicted_energy_j=prediction.energy_gpu_j,
                unscaled_latency_s=unscaled.latency_s,
            )
        )
    return points, left_out


def _pct(value: float) -> str:
    return f"{100 * value:+.0f} %"


def doc_block(points: Sequence[TransferPoint], left_out: dict[str, str]) -> str:
    """The markdown section ``docs/validation.md`` holds between its markers."""
    lat = [abs(p.latency_error) for p in points]
    energy = [abs(p.energy_error) for p in points]
    lines = [
        DOC_BEGIN,
        "",
        "## The diffusion predictor on another GPU and precision",
        "",
        "Generated by `python -m genwatt.predict.diffusion_transfer --doc docs/validation.md`; "
        "do not edit by hand. The H100 bf16 calibration above, with no parameter refitted, "
        f"predicts the text-to-image runs of {php.CITATION}: FP32 ({STEPS_NOTE}; the "
        "study loads pipelines without a dtype). Measured: median over every run of the "
        "three prompt datasets (prompt length does not matter: CLIP cuts prompts at 77 "
        "tokens); GPU energy is the working GPU's, the node's less seven idle GPUs at the "
        "task calibration's fitted idle power.",
        "",
        "| checkpoint | predicted as | runs | latency s | predicted | error | GPU Wh | "
        "predicted | error | latency error, ramp unscaled |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in points:
        lines.append(
            f"| {p.checkpoint} | {p.predicted_as} | {p.runs} | {p.latency_s:.2f} | "
            f"{p.predicted_latency_s:.2f} | {_pct(p.latency_error)} | "
            f"{p.energy_j / 3600:.3f} | {p.predicted_energy_j / 3600:.3f} | "
            f"{_pct(p.energy_error)} | {_pct(p.unscaled_latency_s / p.latency_s - 1.0)} |"
        )
    if points:
        unscaled = [abs(p.unscaled_latency_s / p.latency_s - 1.0) for p in points]
        lines += [
            f"| **MAPE** | | | | | {100 * statistics.mean(lat):.0f} % | | | "
            f"{100 * statistics.mean(energy):.0f} % | {100 * statistics.mean(unscaled):.0f} % |",
            "",
            f"Within 2x: latency {sum(x < 1 for x in lat)}/{len(points)}, energy "
            f"{sum(x < 1 for x in energy)}/{len(points)}; within 25 %: latency "
            f"{sum(x <= 0.25 for x in lat)}/{len(points)}, energy "
            f"{sum(x <= 0.25 for x in energy)}/{len(points)}.",
        ]
    lines += ["", "Stand-ins (checkpoints the registry does not hold):", ""]
    lines += [f"- {c}: {basis}" for c, (_, _, basis) in STAND_INS.items()]
    lines += ["", "Left out:", ""]
    lines += [f"- {c}: {why}" for c, why in left_out.items()]
    lines += [
        "",
        "What it takes: convolutions at the TF32 rate (cuDNN's default for FP32) and "
        "matmuls at the FP32 rate, each at the efficiency fitted on bf16, and attention's "
        "efficiency ramp N/(N + N_half x rho) with rho the A100's FP32 ridge point over "
        "the H100's bf16 one (about 0.03; the last column holds rho at 1). Powers carry "
        "as fractions of TDP: the denoiser at the fitted 95 % of it, where these runs "
        "drew about 85 % (the energy errors exceed the latency errors by that much). "
        "Four architectures and sizes in all: a check of the transfer, not a fit.",
        "",
        DOC_END,
    ]
    return "\n".join(lines)


def write_doc(path: Path, block: str) -> None:
    """Replace the block between the markers in ``path``; else put it before the task
    model's section (it follows the diffusion results), or at the end."""
    from genwatt.predict.task_calibration import DOC_BEGIN as TASK_BEGIN

    text = path.read_text() if path.exists() else ""
    if DOC_BEGIN in text and DOC_END in text:
        head = text[: text.index(DOC_BEGIN)]
        tail = text[text.index(DOC_END) + len(DOC_END) :]
        text = head + block + tail
    elif TASK_BEGIN in text:
        head, tail = text.split(TASK_BEGIN, 1)
        text = head + block + "\n\n" + TASK_BEGIN + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--doc", type=Path, help="write the section into this markdown file")
    args = parser.parse_args(argv)
    points, left_out = transfer_points()
    block = doc_block(points, left_out)
    if args.doc:
        write_doc(args.doc, block)
    print(block)
    return 0


if __name__ == "__main__":  # pragma: no cover - the command line
    raise SystemExit(main())
