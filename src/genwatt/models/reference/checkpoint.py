"""The reference model's shipped weights and the training record stored beside them.

Why in the package: ``--weights pretrained`` must work offline and never reach the Hub,
so the trained transformer and text encoder (float16, ``weights/``) ship with genwatt,
with a JSON card holding the command that trained them, the loss curve, the codec's
latent statistics and the measured quality (``quality_card``).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genwatt.errors import ConfigError
from genwatt.models.reference.architecture import NAME
from genwatt.models.reference.pipeline import build_pipeline

if TYPE_CHECKING:
    from diffusers import WanPipeline

WEIGHTS_FILE = "wan-reference.safetensors"
CARD_FILE = "wan-reference.json"


def _package_file(name: str) -> Path:
    return Path(str(resources.files("genwatt.models.reference") / "weights" / name))


def trained_card() -> dict[str, Any]:
    """The training record shipped with the weights: command, seed, time, quality."""
    path = _package_file(CARD_FILE)
    if not path.is_file():
        raise ConfigError(f"the {NAME} training record {path} is missing; reinstall genwatt")
    return json.loads(path.read_text())


def save_trained(pipe: WanPipeline, directory: Path, card: dict[str, Any]) -> Path:
    """Write the trainable weights (float16) and the codec statistics beside the card."""
    import torch
    from safetensors.torch import save_file

    tensors = {
        **{f"transformer.{k}": v for k, v in pipe.transformer.state_dict().items()},
        **{f"text_encoder.{k}": v for k, v in pipe.text_encoder.state_dict().items()},
    }
    # float16 halves the file; the weights are small-magnitude and train in float32.
    tensors = {k: v.detach().to(torch.float16).contiguous() for k, v in tensors.items()}
    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / WEIGHTS_FILE
    save_file(tensors, str(weights))
    full_card = {
        **card,
        "latents_mean": list(pipe.vae.config.latents_mean),
        "latents_std": list(pipe.vae.config.latents_std),
    }
    (directory / CARD_FILE).write_text(json.dumps(full_card, indent=2) + "\n")
    return weights


def load_trained(directory: Path | None = None) -> WanPipeline:
    """The trained reference pipeline from the package (or ``directory``), float32 on CPU."""
    import torch
    from safetensors.torch import load_file

    weights = (directory / WEIGHTS_FILE) if directory else _package_file(WEIGHTS_FILE)
    card_path = (directory / CARD_FILE) if directory else _package_file(CARD_FILE)
    if not weights.is_file() or not card_path.is_file():
        raise ConfigError(
            f"no trained {NAME} weights at {weights}; train them with "
            "`python -m genwatt.models.reference.train` or reinstall genwatt"
        )
    card = json.loads(card_path.read_text())
    pipe = build_pipeline(latents_mean=card["latents_mean"], latents_std=card["latents_std"])
    state = load_file(str(weights))
    for part in ("transformer", "text_encoder"):
        prefix = f"{part}."
        sub = {
            k[len(prefix) :]: v.to(torch.float32) for k, v in state.items() if k.startswith(prefix)
        }
        getattr(pipe, part).load_state_dict(sub, strict=True)
    return pipe
