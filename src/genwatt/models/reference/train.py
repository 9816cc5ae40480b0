"""Train the reference model and write its weights and quality card.

``python -m genwatt.models.reference.train --out DIR``. The script entry point only: its
options are the fields of ``training.TrainConfig`` (whose defaults reproduce the shipped
weights); it trains (``training.train``), measures the quality card
(``quality_card.evaluate_reference``) and writes both with the weights
(``checkpoint.save_trained``). Copy ``DIR``'s two files into ``weights/`` to ship them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from genwatt.models.reference.checkpoint import save_trained
from genwatt.models.reference.quality_card import evaluate_reference
from genwatt.models.reference.training import TrainConfig, train


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for the weights")
    for field, default in asdict(TrainConfig()).items():
        parser.add_argument(f"--{field.replace('_', '-')}", type=type(default), default=default)
    args = parser.parse_args(argv)
    cfg = TrainConfig(**{k: getattr(args, k) for k in asdict(TrainConfig())})
    command = "python -m genwatt.models.reference.train " + " ".join(argv or sys.argv[1:])
    pipe, record = train(cfg)
    record["command"] = command
    quality = evaluate_reference(pipe, fold=cfg.fold)
    path = save_trained(pipe, args.out, {"training": record, "quality": quality})
    trained = quality["rates"]["trained"]
    print(
        f"trained in {record['train_seconds']} s; held-out adherence: colour "
        f"{trained['colour_rate']:.0%}, direction {trained['direction_rate']:.0%}, shape "
        f"{trained['shape_rate']:.0%}; weights written to {path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
