"""``genwatt footprint``: a service's energy and CO2e at scale, from one query's energy.

Thin: it parses, calls ``genwatt.predict.footprint.service_footprint`` and prints its
lines or its JSON. Fast: like ``genwatt predict`` it imports no torch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, cast

import typer

from genwatt.cli.sweep_options import CLOUD, COUNTRY, PUE, finite_option

if TYPE_CHECKING:
    from genwatt.predict.footprint import Period, Scope

PERIODS = ("day", "week", "year")
SCOPES = ("gpu", "machine")


def _image_size(value: str | None) -> tuple[int, int] | None:
    """``HxW`` (``480x640``) as (height, width); None when not given."""
    if value is None:
        return None
    parts = value.lower().replace("×", "x").split("x")
    try:
        height, width = (int(p) for p in parts)
    except ValueError:
        raise typer.BadParameter(
            f"an image size is HEIGHTxWIDTH in pixels, such as 480x640, got {value!r}",
            param_hint="--image-size",
        ) from None
    if height < 1 or width < 1:
        raise typer.BadParameter(
            f"an image is at least 1x1 pixels, got {value!r}", param_hint="--image-size"
        )
    return height, width


def _choice(value: str | None, allowed: tuple[str, ...], flag: str) -> str | None:
    if value is not None and value not in allowed:
        raise typer.BadParameter(f"one of {', '.join(allowed)}, got {value!r}", param_hint=flag)
    return value


def footprint(
    model: str = typer.Option(
        ..., "--model", "-m", help="Registered model (`genwatt models`, `genwatt tasks`)."
    ),
    count: float = typer.Option(
        ..., "--count", "-n", callback=finite_option, help="Queries (per --per, if given)."
    ),
    per: str | None = typer.Option(
        None, "--per", help="day | week | year: the count is per period; totals are per year."
    ),
    gpu: str = typer.Option("h100-sxm", "--gpu", help="Hardware profile (`genwatt gpus`)."),
    task: str | None = typer.Option(None, "--task", help="Task (models with several)."),
    batch: int | None = typer.Option(None, "--batch", min=1, help="Queries per call."),
    input_tokens: int | None = typer.Option(
        None, "--input-tokens", min=1, help="Tokens in (text models)."
    ),
    new_tokens: int | None = typer.Option(
        None, "--new-tokens", min=1, help="Tokens generated (generating models)."
    ),
    image_size: str | None = typer.Option(
        None, "--image-size", help="HEIGHTxWIDTH in pixels (vision models)."
    ),
    audio_seconds: float | None = typer.Option(
        None, "--audio-seconds", callback=finite_option, help="Seconds of audio (speech)."
    ),
    protocol: str | None = typer.Option(
        None,
        "--protocol",
        help="ai-energy-score | power-hungry-processing: a query as that protocol runs it.",
    ),
    frames: int | None = typer.Option(None, "--frames", help="Frames (video models)."),
    height: int | None = typer.Option(None, "--height", help="Height in pixels (diffusion)."),
    width: int | None = typer.Option(None, "--width", help="Width in pixels (diffusion)."),
    steps: int | None = typer.Option(None, "--steps", help="Denoising steps."),
    guidance: float | None = typer.Option(
        None, "--guidance", callback=finite_option, help="Guidance scale."
    ),
    scope: str | None = typer.Option(
        None,
        "--scope",
        help="gpu | machine: which energy to scale (default: the GPU's where there is one).",
    ),
    from_store: bool = typer.Option(
        False,
        "--from-store",
        help="Scale the measured energy per query of stored runs instead of a prediction.",
    ),
    store: Path | None = typer.Option(
        None, "--store", help="Results store for --from-store (env GENWATT_STORE)."
    ),
    calibration: Path | None = typer.Option(
        None, "--calibration", help="A calibration JSON from `genwatt calibrate` (diffusion)."
    ),
    country: str | None = COUNTRY,
    pue: float | None = PUE,
    cloud: str | None = CLOUD,
    json_out: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """Energy and CO2e of COUNT queries (per day, week or year) of a model: predicted, or
    from stored runs with --from-store; with a low-high range and equivalents."""
    from genwatt.predict.footprint import service_footprint

    result = service_footprint(
        model,
        count,
        cast("Period | None", _choice(per, PERIODS, "--per")),
        gpu=gpu,
        from_store=from_store,
        store=store,
        country=country,
        pue=pue,
        cloud=cloud,
        scope=cast("Scope | None", _choice(scope, SCOPES, "--scope")),
        task=task,
        batch=batch,
        input_tokens=input_tokens,
        new_tokens=new_tokens,
        image_hw=_image_size(image_size),
        audio_s=audio_seconds,
        protocol=protocol,
        num_frames=frames,
        height=height,
        width=width,
        steps=steps,
        guidance=guidance,
        calibration=calibration,
    )
    if json_out:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    for line in result.lines():
        typer.echo(line)
