"""``genwatt footprint``: a service's energy and CO2e at scale, from one query's energy.

Thin: it parses, calls ``genwatt.predict.footprint.service_footprint`` and prints its
lines or its JSON. Fast: like ``genwatt predict`` it imports no torch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, cast

import typer

from genwatt.cli import predict_options as opt
from genwatt.cli.sweep_options import CLOUD, COUNTRY, PUE, finite_option

if TYPE_CHECKING:
    from genwatt.predict.footprint import Period
    from genwatt.predict.query_energy import Scope

PERIODS = ("day", "week", "year")
SCOPES = ("gpu", "machine")


def _choice(value: str | None, allowed: tuple[str, ...], flag: str) -> str | None:
    if value is not None and value not in allowed:
        raise typer.BadParameter(f"one of {', '.join(allowed)}, got {value!r}", param_hint=flag)
    return value


def footprint(
    model: str = opt.MODEL,
    count: float = typer.Option(
        ..., "--count", "-n", callback=finite_option, help="Queries (per --per, if given)."
    ),
    per: str | None = typer.Option(
        None, "--per", help="day | week | year: the count is per period; totals are per year."
    ),
    gpu: str = opt.GPU,
    task: str | None = opt.TASK,
    batch: int | None = typer.Option(None, "--batch", min=1, help="Queries per call."),
    input_tokens: int | None = opt.INPUT_TOKENS,
    new_tokens: int | None = opt.NEW_TOKENS,
    image_size: str | None = opt.IMAGE_SIZE,
    audio_seconds: float | None = opt.AUDIO_SECONDS,
    protocol: str | None = opt.PROTOCOL,
    frames: int | None = opt.FRAMES,
    height: int | None = opt.HEIGHT,
    width: int | None = opt.WIDTH,
    steps: int | None = opt.STEPS,
    guidance: float | None = opt.GUIDANCE,
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
    json_out: bool = opt.JSON_OUT,
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
        image_hw=opt.image_hw(image_size),
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
