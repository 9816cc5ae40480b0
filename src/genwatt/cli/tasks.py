"""``genwatt tasks``: the suite's thirteen tasks and the models registered for each."""

from __future__ import annotations

import json
from typing import Any

import typer

from genwatt.cli.models import short_count
from genwatt.cli.render import console
from genwatt.models.tasks.catalog import TASKS
from genwatt.models.tasks.registry import list_task_models


def task_rows(task: str | None = None) -> list[dict[str, Any]]:
    """One row per task: its input, quality metric, generation length, built-in workload
    (the anchor datasets its query sizes follow, with their sources) and models."""
    from genwatt.models.tasks.protocols import PROTOCOLS
    from genwatt.models.tasks.workloads import workload_summary

    rows = []
    for spec in TASKS.values():
        if task is not None and spec.name != task:
            continue
        rows.append(
            {
                "task": spec.name,
                "description": spec.description,
                "inputs": spec.inputs,
                "quality": spec.quality,
                "new_tokens": spec.new_tokens,
                # protocol -> the length it fixes instead of the catalog's
                "protocol_new_tokens": {
                    p.name: p.new_tokens_for(spec.name)
                    for p in PROTOCOLS.values()
                    if p.new_tokens_for(spec.name) is not None
                },
                "steps": spec.steps,
                "anchor_datasets": list(spec.anchor_datasets),
                "workload": workload_summary(spec.name),
                "models": [
                    {
                        "model": m.repo_id,
                        "kind": m.kind,
                        "family": m.family,
                        "params": m.params,
                        "aliases": list(m.aliases),
                    }
                    for m in list_task_models(spec.name)
                ],
            }
        )
    return rows


def tasks(
    task: str | None = typer.Argument(None, help="Show one task only."),
    json_out: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """List the suite's tasks and their models (task-specific first, then multi-purpose)."""
    if task is not None:
        from genwatt.models.tasks.catalog import get_task

        task = get_task(task).name
    rows = task_rows(task)
    if json_out:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table(
        caption="Run them with `genwatt suite --tasks TASK [--models MODEL]`; "
        "--weights tiny (default) runs each family's miniature on a CPU.",
        caption_justify="left",
    )
    table.add_column("task", no_wrap=True)
    table.add_column("generation", no_wrap=True)
    table.add_column("model", overflow="fold")
    table.add_column("kind", no_wrap=True)
    table.add_column("params", justify="right")
    for row in rows:
        length = (
            f"{row['new_tokens']} tokens"
            if row["new_tokens"]
            else f"{row['steps']} steps"
            if row["steps"]
            else "-"
        )
        for protocol, tokens in row["protocol_new_tokens"].items():
            length += f" ({tokens} under {protocol})"
        for i, model in enumerate(row["models"]):
            table.add_row(
                row["task"] if i == 0 else "",
                length if i == 0 else "",
                model["model"],
                model["kind"],
                short_count(model["params"]),
            )
        if not row["models"]:
            table.add_row(row["task"], length, "-", "-", "-")
        table.add_section()
    out = console(piped_width=140)
    out.print(table)
    if task is not None:  # one task: where its built-in queries' sizes come from
        from genwatt.models.tasks.workloads import PROTOCOL_WORKLOADS, WORKLOAD_STATS

        out.print("\n".join(WORKLOAD_STATS[task].describe()), highlight=False, markup=False)
        for protocol, mixes in PROTOCOL_WORKLOADS.items():
            if task in mixes:
                lines = mixes[task].describe()
                out.print(
                    "\n".join([f"under --protocol {protocol}: {lines[0]}", *lines[1:]]),
                    highlight=False,
                    markup=False,
                )
