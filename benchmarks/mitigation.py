"""Mitigation targets on the trained reference model: caches vs fewer steps, reuse on a stream.

Run from the repository root (35 minutes on the 2-core development machine; the
reference model runs on one torch thread)::

    .venv/bin/python benchmarks/mitigation.py --out benchmarks/results/mitigation-cpu.json

What it checks (the issue's targets, which are benchmarks, not timed tests):

1. At equal denoising FLOPs, the best step cache beats plain fewer steps by >= 3 dB mean
   PSNR against the 30-step baseline. "Fewer steps at equal FLOPs" is read off a curve of
   fewer-steps runs (several step counts), interpolated in log(FLOPs ratio).
2. genwatt's own adaptive cache reaches >= 3x fewer denoising FLOPs at >= 32 dB mean
   PSNR with >= 80 % of prompts at >= 30 dB (the best setting of those tried).
3. The semantic reuse cache, on a prompt stream with repeats and paraphrases, saves a
   share of the stream's denoising FLOPs; reused outputs are checked for adherence to
   the caption the paraphrase means.

Settings are selected on ``--seeds`` (0); the selected ones are then measured again,
with the fewer-steps curve, on ``--confirm-seeds`` (6 to 9), pooled and seed by seed.
The 3x setting was chosen beforehand on seeds 0 to 5, so it is always confirmed.

Work is FLOPs executed (counted as run); time and energy are recorded too, from the
counted run (``timing="instrumented"``, the command line's name for it), but on this
model hook and counter overhead are comparable with the compute saved, so they are not
the target.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from genwatt.meter.meter import Meter  # noqa: E402
from genwatt.mitigate.adaptive_cache import PRESET_3X, AdaptiveStepCache  # noqa: E402
from genwatt.mitigate.baselines import FewerSteps, LowerResolution, NoGuidance  # noqa: E402
from genwatt.mitigate.caching import MagCache, default_cache_strategies  # noqa: E402
from genwatt.mitigate.comparison.compare import Comparison, compare  # noqa: E402
from genwatt.mitigate.comparison.conventions import GOOD_PSNR_DB  # noqa: E402
from genwatt.mitigate.comparison.subject import load_subject  # noqa: E402
from genwatt.mitigate.comparison.work import count_denoising  # noqa: E402
from genwatt.mitigate.strategy import Strategy  # noqa: E402
from genwatt.models.reference.adherence import check_adherence, score  # noqa: E402
from genwatt.models.reference.architecture import MOTION_PX  # noqa: E402
from genwatt.models.reference.captions import Caption, split_prompts  # noqa: E402

FEWER_STEPS = (28, 25, 20, 15, 12, 10, 8)  # 1.07x to 3.75x, so light caches get a margin
ADAPTIVE_THRESHOLDS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4)
# The 3x target is measured with ``PRESET_3X``, chosen on seeds 0 to 5 from a grid of
# warm-up, run cap and threshold (docs/mitigation.md has the grid), so it is confirmed on
# CONFIRM_SEEDS.

#: The earlier 3x setting, chosen on seed 0 alone: 89 % of clips >= 30 dB there, but 76 %
#: on seeds 1 to 4. Kept beside the new one so the two read off the same run.
ADAPTIVE_3X_SEED0: dict[str, Any] = {"threshold": 0.45, "max_skips": 4}
#: The same cache without its run correction (``correct_runs=False``, the default until
#: the correction was measured), beside the default rows so the gain reads off.
ADAPTIVE_UNCORRECTED_THRESHOLDS = (0.2, 0.3, 0.4)
MAGCACHE_THRESHOLDS = (0.1, 0.2)
EQUAL_FLOPS_MARGIN_DB = 3.0
ADAPTIVE_TARGET = {"flops_ratio": 3.0, "psnr_db": 32.0, "share_30db": 0.8}
#: Seeds nothing was tuned on (PRESET_3X saw seeds 0 to 5). One seed of 18 clips moves
#: the >= 30 dB share in steps of 5.6 %, and seeds differ by several dB, so the selected
#: settings are confirmed on four.
CONFIRM_SEEDS = "6,7,8,9"

PARAPHRASES = (
    "{c} {s} moving {d}",
    "a {c} {s} that moves {d}",
    "the {c} {s} moves to the {d}",
)


def _curve_psnr(curve: list[tuple[float, float]], ratio: float) -> float | None:
    """PSNR of fewer steps at ``ratio``, linear in log(ratio) between measured points."""
    points = sorted(curve)
    xs = [math.log(r) for r, _ in points]
    if not points or not xs[0] <= math.log(ratio) <= xs[-1]:
        return None
    return float(np.interp(math.log(ratio), xs, [p for _, p in points]))


def all_strategies() -> list[Strategy]:
    """Fewer-steps curve, the other baselines, every cache, and the adaptive cache's grid."""
    strategies: list[Strategy] = [FewerSteps(n) for n in FEWER_STEPS]
    strategies += [LowerResolution(0.5), NoGuidance()]
    strategies += [s for s in default_cache_strategies() if not isinstance(s, AdaptiveStepCache)]
    strategies += [
        MagCache(t)
        for t in MAGCACHE_THRESHOLDS
        if MagCache(t).name not in {s.name for s in strategies}
    ]
    strategies += [AdaptiveStepCache(t) for t in ADAPTIVE_THRESHOLDS]
    strategies += [AdaptiveStepCache(**PRESET_3X), AdaptiveStepCache(**ADAPTIVE_3X_SEED0)]
    strategies += [
        AdaptiveStepCache(t, correct_runs=False) for t in ADAPTIVE_UNCORRECTED_THRESHOLDS
    ]
    strategies.append(AdaptiveStepCache(**PRESET_3X, correct_runs=False))
    return strategies


