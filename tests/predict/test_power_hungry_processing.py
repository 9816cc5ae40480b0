"""The Power Hungry Processing reader: file names, rows, the energy window, and the claims
its docstring makes about the study's data (checked on the real CSVs where present)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from genwatt.errors import ConfigError
from genwatt.predict import power_hungry_processing as php

COLUMNS = [
    "timestamp",
    "project_name",
    "run_id",
    "duration",
    "emissions",
    "emissions_rate",
    "cpu_power",
    "gpu_power",
    "ram_power",
    "cpu_energy",
    "gpu_energy",
    "ram_energy",
    "energy_consumed",
    "gpu_count",
]


def _row(model: str, duration: float, window: float, node_w: float) -> dict[str, object]:
    """A CodeCarbon 2.3.1 row: CPU and RAM at their constants over ``window`` seconds,
    the node's GPUs at ``node_w`` over it."""
    kwh = 1 / 3.6e6
    return {
        "timestamp": "2023-09-10T21:06:08",
        "project_name": model,
        "run_id": "x",
        "duration": duration,
        "emissions": 0,
        "emissions_rate": 0,
        "cpu_power": 42.5,
        "gpu_power": 520.0,
        "ram_power": 430.77675,
        "cpu_energy": 42.5 * window * kwh,
        "gpu_energy": node_w * window * kwh,
        "ram_energy": 430.77675 * window * kwh,
        "energy_consumed": 0,
        "gpu_count": 8,
    }


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.parametrize(
    ("stem", "prefix", "task", "kind", "dataset", "resized"),
    [
        ("text_classif_imdb", "text_classif", "text-classification", "task-specific", "imdb", 0),
        ("summarize_cnn_15", "summarize", "summarization", "task-specific", "cnn", 0),
        (
            "image_class_cifar100_resized",
            "image_class",
            "image-classification",
            "task-specific",
            "cifar100",
            1,
        ),
        (
            "zeroshot_qa_squad2_bloomz",
            "zeroshot_qa",
            "question-answering",
            "multi-purpose",
            "squad2",
            0,
        ),
        (
            "zeroshot_sentiment_sst2",
            "zeroshot_sentiment",
            "text-classification",
            "multi-purpose",
            "sst2",
            0,
        ),
        ("obj_detection_CPPE", "obj_detection", "object-detection", "task-specific", "CPPE", 0),
    ],
)
def test_file_names_say_task_kind_and_dataset(
    stem: str, prefix: str, task: str, kind: str, dataset: str, resized: int
) -> None:
    parsed = php.PhpFile.parse(stem)
    assert (parsed.prefix, parsed.task, parsed.kind, parsed.dataset) == (
        prefix,
        task,
        kind,
        dataset,
    )
    assert parsed.resized == bool(resized)


def test_a_file_that_is_not_the_studys_is_refused() -> None:
    with pytest.raises(ConfigError, match="not one of the study's files"):
        php.PhpFile.parse("my_measurements")


def test_energy_window_comes_from_the_constant_cpu_power(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "text_classif_sst2.csv",
        [
            _row("distilbert-base-uncased-finetuned-sst-2-english", 6.0, 14.0, 540.0),
            _row("distilbert-base-uncased-finetuned-sst-2-english", 6.2, 13.0, 560.0),
            _row("distilbert-base-uncased-finetuned-sst-2-english", 6.4, 30.0, 500.0),
        ],
    )
    runs = php.read_file(path)
    assert [round(r.energy_window_s, 6) for r in runs] == [14.0, 13.0, 30.0]
    assert runs[0].node_gpu_power_w == pytest.approx(540.0)
    # energy / duration, the naive figure, is more than twice the node's real power
    assert runs[0].gpu_energy_j / runs[0].duration_s > 2 * runs[0].node_gpu_power_w
    (config,) = php.configurations(runs)
    assert config.runs == 3
    assert config.duration_s == pytest.approx(6.2)  # medians, each on its own
    assert config.window_s == pytest.approx(14.0)
    assert config.latency_s == pytest.approx(6.2e-3)
    assert config.loading_s == pytest.approx(7.8)
    assert config.spec == "distilbert/distilbert-base-uncased-finetuned-sst-2-english"
    assert config.compute_task == "text-classification"
    assert config.new_tokens is None
    assert config.sizes.input_tokens == pytest.approx(19 * 4 / 3)
    assert config.excluded is None


