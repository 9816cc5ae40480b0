"""``genwatt predict``: latency and GPU energy of a generation, before running it.

Fast by design: the registry and the closed-form FLOP counts are pure Python, so this
command imports no torch and answers in well under two seconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from genwatt.carbon.setting import CarbonSetting
from genwatt.cli.sweep_options import CLOUD, COUNTRY, PUE, finite_option
from genwatt.formatting import mass_g, seconds, si
from genwatt.predict.predictor import predict as run_predict
from genwatt.predict.sweep import parse_sweep, predict_sweep
from genwatt.units import format_energy_j


def predict(
    model: str = typer.Option(..., "--model", "-m", help="Registered model (`genwatt models`)."),
    gpu: str = typer.Option("h100-sxm", "--gpu", help="Hardware profile (`genwatt gpus`)."),
    frames: int | None = typer.Option(None, "--frames", help="Frames (video models)."),
    height: int | None = typer.Option(None, "--height", help="Height in pixels."),
    width: int | None = typer.Option(None, "--width", help="Width in pixels."),
    steps: int | None = typer.Option(None, "--steps", help="Denoising steps."),
    guidance: float | None = typer.Option(
        None, "--guidance", callback=finite_option, help="Guidance scale."
    ),
    batch: int = typer.Option(1, "--batch", help="Generations per pipeline call."),
    sweep: list[str] = typer.Option(
        [],
        "--sweep",
        help="Vary a setting: frames|height|width|steps=START:STOP:STEP (or =V1,V2,...); "
        "repeat for a grid.",
    ),
    calibration: Path | None = typer.Option(
        None, "--calibration", help="A calibration JSON from `genwatt calibrate`."
    ),
    country: str | None = COUNTRY,
    pue: float | None = PUE,
    cloud: str | None = CLOUD,
    json_out: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """Predict latency and GPU energy of one generation (provenance: predicted)."""
    carbon = CarbonSetting.resolve(country, pue, cloud=cloud)
    settings: dict[str, Any] = {
        "num_frames": frames,
        "height": height,
        "width": width,
        "steps": steps,
        "guidance": guidance,
        "batch_size": batch,
    }
    if sweep:
        result = predict_sweep(
            model,
            gpu,
            [parse_sweep(s) for s in sweep],
            base={k: v for k, v in settings.items() if v is not None},
            calibration=calibration,
        )
        data = result.to_dict()
        for row in data["rows"]:
            row["co2e_g"] = carbon.co2e_g(row["energy_gpu_j"])
        if json_out:
            calib = result.predictions[0].calibration.summary() if result.predictions else None
            data |= {"calibration": calib, "carbon": carbon.to_dict()}
            typer.echo(json.dumps(data, indent=2))
        else:
            _print_sweep(model, gpu, result)
            _print_carbon(carbon, "per row: JSON `co2e_g`")
        return

    prediction = run_predict(model, gpu, calibration=calibration, **settings)
    data = prediction.to_dict()
    data |= {"co2e_g": carbon.co2e_g(data["energy_gpu_j"]), "carbon": carbon.to_dict()}
    if json_out:
        typer.echo(json.dumps(data, indent=2))
    else:
        _print_prediction(data)
        _print_carbon(carbon, f"{mass_g(data['co2e_g'])} CO2e (predicted, GPU energy)")


def _print_carbon(carbon: CarbonSetting, what: str) -> None:
    from rich.markup import escape

    from genwatt.cli.render import console

    console().print(f"{escape(what)} on {escape(carbon.describe())}")


def _flops_text(flops: float | None) -> str:
    """FLOPs with an SI prefix, in a column headed FLOPs: tiny CPU models count in G,
    video models in P; "-" when the predictor gave none."""
    return "-" if flops is None else si(flops)


def _calibration_line(c: dict[str, Any]) -> str:
    from rich.markup import escape

    cv = c.get("cross_validated_error")
    if cv:
        error = (
            f"cross-validated ({cv['method']}, {cv['points']} points): latency "
            f"{cv['latency_mape_pct']:.1f} %, GPU energy {cv['energy_gpu_mape_pct']:.1f} % MAPE"
        )
    else:
        error = "no cross-validated error on this GPU"
    return f"calibration: {escape(c['source'])}; model form '{c['form']}'; {error}"


def _print_prediction(p: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    from genwatt.cli.render import console, provenance_text

    out = console()
    c = p["config"]
    what = f"{p['model']} on {p['gpu']}: "
    if c.get("num_frames"):
        what += f"{c['num_frames']} frames, "
    what += f"{c['width']}x{c['height']}, {c['steps']} steps, guidance {c['guidance']:g}"
    if c.get("batch_size", 1) != 1:
        what += f", batch {c['batch_size']}"
    table = Table(title=escape(what), title_justify="left")
    for column in ("component", "FLOPs", "latency s", "energy", "provenance"):
        table.add_column(
            column, justify="left" if column in ("component", "provenance") else "right"
        )
    for name in ("text_encoder", "denoise", "vae_decode", "overhead"):
        table.add_row(
            name,
            _flops_text(p["flops"].get(name)),
            seconds(p["latency_by_component_s"][name]),
            format_energy_j(p["energy_by_component_j"][name]),
            provenance_text(p["provenance"]),
        )
    table.add_row(
        "[bold]total[/]",
        _flops_text(p["flops"]["total"]),
        f"[bold]{seconds(p['latency_s'])}[/]",
        f"[bold]{format_energy_j(p['energy_gpu_j'])}[/]",
        provenance_text(p["provenance"]),
    )
    out.print(table)
    out.print(
        f"physical floor {format_energy_j(p['energy_floor_j'])} (every FLOP at peak bf16 and "
        f"TDP); prediction is {p['above_floor']:.2f}x the floor; mean power "
        f"{p['mean_power_w']:.0f} W"
    )
    out.print(f"[dim]{_calibration_line(p['calibration'])}[/]")
    for note in p["notes"]:
        out.print(f"[yellow]note:[/] {escape(note)}")
    for warning in p["warnings"]:
        out.print(f"[bold yellow]warning:[/] {escape(warning)}")


def _print_sweep(model: str, gpu: str, result: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    from genwatt.cli.render import console, provenance_text

    out = console()
    table = Table(
        title=escape(f"{model} on {gpu}: predicted sweep of {', '.join(result.varied)}"),
        title_justify="left",
    )
    for column in ("frames", "size", "steps", "FLOPs", "latency s", "energy", "floor", "prov."):
        table.add_column(column, justify="left" if column in ("size", "prov.") else "right")
    for row in result.rows:
        table.add_row(
            str(row["num_frames"] or "-"),
            f"{row['width']}x{row['height']}",
            str(row["steps"]),
            _flops_text(row["flops_total"]),
            seconds(row["latency_s"]),
            format_energy_j(row["energy_gpu_j"]),
            format_energy_j(row["energy_floor_j"]),
            provenance_text("predicted"),
        )
    out.print(table)
    for fit, what in ((result.energy_fit, "energy"), (result.latency_fit, "latency")):
        if not fit.exponents:
            out.print(f"[dim]{what} scaling: {escape(fit.note)}[/]")
            continue
        parts = [f"{name} [bold]{e.value:.2f}[/]" for name, e in fit.exponents.items()]
        out.print(
            f"{what} ∝ " + " · ".join(parts) + f"   (log-log fit, R²={fit.r_squared:.3f}, "
            f"{fit.points} configs)"
        )
    if result.predictions:
        out.print(f"[dim]{_calibration_line(result.predictions[0].calibration.summary())}[/]")
    for warning in result.warnings:
        out.print(f"[bold yellow]warning:[/] {escape(warning)}")
