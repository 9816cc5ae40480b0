"""``genwatt metrics``: export this machine's energy counters to Prometheus.

Thin on purpose: ``genwatt.metrics.exporter.run_exporter`` does the work; this parses
and prints.
"""

from __future__ import annotations

from pathlib import Path

import typer

from genwatt.metrics.exporter import DEFAULT_TEXTFILE_EVERY_S, run_exporter


def metrics(
    port: int | None = typer.Option(
        None, "--port", help="Serve http://ADDR:PORT/metrics (0: any free port)."
    ),
    addr: str = typer.Option(
        "127.0.0.1", "--addr", help="Address to serve on (0.0.0.0: every interface)."
    ),
    textfile: Path | None = typer.Option(
        None,
        "--textfile",
        help="Write the metrics to this *.prom file for the node exporter's textfile "
        "collector (atomically).",
    ),
    every_s: float = typer.Option(
        DEFAULT_TEXTFILE_EVERY_S, "--every", help="Seconds between textfile writes."
    ),
    duration_s: float | None = typer.Option(
        None, "--duration", help="Stop after this many seconds (default: until Ctrl-C)."
    ),
    pid: int | None = typer.Option(
        None,
        "--pid",
        help="Also export the estimated CPU/DRAM energy of this process and its "
        "descendants where the machine has no such counter.",
    ),
) -> None:
    """Export energy per domain (joules, with provenance) and power for Prometheus."""
    run = run_exporter(
        port=port,
        addr=addr,
        textfile=textfile,
        every_s=every_s,
        duration_s=duration_s,
        pid=pid,
        announce=typer.echo,
    )
    window = run.window
    kinds = ", ".join(sorted({str(window.provenance[d]) for d in window.energy_j})) or "none"
    typer.echo(
        f"stopped after {window.duration_s:.3g} s: {window.total_energy_j:.6g} J counted "
        f"({kinds})"
        + (f"; {run.textfile} written {run.textfile_writes} times" if run.textfile else "")
    )
    for domain, why in sorted(window.errors.items()):
        typer.echo(f"{domain}: no figure: {why}")
