"""Training the reference model: flow matching on synthetic captioned clips, on a CPU.

``python -m genwatt.models.reference.train --out DIR`` runs ``train`` with the defaults
of ``TrainConfig`` (which reproduce the shipped weights). Deterministic given ``seed``:
data, noise, timesteps and initial weights all come from seeded generators, and torch
runs on a fixed number of CPU threads.

Objective (rectified flow, as WAN is trained; helpers in ``flow``): for clean latents
``x0``, noise ``e`` and ``sigma`` in (0, 1), the input is ``(1 - sigma) x0 + sigma e`` at
timestep ``1000 sigma`` and the target velocity is ``e - x0``. ``sigma`` is drawn
uniformly and then shifted by the scheduler's ``flow_shift`` so training sees noise
levels in the proportion sampling visits them. One caption in ten is dropped to the
empty prompt, the negative prompt ``WanPipeline`` uses, which is what makes
classifier-free guidance work.

The text encoder stays frozen at its seeded random initialisation, as WAN keeps its
UMT5 frozen. Why: trained jointly, it let the caption's direction word collapse, because
a wrong direction costs the loss almost nothing when every frame is equally noisy (each
noisy frame shows where its own object is). A frozen encoder keeps every word apart; the
transformer must learn to read them.

First-frame forcing (``forcing``) gives direction its weight in the loss. In that share
of the clips the frames after the first are nearly pure noise (sigma 0.9 to 1) while the
first is much cleaner (below half of that), passed to the transformer as per-token
timesteps, the way Wan 2.2's TI2V model conditions on a first frame. There, only the
caption's direction says where the later frames' object is. Sampling is unchanged:
``WanPipeline`` gives every token the same timestep. ``docs/reference-model.md`` has the
measurements behind these choices and the variants that did not help.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from genwatt.models.reference.architecture import DEFAULTS, MOTION_PX, SCHEDULER_CONFIG
from genwatt.models.reference.captions import Caption, split_prompts
from genwatt.models.reference.flow import (
    clips_to_pixels,
    embed_texts,
    frame_tokens,
    shifted_sigma,
    token_timesteps,
)
from genwatt.models.reference.synthetic import sample_dataset

if TYPE_CHECKING:
    import torch
    from diffusers import WanPipeline


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides the trained weights; stored in the model card."""

    seed: int = 0
    steps: int = 2000
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
    forcing: float = 0.5


def latent_statistics(
    pipe: WanPipeline, captions: list[Caption], cfg: TrainConfig
) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of the raw latents of 512 training clips."""
    clips = _clips(cfg, 512, cfg.seed + 10_000_019, captions)
    raw = pipe.vae.encode(clips_to_pixels([v for _, v in clips]))
    dims = (0, 2, 3, 4)
    mean = raw.mean(dim=dims)
    std = raw.std(dim=dims).clamp_min(1e-3)
    return [round(float(v), 6) for v in mean], [round(float(v), 6) for v in std]


def first_frame_forcing(
    sigma: torch.Tensor, frames: int, share: float, generator: torch.Generator
) -> torch.Tensor:
    """Per-frame noise levels ``(batch, frames)``: ``sigma`` on every frame, except in a
    ``share`` of the clips, whose later frames get a level in [0.9, 1) and whose first
    frame gets one below half of that (see the module doc for why)."""
    import torch

    per_frame = sigma.view(-1, 1).repeat(1, frames)
    picked = torch.rand(sigma.shape, generator=generator) < share
    later = 0.9 + 0.1 * torch.rand(sigma.shape, generator=generator)
    first = later * 0.5 * torch.rand(sigma.shape, generator=generator)
    per_frame[picked, 1:] = later[picked].view(-1, 1)
    per_frame[picked, 0] = first[picked]
    return per_frame


def direction_probe(
    pipe: WanPipeline, cfg: TrainConfig, captions: list[Caption], tokens_per_frame: int
) -> Callable[[], float]:
    """A probe of how much the model reads the caption's direction, built once.

    Calling it gives the mean squared error of the model's velocity on the later frames
    of 48 training clips whose first frame is clean and the rest at sigma 0.99, with the
    opposite direction in the caption minus with the right one. Near 0: the direction
    word is ignored. Inputs and (frozen) text embeddings are fixed, so values compare
    over steps and only the two transformer calls run per probe.
    """
    import torch

    clips = _clips(cfg, 48, cfg.seed + 777, captions)
    codec = pipe.vae
    x0 = codec.normalize(codec.encode(clips_to_pixels([v for _, v in clips])))
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(cfg.seed + 778))
    frame_sigma = torch.full((len(clips), cfg.frames), 0.99)
    frame_sigma[:, 0] = 0.0
    s = frame_sigma.view(len(clips), 1, -1, 1, 1)
    noisy = (1 - s) * x0 + s * noise
    target = (noise - x0)[:, :, 1:]
    timesteps = token_timesteps(frame_sigma, tokens_per_frame)
    opposite = {"left": "right", "right": "left", "up": "down", "down": "up"}
    right = embed_texts(pipe, [c.text() for c, _ in clips])
    wrong = embed_texts(
        pipe, [Caption(c.colour, c.shape, opposite[c.direction]).text() for c, _ in clips]
    )

    def probe() -> float:
        errors = []
        was_training = pipe.transformer.training
        pipe.transformer.eval()
        with torch.no_grad():
            for embeds in (right, wrong):
                pred = pipe.transformer(noisy, timesteps, embeds, return_dict=False)[0]
                errors.append(float(((pred[:, :, 1:] - target) ** 2).mean()))
        pipe.transformer.train(was_training)
        return errors[1] - errors[0]

    return probe


def _clips(
    cfg: TrainConfig, n: int, seed: int, captions: list[Caption]
) -> list[tuple[Caption, np.ndarray]]:
    """``n`` training clips in ``cfg``'s frame count, size and motion."""
    return sample_dataset(
        n, seed=seed, frames=cfg.frames, size=cfg.size, step_px=cfg.step_px, captions=captions
    )


