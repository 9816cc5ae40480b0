"""``genwatt suite``: every task, per 1,000 queries, resumable like a sweep.

With no options it runs every task on its families' tiny models on the CPU. Ctrl-C
stops it between two stored configurations (exit 130); the same command resumes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from genwatt.carbon.setting import CarbonSetting
from genwatt.cli import sweep_options as opt
from genwatt.cli.progress import RichSuiteProgress
from genwatt.cli.render import console
from genwatt.cli.sweep_driver import INTERRUPTED_EXIT_CODE
from genwatt.formatting import sig


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [v.strip() for v in text.split(",") if v.strip()]
    return names or None


def _wh(value: float | None) -> str:
    return "-" if value is None else sig(value)


def print_summary(summary: dict[str, Any]) -> None:
    """One table per task: energy per 1,000 queries, latency, stars and quality."""
    from rich.table import Table

    out = console(piped_width=160)
    weights = {m["weights"] for t in summary["tasks"] for m in t["models"]}
    if weights == {"tiny"}:
        out.print(
            "[bold]tiny weights[/]: each family's miniature, for exercising pipelines and the "
            "meter, not real-model figures (use --weights random for the real sizes)."
        )
    for task in summary["tasks"]:
        table = Table(title=task["task"], title_justify="left")
        for header in (
            "model",
            "kind",
            "batch",
            "Wh/1k machine",
            "Wh/1k GPU",
            "provenance",
            "ms/query",
            "stars AIES/log",
            "quality",
        ):
            table.add_column(
                header, justify="left" if header in ("model", "kind", "provenance") else "right"
            )
        for m in task["models"]:
            if m["status"] != "ok":
                table.add_row(
                    m["model"],
                    m["kind"],
                    str(m["batch_size"]),
                    f"[red]failed: {m.get('error') or ''}[/]",
                    "",
                    "",
                    "",
                    "",
                    "",
                )
                continue
            stars = m["stars"]
            quality = m["quality"]
            table.add_row(
                m["model"],
                m["kind"],
                str(m["batch_size"]),
                _wh(m["energy_wh_per_1000"]),
                _wh(m["gpu_energy_wh_per_1000"]),
                m["energy_provenance"] or "-",
                f"{1000 * m['latency_s_per_query']:.3g}",
                f"{stars['ai_energy_score']}/{stars['log_bands']}" if stars else "-",
                f"{quality['metric']} {quality['value']:.3f}" if quality else "-",
            )
        ratio = task["multi_purpose_ratio"]
        if ratio is not None:
            table.caption = f"multi-purpose / task-specific (median energy per query): {ratio:.1f}x"
        out.print(table)


def suite(
    tasks: str | None = typer.Option(
        None, "--tasks", help="Tasks, comma-separated (default: all 13; see `genwatt tasks`)."
    ),
    models: str | None = typer.Option(
        None,
        "--models",
        help="Models, comma-separated repo ids or aliases (default: every model of each task).",
    ),
    queries: int | None = typer.Option(
        None,
        "--queries",
        min=1,
        help="Measured queries per configuration (default: genwatt 100, the anchors 1,000).",
    ),
    batch_sizes: str | None = typer.Option(
        None, "--batch-sizes", help="Batch sizes, comma-separated, e.g. 1,8,32 (default 1)."
    ),
    weights: str = typer.Option(
        "tiny",
        "--weights",
        help="tiny (default: each family's miniature) | random (real size) | pretrained.",
    ),
    device: str = opt.DEVICE,
    dtype: str | None = opt.DTYPE,
    data: str | None = typer.Option(
        None,
        "--data",
        help="Your queries (one task): a .txt/.jsonl/.csv file, a folder of images or audio, "
        "or hf:NAME.",
    ),
    protocol: str = typer.Option(
        "genwatt", "--protocol", help="genwatt | ai-energy-score | power-hungry-processing."
    ),
    new_tokens: int | None = typer.Option(
        None,
        "--new-tokens",
        min=1,
        help="Tokens each generating query produces (default: the task's, e.g. 10).",
    ),
    steps: int | None = typer.Option(
        None,
        "--steps",
        min=1,
        help="Denoising steps of text-to-image/video (default: 30 / the model's).",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the built-in queries."),
    idle_seconds: float = typer.Option(
        0.0,
        "--idle-seconds",
        min=0.0,
        help="Measure idle power this long first, to report energy net of idle.",
    ),
    name: str | None = typer.Option(
        None,
        "--name",
        help="Suite id in the store (default: from the settings, so the same command resumes).",
    ),
    store: Path | None = opt.STORE,
    json_out: bool = opt.JSON,
    country: str | None = opt.COUNTRY,
    pue: float | None = opt.PUE,
    cloud: str | None = opt.CLOUD,
    executor: str = opt.EXECUTOR,
    ray_address: str | None = opt.RAY_ADDRESS,
    max_parallel: int | None = opt.MAX_PARALLEL,
    gpus_per_config: float | None = opt.GPUS_PER_CONFIG,
) -> None:
    """Measure every task's models per 1,000 queries: GPU and whole machine, per phase."""
    import diffusers
    import transformers

    from genwatt.run.suite.execute import run_suite

    # transformers warns once per processor that torchvision is missing and once per
    # call that the fixed generation length overrides max_length: noise on a terminal
    # that shows a progress bar. Errors still show.
    transformers.logging.set_verbosity_error()
    diffusers.logging.set_verbosity_error()
    sizes = opt.int_list(batch_sizes, "--batch-sizes")
    carbon = CarbonSetting.resolve(country, pue, cloud=cloud)
    from genwatt.run.executor_choice import make_executor

    runner = make_executor(
        executor, address=ray_address, max_parallel=max_parallel, gpus_per_config=gpus_per_config
    )
    settings: dict[str, Any] = dict(
        protocol=protocol,
        tasks=_names(tasks),
        models=_names(models),
        batch_sizes=tuple(sizes) if sizes else None,
        weights=weights,
        device=device,
        dtype=dtype,
        queries=queries,
        new_tokens=new_tokens,
        steps=steps,
        data=data,
        seed=seed,
        store=store,
        name=name,
        carbon=carbon,
        idle_s=idle_seconds,
        executor=runner,
    )
    try:
        if json_out:
            outcome, summary = run_suite(**settings)
        else:
            with RichSuiteProgress(console(stderr=True)) as progress:
                outcome, summary = run_suite(**settings, progress=progress)
    except KeyboardInterrupt as stop:
        from genwatt.run.suite.runner import SuiteInterrupted

        stored = (
            f"{stop.outcome.ran} configurations stored now"
            if isinstance(stop, SuiteInterrupted)
            else "what was stored is kept"
        )
        typer.echo(f"interrupted: {stored}. Rerun the same command to resume.", err=True)
        raise typer.Exit(INTERRUPTED_EXIT_CODE) from None
    if json_out:
        if outcome.placement is not None:
            summary = summary | {"placement": outcome.placement.to_dict()}
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    print_summary(summary)
    skipped = f", {outcome.skipped} already stored" if outcome.skipped else ""
    failed = f", {outcome.failed} failed" if outcome.failed else ""
    console().print(f"{outcome.ran} configurations run{skipped}{failed}; suite {outcome.suite!r}.")
    if outcome.placement is not None:
        console().print(escape(outcome.placement.describe()))