def caching_benchmark(
    prompts: int, seeds: list[int], strategies: list[Strategy] | None = None
) -> dict[str, Any]:
    subject = load_subject("wan-reference", prompts=prompts, seeds=seeds)
    strategies = strategies if strategies is not None else all_strategies()
    done = [0]
    total = len(subject.cases) * (1 + len(strategies))

    def tick(label: str) -> None:
        done[0] += 1
        print(f"\r{done[0]}/{total} {label:<32}", end="", file=sys.stderr, flush=True)

    comparison = compare(
        subject.pipe,
        strategies,
        subject.cases,
        call=subject.call,
        meter=Meter(),
        model="wan-reference",
        calibration=subject.calibration,
        on_progress=tick,
        # The targets are FLOP ratios and PSNR; one counted run per case halves the run
        # time, and its seconds are labelled as including the counter's overhead.
        timing="instrumented",
    )
    print(file=sys.stderr)
    return _caching_verdict(comparison)


def _caching_verdict(comparison: Comparison) -> dict[str, Any]:
    rows = {s.name: s for s in comparison.strategies if s.ok}
    curve = [
        (s.flops_ratio, s.psnr_db_mean)
        for s in rows.values()
        if s.name.startswith("fewer-steps") and s.flops_ratio and s.psnr_db_mean is not None
    ]
    margins: dict[str, float] = {}
    for s in rows.values():
        if s.kind != "cache" or not s.flops_ratio or s.psnr_db_mean is None:
            continue
        plain = _curve_psnr(curve, s.flops_ratio)
        if plain is not None:
            margins[s.name] = s.psnr_db_mean - plain
    best = max(margins, key=margins.get) if margins else None
    adaptive = [
        s
        for s in rows.values()
        if s.name.startswith("genwatt-adaptive")
        and (s.flops_ratio or 0) >= ADAPTIVE_TARGET["flops_ratio"]
        and (s.psnr_db_mean or 0) >= ADAPTIVE_TARGET["psnr_db"]
        and (s.share_good_psnr or 0) >= ADAPTIVE_TARGET["share_30db"]
    ]
    return {
        "comparison": comparison.as_dict(with_cases=True),  # per prompt: PSNR, calls, energy
        "fewer_steps_curve": sorted(curve),
        "margin_over_fewer_steps_db": margins,
        "best_cache": best,
        "best_cache_margin_db": margins.get(best) if best else None,
        "target_best_cache_margin_met": bool(best and margins[best] >= EQUAL_FLOPS_MARGIN_DB),
        "adaptive_settings_meeting_target": [s.name for s in adaptive],
        "target_adaptive_met": bool(adaptive),
    }


