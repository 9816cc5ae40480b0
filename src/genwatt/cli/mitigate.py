"""``genwatt mitigate``: what each energy-saving strategy saves, and what it costs in quality."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from genwatt.cli import sweep_options as opt
from genwatt.cli.progress import RichSweepProgress
from genwatt.meter.meter import Meter
from genwatt.store.store import ResultsStore, default_store_path

# genwatt.mitigate.comparison.size's QUICK_PROMPTS and FULL_PROMPTS, written out so that the
# help needs no import of the harness (numpy, scipy); a test keeps them equal.
QUICK_PROMPTS = 3
FULL_PROMPTS = 6


def mitigate(
    model: str = typer.Option(
        "wan-reference",
        "--model",
        help="Model to compare on (default: genwatt's trained reference model).",
    ),
    weights: str | None = typer.Option(
        None, "--weights", help="pretrained | random | tiny (reference model: pretrained)."
    ),
    strategies: str | None = typer.Option(
        None,
        "--strategies",
        help=(
            "Comma-separated strategies, each optionally NAME:SETTING (e.g. "
            "magcache:0.1,fewer-steps:15). 'all' runs every default; 'cache', 'reuse' "
            "and 'baseline' run one kind. See --list. Default: a quick set (half the "
            "steps, no guidance, magcache, genwatt-adaptive-3x); 'all' with --full."
        ),
    ),
    list_only: bool = typer.Option(False, "--list", help="List the strategies and exit."),
    prompts: int | None = typer.Option(
        None,
        "--prompts",
        min=1,
        help=f"Prompts per comparison (default {QUICK_PROMPTS}; {FULL_PROMPTS} with --full).",
    ),
    full: bool = typer.Option(
        False,
        "--full",
        help=(
            f"The full comparison: every default strategy on {FULL_PROMPTS} prompts "
            "(minutes on a laptop CPU; the estimate is shown before it starts)."
        ),
    ),
    seeds: str = typer.Option("0", "--seeds", help="Seeds, comma-separated (e.g. 0,1)."),
    steps: int | None = typer.Option(None, "--steps", help="Baseline denoising steps."),
    guidance: float | None = opt.GUIDANCE,
    device: str = opt.DEVICE,
    dtype: str | None = opt.DTYPE,
    store: Path | None = opt.STORE,
    reuse_store: Path | None = typer.Option(
        None,
        "--reuse-store",
        help="Reuse cache file for reuse strategies (default: a fresh one per comparison).",
    ),
    timing: str = typer.Option(
        "separate",
        "--timing",
        help=(
            "How time and energy are taken: 'separate' runs each case again without the "
            "FLOP counter and times that run (what a user would pay); 'instrumented' times "
            "the counted run, counter overhead included, in half the run time. Reuse "
            "strategies are always timed in their one counted run."
        ),
    ),
    json_out: bool = opt.JSON,
) -> None:
    """Run each strategy on the baseline's prompts and seeds; report work, energy, quality."""
    # The harness and its renderer import torch, numpy and scipy: only when it runs.
    from genwatt.cli import render_mitigation as render
    from genwatt.mitigate.catalog import describe_strategies, parse_strategies
    from genwatt.mitigate.comparison import size as comparison_size
    from genwatt.mitigate.comparison.compare import Comparison, compare
    from genwatt.mitigate.comparison.record import save_comparison
    from genwatt.mitigate.comparison.subject import load_subject
    from genwatt.mitigate.comparison.timing import validated_timing

    if list_only:
        render.print_strategy_catalog(describe_strategies())
        return
    mode = validated_timing(timing)  # before the model loads: a typo should fail fast
    subject = load_subject(
        model,
        weights=weights,
        device=device,
        dtype=dtype,
        prompts=prompts
        or (comparison_size.FULL_PROMPTS if full else comparison_size.QUICK_PROMPTS),
        seeds=opt.int_list(seeds, "--seeds") or [0],
        steps=steps,
        guidance=guidance,
    )
    wanted = strategies or (
        comparison_size.FULL_STRATEGIES if full else comparison_size.quick_strategies(subject.call)
    )
    chosen = parse_strategies(wanted, subject.call, reuse_store=reuse_store)
    sweep = f"mitigate-{model}-{time.strftime('%Y%m%dT%H%M%S')}"
    estimate = comparison_size.estimate_run(
        subject.pipe, chosen, subject.cases, call=subject.call, timing=mode
    )
    render.print_estimate(estimate, quick=not full and strategies is None, stderr=json_out)

    def run(progress: RichSweepProgress | None) -> Comparison:
        return compare(
            subject.pipe,
            chosen,
            subject.cases,
            call=subject.call,
            meter=Meter(),
            model=model,
            calibration=subject.calibration,
            on_progress=(lambda label: progress.advance(label, True)) if progress else None,
            timing=mode,
        )

    if json_out:  # stdout carries only the JSON
        comparison = run(None)
    else:
        with RichSweepProgress(sweep) as progress:
            progress.start(len(subject.cases) * (1 + len(chosen)), 0)
            comparison = run(progress)
    path = store or default_store_path()
    with ResultsStore(path) as results:
        save_comparison(comparison, results, sweep)
    if json_out:
        out = comparison.as_dict() | {"sweep": sweep, "store": str(path), "notes": subject.notes}
        typer.echo(json.dumps(out, indent=2))
        return
    render.print_mitigation(comparison, notes=subject.notes, sweep=sweep, store=path)
