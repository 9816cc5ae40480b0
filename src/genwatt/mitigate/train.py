"""Train the reference model: flow matching on synthetic captioned clips, on a CPU.

Run ``python -m genwatt.mitigate.train --out DIR`` (defaults reproduce the shipped
weights). Deterministic given ``--seed``: data, noise, timesteps and initial weights all
come from seeded generators, and torch runs on a fixed number of CPU threads.

Objective (rectified flow, as WAN is trained): for clean latents ``x0``, noise ``e`` and
``sigma`` in (0, 1), the input is ``(1 - sigma) x0 + sigma e`` at timestep ``1000 sigma``
and the target velocity is ``e - x0``. ``sigma`` is drawn uniformly and then shifted by
the scheduler's ``flow_shift`` so training sees noise levels in the proportion sampling
visits them. One caption in ten is dropped to the empty prompt, the negative prompt
``WanPipeline`` uses, which is what makes classifier-free guidance work.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from genwatt.mitigate.reference import DEFAULTS, MAX_TEXT_TOKENS, MOTION_PX, SCHEDULER_CONFIG
from genwatt.mitigate.synthetic import Caption, sample_dataset, split_prompts

if TYPE_CHECKING:
    import torch
    from diffusers import WanPipeline


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides the trained weights; stored in the model card."""

    seed: int = 0
    steps: int = 3000
    batch: int = 48
    lr: float = 1e-3
    warmup: int = 100
    weight_decay: float = 0.01
    caption_dropout: float = 0.1
    grad_clip: float = 1.0
    threads: int = 2
    fold: int = 0
    frames: int = DEFAULTS.frames
    size: int = DEFAULTS.height
    step_px: int = MOTION_PX


def clips_to_pixels(videos: Sequence[np.ndarray]) -> torch.Tensor:
    """``(F, H, W, 3)`` clips in ``[0, 1]`` to a ``(B, 3, F, H, W)`` batch in ``[-1, 1]``."""
    import torch

    batch = torch.from_numpy(np.stack(videos)).permute(0, 4, 1, 2, 3)
    return batch * 2.0 - 1.0


def latent_statistics(
    pipe: WanPipeline, captions: list[Caption], cfg: TrainConfig
) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of the raw latents of 512 training clips."""
    clips = sample_dataset(
        512,
        seed=cfg.seed + 10_000_019,
        frames=cfg.frames,
        size=cfg.size,
        step_px=cfg.step_px,
        captions=captions,
    )
    raw = pipe.vae.encode(clips_to_pixels([v for _, v in clips]))
    dims = (0, 2, 3, 4)
    mean = raw.mean(dim=dims)
    std = raw.std(dim=dims).clamp_min(1e-3)
    return [round(float(v), 6) for v in mean], [round(float(v), 6) for v in std]


def _lr_at(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def train(cfg: TrainConfig, *, progress: bool = True) -> tuple[WanPipeline, dict[str, Any]]:
    """Train from scratch; returns the pipeline and a record of what was done."""
    import torch
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from genwatt.mitigate.codec import PatchCodec
    from genwatt.mitigate.reference import build_pipeline

    torch.set_num_threads(cfg.threads)
    torch.use_deterministic_algorithms(True)
    train_captions, _ = split_prompts(fold=cfg.fold)
    probe = build_pipeline(seed=cfg.seed)
    mean, std = latent_statistics(probe, train_captions, cfg)
    pipe = build_pipeline(seed=cfg.seed, latents_mean=mean, latents_std=std)
    codec: PatchCodec = pipe.vae
    pipe.transformer.train()
    pipe.text_encoder.train()
    params = [*pipe.transformer.parameters(), *pipe.text_encoder.parameters()]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    generator = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    shift = float(SCHEDULER_CONFIG["flow_shift"])
    losses: list[float] = []
    started = time.perf_counter()
    columns = (TextColumn("training"), BarColumn(), TextColumn("{task.fields[loss]}"))
    with Progress(*columns, TimeElapsedColumn(), disable=not progress) as bar:
        task = bar.add_task("train", total=cfg.steps, loss="")
        for step in range(cfg.steps):
            clips = sample_dataset(
                cfg.batch,
                seed=cfg.seed * 1_000_003 + step,
                frames=cfg.frames,
                size=cfg.size,
                step_px=cfg.step_px,
                captions=train_captions,
            )
            x0 = codec.normalize(codec.encode(clips_to_pixels([v for _, v in clips])))
            texts = [
                "" if rng.random() < cfg.caption_dropout else caption.text() for caption, _ in clips
            ]
            embeds, _ = pipe.encode_prompt(
                texts,
                do_classifier_free_guidance=False,
                max_sequence_length=MAX_TEXT_TOKENS,
                device=torch.device("cpu"),
            )
            u = torch.rand(cfg.batch, generator=generator)
            sigma = shift * u / (1 + (shift - 1) * u)
            noise = torch.randn(x0.shape, generator=generator)
            s = sigma.view(-1, 1, 1, 1, 1)
            noisy = (1 - s) * x0 + s * noise
            pred = pipe.transformer(
                hidden_states=noisy,
                timestep=sigma * 1000,
                encoder_hidden_states=embeds,
                return_dict=False,
            )[0]
            loss = torch.nn.functional.mse_loss(pred, noise - x0)
            for group in optimizer.param_groups:
                group["lr"] = _lr_at(step, cfg)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            optimizer.step()
            losses.append(float(loss.detach()))
            if step % 25 == 0 or step == cfg.steps - 1:
                recent = float(np.mean(losses[-25:]))
                bar.update(task, completed=step + 1, loss=f"loss {recent:.4f}")
    pipe.transformer.eval()
    pipe.text_encoder.eval()
    record = {
        "config": asdict(cfg),
        "train_seconds": round(time.perf_counter() - started, 1),
        "torch_threads": cfg.threads,
        "loss_first_100": float(np.mean(losses[:100])),
        "loss_last_100": float(np.mean(losses[-100:])),
        "loss_every_100": [
            round(float(np.mean(losses[i : i + 100])), 5) for i in range(0, len(losses), 100)
        ],
    }
    return pipe, record


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for the weights")
    for field, default in asdict(TrainConfig()).items():
        parser.add_argument(f"--{field.replace('_', '-')}", type=type(default), default=default)
    args = parser.parse_args(argv)
    cfg = TrainConfig(**{k: getattr(args, k) for k in asdict(TrainConfig())})
    from genwatt.mitigate.reference import save_trained
    from genwatt.mitigate.reference_quality import evaluate_reference

    command = "python -m genwatt.mitigate.train " + " ".join(argv or sys.argv[1:])
    pipe, record = train(cfg)
    record["command"] = command
    quality = evaluate_reference(pipe, fold=cfg.fold)
    path = save_trained(pipe, args.out, {"training": record, "quality": quality})
    trained = quality["rates"]["trained"]
    print(
        f"trained in {record['train_seconds']} s; held-out adherence: colour "
        f"{trained['colour_rate']:.0%}, direction {trained['direction_rate']:.0%}, shape "
        f"{trained['shape_rate']:.0%}; weights written to {path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
