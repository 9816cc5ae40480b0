"""Text generation: prefill, then one window per further token, through model.generate."""

from __future__ import annotations

from pathlib import Path

import pytest

from genwatt.meter.meter import Meter
from genwatt.meter.phases import DECODE, PREFILL
from genwatt.models import build_text_model, generate_kwargs, get_model, resolve_params
from genwatt.run.bench_grid import bench_spec
from genwatt.run.sweep_report import run_sweep
from genwatt.run.text_instrument import InstrumentedTextModel
from genwatt.run.workload import fill_prompt


@pytest.mark.slow
def test_prefill_and_every_decoded_token_are_windows(cpu_meter: Meter) -> None:
    spec = get_model("llama-tiny")
    model, tokenizer = build_text_model(spec, "tiny")
    params = resolve_params(spec, max_text_tokens=16, max_new_tokens=6)
    prompt = fill_prompt("a red circle moves left", 16, tokenizer)
    inst = InstrumentedTextModel(model, cpu_meter)
    output = inst.generate(**generate_kwargs(spec, params, prompt, tokenizer))
    parts = inst.last.breakdown
    assert output.shape[-1] == 16 + 6
    assert set(parts.phases) == {PREFILL, DECODE}
    assert [w.name for w in parts.steps] == [f"token:{i}" for i in range(1, 6)]
    assert parts.adds_up
    assert parts.other.duration_s < 0.5 * parts.total.duration_s


def test_fill_prompt_reaches_the_requested_token_count() -> None:
    _, tokenizer = build_text_model(get_model("llama-tiny"), "tiny")
    filled = fill_prompt("a cat", 40, tokenizer)
    assert len(tokenizer(filled, add_special_tokens=False)["input_ids"]) >= 40


@pytest.mark.slow
def test_text_sweep_fits_decode_energy_against_new_tokens(tmp_path: Path) -> None:
    spec = bench_spec(
        "llama-tiny", max_text_tokens=[16], max_new_tokens=[4, 8, 16, 32], repeats=2, warmup=1
    )
    report = run_sweep(spec, store=tmp_path / "t.db", sweep="text")
    assert report.outcome.ran == 8 and report.outcome.failed == 0
    assert report.phase_fit.response == "decode_j"
    assert set(report.phase_fit.exponents) == {"max_new_tokens"}
    # decoding is one step per token: linear, give or take timing noise on a shared
    # machine (a flat or exploding slope would mean the token windows are wrong)
    assert 0.4 < report.phase_fit.exponents["max_new_tokens"].value < 2.0