def _lr_at(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def train(cfg: TrainConfig, *, progress: bool = True) -> tuple[WanPipeline, dict[str, Any]]:
    """Train from scratch; returns the pipeline and a record of what was done."""
    import torch
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from genwatt.models.reference.codec import PatchCodec
    from genwatt.models.reference.pipeline import build_pipeline

    torch.set_num_threads(cfg.threads)
    torch.use_deterministic_algorithms(True)
    train_captions, _ = split_prompts(fold=cfg.fold)
    probe = build_pipeline(seed=cfg.seed)
    mean, std = latent_statistics(probe, train_captions, cfg)
    pipe = build_pipeline(seed=cfg.seed, latents_mean=mean, latents_std=std)
    codec: PatchCodec = pipe.vae
    pipe.transformer.train()
    pipe.text_encoder.eval().requires_grad_(False)  # frozen: see the module doc
    params = list(pipe.transformer.parameters())
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    generator = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    shift = float(SCHEDULER_CONFIG["flow_shift"])
    tokens_per_frame = frame_tokens(pipe, cfg.size)
    losses: list[float] = []
    direction_gaps: list[tuple[int, float]] = []
    direction_sensitivity = direction_probe(pipe, cfg, train_captions, tokens_per_frame)
    started = time.perf_counter()
    columns = (TextColumn("training"), BarColumn(), TextColumn("{task.fields[loss]}"))
    with Progress(*columns, TimeElapsedColumn(), disable=not progress) as bar:
        task = bar.add_task("train", total=cfg.steps, loss="")
        for step in range(cfg.steps):
            clips = _clips(cfg, cfg.batch, cfg.seed * 1_000_003 + step, train_captions)
            x0 = codec.normalize(codec.encode(clips_to_pixels([v for _, v in clips])))
            texts = [
                "" if rng.random() < cfg.caption_dropout else caption.text() for caption, _ in clips
            ]
            embeds = embed_texts(pipe, texts)  # the encoder is frozen: no gradient needed
            u = torch.rand(cfg.batch, generator=generator)
            sigma = shifted_sigma(u, shift)
            noise = torch.randn(x0.shape, generator=generator)
            frame_sigma = first_frame_forcing(sigma, x0.shape[2], cfg.forcing, generator)
            s = frame_sigma.view(cfg.batch, 1, -1, 1, 1)
            noisy = (1 - s) * x0 + s * noise
            pred = pipe.transformer(
                hidden_states=noisy,
                timestep=token_timesteps(frame_sigma, tokens_per_frame),
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
            if step % 250 == 0 or step == cfg.steps - 1:
                gap = direction_sensitivity()
                direction_gaps.append((step, round(gap, 5)))
                # A bar is invisible in a log file; a long run there still shows progress.
                if progress and not bar.console.is_terminal:
                    elapsed = time.perf_counter() - started
                    print(
                        f"step {step}/{cfg.steps} loss {float(np.mean(losses[-25:])):.4f} "
                        f"direction sensitivity {gap:+.4f} ({elapsed:.0f} s)",
                        flush=True,
                    )
    pipe.transformer.eval()
    record = {
        "config": asdict(cfg),
        "train_seconds": round(time.perf_counter() - started, 1),
        "torch_threads": cfg.threads,
        "loss_first_100": float(np.mean(losses[:100])),
        "loss_last_100": float(np.mean(losses[-100:])),
        "direction_sensitivity_every_250": direction_gaps,
        "loss_every_100": [
            round(float(np.mean(losses[i : i + 100])), 5) for i in range(0, len(losses), 100)
        ],
    }
    return pipe, record
