"""``genwatt gpus``: the hardware profiles predictions can use, with their sources."""

from __future__ import annotations

import json

import typer

from genwatt.predict.calibration import SHIPPED_DIR
from genwatt.predict.hardware import list_profiles


def gpus(
    json_out: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """List the hardware profiles: dense peak FLOP/s, memory bandwidth, TDP, citation."""
    profiles = list_profiles()
    calibrated = {p.stem for p in SHIPPED_DIR.glob("*.json")}
    if json_out:
        rows = [{**p.to_dict(), "calibrated": p.name in calibrated} for p in profiles]
        typer.echo(json.dumps(rows, indent=2))
        return

    from rich.markup import escape
    from rich.table import Table

    from genwatt.cli.render import console

    table = Table(
        caption="Dense peaks (the datasheets' 'with sparsity' figures halved). Calibrated: "
        "fitted on measurements on that GPU; the others use the H100 fit carried over by "
        "datasheet.",
        caption_justify="left",
    )
    for column in ("name", "device", "bf16 TFLOP/s", "fp32 TFLOP/s", "TB/s", "TDP W"):
        table.add_column(column, justify="right" if "/" in column or "W" in column else "left")
    table.add_column("calibrated")
    table.add_column("source", overflow="fold")
    for p in profiles:
        table.add_row(
            p.name,
            escape(p.display_name),
            f"{p.peak_bf16_flops / 1e12:.4g}",
            f"{p.peak_fp32_flops / 1e12:.4g}",
            f"{p.memory_bandwidth_bps / 1e12:.3g}",
            f"{p.tdp_w:g}",
            "yes" if p.name in calibrated else "-",
            escape(p.citation),
        )
    console().print(table)
