"""``genwatt bench``: the main job. A frames x resolution x steps sweep, stored and fitted."""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import ValidationError

from genwatt.carbon.setting import CarbonSetting
from genwatt.cli import sweep_options as opt
from genwatt.cli.report import NO_REPORT, REPORT
from genwatt.cli.sweep_driver import execute
from genwatt.run.bench_grid import bench_spec, new_bench_sweep_id
from genwatt.run.sweep_spec import spec_error


def bench(
    model: str = typer.Option(
        "wan-tiny", "--model", help="Registered model (see `genwatt models`)."
    ),
    weights: str | None = opt.WEIGHTS,
    device: str = opt.DEVICE,
    dtype: str | None = opt.DTYPE,
    frames: str | None = opt.FRAMES,
    height: str | None = opt.HEIGHTS,
    width: str | None = opt.WIDTHS,
    steps: str | None = opt.STEPS,
    guidance: float | None = opt.GUIDANCE,
    repeats: int | None = opt.REPEATS,
    warmup: int | None = opt.WARMUP,
    store: Path | None = opt.STORE,
    json_out: bool = opt.JSON,
    dry_run: bool = opt.DRY_RUN,
    gpu: str | None = opt.GPU,
    country: str | None = opt.COUNTRY,
    pue: float | None = opt.PUE,
    cloud: str | None = opt.CLOUD,
    report: Path | None = REPORT,
    no_report: bool = NO_REPORT,
) -> None:
    """Benchmark a model over frames x resolution x steps (default: the tiny WAN model on CPU)."""
    try:
        spec = bench_spec(
            model,
            weights=weights,
            device=device,
            dtype=dtype,
            guidance=guidance,
            repeats=repeats,
            warmup=warmup,
            **opt.grid_overrides(frames, height, width, steps),
        )
    except ValidationError as exc:  # an option's value the spec refuses (e.g. --dtype)
        raise spec_error(exc, "a genwatt bench option") from None
    execute(
        spec,
        store=store,
        sweep=new_bench_sweep_id(model),
        json_out=json_out,
        dry_run=dry_run,
        gpu=gpu,
        carbon=CarbonSetting.resolve(country, pue, cloud=cloud),
        report_path=report,
        write_report=not no_report,
        resumable=False,  # every bench is a sweep of its own: rerunning starts another
    )