def adaptive_study(prompts: int, seeds: list[int], extrapolations: list[float]) -> dict[str, Any]:
    """The adaptive cache's threshold grid with each ``extrapolation``, with and without
    the run correction, next to the fewer-steps curve on the same seeds: how much
    extrapolating the cached estimate and correcting closed runs buy."""
    strategies: list[Strategy] = [FewerSteps(n) for n in FEWER_STEPS]
    strategies += [
        AdaptiveStepCache(t, extrapolation=x, correct_runs=correct)
        for x in extrapolations
        for correct in (True, False)
        for t in (0.2, 0.3, 0.4, 0.5)
    ]
    return caching_benchmark(prompts, seeds, strategies)


def selected_for_confirmation(tuned: dict[str, Any]) -> list[str]:
    """What the tuning seeds single out: the best cache at equal FLOPs, and the adaptive
    settings that met the target there (else the two that saved the most at >= 30 dB);
    and always the 3x preset (with and without the run correction), chosen on seeds of
    its own, and the earlier 3x setting beside it."""
    rows = [r for r in tuned["comparison"]["strategies"] if r["ok"]]
    chosen = [tuned["best_cache"]] if tuned["best_cache"] else []
    chosen += [
        AdaptiveStepCache(**PRESET_3X).name,
        AdaptiveStepCache(**PRESET_3X, correct_runs=False).name,
        AdaptiveStepCache(**ADAPTIVE_3X_SEED0).name,
    ]
    adaptive = tuned["adaptive_settings_meeting_target"]
    if not adaptive:
        candidates = [
            r
            for r in rows
            if r["name"].startswith("genwatt-adaptive") and (r["psnr_db"] or 0) >= 30
        ]
        candidates.sort(key=lambda r: r["flops_ratio"], reverse=True)
        adaptive = [r["name"] for r in candidates[:2]]
    return list(dict.fromkeys([*chosen, *adaptive]))


def confirmation_benchmark(prompts: int, seeds: list[int], names: list[str]) -> dict[str, Any]:
    """The selected strategies and the fewer-steps curve again, on seeds not tuned on:
    pooled over every seed (the verdict), and seed by seed (how much a seed moves it)."""
    by_name = {s.name: s for s in all_strategies()}
    strategies = [FewerSteps(n) for n in FEWER_STEPS] + [by_name[n] for n in names]
    confirmed = caching_benchmark(prompts, seeds, strategies)
    confirmed["by_seed"] = per_seed(confirmed["comparison"])
    return confirmed


