"""Validate genwatt's predictor on the published H100 measurements; regenerate the doc.

Fits the model to every point of shared/reference/video_energy_budget (the WAN2.1-1.3B
frames and steps sweeps, the README's two resolution-sweep energies, the cross-model
table with the WAN mislabel corrected), choosing the model form by cross-validation,
and writes:

- ``docs/validation.md``: per-sweep and per-model errors, each point predicted by a fit
  that did not see its configuration, next to the paper's own published errors; whole
  sweeps held out; the other models predicted from the WAN sweeps alone; the
  ``check-reference`` verdict on the cross-model table;
- with ``--write-calibration``, the shipped calibration
  ``src/genwatt/predict/calibrations/h100-sxm.json``.

Runs on a CPU in well under a minute:

    .venv/bin/python benchmarks/validate_predictor.py --write-calibration
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from genwatt.predict import video_energy_budget as reference
from genwatt.predict.calibration import REFERENCE_GPU, Calibration, shipped_path
from genwatt.predict.fit import (
    CrossValidation,
    build_calibration,
    cross_validate,
    fit,
    in_sample,
    mape_pct,
)
from genwatt.predict.hardware import get_profile
from genwatt.predict.model import get_form
from genwatt.predict.observations import Observation
from genwatt.units import j_to_wh

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "validation.md"
SWEEPS = ("frames", "resolution", "steps")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} %"


def _signed(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:+.1f} %"


def _group_errors(cv: CrossValidation, group: str) -> tuple[float | None, float | None]:
    points = [p for p in cv.points if p.group == group]
    return (
        mape_pct([p.energy_error for p in points]),
        mape_pct([p.latency_error for p in points]),
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def _points_table(cv: CrossValidation, groups: Sequence[str]) -> list[str]:
    rows = []
    for p in cv.points:
        if p.group not in groups:
            continue
        rows.append(
            [
                p.group,
                p.label,
                "–" if p.latency_s is None else f"{p.latency_s:.1f}",
                f"{p.predicted_latency_s:.1f}",
                _signed(p.latency_error),
                "–" if p.energy_gpu_j is None else f"{j_to_wh(p.energy_gpu_j):.2f}",
                f"{j_to_wh(p.predicted_energy_gpu_j):.2f}",
                _signed(p.energy_error),
            ]
        )
    header = (
        "sweep",
        "point",
        "latency s",
        "predicted",
        "error",
        "GPU Wh",
        "predicted",
        "error",
    )
    return _table(header, rows)


def _candidate_cv(
    calibration: Calibration, form: str, observations: list[Observation], hardware: Any
) -> CrossValidation:
    if calibration.form.name == form and calibration.cv is not None:
        return CrossValidation(
            calibration.cv["method"], [_point_from_dict(p) for p in calibration.cv["per_point"]]
        )
    return cross_validate(observations, hardware, get_form(form))


def readme_rounding(folder: Path) -> list[Observation]:
    """The WAN sweeps with frames rounded *down* to 4k+1, as the README describes."""
    from genwatt.predict.observations import merge, observation_for, read_csv_rows, row_measurements

    observations = []
    for row in read_csv_rows(folder / reference.SWEEP_FILE):
        latency_s, energy_j = row_measurements(row)
        frames = (int(row["num_frames"]) - 1) // 4 * 4 + 1
        observations.append(
            observation_for(
                reference.WAN_MODEL,
                {**row, "num_frames": frames, "guidance": reference.WAN_GUIDANCE},
                latency_s=latency_s,
                energy_gpu_j=energy_j,
                label=row["num_frames"],
                group=row["sweep"],
            )
        )
    return merge(observations) + reference.resolution_observations()


def _ablation(folder: Path, chosen: str) -> list[str]:
    hardware = get_profile(REFERENCE_GPU)
    pipeline = [*reference.sweep_observations(folder), *reference.resolution_observations()]
    readme = readme_rounding(folder)
    rows = []
    for form in dict.fromkeys(("single-efficiency", "attention-split", chosen)):
        for name, observations in (("pipeline (n // 4 * 4 + 1)", pipeline), ("README", readme)):
            cv = cross_validate(observations, hardware, get_form(form))
            cells = []
            for sweep in SWEEPS:
                energy, latency = _group_errors(cv, sweep)
                cells.append(f"{_pct(energy)} / {_pct(latency)}")
            rows.append([form, name, *cells])
    return _table(("form", "frame rounding", *(f"{s} (energy / latency)" for s in SWEEPS)), rows)


TRANSFER_FORMS = ("attention-split", "attention-tokens")


def _form_transfer(observations: list[Observation], forms: Sequence[str]) -> list[str]:
    hardware = get_profile(REFERENCE_GPU)
    forms = tuple(dict.fromkeys(forms))
    errors: dict[str, dict[str, float | None]] = {}
    for name in forms:
        cv = cross_validate(observations, hardware, get_form(name))
        for p in cv.points:
            if p.group == "cross-model":
                errors.setdefault(p.label, {})[name] = p.latency_error
    rows = [[label, *(_signed(e.get(f)) for f in forms)] for label, e in errors.items()]
    return _table(("model", *forms), rows)


def _summary(cv: CrossValidation, held: CrossValidation, checks: list[Any]) -> list[str]:
    """The headline, written from the numbers below."""
    lines = ["## Summary", ""]
    for sweep in SWEEPS:
        energy, latency = _group_errors(cv, sweep)
        paper_energy, paper_latency = reference.PAPER_MAPE_PCT[sweep]
        parts = []
        for what, ours, theirs in (
            ("energy", energy, paper_energy),
            ("latency", latency, paper_latency),
        ):
            if ours is None:
                parts.append(f"{what}: no measurement in the files")
                continue
            verdict = "better" if ours < theirs else "**worse**, see *The measurement floor*"
            parts.append(f"{what} {ours:.2f} % vs the paper's {theirs:.2f} % ({verdict})")
        held_e, held_t = _group_errors(held, sweep)
        held_text = f"{_pct(held_e)} energy / {_pct(held_t)} latency"
        lines.append(
            f"- **{sweep}** sweep, each point predicted without its configuration: "
            + "; ".join(parts)
            + f". The whole sweep held out: {held_text}."
        )
    energy, latency = _group_errors(cv, "cross-model")
    lines.append(
        f"- **Seven models** of the cross-model table, each held out: {_pct(energy)} "
        f"energy, {_pct(latency)} latency MAPE (no published figure to compare)."
    )
    flagged = sorted(c.model for c in checks if c.flagged)
    lines.append(
        "- **check-reference** flags: " + (", ".join(flagged) or "nothing") + " "
        "(the README's mislabel is the two WAN rows)."
    )
    return [*lines, ""]


def _check_summary(path: Path, calibration: Calibration) -> tuple[list[str], list[Any]]:
    from genwatt.predict.check import check_csv

    checks = check_csv(path, REFERENCE_GPU, calibration=calibration)
    rows = []
    for c in checks:
        s = c.suggestion
        explained = (
            f"{s['width']:g}x{s['height']:g}, {s['num_frames']:g} frames, {s['steps']:g} steps"
            if s
            else "–"
        )
        rows.append(
            [
                c.model,
                f"{c.stated['width']:g}x{c.stated['height']:g}, "
                f"{c.stated['num_frames']:g} f, {c.stated['steps']:g} st",
                f"{c.flagged_rows}/{c.rows}",
                f"{j_to_wh(c.measured_energy_j):.3g}",
                f"{j_to_wh(c.predicted_energy_j):.3g}",
                f"{c.ratio:.2f}",
                explained,
            ]
        )
    header = (
        "model",
        "stated",
        "flagged rows",
        "measured Wh",
        "predicted Wh",
        "ratio",
        "explained by",
    )
    return _table(header, rows), checks


def _check_notes(checks: list[Any]) -> list[str]:
    """What the flags of a check say beyond the WAN mislabel, written from the results."""
    others = [c for c in checks if c.flagged and c.model not in reference.MISLABELLED]
    wan_ok = all(c.flagged_rows == c.rows for c in checks if c.model in reference.MISLABELLED)
    return [
        f"Both WAN rows flagged on every prompt: {'yes' if wan_ok else 'NO'}. "
        + (
            "No other model is flagged."
            if not others
            else "Also flagged: "
            + "; ".join(
                f"{c.model} (measured/predicted {c.ratio:.2f}"
                + (f", 'explained' by {c.suggestion['steps']:g} steps" if c.suggestion else "")
                + ")"
                for c in others
            )
            + ". AnimateDiff-Lightning's 0.7 s is mostly per-call overhead (a 4-step "
            "UNet) that a fit without it cannot know; a suggested configuration is a "
            "hypothesis to check, not a finding (Lightning runs 4 steps)."
        )
    ]


def build_doc(observations: list[Observation], calibration: Calibration, folder: Path) -> str:
    hardware = get_profile(REFERENCE_GPU)
    form = get_form(calibration.form.name)
    cv = CrossValidation(
        calibration.cv["method"],  # type: ignore[index]
        [_point_from_dict(p) for p in calibration.cv["per_point"]],  # type: ignore[index]
    )
    paper_form = _candidate_cv(calibration, "single-efficiency", observations, hardware)
    held_groups = cross_validate(observations, hardware, form, by=lambda o: o.group)
    wan_only = [o for o in observations if o.group != "cross-model"]
    transfer_params = fit(wan_only, hardware, form)
    others = [o for o in observations if o.group == "cross-model"]
    transfer = in_sample(others, hardware, transfer_params)
    sweeps_cal = build_calibration(wan_only, hardware, form=form.name, source="sweeps only")

    shipped_table, shipped_checks = _check_summary(folder / reference.CROSS_MODEL_FILE, calibration)
    lines: list[str] = [
        "# Validation of the predictor against published H100 measurements",
        "",
        "Generated by `benchmarks/validate_predictor.py`; do not edit by hand. Data: "
        f"{reference.CITATION} (shared/reference/video_energy_budget and its README). "
        "GPU energy and latency per generation, one H100 SXM.",
        "",
        *_summary(cv, held_groups, shipped_checks),
        "## What is compared",
        "",
        "Every point below is predicted by a fit that did **not** see its configuration "
        "(leave-one-configuration-out: a configuration measured twice, as 1280x720/81 "
        "frames/50 steps is in the frames sweep, the resolution sweep and the cross-model "
        "table, is held out as a whole). The paper's figures are its published in-sample "
        "errors: its model has no fitted parameter beyond the 0.456 utilisation.",
        "",
        f"Model form chosen by cross-validation: **{form.name}** — {form.description}. "
        f"Fitted on all {len(observations)} configurations (parameters in "
        "`src/genwatt/predict/calibrations/h100-sxm.json`):",
        "",
    ]
    lines += _table(
        ("parameter", "value"),
        [[k, f"{v:.4g}"] for k, v in calibration.params.to_dict().items()],
    )
    lines += ["", "## Per sweep: genwatt (cross-validated) vs the paper", ""]
    rows = []
    for sweep in SWEEPS:
        energy, latency = _group_errors(cv, sweep)
        paper_energy, paper_latency = reference.PAPER_MAPE_PCT[sweep]
        ours_paper_e, ours_paper_t = _group_errors(paper_form, sweep)
        n = sum(1 for p in cv.points if p.group == sweep)
        rows.append(
            [
                sweep,
                str(n),
                _pct(energy),
                _pct(paper_energy),
                _pct(latency),
                _pct(paper_latency),
                f"{_pct(ours_paper_e)} / {_pct(ours_paper_t)}",
            ]
        )
    lines += _table(
        (
            "sweep",
            "points",
            "energy MAPE genwatt",
            "energy MAPE paper",
            "latency MAPE genwatt",
            "latency MAPE paper",
            "paper's form refitted on genwatt FLOPs, CV (energy / latency)",
        ),
        rows,
    )
    lines += [
        "",
        "The last column is the paper's form (one efficiency for every FLOP, one constant "
        "power) with its two constants fitted to genwatt's FLOP counts and cross-validated "
        "like the rest: better FLOPs alone do not beat the paper; the split of attention, "
        "dense layers and VAE does (see the ablation below). The paper's constants "
        "(0.456 of peak, 700 W) were tuned to its own FLOP count of a generic DiT and "
        "cannot be applied to another count.",
        "",
        "## Per model (cross-model table)",
        "",
    ]
    rows = []
    for p in cv.points:
        if p.group != "cross-model":
            continue
        t = next(x for x in transfer.points if x.label == p.label)
        rows.append(
            [
                p.label,
                _signed(p.energy_error),
                _signed(p.latency_error),
                _signed(t.energy_error),
                _signed(t.latency_error),
            ]
        )
    energy, latency = _group_errors(cv, "cross-model")
    te, tl = _group_errors(transfer, "cross-model")
    rows.append(["**MAPE**", _pct(energy), _pct(latency), _pct(te), _pct(tl)])
    lines += _table(
        (
            "model",
            "energy error (CV)",
            "latency error (CV)",
            "energy error (fit on WAN sweeps only)",
            "latency error (fit on WAN sweeps only)",
        ),
        rows,
    )
    lines += [
        "",
        "CV: fitted on the sweeps and the other six models. Fit on WAN sweeps only: the "
        "parameters of one 1.3B model at 1280x720 carried to other architectures, sizes "
        "and pipelines with no measurement of them at all.",
        "",
        "## Ablation: what the gain comes from (WAN sweeps only, cross-validated)",
        "",
        "Fitted and cross-validated on the WAN sweeps and resolution points only, with "
        "the frame counts WanPipeline really runs and with the README's reading "
        '("rounds it down": 52 as 49, 20 as 17, 92 as 89):',
        "",
        *_ablation(folder, form.name),
        "",
        "## Whole sweeps held out",
        "",
        "Each group predicted by a fit on the other groups only, with every configuration "
        "of the held-out group removed from the others too (the 1280x720/81-frame point "
        "leaves the frames, resolution and cross-model groups together): configurations "
        "that none of the fitted data contains.",
        "",
    ]
    rows = []
    for group in (*SWEEPS, "cross-model"):
        energy, latency = _group_errors(held_groups, group)
        rows.append([group, _pct(energy), _pct(latency)])
    lines += _table(("held-out group", "energy MAPE", "latency MAPE"), rows)
    lines += ["", "## Model forms compared (cross-validated, all points)", ""]
    rows = [
        [
            c["form"],
            _pct(c["energy_gpu_mape_pct"]),
            _pct(c["latency_mape_pct"]),
            "chosen" if c["form"] == form.name else "",
        ]
        for c in calibration.candidates
    ]
    lines += _table(("form", "energy MAPE", "latency MAPE", ""), rows)
    lines += [
        "",
        "Forms are nested and taken in order of complexity; a richer form replaces the "
        "current choice only when its score (mean of the two MAPEs) is lower by more than "
        "0.5 points. A choice made on the same folds makes the chosen form's CV error "
        "slightly optimistic.",
        "",
        "What the token-dependent attention efficiency buys: each model of the table "
        "held out and predicted (latency error, CV) by forms without and with it. Within "
        "the WAN sweeps the two tie (ablation above); across architectures they do not.",
        "",
        *_form_transfer(observations, (*TRANSFER_FORMS, form.name)),
        "",
        "## check-reference on the cross-model table",
        "",
        "`genwatt check-reference shared/reference/video_energy_budget/cross_model_h100.csv` "
        "with the shipped calibration:",
        "",
    ]
    lines += [*shipped_table, "", *_check_notes(shipped_checks)]
    lines += [
        "",
        "With a calibration fitted on the WAN sweeps alone (no cross-model row seen):",
        "",
    ]
    table, checks = _check_summary(folder / reference.CROSS_MODEL_FILE, sweeps_cal)
    lines += [*table, "", *_check_notes(checks)]
    lines += ["", "## Every point", ""]
    lines += _points_table(cv, (*SWEEPS, "cross-model"))
    lines += ["", *LIMITS]
    return "\n".join(lines) + "\n"


LIMITS = [
    "## What this data can and cannot show",
    "",
    "- **Frame rounding and the FLOP split, together.** WanPipeline turns a request for "
    "n frames into `n // 4 * 4 + 1`: 52 runs as 53, 20 as 21, 92 as 93 (the README's "
    '"52 runs as 49" is not what that formula gives). The measured latencies side with '
    "the formula: 19 and 20 requested frames differ by 31 % in latency because they run "
    "17 and 21 frames. The ablation shows that neither the right rounding with one "
    "efficiency nor separate efficiencies with the README's rounding gets near the "
    "paper's frames-sweep errors; both together do.",
    "- **One architecture, one GPU, few points.** The sweeps are 19 configurations of "
    "one model (WAN2.1-1.3B) at 1280x720, plus two energies at other resolutions; the "
    "resolution sweep has no latency in the files (its 1280x720 latency is that of the "
    "frames sweep and of the corrected cross-model row, the same configuration), and "
    "832x480 is its only point with another token count per frame. A two-point "
    "resolution 'sweep' cannot show how the error grows away from 720p.",
    "- **Attention efficiency vs tokens.** Within one architecture a token-dependent "
    "attention efficiency N/(N+N_half) adds time proportional to N, exactly like the "
    "dense layers, so the WAN sweeps cannot separate it from the dense efficiency "
    "(the ablation's attention-split and the chosen form tie on them). Only the "
    "cross-model rows, with other widths and depths per token, can; the form comparison "
    "shows that they do (attention-split transfers across models far worse).",
    "- **The measurement floor.** One configuration, 1280x720/81 frames/50 steps, was "
    "measured three times: 76.1, 77.2 and 78.8 Wh, 410 and 417 s. And the steps sweep "
    "ran at 682-690 W while the frames sweep ran at 619-677 W, 633 W at 53 frames where "
    "the steps sweep's 49 frames drew 689 W. A model of the configuration cannot follow "
    "a difference between measurement sessions: one power fitted to both sweeps is "
    "about 2.5 % low on the steps sweep and about right on the frames sweep. That is "
    "why the steps-sweep energy is the one figure where the paper's fixed 700 W (which "
    "happens to sit on that sweep's 690 W) does better, while it is 6.6 % off on the "
    "frames sweep; genwatt's steps-sweep *latency* error is half the paper's.",
    "- **Cross-model rows need knowledge the CSV does not state**: CogVideoX ran with "
    "model CPU offload (PCIe transfers the FLOPs do not see; CogVideoX-2b draws the "
    "least power of all, 590 W), LTX-Video 0.9.7-dev is a 13B two-pass recipe whose "
    "0.9.7 VAE decoder is approximated by the registry's 0.9.0 one, and "
    "AnimateDiff-Lightning's 0.7 s is mostly per-call overhead of a 4-step UNet (its "
    "'tokens' are latent pixels x frames, while its attention runs per frame and per "
    "pixel). One point per model cannot separate these effects from model error.",
    "- **Selection optimism.** The form is chosen on the same leave-one-configuration-"
    "out folds that report its error, so the chosen form's error is slightly optimistic; "
    "the held-out-sweep table is the sterner test.",
    "- **Other GPUs and precisions.** Their predictions carry the H100 efficiencies "
    "over by datasheet peak and TDP; the video data cannot test that. The next section "
    "does, on an A100 in FP32 (Power Hungry Processing's text-to-image runs), with no "
    "parameter refitted.",
]


def _point_from_dict(d: dict[str, Any]) -> Any:
    from genwatt.predict.fit import PointError

    return PointError(
        label=d["label"],
        group=d["group"],
        latency_s=d["latency_s"],
        predicted_latency_s=d["predicted_latency_s"],
        energy_gpu_j=d["energy_gpu_j"],
        predicted_energy_gpu_j=d["predicted_energy_gpu_j"],
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=None, help="video_energy_budget dir")
    parser.add_argument("--doc", type=Path, default=DOC)
    parser.add_argument(
        "--write-calibration",
        action="store_true",
        help=f"also rewrite {shipped_path(REFERENCE_GPU).relative_to(ROOT)}",
    )
    args = parser.parse_args(argv)
    folder = reference.require_reference_dir(args.reference)
    observations = reference.all_observations(folder)
    calibration = build_calibration(
        observations,
        get_profile(REFERENCE_GPU),
        source="shared/reference/video_energy_budget (Delavande et al. 2025, arXiv 2509.19222)",
    )
    if args.write_calibration:
        calibration.save(shipped_path(REFERENCE_GPU))
        print(f"wrote {shipped_path(REFERENCE_GPU)}")
    args.doc.parent.mkdir(parents=True, exist_ok=True)
    # Keep the sections other modules write: the diffusion predictor on another GPU
    # (python -m genwatt.predict.diffusion_transfer) and the task model's
    # (python -m genwatt.predict.task_calibration).
    from genwatt.predict import diffusion_transfer, task_calibration

    old = args.doc.read_text() if args.doc.exists() else ""
    kept = ""
    for module in (diffusion_transfer, task_calibration):
        begin, end = module.DOC_BEGIN, module.DOC_END
        if begin in old and end in old:
            kept += "\n" + begin + old.split(begin, 1)[1].split(end, 1)[0] + end + "\n"
    args.doc.write_text(build_doc(observations, calibration, folder) + kept)
    print(f"wrote {args.doc}")
    cv = calibration.cv or {}
    print(
        f"form {calibration.form.name}: CV latency {cv.get('latency_mape_pct'):.2f} %, "
        f"GPU energy {cv.get('energy_gpu_mape_pct'):.2f} %"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
