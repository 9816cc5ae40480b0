"""Options shared by ``genwatt predict`` and ``genwatt footprint``: what one query is.

Both commands describe one query the same way (a model on a GPU profile, a suite
model's task and input sizes, or a diffusion model's settings), so the flags are
declared once here, as ``cli/sweep_options.py`` does for ``bench`` and ``sweep``, and
``--image-size`` is read by one parser. ``--batch`` and ``--calibration`` stay with
each command: their defaults and reach differ (a prediction is of one pipeline call,
a footprint may filter stored runs by batch).
"""

from __future__ import annotations

import typer

from genwatt.cli.sweep_options import finite_option

MODEL = typer.Option(..., "--model", "-m", help="A model of `genwatt models` or `genwatt tasks`.")
GPU = typer.Option("h100-sxm", "--gpu", help="Hardware profile (`genwatt gpus`).")

# A suite model's query (the task predictor).
TASK = typer.Option(
    None,
    "--task",
    help="Task of a suite model with several (`genwatt tasks`); a prediction takes its first.",
)
INPUT_TOKENS = typer.Option(
    None, "--input-tokens", min=1, help="Text tokens per query (default: the task's typical)."
)
NEW_TOKENS = typer.Option(
    None, "--new-tokens", min=1, help="Generated tokens per query (default: the task's)."
)
IMAGE_SIZE = typer.Option(
    None, "--image-size", help="Input image HEIGHTxWIDTH in pixels (image tasks)."
)
AUDIO_SECONDS = typer.Option(
    None, "--audio-seconds", callback=finite_option, help="Seconds of audio (speech)."
)
PROTOCOL = typer.Option(
    None,
    "--protocol",
    help="ai-energy-score | power-hungry-processing: a query as that protocol runs the "
    "model's task.",
)
HARNESS = typer.Option(
    None,
    "--harness",
    help="pipeline | energy-star: how the queries are driven (default: the protocol's; "
    "energy-star is AI Energy Score's, a pipeline genwatt suite's).",
)

# A diffusion model's generation (the diffusion predictor).
FRAMES = typer.Option(None, "--frames", help="Frames (video models).")
HEIGHT = typer.Option(None, "--height", help="Height in pixels (diffusion).")
WIDTH = typer.Option(None, "--width", help="Width in pixels (diffusion).")
STEPS = typer.Option(None, "--steps", help="Denoising steps (diffusion).")
GUIDANCE = typer.Option(
    None, "--guidance", callback=finite_option, help="Guidance scale (diffusion)."
)

JSON_OUT = typer.Option(False, "--json", help="Print machine-readable JSON.")


def image_hw(value: str | None) -> tuple[int, int] | None:
    """``--image-size`` ``HxW`` (``480x640``, or ``480×640``) as (height, width); None
    when not given.

    Raises:
        typer.BadParameter: not two whole numbers joined by ``x``, or a side below 1
            pixel (the usage error of any bad flag, exit status 2).
    """
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
