"""Run the suite's AI Energy Score protocol on a lent GPU, for about ten models across tasks.

Real-size architectures with random weights (``--weights random``, as AI Energy Score's
``no_weights`` runs most tasks), batch size 1, FP32 (text generation FP16), 10 warm-up
queries, GPU energy from NVML's counter. 1,000 queries per model is the protocol; a
device session is minutes long, so the default here is 100 and the JSON says so (the
figures are per 1,000 queries either way, as means over the queries run).

From the repository root on the GPU machine:

    python3 -m pip install -q -e ".[ml]" && \\
    PYTHONUNBUFFERED=1 python3 benchmarks/gpu_suite_ai_energy_score.py --queries 100 --out $OUT

Writes ``suite-ai-energy-score-<gpu>.json`` (the suite's JSON, the command, the GPU) and the
store. Never part of the test suite: it needs a GPU.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

# (task, model): one or two per task, small enough that 100 queries of each fit in a
# few minutes on an H100 together.
MODELS: tuple[tuple[str, str], ...] = (
    ("text-classification", "distilbert/distilbert-base-uncased-finetuned-sst-2-english"),
    ("text-classification", "google/flan-t5-base"),
    ("token-classification", "dslim/bert-base-NER"),
    ("question-answering", "deepset/deberta-v3-base-squad2"),
    ("fill-mask", "FacebookAI/roberta-base"),
    ("sentence-similarity", "BAAI/bge-base-en-v1.5"),
    ("summarization", "sshleifer/distilbart-cnn-12-6"),
    ("text-generation", "openai-community/gpt2"),
    ("image-classification", "google/vit-base-patch16-224"),
    ("object-detection", "facebook/detr-resnet-50"),
    ("automatic-speech-recognition", "openai/whisper-small"),
    # 30 steps in FP32 with classifier-free guidance at the pipeline's 7.5: about a
    # second an image on an H100, so fewer queries (DIFFUSION_QUERIES).
    ("text-to-image", "stabilityai/sd-turbo"),
)
DIFFUSION_QUERIES = 10


def _predictions(model: str, task: str, gpu: str) -> dict[str, float | str]:
    """GPU Wh per 1,000 queries predicted for this GPU before the run's figure is read:
    driven by a pipeline (what genwatt's suite ran here) and by AI Energy Score's own
    harness (what its leaderboard would report)."""
    from genwatt.models.tasks.registry import get_task_model
    from genwatt.predict.hardware import profile_for_device
    from genwatt.predict.task_predictor import predict_task

    profile = profile_for_device(gpu)
    if profile is None:
        return {"error": f"no hardware profile for {gpu}"}
    out: dict[str, float | str] = {"gpu_profile": profile.name}
    spec = get_task_model(model)
    if spec.diffusion_model is not None:  # one pipeline call per image either way
        from genwatt.predict.diffusion_protocol import diffusion_run
        from genwatt.predict.predictor import predict
        from genwatt.units import j_to_wh

        run = diffusion_run(spec.diffusion_model, task=task, protocol="ai-energy-score")
        p = predict(spec.diffusion_model, profile.name, **run.settings)
        out["pipeline"] = out["energy-star"] = j_to_wh(p.energy_gpu_j) * 1000
        return out
    for harness in ("pipeline", "energy-star"):
        p = predict_task(
            model, profile.name, task=task, protocol="ai-energy-score", harness=harness
        )
        out[harness] = p.to_dict()["energy_gpu_wh_per_1000"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--device", default="cuda")
    parser.add_argument(
        "--weights",
        default="random",
        help="random (the protocol); tiny to check the script on a CPU before device time",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args(argv)

    import torch

    from genwatt.run.suite.execute import run_suite

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device: this benchmark measures a GPU", file=sys.stderr)
        return 2
    gpu = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu"
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    summaries = []
    store = args.out / f"suite-ai-energy-score-{args.weights}.db"
    for task, model in MODELS:
        _, summary = run_suite(
            protocol="ai-energy-score",
            tasks=[task],
            models=[model],
            weights=args.weights,
            device=args.device,
            queries=min(args.queries, DIFFUSION_QUERIES)
            if task == "text-to-image"
            else args.queries,
            store=store,
        )
        summaries.append(summary)
        row = summary["tasks"][0]["models"][0]
        row["predicted"] = _predictions(model, task, gpu)
        print(
            f"{task:30s} {model:60s} {row['status']:6s} "
            f"GPU {row['gpu_energy_wh_per_1000']} Wh/1k  machine {row['energy_wh_per_1000']} Wh/1k"
            f"  predicted (pipeline) {row['predicted'].get('pipeline')} Wh/1k",
            flush=True,
        )
    slug = gpu.lower().replace(" ", "-")
    result = {
        "command": "python3 benchmarks/gpu_suite_ai_energy_score.py "
        + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])),
        "gpu": gpu,
        "queries_per_model": args.queries,
        "note": "AI Energy Score protocol (batch 1, FP32 / FP16 text generation, 10 warm-up "
        "queries), random weights at real size; the protocol's 1,000 queries cut to "
        f"{args.queries} to fit a device session",
        "wall_s": time.time() - started,
        "tasks": [t for s in summaries for t in s["tasks"]],
    }
    path = args.out / f"suite-ai-energy-score-{slug}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
