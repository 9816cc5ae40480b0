"""Host time per query of the two ways a benchmark drives a model: a pipeline, or
AI Energy Score's harness (optimum-benchmark's ``energy_star`` scenario).

A pipeline tokenises (or decodes and resizes) each query, calls the model and
post-processes its output, per query. optimum-benchmark's ``energy_star`` scenario instead
preprocesses the whole dataset first (``datasets.Dataset.map(..., batched=True)``, its own
tracked phase) and then, per query, slices one row of the torch-formatted dataset, moves
its tensors to the device and calls ``model.forward`` (or ``generate``) directly. For a
model bound by kernel launches at batch size 1 the host time is a large share of the
latency, so the predictor needs both harnesses' host times (``genwatt.predict.harness``).

For each task below, with the tiny form of a suite model (its forward is small next to the
host work, and is measured and subtracted), this times per query on this CPU:

- ``pipeline_s``: a call of the task's pipeline; ``pipeline_host_s`` = that less the
  forward alone on the same inputs;
- ``preprocess_s``: the dataset's batched preprocessing, over the number of queries;
- ``loop_host_s``: one energy_star step's host work (slice the row, move its tensors),
  timed alone; ``loop_less_forward_s`` is the whole step less the forward, for
  comparison (noisier: a difference of two sub-millisecond figures).

    .venv/bin/python benchmarks/harness_overhead.py --queries 200 --image-queries 40 \\
        --runs 3 --out benchmarks/results/harness-overhead-cpu.json --write

Timings on a shared machine vary by about 15 % between processes, and by more between
passes minutes apart; each figure is the median of ``--runs`` passes, each the median of
``--repeats`` loops over the queries, and every pass's value is kept beside it.
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Any

# (task, suite model): the host kinds the predictor distinguishes, text and image, and the
# largest processed image (object detection's 800-pixel shortest side). The image models
# are convolutional, so their tiny forms take the real processor's full-size images.
CASES: tuple[tuple[str, str], ...] = (
    ("text-classification", "distilbert/distilbert-base-uncased-finetuned-sst-2-english"),
    ("question-answering", "distilbert/distilbert-base-cased-distilled-squad"),
    ("token-classification", "dslim/bert-base-NER"),
    ("image-classification", "microsoft/resnet-50"),
    ("object-detection", "facebook/detr-resnet-50"),
)


def _median_per_query(run: Any, queries: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) / queries)
    return statistics.median(times)


IMAGE_TASKS = ("image-classification", "object-detection")


def energy_star_parts(task: str, pipe: Any, raw: list[Any]) -> tuple[Any, Any, Any]:
    """What optimum-benchmark's ``energy_star`` preprocessing does for ``task``, with the
    pipeline's own tokenizer or image processor: (the raw queries as a
    ``datasets.Dataset``, the batched function its ``map`` runs, the same for one query
    as tensors). Text is truncated at 512 tokens, as the suite's longest inputs need.
    Tasks: text classification, token classification, question answering, fill-mask,
    summarization, text generation, image classification, object detection."""
    import datasets

    if task in IMAGE_TASKS:
        processor = pipe.image_processor
        table = datasets.Dataset.from_dict(
            {"image": raw}, features=datasets.Features({"image": datasets.Image()})
        )

        def preprocess(batch: dict[str, list[Any]]) -> Any:
            return processor([image.convert("RGB") for image in batch["image"]])

        return table, preprocess, lambda image: processor(image, return_tensors="pt")
    tokenizer = pipe.tokenizer
    if task == "question-answering":
        table = datasets.Dataset.from_dict(
            {"question": [r["question"] for r in raw], "context": [r["context"] for r in raw]}
        )

        def preprocess_pair(batch: dict[str, list[Any]]) -> Any:
            return tokenizer(
                batch["question"], batch["context"], truncation="only_second", max_length=512
            )

        def one_pair(r: dict[str, str]) -> Any:
            return tokenizer(
                r["question"],
                r["context"],
                truncation="only_second",
                max_length=512,
                return_tensors="pt",
            )

        return table, preprocess_pair, one_pair
    table = datasets.Dataset.from_dict({"text": raw})

    def preprocess_text(batch: dict[str, list[Any]]) -> Any:
        return tokenizer(batch["text"], truncation=True, max_length=512)

    return (
        table,
        preprocess_text,
        lambda t: tokenizer(t, truncation=True, max_length=512, return_tensors="pt"),
    )


def energy_star_dataset(table: Any, preprocess: Any) -> Any:
    """energy_star's preprocessing phase: ``preprocess`` mapped over ``table`` in batches,
    written to Arrow (50 rows a write) and read back torch-formatted. No cache, so that
    every call pays the whole cost."""
    return table.map(
        preprocess,
        batched=True,
        writer_batch_size=50,
        remove_columns=table.column_names,
        load_from_cache_file=False,
    ).with_format("torch")


def energy_star_row(data: Any, index: int, keys: set[str], device: Any) -> dict[str, Any]:
    """One energy_star query's inputs: row ``index`` sliced from ``data``, the model's
    tensors (``keys``) moved to ``device``."""
    return {k: v.to(device) for k, v in data[index : index + 1].items() if k in keys}


def measure_case(task: str, model_id: str, queries: int, repeats: int) -> dict[str, Any]:
    import torch

    from genwatt.models.tasks.build import build_task_pipeline, pipeline_parts
    from genwatt.models.tasks.registry import get_task_model
    from genwatt.run.suite.inputs import builtin_queries
    from genwatt.run.suite.task_workload import pipeline_input

    spec = get_task_model(model_id)
    pipe = build_task_pipeline(spec, task, weights="tiny")
    model = pipe.model.eval()
    mask = getattr(getattr(pipe, "tokenizer", None), "mask_token", None)
    raw = [pipeline_input(task, spec, q, mask) for q in builtin_queries(task, queries, seed=0)]

    if task in IMAGE_TASKS:
        # The real checkpoint's processor (the tiny form's makes tiny images): the host
        # work is the real one's, the forward the tiny model's, measured and subtracted.
        pipe.image_processor = pipeline_parts(spec, "random")["image_processor"]
    table, preprocess, one = energy_star_parts(task, pipe, raw)
    single = [one(x) for x in raw]
    pixels = (
        statistics.mean(x["pixel_values"][0, 0].numel() for x in single)
        if task in IMAGE_TASKS
        else 0.0
    )
    model_keys = set(single[0].keys())

    def forward_only() -> None:
        with torch.inference_mode():
            for inputs in single:
                model(**inputs)

    call_kwargs = {"truncation": True} if task == "text-classification" else {}

    def pipeline_calls() -> None:
        # As the suite calls it: the whole list, one query per call, no worker processes.
        list(pipe(raw, batch_size=1, num_workers=0, **call_kwargs))

    prepared: dict[str, Any] = {}

    def preprocess_dataset() -> None:
        prepared["data"] = energy_star_dataset(table, preprocess)

    def energy_star_loop() -> None:
        data = prepared["data"]
        with torch.inference_mode():
            for i in range(queries):
                model(**energy_star_row(data, i, model_keys, "cpu"))

    def energy_star_rows() -> None:
        # The loop's host work alone (slice and move), timed directly rather than as the
        # loop less the forward: two sub-millisecond figures' difference is mostly noise.
        data = prepared["data"]
        for i in range(queries):
            energy_star_row(data, i, model_keys, "cpu")

    forward_only()  # warm-up
    pipeline_calls()
    preprocess_dataset()
    energy_star_loop()
    forward_s = _median_per_query(forward_only, queries, repeats)
    pipeline_s = _median_per_query(pipeline_calls, queries, repeats)
    preprocess_s = _median_per_query(preprocess_dataset, queries, repeats)
    loop_s = _median_per_query(energy_star_loop, queries, repeats)
    rows_s = _median_per_query(energy_star_rows, queries, repeats)
    return {
        "task": task,
        "model": model_id,
        "weights": "tiny",
        "queries": queries,
        "forward_s": forward_s,
        "pipeline_s": pipeline_s,
        "pipeline_host_s": pipeline_s - forward_s,
        "preprocess_s": preprocess_s,
        "loop_s": loop_s,
        "loop_host_s": rows_s,
        "loop_less_forward_s": loop_s - forward_s,
        "processed_pixels": pixels,
    }


def _median_case(passes: list[dict[str, Any]]) -> dict[str, Any]:
    """One case's figures over the passes: the median of each timing, every pass's
    values kept beside it."""
    first = passes[0]
    timings = [k for k, v in first.items() if k.endswith("_s") and isinstance(v, float)]
    merged = dict(first)
    for key in timings:
        merged[key] = statistics.median(p[key] for p in passes)
    merged["passes"] = {key: [p[key] for p in passes] for key in timings}
    return merged


def cpu_name() -> str:
    """The CPU's model name (Linux), else the machine type."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200, help="per text task")
    parser.add_argument("--image-queries", type=int, default=40, help="per image task")
    parser.add_argument("--repeats", type=int, default=3, help="timed loops per pass")
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="whole passes over the cases; each figure is their median (this shared "
        "machine's speed drifts by tens of per cent between passes)",
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--write",
        action="store_true",
        help="also write the predictor's copy (genwatt/predict/calibrations/tasks/"
        "energy_star_harness.json)",
    )
    args = parser.parse_args(argv)

    import datasets
    import torch
    import transformers

    torch.set_num_threads(1)
    datasets.disable_progress_bars()
    passes: list[list[dict[str, Any]]] = []
    for run in range(args.runs):
        rows = []
        for task, model_id in CASES:
            queries = args.image_queries if task in IMAGE_TASKS else args.queries
            row = measure_case(task, model_id, queries, args.repeats)
            rows.append(row)
            print(
                f"pass {run + 1}: {task:22s} pipeline host {row['pipeline_host_s'] * 1e3:6.2f} "
                f"ms  energy_star loop host {row['loop_host_s'] * 1e3:6.2f} ms  "
                f"preprocess {row['preprocess_s'] * 1e3:6.2f} ms  "
                f"(forward {row['forward_s'] * 1e3:5.2f} ms)",
                flush=True,
            )
        passes.append(rows)
    rows = [_median_case([p[i] for p in passes]) for i in range(len(CASES))]
    result = {
        "command": "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *sys.argv[1:]]),
        "cpu": cpu_name(),
        "torch_threads": 1,
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "datasets": datasets.__version__,
        },
        "cases": rows,
    }
    text = json.dumps(result, indent=2) + "\n"
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    if args.write:
        from genwatt.predict.harness import HARNESS_DATA

        HARNESS_DATA.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
