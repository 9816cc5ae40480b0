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
from genwatt.cli import predict_options as opt
from genwatt.cli.sweep_options import CLOUD, COUNTRY, PUE
from genwatt.formatting import mass_g, seconds, si
from genwatt.predict.predictor import predict as run_predict
from genwatt.predict.sweep import parse_sweep, predict_sweep
from genwatt.units import format_energy_j


def predict(
    model: str = opt.MODEL,
    gpu: str = opt.GPU,
    frames: int | None = opt.FRAMES,
    height: int | None = opt.HEIGHT,
    width: int | None = opt.WIDTH,
    steps: int | None = opt.STEPS,
    guidance: float | None = opt.GUIDANCE,
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
    task: str | None = opt.TASK,
    input_tokens: int | None = opt.INPUT_TOKENS,
    new_tokens: int | None = opt.NEW_TOKENS,
    image_size: str | None = opt.IMAGE_SIZE,
    audio_seconds: float | None = opt.AUDIO_SECONDS,
    protocol: str | None = opt.PROTOCOL,
    harness: str | None = opt.HARNESS,
    dtype: str | None = typer.Option(None, "--dtype", help="float32 | bfloat16 | float16."),
    country: str | None = COUNTRY,
    pue: float | None = PUE,
    cloud: str | None = CLOUD,
    json_out: bool = opt.JSON_OUT,
) -> None:
    """Predict latency and energy of one generation or query (provenance: predicted)."""
    from genwatt.predict.route import predictor_route

    carbon = CarbonSetting.resolve(country, pue, cloud=cloud)
    route, name = predictor_route(model)
    if route == "task":
        _predict_task(
            name,
            gpu,
            task=task,
            batch=batch,
            input_tokens=input_tokens,
            new_tokens=new_tokens,
            image_hw=opt.image_hw(image_size),
            audio_s=audio_seconds,
            dtype=dtype,
            protocol=protocol,
            harness=harness,
            calibration=calibration,
            carbon=carbon,
            json_out=json_out,
            diffusion=(frames, height, width, steps, guidance, sweep),
        )
        return
    if any(v is not None for v in (input_tokens, new_tokens, image_size, audio_seconds, harness)):
        from genwatt.errors import ConfigError

        raise ConfigError(
            f"{name} is a diffusion model: --input-tokens, --new-tokens, --image-size, "
            "--audio-seconds and --harness are for the suite's other models; give --frames, "
            "--height, --width, --steps or --guidance."
        )
    run = None
    if task is not None or protocol is not None:
        from genwatt.predict.diffusion_protocol import diffusion_run, protocol_fields

        run = diffusion_run(
            name,
            task=task,
            protocol=protocol,
            batch=batch,
            steps=steps,
            dtype=dtype,
            guidance=guidance,
        )
    settings: dict[str, Any] = {
        "num_frames": frames,
        "height": height,
        "width": width,
        "steps": steps,
        "guidance": guidance,
        "batch_size": batch,
        "dtype": dtype,
        **(run.settings if run is not None else {}),
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

    prediction = run_predict(name, gpu, calibration=calibration, **settings)
    data = prediction.to_dict()
    if run is not None:
        data |= protocol_fields(run, data["energy_gpu_j"], data["latency_s"], batch)
        data["notes"] = [*run.notes, *data["notes"]]
    data |= {"co2e_g": carbon.co2e_g(data["energy_gpu_j"]), "carbon": carbon.to_dict()}
    if json_out:
        typer.echo(json.dumps(data, indent=2))
    else:
        _print_prediction(data)
        _print_carbon(carbon, f"{mass_g(data['co2e_g'])} CO2e (predicted, GPU energy)")


def _predict_task(
    model: str,
    gpu: str,
    *,
    carbon: CarbonSetting,
    json_out: bool,
    diffusion: tuple[Any, ...],
    **settings: Any,
) -> None:
    """A suite model: the task predictor (counts compute on the meta device)."""
    frames, height, width, steps, guidance, sweep = diffusion
    if any(v is not None for v in (frames, height, width, steps, guidance)) or sweep:
        from genwatt.errors import ConfigError

        raise ConfigError(
            f"{model} is not a diffusion model: --frames, --height, --width, --steps, "
            "--guidance and --sweep do not apply; use --input-tokens, --new-tokens, "
            "--image-size or --audio-seconds."
        )
    from genwatt.predict.task_predictor import predict_task

    prediction = predict_task(model, gpu, **settings)
    data = prediction.to_dict()
    data |= {"co2e_g": carbon.co2e_g(data["energy_gpu_j"]), "carbon": carbon.to_dict()}
    if json_out:
        typer.echo(json.dumps(data, indent=2, default=str))
        return
    _print_task_prediction(data)
    _print_carbon(carbon, f"{mass_g(data['co2e_g'])} CO2e a query (predicted, GPU energy)")


def _print_task_prediction(p: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    from genwatt.cli.render import console, provenance_text
    from genwatt.units import j_to_wh

    out = console()
    settings = ", ".join(f"{k} {v}" for k, v in p["settings"].items() if v is not None)
    what = (
        f"{p['model']} ({p['task']}) on {p['gpu']}, batch {p['batch']}, {p['dtype']}, "
        f"driven by {p['harness']}"
    )
    table = Table(title=escape(f"{what}: {settings}"), title_justify="left")
    for column in ("phase", "FLOPs", "latency s", "energy", "bound", "provenance"):
        table.add_column(
            column, justify="left" if column in ("phase", "bound", "provenance") else "right"
        )
    est = p["estimate"]
    batch = p["batch"]
    for name, latency in est["latency_by_phase_s"].items():
        flops = p["compute"]["phases"].get(name, {}).get("flops")
        table.add_row(
            name,
            _flops_text(flops),
            seconds(latency / batch),
            format_energy_j(est["energy_by_phase_j"].get(name, 0.0) / batch),
            est.get("bound_by_phase", {}).get(name, ""),
            provenance_text(p["provenance"]),
        )
    table.add_row(
        "[bold]one query[/]",
        _flops_text(p["flops"] / batch if p["flops"] else None),
        f"[bold]{seconds(p['latency_s'])}[/]",
        f"[bold]{format_energy_j(p['energy_gpu_j'])}[/]",
        "",
        provenance_text(p["provenance"]),
    )
    out.print(table)
    line = f"per 1,000 queries: GPU {j_to_wh(p['energy_gpu_j']) * 1000:.3g} Wh"
    if p.get("energy_machine_j") is not None:
        line += f", whole machine {j_to_wh(p['energy_machine_j']) * 1000:.3g} Wh"
    if p["error_low_frac"] is not None:
        line += (
            f"; likely range -{100 * p['error_low_frac']:.0f} % to "
            f"+{100 * p['error_high_frac']:.0f} % ({p['band_source']})"
        )
    out.print(escape(line))
    out.print(
        f"physical floor {format_energy_j(p['energy_floor_j'])} a query (every FLOP at peak "
        "and TDP)"
    )
    out.print(f"[dim]calibration: {escape(p['calibration']['source'])}[/]")
    for note in p["notes"]:
        out.print(f"[yellow]note:[/] {escape(note)}")


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
    if c.get("dtype"):
        what += f", {c['dtype']}"
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
    if p.get("task"):
        line = f"{p['task']}"
        if p.get("protocol"):
            line += f" under {p['protocol']}"
        line += f": per 1,000 queries GPU {si(p['energy_gpu_wh_per_1000'])}Wh"
        if p.get("energy_wh_per_1000") is not None:
            line += f", whole machine {si(p['energy_wh_per_1000'])}Wh"
        out.print(escape(line))
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
