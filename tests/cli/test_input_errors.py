"""Hostile and careless input at the real command line: one clear line, exit 2, no store."""

from __future__ import annotations

from pathlib import Path

import pytest


def _one_line_error(result, *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error:")
    for needle in needles:
        assert needle in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("bench", "--guidance", "nan"),
        ("bench", "--guidance", "inf"),
        ("predict", "--model", "wan2.1-t2v-1.3b", "--guidance", "nan"),
        ("predict", "--model", "wan2.1-t2v-1.3b", "--guidance", "-inf"),
        ("mitigate", "--guidance", "nan"),
    ],
)
def test_non_finite_numbers_are_refused(genwatt, tmp_path: Path, args: tuple[str, ...]) -> None:
    store = tmp_path / "s.db"
    extra = () if args[0] == "predict" else ("--store", str(store))
    _one_line_error(genwatt(*args, *extra), "--guidance must be a finite number")
    assert not store.exists()


def test_bench_on_cuda_without_cuda_stops_before_the_progress_bar(genwatt, tmp_path) -> None:
    store = tmp_path / "s.db"
    result = genwatt("bench", "--device", "cuda", "--store", str(store))  # no GPU visible
    _one_line_error(result, "device 'cuda' is not available here")
    assert result.stdout == "" and not store.exists()


def test_bench_options_the_spec_refuses_are_one_error(genwatt, tmp_path: Path) -> None:
    result = genwatt("bench", "--dtype", "float64", "--store", str(tmp_path / "s.db"))
    _one_line_error(result, "dtype", "'float32', 'bfloat16' or 'float16'")
    result = genwatt("bench", "--device", "gpu", "--store", str(tmp_path / "s.db"))
    _one_line_error(result, "unknown device 'gpu'")


def test_a_huge_resolution_is_refused_in_planning(genwatt, tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    args = ("--height", "100000", "--width", "100000", "--store", str(store))
    for dry in ((), ("--dry-run",)):
        result = genwatt("bench", *args, *dry)
        _one_line_error(result, "100000x100000", "needs at least about", "lower height")
    assert not store.exists()


def test_a_yaml_bomb_and_a_latin1_spec_are_refused(genwatt, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    lines = ["model: wan-tiny", "x:", "  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [
        f"  {b}: &{b} [{', '.join([f'*{a}'] * 9)}]"
        for a, b in zip("abcdefg", "bcdefgh", strict=True)
    ]
    bomb.write_text("\n".join([*lines, "prompts: [*h, *h, *h, *h, *h, *h, *h, *h, *h]", ""]))
    result = genwatt("sweep", str(bomb), "--store", str(tmp_path / "s.db"), timeout_s=30)
    _one_line_error(result, "expands to more than")
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(b"model: wan-tiny\nprompts: [caf\xe9]\n")
    result = genwatt("sweep", str(latin1), "--store", str(tmp_path / "s.db"))
    _one_line_error(result, "latin1.yaml is not UTF-8 text: byte 29")
    assert not (tmp_path / "s.db").exists()


def test_unknown_gpu_suggests_each_profile_once(genwatt) -> None:
    result = genwatt("predict", "--model", "wan2.1-t2v-1.3b", "--gpu", "rtx-4080")
    _one_line_error(result, "Did you mean: rtx-4090?")


def test_predict_far_outside_the_calibration_warns(genwatt) -> None:
    result = genwatt("predict", "--model", "wan2.1-t2v-1.3b", "--frames", "2001")
    assert result.returncode == 0, result.stderr
    assert "warning: frames 2,001 is 16.5x the largest calibrated (121)" in result.stdout
