"""``genwatt calibrate``: fit the predictor to measurements taken on one GPU."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from genwatt.predict.fit import calibrate_from


def calibrate(
    gpu: str = typer.Option(..., "--gpu", help="Hardware profile the runs were measured on."),
    source: Path = typer.Option(
        ..., "--from", help="A genwatt store (SQLite) or a CSV of measured generations."
    ),
    model: str | None = typer.Option(
        None, "--model", help="The model, for a CSV without a model column."
    ),
    form: str = typer.Option(
        "auto", "--form", help="Model form to fit, or 'auto' to choose by cross-validation."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Where to write the calibration JSON (default: print only)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
    tasks: bool = typer.Option(
        False,
        "--tasks",
        help="Fit the task model (every suite model) to the store's `genwatt suite` runs.",
    ),
) -> None:
    """Fit efficiencies and powers by least squares; report leave-one-out error."""
    if tasks:
        _calibrate_tasks(gpu, source, out, json_out)
        return
    calibration = calibrate_from(source, gpu, model=model, form=form)
    if out is not None:
        calibration.save(out)
    if json_out:
        typer.echo(json.dumps(calibration.to_dict(), indent=2))
        return
    _print(calibration.to_dict(), out)


def _calibrate_tasks(gpu: str, source: Path, out: Path | None, json_out: bool) -> None:
    """The task model fitted to a store's suite runs, with its cross-validated error."""
    from genwatt.errors import ConfigError
    from genwatt.predict.task_calibration import calibrate_tasks
    from genwatt.run.suite.config_measurement import SUITE_KIND
    from genwatt.store.store import ResultsStore

    if not source.is_file():
        raise ConfigError(f"--from {source}: no such store; `genwatt suite --store` writes one.")
    with ResultsStore(source) as store:
        runs = store.runs(kind=SUITE_KIND, status="ok")
    if not runs:
        raise ConfigError(f"{source} holds no `genwatt suite` runs to fit the task model to.")
    calibration = calibrate_tasks(runs, gpu)
    if out is not None:
        calibration.save(out)
    summary = calibration.summary()
    if json_out:
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    from rich.markup import escape

    from genwatt.cli.render import console

    con = console()
    con.print(f"[bold]{escape(summary['source'])}[/]")
    for name, value in summary["params"].items():
        con.print(f"  {name} = {value:.4g}" + (" (fitted)" if name in summary["free"] else ""))
    cv = summary["cross_validated_error"]
    if cv:
        con.print(
            f"{cv['method']} over {cv['points']} configurations: latency "
            f"{_pct(cv['latency_mape_pct'])} %, GPU energy {_pct(cv['energy_gpu_mape_pct'])} % "
            "mean absolute error"
        )
    if out is not None:
        con.print(f"written to {escape(str(out))}; use it with `genwatt predict --calibration`")


def _print(c: dict[str, Any], out: Path | None) -> None:
    from rich.markup import escape
    from rich.table import Table

    from genwatt.cli.render import console

    con = console()
    cv = c["cross_validation"]
    con.print(f"[bold]{escape(c['source'])}[/]")
    con.print(f"model form: [bold]{c['form']['name']}[/] — {escape(c['form']['description'])}")
    params = Table(title="fitted parameters", title_justify="left")
    params.add_column("parameter")
    params.add_column("value", justify="right")
    params.add_column("fitted")
    free = set(c["form"]["free"])
    for name, value in c["params"].items():
        tied = c["form"]["ties"].get(name)
        params.add_row(
            name, f"{value:.4g}", "yes" if name in free else f"= {tied}" if tied else "-"
        )
    con.print(params)
    candidates = Table(title="cross-validated error of each form (MAPE %)", title_justify="left")
    for column in ("form", "latency", "GPU energy", "chosen"):
        candidates.add_column(column, justify="right" if column != "form" else "left")
    for cand in c["candidates"]:
        candidates.add_row(
            cand["form"],
            _pct(cand["latency_mape_pct"]),
            _pct(cand["energy_gpu_mape_pct"]),
            "✓" if cand["form"] == c["form"]["name"] else "",
        )
    con.print(candidates)
    con.print(
        f"{cv['method']} over {cv['points']} configurations: latency "
        f"[bold]{_pct(cv['latency_mape_pct'])} %[/], GPU energy "
        f"[bold]{_pct(cv['energy_gpu_mape_pct'])} %[/] mean absolute error"
    )
    if out is not None:
        con.print(f"written to {escape(str(out))}; use it with `genwatt predict --calibration`")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