def test_one_gpu_energy_takes_out_seven_idle_gpus_and_the_loading() -> None:
    config = php.PhpConfiguration(
        file="textgen_wikitext",
        model="gpt2",
        task="text-generation",
        kind="task-specific",
        dataset="wikitext",
        runs=10,
        duration_s=100.0,
        window_s=110.0,
        node_gpu_energy_j=60_000.0,
        node_gpus=8,
        cpu_energy_j=0.0,
        ram_energy_j=0.0,
        spec="openai-community/gpt2",
        compute_task="text-generation",
        sizes=php.DatasetSizes(input_tokens=100.0),
        new_tokens=10,
    )
    # 60 kJ - 7 x 50 W x 110 s - 50 W x 10 s = 21,000 J over 1,000 queries
    assert config.one_gpu_energy_j(50.0) == pytest.approx(21.0)
    assert config.node_gpu_power_w == pytest.approx(60_000 / 110)


@pytest.mark.parametrize(
    ("name", "repo"),
    [
        ("bert-base-uncased", "google-bert/bert-base-uncased"),
        ("gpt2", "openai-community/gpt2"),
        ("google/flan-t5-xl", "google/flan-t5-xl"),
        ("runwayml/stable-diffusion-v1-5", "stable-diffusion-v1-5/stable-diffusion-v1-5"),
        ("albert-base-v2", None),
        ("CompVis/stable-diffusion-v1-4", None),
    ],
)
def test_registered_spec_by_id_alias_or_name(name: str, repo: str | None) -> None:
    spec = php.registered_spec(name)
    assert (spec.repo_id if spec else None) == repo


def test_what_is_excluded_and_why() -> None:
    parse = php.PhpFile.parse
    assert "size is not stated" in (php.excluded_reason(parse("itt_coco_resized"), "x") or "")
    assert "plain language model" in (php.excluded_reason(parse("zeroshot_qa_sciq"), "gpt2") or "")
    assert "end token" in (
        php.excluded_reason(parse("zeroshot_summarize_cnn"), "google/flan-t5-xl") or ""
    )
    assert php.excluded_reason(parse("zeroshot_qa_sciq"), "google/flan-t5-xl") is None
    assert php.excluded_reason(parse("textgen_oscar"), "gpt2") is None
    assert php.generation_for(parse("summarize_xsum_15")).new_tokens == 15
    assert php.generation_for(parse("fillmask_c4")) is None


def test_unknown_dataset_sizes_are_refused() -> None:
    with pytest.raises(ConfigError, match="no query sizes"):
        php.dataset_sizes("text-classification", "yelp")


def test_the_studys_data_supports_what_the_docstring_says(php_reference: Path) -> None:
    runs = php.read_runs(php_reference)
    assert len(runs) == 4170
    # CPU and RAM energies are constants x nearly the same window ...
    gaps = sorted(
        abs((r.ram_energy_j / r.ram_power_w) / (r.cpu_energy_j / r.cpu_power_w) - 1) for r in runs
    )
    assert gaps[len(gaps) // 2] < 0.01
    assert gaps[int(0.95 * len(gaps))] < 0.08
    # ... and that window is never shorter than the run (to CodeCarbon's rounding).
    assert min(r.energy_window_s / r.duration_s for r in runs) > 0.99
    configs = php.configurations(runs)
    summary = php.node_power_summary(configs)
    assert summary["node_gpus"] == 8
    assert 440 < summary["node_gpu_power_w"]["min"] < 470
    assert 700 < summary["node_gpu_power_w"]["max"] < 780
    assert summary["idle_per_gpu_upper_bound_w"] < 60
    assert summary["largest_loading_s"] > 300  # Flan-T5-XXL loads for minutes
    spread = summary["session_spread"]
    assert 20 < spread["node_w"] < 80
    registered = [c for c in configs if c.spec]
    assert len({c.spec for c in registered}) >= 30
