"""``genwatt sweep SPEC.yaml``: run or resume a sweep described in YAML.

Ctrl-C stops the sweep between two stored runs: the command says how many runs are
stored and exits with 130 (the shell's code for an interrupted command), and running
it again resumes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from genwatt.cli import sweep_options as opt
from genwatt.cli.report import NO_REPORT, REPORT
from genwatt.run.spec import SweepSpec

if TYPE_CHECKING:
    from genwatt.carbon.setting import CarbonSetting
    from genwatt.run.plan_cost import PlannedCost

INTERRUPTED_EXIT_CODE = 130  # 128 + SIGINT, what a shell reports for Ctrl-C


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
    report: Path | None = REPORT,
    no_report: bool = NO_REPORT,
) -> None:
    """Run a sweep; a sweep that was interrupted resumes where it stopped (by its id)."""
    import time

    from genwatt.carbon.setting import CarbonSetting
    from genwatt.run.spec import load_spec

    spec = load_spec(spec_path)
    carbon = CarbonSetting.resolve(country, pue)  # a bad country fails before anything runs
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
    )


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
) -> None:
    """Plan (``dry_run``) or run the sweep and print its report. ``resumable`` says
    whether running the same command again resumes ``sweep`` (not so for ``genwatt
    bench``, which starts a new sweep id each time); it only changes the Ctrl-C hint.
    ``carbon`` is stored with every run and prices the plan's predicted energy."""
    from genwatt.carbon.setting import CarbonSetting
    from genwatt.cli import render

    carbon = carbon or CarbonSetting.resolve()

    if dry_run:
        from genwatt.run.plan import plan_sweep
        from genwatt.run.plan_cost import detected_gpu, plan_costs

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
    from genwatt.run.plan import plan_sweep

    plan_sweep(spec, base, require_device=True)  # device, sizes, memory: before a bar opens
    from genwatt.cli.progress import RichSweepProgress
    from genwatt.cli.report import finish_report
    from genwatt.run.bench import run_sweep

    try:
        if json_out:
            report = run_sweep(spec, store=store, sweep=sweep, base=base, carbon=carbon)
        else:
            with RichSweepProgress(sweep) as progress:
                report = run_sweep(
                    spec, store=store, sweep=sweep, base=base, progress=progress, carbon=carbon
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
    if cost.energy_gpu_j is None:
        return {"co2e_g": None}
    return {"co2e_g": carbon.co2e(cost.energy_gpu_j).co2e_g, "carbon": carbon.to_dict()}


def interrupted_message(stop: KeyboardInterrupt, sweep: str, *, resumable: bool) -> str:
    """One line after Ctrl-C: what is stored, and how to go on."""
    from genwatt.run.runner import SweepInterrupted

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
