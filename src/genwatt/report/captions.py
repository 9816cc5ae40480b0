"""The words under each figure: what is drawn, from what, and with what provenance.

A PNG pasted into slides carries its own title and legend; the caption on the page adds
what a reader needs to trust it: how many runs each point averages, how good the fit
is, and why a predicted curve is missing when it is.
"""

from __future__ import annotations

import math

from genwatt import formatting as fmt
from genwatt.mitigate.comparison.conventions import GOOD_PSNR_DB, PSNR_CAP_DB
from genwatt.report.figdata import RESPONSE_LABELS, PhaseData, ScalingData, StepData, TimelineData
from genwatt.report.mitigation import ParetoData
from genwatt.report.provenance import PREDICTED, weakest


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _provenance_sentence(kinds: list[str]) -> str:
    present = sorted(set(kinds))
    if not present:
        return ""
    return f"Provenance: {', '.join(present)} (weakest: {weakest(list(present))})."


def scaling(data: ScalingData) -> str:
    fits = ", ".join(
        f"{RESPONSE_LABELS[r]} R² {fmt.sig(v, 2) if math.isfinite(v) else 'n/a'}"
        for r, v in data.r_squared.items()
    )
    points = len(data.panels[0].x) if data.panels else 0
    kinds = [p for panel in data.panels for p in panel.provenance]
    predicted = (
        "The dashed curve is the predictor's GPU energy (or latency): the geometric mean "
        "of its predictions at each level."
        if any(p.predicted_x for p in data.panels)
        else f"No predicted curve: {data.predicted_note}."
        if data.predicted_note
        else ""
    )
    return (
        f"{data.series}. {_plural(points, 'configuration')}, each the mean of its runs; "
        f"fit: {fits}. "
        f"{_provenance_sentence(kinds)} {predicted}"
    ).strip()


def phases(data: PhaseData) -> str:
    kinds = [b.provenance for b in data.bars]
    predicted = (
        " Dashed, unfilled bars are the predictor's split of the GPU energy."
        if PREDICTED in kinds
        else ""
    )
    return (
        f"{data.series}. {_plural(len(data.bars), 'bar')}; negative remainders (coarse "
        f"counters) are drawn as zero. {_provenance_sentence(kinds)}{predicted}"
    )


def steps(data: StepData) -> str:
    steps = len(data.lines[0].index) if data.lines else 0
    shown = (
        f"{len(data.lines)} of the {data.configurations} configurations with "
        f"{_plural(steps, data.unit)}, spread over their range of energy"
        if data.configurations > len(data.lines)
        else f"{_plural(len(data.lines), 'configuration')} with {_plural(steps, data.unit)} "
        "(the most)"
    )
    kinds = [line.provenance for line in data.lines]
    return f"{data.series}. Showing {shown}. {_provenance_sentence(kinds)}"


def timeline(data: TimelineData) -> str:
    domains = ", ".join(f"{d} ({p})" for d, p in sorted(data.provenance.items()))
    return (
        f"{data.title}. Window {data.window!r}: {fmt.energy(data.energy_j)} over "
        f"{fmt.duration(data.duration_s)}, {len(data.t_s)} samples. Domains: {domains}."
    )


def mitigation(data: ParetoData) -> str:
    count = data.strategies
    failed = f", {len(data.failed)} failed (see the table)" if data.failed else ""
    energy = (
        "the energy saved, with its provenance, is in the table below"
        if data.energy_ratios
        else "no energy ratio was recorded for these strategies"
    )
    off_scale = (
        " (drawn above the plot, off scale, so that the strategies' range stays readable)"
        if data.reference_off_scale
        else ""
    )
    unplotted = (
        f" Not drawn, for want of a FLOP ratio or a PSNR: {', '.join(data.unplotted)}."
        if data.unplotted
        else ""
    )
    kinds = [p.provenance for p in data.points if p.provenance]
    sentences = (
        f"{data.title} ({data.sweep}): {count} {'strategy' if count == 1 else 'strategies'}"
        f"{failed}, each run on the same {_plural(data.n_cases, 'prompt × seed case')} as "
        "the unmitigated pipeline.",
        "Work saved is the unmitigated run's denoising FLOPs over the strategy's, counted as "
        "executed: on small models FLOPs are the trustworthy measure of work, since time and "
        f"energy also include the overhead of the hooks (and of the FLOP counter), so {energy}.",
        "Quality is the mean PSNR of each output against the unmitigated output of the same "
        f"case, each capped at {fmt.sig(PSNR_CAP_DB)} dB; the unmitigated run is the "
        f"reference (×1, identical output){off_scale}, and {fmt.sig(GOOD_PSNR_DB)} dB is "
        "where an output starts to look the same.",
        "The step line is the Pareto frontier: no other point saves more work at higher quality.",
        "Shape and colour give the kind of strategy; filled markers had their energy "
        "measured, hollow ones estimated.",
        _provenance_sentence(kinds) + unplotted,
    )
    return " ".join(sentences).strip()
