"""``genwatt sweep SPEC.yaml``: run or resume a sweep described in YAML.

Ctrl-C stops the sweep between two stored runs: the command says how many runs are
stored and exits with 130 (the shell's code for an interrupted command), and running
it again resumes. Planning, running and printing are ``genwatt.cli.sweep_driver``'s,
shared with ``genwatt bench``.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from genwatt.carbon.setting import CarbonSetting
from genwatt.cli import sweep_options as opt
from genwatt.cli.report import NO_REPORT, REPORT
from genwatt.cli.sweep_driver import execute
from genwatt.run.executor_choice import make_executor
from genwatt.run.sweep_spec import load_spec


def sweep(
    spec_path: Path = typer.Argument(..., help="YAML sweep spec.", exists=False),
    store: Path | None = opt.STORE,
    name: str | None = typer.Option(
        None, "--name", help="Sweep id (default: the spec's name or file name)."
    ),
    fresh: bool = typer.Option(False, "--fresh", help="Start a new sweep instead of resuming."),
    json_out: bool = opt.JSON,
    dry_run: bool = opt.DRY_RUN,
    gpu: str | None = opt.GPU,
    country: str | None = opt.COUNTRY,
    pue: float | None = opt.PUE,
    cloud: str | None = opt.CLOUD,
    report: Path | None = REPORT,
    no_report: bool = NO_REPORT,
    executor: str = opt.EXECUTOR,
    ray_address: str | None = opt.RAY_ADDRESS,
    max_parallel: int | None = opt.MAX_PARALLEL,
    gpus_per_config: float | None = opt.GPUS_PER_CONFIG,
) -> None:
    """Run a sweep; a sweep that was interrupted resumes where it stopped (by its id)."""
    spec = load_spec(spec_path)
    # A bad grid fails before anything runs.
    carbon = CarbonSetting.resolve(country, pue, cloud=cloud)
    runner = make_executor(
        executor, address=ray_address, max_parallel=max_parallel, gpus_per_config=gpus_per_config
    )
    sweep_id = name or spec.name or spec_path.stem
    if fresh:
        sweep_id = f"{sweep_id}-{time.strftime('%Y%m%d-%H%M%S')}"
    execute(
        spec,
        store=store,
        sweep=sweep_id,
        base=spec_path.parent,
        json_out=json_out,
        dry_run=dry_run,
        gpu=gpu,
        carbon=carbon,
        report_path=report,
        write_report=not no_report,
        executor=runner,
    )
