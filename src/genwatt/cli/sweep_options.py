"""Options shared by ``genwatt bench`` and ``genwatt sweep``: the spec's fields as flags."""

from __future__ import annotations

from typing import Any

import typer

from genwatt.errors import ConfigError
from genwatt.numbers import finite_or_none
from genwatt.run.device_check import parse_device


def finite_option(param: typer.CallbackParam, value: float | None) -> float | None:
    """Typer callback: a float flag must be finite (``--guidance nan`` would pass every
    bound and silently mean no guidance)."""
    return finite_or_none(value, param.opts[0] if param.opts else str(param.name))


def device_option(value: str) -> str:
    """Typer callback: the device's form (cpu, cuda, cuda:N, mps), checked as it is read.

    Whether the device is usable here is checked when the plan is validated for a run,
    so that a dry run can plan a GPU sweep on a machine without one.
    """
    parse_device(value)
    return value


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
GUIDANCE = typer.Option(
    None, "--guidance", callback=finite_option, help="Guidance scale (default 5.0)."
)
WEIGHTS = typer.Option(None, "--weights", help="pretrained | random | tiny.")
DEVICE = typer.Option(
    "cpu", "--device", callback=device_option, help="torch device: cpu, cuda, cuda:N or mps."
)
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


COUNTRY = typer.Option(
    None,
    "--country",
    help="Grid for CO2e, ISO 3166 code or name (env GENWATT_COUNTRY; default the world "
    "average); stored with every run. `genwatt carbon` lists them.",
)
CLOUD = typer.Option(
    None,
    "--cloud",
    help="Grid for CO2e as a cloud region, PROVIDER:REGION such as gcp:europe-west1 "
    "(env GENWATT_CLOUD), instead of --country; stored with every run.",
)
PUE = typer.Option(
    None,
    "--pue",
    callback=finite_option,
    help="Facility overhead for CO2e, 1.0 to 3.0 (env GENWATT_PUE; default 1.0); stored.",
)


EXECUTOR = typer.Option(
    "local",
    "--executor",
    help="local: run here, one configuration after another; ray: one Ray task per "
    "configuration across a cluster's GPUs (pip install 'genwatt[ray]').",
)
RAY_ADDRESS = typer.Option(
    None,
    "--ray-address",
    help="With --executor ray: 'auto' or HOST:PORT of a running cluster (default: start a "
    "local Ray instance sized to this machine).",
)
MAX_PARALLEL = typer.Option(
    None,
    "--max-parallel",
    min=1,
    help="With --executor ray: configurations in flight at once (default: twice the "
    "cluster's GPUs; its CPUs for CPU configurations).",
)
GPUS_PER_CONFIG = typer.Option(
    None,
    "--gpus-per-config",
    min=0.0,
    help="With --executor ray: GPUs each configuration's task declares (default: 1 on "
    "CUDA, 0 on the CPU).",
)
