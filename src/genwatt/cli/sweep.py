"""``genwatt sweep SPEC.yaml``: run or resume a sweep described in YAML."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from genwatt.cli import sweep_options as opt
from genwatt.cli.report import NO_REPORT, REPORT
from genwatt.run.spec import SweepSpec


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
    report: Path | None = REPORT,
    no_report: bool = NO_REPORT,
) -> None:
    """Run a sweep; a sweep that was interrupted resumes where it stopped (by its id)."""
    import time

    from genwatt.run.spec import load_spec

    spec = load_spec(spec_path)
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
    report_path: Path | None = None,
    write_report: bool = True,
) -> None:
    from genwatt.cli import render

    if dry_run:
        from genwatt.run.plan import plan_sweep
        from genwatt.run.plan_cost import detected_gpu, plan_costs

        plan = plan_sweep(spec, base)
        gpu = gpu or detected_gpu(spec.device)
        costs = plan_costs(plan, gpu) if gpu else None
        if json_out:
            rows = [c.as_config() | {"key": c.key} for c in plan]
            for row, cost in zip(rows, costs or [], strict=False):
                row["predicted"] = cost.to_dict() | {"gpu": gpu}
            typer.echo(json.dumps(rows, indent=2))
        else:
            render.print_plan(plan, spec, sweep, costs=costs, gpu=gpu)
        return
    from genwatt.cli.progress import RichSweepProgress
    from genwatt.cli.report import finish_report
    from genwatt.run.bench import run_sweep

    if json_out:
        report = run_sweep(spec, store=store, sweep=sweep, base=base)
        typer.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        with RichSweepProgress(sweep) as progress:
            report = run_sweep(spec, store=store, sweep=sweep, base=base, progress=progress)
        render.print_sweep_report(report)
    if write_report:  # the whole store's report, this sweep included; stdout stays JSON
        finish_report(report.store, report_path, err=json_out)
