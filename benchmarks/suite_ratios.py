"""Ratios of a suite run beside those of "Power Hungry Processing" (FAccT 2024).

Reads a ``genwatt suite --json`` file and the study's CodeCarbon CSVs in
shared/reference/power_hungry_processing, and prints two markdown tables:

- multi-purpose / task-specific on the tasks that have both: the median energy per
  query of a task's multi-purpose models over the median of its task-specific ones (the
  definition of ``multi_purpose_ratio`` in genwatt's summary; for the study, each model's
  mean over its runs and datasets, then the median over models);
- task to task: each task's median energy per query over text classification's.

Absolute figures from a CPU machine are estimates; ratios within one run are what
compare. Every row of the study is 1,000 queries (kWh per run = kWh per 1,000 queries).

    python benchmarks/suite_ratios.py SUITE.json [--reference DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import pandas as pd

from genwatt.predict.video_energy_budget import find_reference_dir

# File prefixes of the study's CSVs, by task.
PREFIXES = {
    "text_classif": "text-classification",
    "token_classif": "token-classification",
    "qa_": "question-answering",
    "fillmask": "fill-mask",
    "textgen": "text-generation",
    "summarize": "summarization",
    "image_class": "image-classification",
    "obj_detection": "object-detection",
    "itt": "image-to-text",
    "tti": "text-to-image",
}
ZERO_SHOT = {
    "zeroshot_sentiment": "text-classification",
    "zeroshot_qa": "question-answering",
    "zeroshot_summarize": "summarization",
}


def study_medians(folder: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Median Wh per 1,000 queries per task: task-specific models, multi-purpose ones."""
    specific: dict[str, list[pd.DataFrame]] = {}
    general: dict[str, list[pd.DataFrame]] = {}
    for path in sorted(folder.glob("*.csv")):
        for prefix, task in ZERO_SHOT.items():
            if path.name.startswith(prefix):
                general.setdefault(task, []).append(pd.read_csv(path))
        if path.name.startswith("zeroshot"):
            continue
        for prefix, task in PREFIXES.items():
            if path.name.startswith(prefix):
                specific.setdefault(task, []).append(pd.read_csv(path))

    def medians(frames: dict[str, list[pd.DataFrame]]) -> dict[str, float]:
        out = {}
        for task, parts in frames.items():
            per_model = pd.concat(parts).groupby("project_name")["energy_consumed"].mean()
            out[task] = float(per_model.median()) * 1000.0  # kWh per 1,000 -> Wh per 1,000
        return out

    return medians(specific), medians(general)


def suite_medians(summary: dict) -> tuple[dict[str, float], dict[str, float]]:
    specific, general = {}, {}
    for task in summary["tasks"]:
        ok = [m for m in task["models"] if m["status"] == "ok" and m["batch_size"] == 1]
        for kind, out in (("task-specific", specific), ("multi-purpose", general)):
            values = [m["energy_wh_per_1000"] for m in ok if m["kind"] == kind]
            if values:
                out[task["task"]] = statistics.median(values)
    return specific, general


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite_json", type=Path)
    parser.add_argument(
        "--reference", type=Path, default=None, help="shared/reference/video_energy_budget"
    )
    args = parser.parse_args(argv)
    reference = args.reference or find_reference_dir()
    if reference is None:
        parser.error("shared/reference not found; pass --reference")
    folder = (
        reference
        if reference.name == "power_hungry_processing"
        else reference.parent / "power_hungry_processing"
    )
    study_specific, study_general = study_medians(folder)
    summary = json.loads(args.suite_json.read_text())
    ours_specific, ours_general = suite_medians(summary)

    print("| task | multi-purpose / task-specific, genwatt | the study |")
    print("|---|---|---|")
    for task in ZERO_SHOT.values():
        ours = (
            ours_general[task] / ours_specific[task]
            if task in ours_general and task in ours_specific
            else None
        )
        study = study_general[task] / study_specific[task]
        print(f"| {task} | {'-' if ours is None else f'{ours:.1f}x'} | {study:.1f}x |")
    print()
    base_ours = ours_specific.get("text-classification")
    base_study = study_specific["text-classification"]
    print("| task | genwatt, x text classification | the study | the study, Wh per 1,000 |")
    print("|---|---|---|---|")
    for task in sorted(study_specific, key=study_specific.get):
        ours = ours_specific.get(task)
        ours_text = "-" if ours is None or base_ours is None else f"{ours / base_ours:.1f}x"
        study = study_specific[task]
        print(f"| {task} | {ours_text} | {study / base_study:.1f}x | {study:.3g} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