def per_seed(comparison: dict[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """Each strategy's FLOPs ratio, mean PSNR and share of clips >= 30 dB on each seed
    alone, from the cases of a comparison run on several seeds."""
    baseline_flops: dict[int, float] = {}
    for case in comparison["baseline"]["cases"]:
        baseline_flops[case["seed"]] = baseline_flops.get(case["seed"], 0.0) + case["flops"]
    table: dict[str, dict[str, dict[str, float]]] = {}
    for row in comparison["strategies"]:
        if not row["ok"]:
            continue
        for seed in sorted(baseline_flops):
            cases = [c for c in row["cases"] if c["seed"] == seed]
            psnr = [c["psnr_db"] for c in cases if c["psnr_db"] is not None]
            flops = sum(c["flops"] for c in cases)
            if not psnr or not flops:
                continue
            table.setdefault(row["name"], {})[str(seed)] = {
                "flops_ratio": baseline_flops[seed] / flops,
                "psnr_db": float(np.mean(psnr)),
                "share_psnr_at_least_30db": sum(p >= GOOD_PSNR_DB for p in psnr) / len(psnr),
            }
    return table


def prompt_stream(seed: int = 0, length: int = 40) -> list[tuple[str, Caption]]:
    """Captions asked more than once, in their own words and in paraphrases."""
    rng = np.random.default_rng(seed)
    _train, held_out = split_prompts()
    popular = [held_out[i] for i in rng.choice(len(held_out), size=10, replace=False)]
    stream: list[tuple[str, Caption]] = []
    for _ in range(length):
        caption = popular[int(rng.zipf(1.6) - 1) % len(popular)]
        if rng.random() < 0.4:
            template = PARAPHRASES[int(rng.integers(len(PARAPHRASES)))]
            text = template.format(c=caption.colour, s=caption.shape, d=caption.direction)
        else:
            text = caption.text()
        stream.append((text, caption))
    return stream


def reuse_benchmark(seed: int = 0) -> dict[str, Any]:
    from genwatt.mitigate.reuse import SemanticReuse

    subject = load_subject("wan-reference", prompts=1, seeds=[0])
    pipe, call = subject.pipe, subject.call
    stream = prompt_stream(seed)
    with count_denoising(pipe) as full:
        Strategy().generate(pipe, stream[0][1].text(), seed=0, call=call)
    per_generation = full.flops
    store = Path(tempfile.mkdtemp(prefix="genwatt-reuse-bench-")) / "reuse.db"
    semantic = SemanticReuse(store=store)
    decisions: list[dict[str, Any]] = []
    flops = 0
    by_kind: dict[str, list] = {}
    with semantic.applied(pipe, call=call, calibration=[]):
        for i, (text, caption) in enumerate(stream):
            with count_denoising(pipe) as work:
                video = semantic.generate(pipe, text, seed=i, call=call)
            flops += work.flops
            last = semantic.last_decision
            decision = dataclasses.asdict(last) if last is not None else {}
            kind = str(decision.get("kind") or decision.get("hit") or "miss")
            by_kind.setdefault(kind, []).append(check_adherence(video, caption, step_px=MOTION_PX))
            decisions.append({"prompt": text, "caption": caption.text(), **decision})
            print(f"\rreuse stream {i + 1}/{len(stream)} {kind:<8}", end="", file=sys.stderr)
    print(file=sys.stderr)
    all_results = [r for results in by_kind.values() for r in results]
    return {
        "stream_length": len(stream),
        "distinct_captions": len({c for _, c in stream}),
        "paraphrased": sum(text != caption.text() for text, caption in stream),
        "flops_full_stream": per_generation * len(stream),
        "flops_executed": flops,
        "share_flops_saved": 1 - flops / (per_generation * len(stream)),
        "decisions": {k: len(v) for k, v in by_kind.items()},
        "adherence_by_decision": {k: score(v) for k, v in by_kind.items()},
        "adherence_all": score(all_results),
        "stream": decisions,
    }


def _markdown(caching: dict[str, Any]) -> str:
    data = caching["comparison"]
    lines = [
        "| strategy | kind | FLOPs saved | mean PSNR dB | min dB | ≥30 dB | SSIM "
        "| colour | direction | shape | all 3 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in data["strategies"]:
        if not row["ok"]:
            lines.append(f"| {row['name']} | {row['kind']} | failed: {row['error'][:60]} ||||||||")
            continue
        parts = row["adherence"] or {}  # colour, direction, shape and all three, apart
        adherence = " | ".join(
            f"{parts[k]:.0%}" if k in parts else "-"
            for k in ("colour", "direction", "shape", "all_three")
        )
        lines.append(
            f"| {row['name']} | {row['kind']} | {row['flops_ratio']:.2f}x | "
            f"{row['psnr_db']:.1f} | {row['psnr_db_min']:.1f} | "
            f"{row['share_psnr_at_least_30db']:.0%} | {row['ssim']:.3f} | {adherence} |"
        )
    best = caching["best_cache"]
    margin = caching["best_cache_margin_db"]
    lines += [
        "",
        f"Best cache at equal FLOPs: **{best}**, "
        + (f"{margin:+.1f} dB over fewer steps " if margin is not None else "no margin ")
        + f"(target +{EQUAL_FLOPS_MARGIN_DB:.0f} dB: "
        f"{'met' if caching['target_best_cache_margin_met'] else 'not met'}).",
        "Own adaptive cache at >= 3x, >= 32 dB, >= 80 % of prompts >= 30 dB: "
        + (", ".join(caching["adaptive_settings_meeting_target"]) or "not met")
        + ".",
    ]
    return "\n".join(lines)


def _markdown_by_seed(by_seed: dict[str, dict[str, dict[str, float]]], names: list[str]) -> str:
    lines = [
        "",
        "| strategy | seed | FLOPs saved | mean PSNR dB | ≥30 dB |",
        "|---|---|---:|---:|---:|",
    ]
    for name in names:
        for seed, row in by_seed.get(name, {}).items():
            lines.append(
                f"| {name} | {seed} | {row['flops_ratio']:.2f}x | {row['psnr_db']:.1f} | "
                f"{row['share_psnr_at_least_30db']:.0%} |"
            )
    return "\n".join(lines)


def _markdown_reuse(reuse: dict[str, Any]) -> str:
    return (
        f"Semantic reuse on a {reuse['stream_length']}-prompt stream "
        f"({reuse['distinct_captions']} captions, {reuse['paraphrased']} paraphrased): "
        f"{reuse['share_flops_saved']:.0%} of denoising FLOPs saved; decisions "
        f"{reuse['decisions']}; adherence of all outputs "
        f"{reuse['adherence_all']['overall_rate']:.0%}."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=18, help="held-out prompts (max 18)")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds to select on")
    parser.add_argument(
        "--confirm-seeds",
        default=CONFIRM_SEEDS,
        help="comma-separated seeds on which the selected settings are measured again "
        "(empty: skip)",
    )
    parser.add_argument("--skip-reuse", action="store_true")
    parser.add_argument(
        "--adaptive-study",
        default="",
        help="comma-separated extrapolation values: run only the adaptive cache's grid with "
        "each, with and without the run correction, plus the fewer-steps curve, on --seeds "
        "(and --confirm-seeds)",
    )
    parser.add_argument("--out", type=Path, help="write the full results as JSON here")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    started = time.time()
    if args.adaptive_study:
        return _adaptive_study_main(args, started)
    caching = caching_benchmark(args.prompts, [int(s) for s in args.seeds.split(",")])
    result: dict[str, Any] = {
        "command": "python benchmarks/mitigation.py " + " ".join(sys.argv[1:]),
        "caching": caching,
    }

    def save() -> None:  # after every part, so a crash later keeps what was measured
        _save(args.out, result, started)

    save()
    print(_markdown(caching))
    confirm_seeds = [int(s) for s in args.confirm_seeds.split(",") if s.strip()]
    if confirm_seeds:
        names = selected_for_confirmation(caching)
        confirmed = confirmation_benchmark(args.prompts, confirm_seeds, names)
        result["confirmation"] = {"seeds": confirm_seeds, "selected": names, **confirmed}
        save()
        print(f"\nOn seeds {confirm_seeds}, not tuned on:")
        print(_markdown(confirmed))
        print(_markdown_by_seed(confirmed["by_seed"], names))
    reuse = None if args.skip_reuse else reuse_benchmark()
    result["reuse"] = reuse
    save()
    if reuse:
        print(_markdown_reuse(reuse))
    return 0


def _adaptive_study_main(args: argparse.Namespace, started: float) -> int:
    extrapolations = [float(x) for x in args.adaptive_study.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    seeds += [int(s) for s in args.confirm_seeds.split(",") if s.strip()]
    result: dict[str, Any] = {
        "command": "python benchmarks/mitigation.py " + " ".join(sys.argv[1:]),
        "by_seed": {},
    }
    for seed in seeds:
        study = adaptive_study(args.prompts, [seed], extrapolations)
        result["by_seed"][str(seed)] = study
        print(f"\nseed {seed}:")
        print(_markdown(study))
        _save(args.out, result, started)
    return 0


def _save(out: Path | None, result: dict[str, Any], started: float) -> None:
    """Write ``result`` with the seconds so far to ``out`` (if given), replacing it."""
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        result["seconds"] = round(time.time() - started, 1)
        out.write_text(json.dumps(result, indent=2, default=str) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
