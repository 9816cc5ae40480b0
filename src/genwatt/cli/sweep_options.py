"""Options shared by ``genwatt bench`` and ``genwatt sweep``: the spec's fields as flags."""

from __future__ import annotations

from typing import Any

import typer

from genwatt.errors import ConfigError


def int_list(text: str | None, flag: str) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"{flag}: expected comma-separated integers, got {text!r}") from None


FRAMES = typer.Option(None, "--frames", help="Frame counts, comma-separated (e.g. 5,9,17).")
HEIGHTS = typer.Option(None, "--height", help="Heights in pixels, comma-separated.")
WIDTHS = typer.Option(None, "--width", help="Widths in pixels, comma-separated.")
STEPS = typer.Option(None, "--steps", help="Denoising step counts, comma-separated.")
GUIDANCE = typer.Option(None, "--guidance", help="Guidance scale (default 5.0).")
WEIGHTS = typer.Option(None, "--weights", help="pretrained | random | tiny.")
DEVICE = typer.Option("cpu", "--device", help="torch device, e.g. cpu or cuda.")
DTYPE = typer.Option(None, "--dtype", help="float32 | bfloat16 | float16.")
REPEATS = typer.Option(
    None, "--repeats", min=1, help="Measured runs per configuration (tiny models: 3, real: 1)."
)
WARMUP = typer.Option(
    None, "--warmup", min=0, help="Unrecorded runs before each configuration (default 1)."
)
STORE = typer.Option(
    None, "--store", help="Results store (env GENWATT_STORE; default ./genwatt.db)."
)
JSON = typer.Option(False, "--json", help="Print a JSON report instead of tables.")
DRY_RUN = typer.Option(
    False, "--dry-run", help="Print the plan, with predicted cost, and run nothing."
)
GPU = typer.Option(
    None, "--gpu", help="Hardware profile for the dry run's predicted cost (see `genwatt gpus`)."
)


def grid_overrides(
    frames: str | None, heights: str | None, widths: str | None, steps: str | None
) -> dict[str, Any]:
    return {
        "num_frames": int_list(frames, "--frames"),
        "height": int_list(heights, "--height"),
        "width": int_list(widths, "--width"),
        "steps": int_list(steps, "--steps"),
    }
