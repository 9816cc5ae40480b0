"""Plan or run a sweep and print what came of it: the step ``genwatt bench`` and
``genwatt sweep`` share.

It is no command of its own: the two commands build their ``SweepSpec`` differently (the
bench's default grid, a YAML file) and hand it here, so neither imports the other. A
dry run prints the plan (with its predicted cost where a GPU is known); a run shows a
progress bar, prints the sweep's report and writes the HTML page. Ctrl-C stops the
sweep between two stored runs and exits with 130 (the shell's code for an interrupted
command) after one line saying what is stored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from genwatt.carbon.setting import CarbonSetting
from genwatt.cli import render
from genwatt.cli.progress import RichSweepProgress
from genwatt.cli.report import finish_report
from genwatt.run.executor import Executor
from genwatt.run.plan import plan_sweep
from genwatt.run.plan_cost import PlannedCost, detected_gpu, plan_costs
from genwatt.run.runner import SweepInterrupted
from genwatt.run.sweep_spec import SweepSpec

INTERRUPTED_EXIT_CODE = 130  # 128 + SIGINT, what a shell reports for Ctrl-C


def execute(
    spec: SweepSpec,
    *,
    store: Path | None,
    sweep: str,
    base: Path | None = None,
    json_out: bool,
    dry_run: bool,
    gpu: str | None = None,
    carbon: CarbonSetting | None = None,
    report_path: Path | None = None,
    write_report: bool = True,
    resumable: bool = True,
    executor: Executor | None = None,
) -> None:
    """Plan (``dry_run``) or run the sweep and print its report. ``resumable`` says
    whether running the same command again resumes ``sweep`` (not so for ``genwatt
    bench``, which starts a new sweep id each time); it only changes the Ctrl-C hint.
    ``carbon`` is stored with every run and prices the plan's predicted energy."""
    carbon = carbon or CarbonSetting.resolve()

    if dry_run:
        plan = plan_sweep(spec, base)
        gpu = gpu or detected_gpu(spec.device)
        costs = plan_costs(plan, gpu) if gpu else None
        if json_out:
            rows = [c.as_config() | {"key": c.key} for c in plan]
            for row, cost in zip(rows, costs or [], strict=False):
                row["predicted"] = cost.to_dict() | {"gpu": gpu} | _co2e(cost, carbon)
            typer.echo(json.dumps(rows, indent=2))
        else:
            render.print_plan(plan, spec, sweep, costs=costs, gpu=gpu)
        return
    # Device, sizes, memory: before a bar opens. With an executor, the device is the
    # workers' (this process may have none, and must never initialise CUDA).
    plan_sweep(spec, base, require_device=executor is None)
    # The sweep's summary fits scaling laws with numpy: imported only when a sweep runs.
    from genwatt.run.sweep_report import run_sweep

    try:
        if json_out:
            report = run_sweep(
                spec, store=store, sweep=sweep, base=base, carbon=carbon, executor=executor
            )
        else:
            with RichSweepProgress(sweep) as progress:
                report = run_sweep(
                    spec,
                    store=store,
                    sweep=sweep,
                    base=base,
                    progress=progress,
                    carbon=carbon,
                    executor=executor,
                )
    except KeyboardInterrupt as stop:
        typer.echo(interrupted_message(stop, sweep, resumable=resumable), err=True)
        raise typer.Exit(INTERRUPTED_EXIT_CODE) from None
    if json_out:
        typer.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        render.print_sweep_report(report)
    if write_report:  # the whole store's report, this sweep included; stdout stays JSON
        finish_report(report.store, report_path, err=json_out)


def _co2e(cost: PlannedCost, carbon: CarbonSetting) -> dict[str, Any]:
    """The predicted GPU energy's CO2e on ``carbon``, for a dry run's JSON."""
    grams = carbon.co2e_g(cost.energy_gpu_j)
    return {"co2e_g": grams} if grams is None else {"co2e_g": grams, "carbon": carbon.to_dict()}


def interrupted_message(stop: KeyboardInterrupt, sweep: str, *, resumable: bool) -> str:
    """One line after Ctrl-C: what is stored, and how to go on."""
    if isinstance(stop, SweepInterrupted):
        outcome = stop.outcome
        stored = outcome.skipped + outcome.ran
        what = (
            f"interrupted: {outcome.ran} runs stored now, {stored} of "
            f"{outcome.planned_runs} planned in sweep {sweep!r} ({stop.store}); the run "
            "in progress was dropped"
        )
    else:
        what = f"interrupted: the runs of sweep {sweep!r} stored so far are kept"
    if resumable:
        return f"{what}. Rerun the same command to resume."
    return f"{what}. `genwatt results --sweep {sweep}` lists them."
