"""AI Energy Score's own harness on a lent GPU, measured and predicted side by side.

``benchmarks/gpu_suite_ai_energy_score.py`` runs the suite's AI Energy Score protocol,
which drives each model through its pipeline. AI Energy Score itself runs
optimum-benchmark's ``energy_star`` scenario (``genwatt.predict.harness``): the dataset
preprocessed to Arrow first, then per row a slice moved to the GPU and ``model.forward``
(or ``generate`` with one beam, one new token for prefill, the task's length for the
run) called directly. This script does the same with genwatt's meter around each phase
(NVML's energy counter on a GPU), on real-size architectures with random weights (as
AI Energy Score's ``no_weights`` runs), queries sized like AI Energy Score's datasets, and
sets each model's GPU Wh per 1,000 queries beside ``genwatt predict --protocol
ai-energy-score`` made before the run (``ai_energy_score_summary``).

From the repository root on the GPU machine:

    python3 -m pip install -q -e ".[ml,suite]" && \\
    PYTHONUNBUFFERED=1 python3 benchmarks/gpu_energy_star.py --queries 100 --out $OUT

On a CPU, to check the script before device time: ``--weights tiny --device cpu``. Writes
``energy-star-<gpu>.json``. Never part of the test suite: it needs a GPU to mean anything.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness_overhead import (
    IMAGE_TASKS,
    energy_star_dataset,
    energy_star_parts,
    energy_star_row,
)

# (task, model): small models of the tasks energy_star_parts prepares, each a few
# seconds per 100 queries on an H100.
MODELS: tuple[tuple[str, str], ...] = (
    ("text-classification", "distilbert/distilbert-base-uncased-finetuned-sst-2-english"),
    ("token-classification", "dslim/bert-base-NER"),
    ("question-answering", "distilbert/distilbert-base-cased-distilled-squad"),
    ("fill-mask", "FacebookAI/roberta-base"),
    ("image-classification", "google/vit-base-patch16-224"),
    ("object-detection", "facebook/detr-resnet-50"),
    ("text-generation", "openai-community/gpt2"),
    ("summarization", "sshleifer/distilbart-cnn-12-6"),
)
WARMUP = 10


def _wh_per_1000(result: Any, queries: int) -> dict[str, Any]:
    gpu = {k: v for k, v in result.energy_j.items() if k.startswith("gpu")}
    total_j = sum(gpu.values()) if gpu else None
    return {
        "gpu_wh_per_1000": None if total_j is None else total_j / 3600 / queries * 1000,
        "machine_wh_per_1000": result.total_energy_j / 3600 / queries * 1000,
        "seconds_per_query": result.duration_s / queries,
        "domains": sorted(result.energy_j),
    }


def measure(task: str, model_id: str, queries: int, weights: str, device: str) -> dict[str, Any]:
    """One model through the energy_star phases, each a meter window."""
    import torch

    from genwatt.meter.meter import Meter
    from genwatt.models.tasks.build import build_task_pipeline
    from genwatt.models.tasks.catalog import get_task
    from genwatt.models.tasks.protocols import get_protocol, protocol_dtype
    from genwatt.models.tasks.registry import get_task_model
    from genwatt.run.suite.inputs import builtin_queries
    from genwatt.run.suite.task_workload import pipeline_input

    spec = get_task_model(model_id)
    protocol = get_protocol("ai-energy-score")
    dtype = protocol_dtype(protocol, task, None) if weights != "tiny" else "float32"
    generates = get_task(task).generates
    new_tokens = protocol.new_tokens_for(task) or get_task(task).new_tokens
    meter = Meter(synchronize=True)
    with meter:
        pipe = build_task_pipeline(spec, task, weights=weights, device="cpu", dtype=dtype)
        mask = getattr(getattr(pipe, "tokenizer", None), "mask_token", None)
        raw = [
            pipeline_input(task, spec, q, mask)
            for q in builtin_queries(task, queries, seed=0, protocol=protocol.name)
        ]
        table, preprocess, _ = energy_star_parts(task, pipe, raw)
        # As energy_star: the dataset first, with no model on the GPU yet.
        with meter.window("preprocess_dataset") as pre:
            data = energy_star_dataset(table, preprocess)
        model = pipe.model.to(device).eval()
        keys = set(data.column_names)

        def row(i: int) -> dict[str, Any]:
            return energy_star_row(data, i, keys, device)

        phases: dict[str, Any] = {"preprocess_dataset": pre.result}
        with torch.inference_mode():
            if generates:
                settings = {"num_beams": 1, "do_sample": False}
                for _ in range(WARMUP):
                    model.generate(**row(0), max_new_tokens=2, min_new_tokens=2, **settings)
                with meter.window("prefill") as prefill:
                    for i in range(queries):
                        model.generate(**row(i), max_new_tokens=1, min_new_tokens=1, **settings)
                with meter.window("generate") as generate:
                    for i in range(queries):
                        model.generate(
                            **row(i),
                            max_new_tokens=new_tokens,
                            min_new_tokens=new_tokens,
                            **settings,
                        )
                phases |= {"prefill": prefill.result, "generate": generate.result}
            else:
                for _ in range(WARMUP):
                    model(**row(0))
                with meter.window("forward") as forward:
                    for i in range(queries):
                        model(**row(i))
                phases["forward"] = forward.result
    measured = {name: _wh_per_1000(result, queries) for name, result in phases.items()}
    gpu = [m["gpu_wh_per_1000"] for n, m in measured.items() if n != "prefill"]
    return {
        "task": task,
        "model": model_id,
        "weights": weights,
        "dtype": dtype,
        "queries": queries,
        "image_task": task in IMAGE_TASKS,
        "phases": measured,
        # AI Energy Score's total: preprocess + forward, or preprocess + generate (its
        # prefill + decode, decode being generate less prefill).
        "gpu_wh_per_1000": None if None in gpu else sum(gpu),
        "provenance": {name: dict(r.provenance) for name, r in phases.items()},
    }


def predicted(model_id: str, task: str, gpu: str) -> dict[str, Any]:
    """``genwatt predict --protocol ai-energy-score`` for this GPU, made before the run."""
    from genwatt.predict.hardware import profile_for_device
    from genwatt.predict.task_predictor import predict_task

    profile = profile_for_device(gpu)
    if profile is None:
        return {"error": f"no hardware profile for {gpu}"}
    p = predict_task(model_id, profile.name, task=task, protocol="ai-energy-score").to_dict()
    return {"gpu_profile": profile.name, **p["ai_energy_score_summary"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--weights", default="random", help="random; tiny to check on a CPU")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--models", nargs="*", help="only these model ids")
    args = parser.parse_args(argv)

    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device: this benchmark measures a GPU", file=sys.stderr)
        return 2
    gpu = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu"
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    rows = []
    for task, model_id in MODELS:
        if args.models and model_id not in args.models:
            continue
        forecast = predicted(model_id, task, gpu)
        try:
            row = measure(task, model_id, args.queries, args.weights, args.device)
        except Exception as exc:  # one model's failure must not lose the others
            row = {"task": task, "model": model_id, "error": f"{type(exc).__name__}: {exc}"}
        row["predicted"] = forecast
        rows.append(row)
        print(
            f"{task:22s} {model_id:60s} measured GPU {row.get('gpu_wh_per_1000')} Wh/1k  "
            f"predicted {forecast.get('total')} Wh/1k",
            flush=True,
        )
    result = {
        "command": "python3 benchmarks/gpu_energy_star.py "
        + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])),
        "gpu": gpu,
        "note": "AI Energy Score's harness (optimum-benchmark energy_star) reproduced with "
        "genwatt's meter; random weights at real size; prediction made before each run",
        "wall_s": time.time() - started,
        "models": rows,
    }
    slug = gpu.lower().replace(" ", "-")
    path = args.out / f"energy-star-{slug}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
