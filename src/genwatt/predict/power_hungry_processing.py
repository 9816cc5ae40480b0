"""Reader of the "Power Hungry Processing" CSVs, and what their energies can support.

Luccioni, Jernite and Strubell (FAccT 2024, arXiv 2311.16863) ran 10 inference tasks on
1,000 queries each, batch size 1, ten times per model and dataset, on one
A100-SXM4-80GB of an eight-GPU AWS node, measured with CodeCarbon 2.3.1 in machine mode
(shared/reference/power_hungry_processing, README beside it). One CSV row is one run of
1,000 queries; ``project_name`` is the model's Hub id.

What each column can be trusted for, and how genwatt uses it:

- ``duration`` (s) is the run's wall time, from the tracker's ``start()`` to its
  ``stop()``: per-query latency = duration / 1,000. Reliable: the ten runs of a
  configuration agree within about 1 %.
- ``cpu_energy`` and ``ram_energy`` are *not measurements*: CodeCarbon did not find
  the Xeon 8275CL in its table and used a constant 42.5 W (half of an 85 W default TDP,
  codecarbon 2.3.1 ``external/hardware.py``), and 3/8 W per GB for the node's
  1,148.7 GB of RAM (430.8 W). They are power x time, so they tell one thing: how long
  energy was integrated. ``cpu_energy / cpu_power`` and ``ram_energy / ram_power``
  agree within 1 % in half the rows and 8 % in 95 % (the GPUs are read between the
  two; their mean is the **energy window**), and the window is longer than
  ``duration`` in every row: by 1-17 s for the small encoders and up to 530 s for
  Flan-T5-XXL, growing with the model's size. Energy was counted from about the end of
  the previous run, so the window holds loading the model as well as the 1,000 queries;
  a row's energy divided by its duration (about 1,000 W for a 66M-parameter DistilBERT)
  is therefore wrong, and the ``gpu_power`` column (CodeCarbon's last reading) is only a
  snapshot. RAM and CPU energies are discarded: a heuristic says nothing about the model.
- ``gpu_energy`` is the NVML energy counter of **all eight GPUs** summed (machine mode
  without ``gpu_ids``), over the energy window. Divided by the window it gives a node
  power of 462-767 W per run: under about 520 W for small encoders and vision models,
  about 700-770 W for Stable Diffusion. Seven GPUs idle and one working: the floor of
  that range bounds the idle power of an A100 from above (462 W / 8 = 58 W), and the
  rest is the one working GPU.

So the data supports latency per query directly, and the working GPU's energy per
query only through a model of the other seven: with P_idle the idle power of one GPU,

    E_one = [E_gpu - 7 x P_idle x window - P_idle x (window - duration)] / 1,000

(the seven idle the whole window; the working GPU idle while the model loads). genwatt
fits P_idle jointly with the other parameters (``genwatt.predict.task_calibration``,
which fits the node's energy as recorded) instead of taking a figure from elsewhere:
NVIDIA publishes no idle power for the A100, and the node's own floor pins it below
the 58 W bound (docs/validation.md gives the fitted figure). The working GPU's own
floor while a pipeline runs (its clocks up, waiting on launches) is a separate, higher
figure of the model.

The price is an uncertainty the data cannot remove: the node's idle level drifts
between measurement sessions (the same model's node power differs by a median 46 W
between datasets run on different days), about 6 W per GPU. Over a window twice as
long as the run, that is tens of per cent of a small encoder's 5 ms queries, and a few
per cent of a large model's. ``session_spread_w`` states the spread;
the calibration weighs each point by it and reports which points the data determines.

Generation lengths are not in the CSVs: ``GENERATION`` states what genwatt assumes for
each generating task and why. Only models registered in the suite
(``genwatt.models.tasks``) can be predicted; ``registered_spec`` finds them by repo id,
alias or the part after the organisation.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genwatt.errors import ConfigError
from genwatt.models.tasks.registry import get_task_model, list_task_models
from genwatt.models.tasks.spec import TaskModelSpec
from genwatt.models.tasks.workloads import TOKENS_PER_WORD, WORKLOAD_STATS
from genwatt.predict.observations import float_or_none, read_csv_rows
from genwatt.predict.shared_reference import find_shared, require_shared
from genwatt.units import kwh_to_j

CITATION = (
    "Luccioni, Jernite, Strubell (2024), Power Hungry Processing: Watts Driving the Cost "
    "of AI Deployment?, FAccT 2024, arXiv 2311.16863; one A100-SXM4-80GB of an 8-GPU "
    "node, CodeCarbon 2.3.1 in machine mode"
)
SUBDIR = "reference/power_hungry_processing"
GPU = "a100-sxm-80gb"  # the hardware profile the study's runs calibrate
QUERIES_PER_RUN = 1000  # README: "1,000 queries each"
# The study's code loads every model without a dtype: transformers and diffusers then
# hold the weights in float32.
DTYPE = "float32"
# ... and its float32 matmuls ran at the TF32 tensor-core rate, not at the CUDA cores'
# 19.5 TFLOP/s: Flan-T5-XXL's encoder alone (2.9 TFLOP for an IMDB review, counted by
# genwatt.flops.task_compute) would take 150 ms at the fp32 peak, longer than the whole
# 122 ms query the study measured. PyTorch ran fp32 matmuls in TF32 on Ampere by default
# up to 1.11 (``torch.backends.cuda.matmul.allow_tf32``, default False since 1.12), and
# cuDNN runs fp32 convolutions in TF32 by default still.
MATMUL_PRECISION = "tf32"

# File prefix -> (the suite's task, the kind of model the file holds).
PREFIXES: dict[str, tuple[str, str]] = {
    "text_classif": ("text-classification", "task-specific"),
    "token_classif": ("token-classification", "task-specific"),
    "qa": ("question-answering", "task-specific"),
    "fillmask": ("fill-mask", "task-specific"),
    "textgen": ("text-generation", "task-specific"),
    "summarize": ("summarization", "task-specific"),
    "image_class": ("image-classification", "task-specific"),
    "obj_detection": ("object-detection", "task-specific"),
    "itt": ("image-to-text", "task-specific"),
    "tti": ("text-to-image", "task-specific"),
    "zeroshot_sentiment": ("text-classification", "multi-purpose"),
    "zeroshot_qa": ("question-answering", "multi-purpose"),
    "zeroshot_summarize": ("summarization", "multi-purpose"),
}


@dataclass(frozen=True)
class DatasetSizes:
    """The size of one dataset's queries as genwatt feeds them to the compute model."""

    input_tokens: float | None = None  # all text parts of a query, in tokens
    image_hw: tuple[int, int] | None = None  # (height, width) of the original image
    source: str = ""


def _anchor(task: str, dataset: str) -> Any:
    for anchor in WORKLOAD_STATS[task].anchors:
        if anchor.dataset == dataset:
            return anchor
    raise KeyError(f"{task} has no anchor dataset {dataset!r}")


def _tokens(task: str, dataset: str, note: str = "") -> DatasetSizes:
    """All text parts of an anchor dataset's mean query, in tokens."""
    anchor = _anchor(task, dataset)
    words = sum(lengths.mean for lengths in anchor.parts.values())
    source = f"{dataset} ({anchor.source})" + (f"; {note}" if note else "")
    return DatasetSizes(input_tokens=words * TOKENS_PER_WORD, source=source)


def _image(task: str, dataset: str, note: str = "") -> DatasetSizes:
    """An anchor dataset's mean image, landscape (short side x long side)."""
    anchor = _anchor(task, dataset)
    hw = (round(anchor.parts["short_side"].mean), round(anchor.parts["long_side"].mean))
    source = f"{dataset} ({anchor.source})" + (f"; {note}" if note else "")
    return DatasetSizes(image_hw=hw, source=source)


_COCO_LIKE = "taken to be COCO-sized, as genwatt's built-in workload does"
_CONLL_LIKE = "taken to be CoNLL-sized (no length figure at hand)"
_SQUAD_LIKE = "taken to be SQuAD-like in size, as genwatt's built-in workload does"
_SENTENCE = "taken to be sentence-sized, as genwatt's built-in workload does"


def dataset_sizes(task: str, dataset: str) -> DatasetSizes:
    """What one query of ``dataset`` holds, from genwatt's cited workload figures
    (``genwatt.models.tasks.workloads``); datasets without their own figure are taken to
    be like the task's anchor, and the source says so."""
    table: dict[tuple[str, str], Any] = {
        ("text-classification", "imdb"): lambda: _tokens(task, "IMDB"),
        ("text-classification", "sst2"): lambda: _tokens(task, "SST-2"),
        ("text-classification", "tomatoes"): lambda: _tokens(task, "Rotten Tomatoes"),
        ("token-classification", "conll2003"): lambda: _tokens(task, "CoNLL-2003"),
        ("token-classification", "wikiann"): lambda: _tokens(task, "CoNLL-2003", _CONLL_LIKE),
        ("token-classification", "record"): lambda: _tokens(task, "CoNLL-2003", _CONLL_LIKE),
        ("question-answering", "squad"): lambda: _tokens(task, "SQuAD"),
        ("question-answering", "squadv2"): lambda: _tokens(task, "SQuAD", _SQUAD_LIKE),
        ("question-answering", "squad2"): lambda: _tokens(task, "SQuAD", _SQUAD_LIKE),
        ("question-answering", "sciq"): lambda: _tokens(task, "SQuAD", _SQUAD_LIKE),
        ("fill-mask", "bookcorpus"): lambda: _tokens(task, "BookCorpus"),
        ("fill-mask", "c4"): lambda: _tokens(task, "BookCorpus", _SENTENCE),
        ("fill-mask", "oscar"): lambda: _tokens(task, "BookCorpus", _SENTENCE),
        ("text-generation", "wikitext"): lambda: _tokens(task, "WikiText"),
        ("text-generation", "bookcorpus"): lambda: _tokens(task, "BookCorpus"),
        ("text-generation", "oscar"): lambda: _tokens(task, "OSCAR"),
        ("summarization", "cnn"): lambda: _tokens(task, "CNN/DailyMail"),
        ("summarization", "samsum"): lambda: _tokens(task, "SAMSum"),
        ("summarization", "xsum"): lambda: _tokens(task, "XSum"),
        ("image-classification", "imagenet"): lambda: _image(task, "ImageNet"),
        ("image-classification", "cifar10"): lambda: _image(task, "CIFAR-10"),
        ("image-classification", "cifar100"): lambda: _image(task, "CIFAR-100"),
        ("object-detection", "coco"): lambda: _image(task, "COCO 2017"),
        ("object-detection", "visualgenome"): lambda: _image(task, "COCO 2017", _COCO_LIKE),
        ("object-detection", "cppe"): lambda: _image(task, "COCO 2017", _COCO_LIKE),
        ("image-to-text", "coco"): lambda: _image(task, "COCO 2014"),
        ("image-to-text", "redcaps"): lambda: _image(task, "COCO 2014", _COCO_LIKE),
        ("image-to-text", "visualgenome"): lambda: _image(task, "COCO 2014", _COCO_LIKE),
        ("text-to-image", "diffusiondb"): lambda: _tokens(task, "COCO 2014 captions", _PROMPT),
        ("text-to-image", "imagereward"): lambda: _tokens(task, "COCO 2014 captions", _PROMPT),
        ("text-to-image", "sd_prompts"): lambda: _tokens(task, "COCO 2014 captions", _PROMPT),
    }
    maker = table.get((task, dataset.lower()))
    if maker is None:
        raise ConfigError(f"no query sizes known for the {task} dataset {dataset!r}")
    return maker()


_PROMPT = "prompts taken to be caption-sized (text encoders cut them at 77 tokens anyway)"


@dataclass(frozen=True)
class Generation:
    """Tokens a generating configuration is assumed to write per query, and why."""

    new_tokens: int
    reason: str


# The CSVs do not record generation lengths, and the paper's text does not state them
# for every task. What genwatt assumes, by file prefix; configurations whose length
# cannot be pinned are left out (``excluded_reason``).
GENERATION: dict[str, Generation] = {
    "summarize": Generation(
        15, "the files' suffix '_15' (summarize_cnn_15 ...), read as a 15-token summary"
    ),
    "textgen": Generation(
        10,
        "not in the CSVs; AI Energy Score's 10 tokens, the protocol the same group "
        "later fixed for text generation (shared/reference/ai_energy_score_protocol.md)",
    ),
    "itt": Generation(
        12,
        "a COCO caption's mean of 10.5 words (Chen et al. 2015), as the suite's "
        "image-to-text task: captioners trained on COCO stop at about that length",
    ),
    "zeroshot_sentiment": Generation(
        2, "an instruction-tuned model answers a label word and stops (the word, the end token)"
    ),
    "zeroshot_qa": Generation(
        5,
        "SQuAD answers average 3.2 words (Rajpurkar et al. 2016): about four tokens "
        "and the end token",
    ),
}

# Multi-purpose models trained to follow instructions (they stop when they have answered).
INSTRUCTION_TUNED = ("google/flan-t5", "bigscience/bloomz")


@dataclass(frozen=True)
class PhpFile:
    """What a CSV's name says: the task, the model kind, the dataset, and variants."""

    stem: str
    prefix: str
    task: str
    kind: str  # "task-specific" or "multi-purpose"
    dataset: str
    resized: bool = False

    @classmethod
    def parse(cls, stem: str) -> PhpFile:
        for prefix in sorted(PREFIXES, key=len, reverse=True):
            if stem.startswith(prefix + "_"):
                task, kind = PREFIXES[prefix]
                rest = stem[len(prefix) + 1 :]
                resized = rest.endswith("_resized")
                rest = rest.removesuffix("_resized").removesuffix("_bloomz")
                rest = rest.removesuffix("_15")
                return cls(stem, prefix, task, kind, rest, resized)
        raise ConfigError(f"{stem}.csv is not one of the study's files (prefixes: {PREFIXES})")


@dataclass(frozen=True)
class PhpRun:
    """One row: one run of ``QUERIES_PER_RUN`` queries. Joules and seconds."""

    file: str
    model: str
    run_id: str
    timestamp: str
    duration_s: float
    gpu_energy_j: float  # all the node's GPUs, over the energy window
    cpu_energy_j: float
    ram_energy_j: float
    cpu_power_w: float
    ram_power_w: float
    gpu_power_w: float  # CodeCarbon's last reading: a snapshot
    gpu_count: int

    @property
    def energy_window_s(self) -> float:
        """Seconds over which the GPU energy was integrated.

        CPU and RAM energies are constant powers times their windows. CodeCarbon 2.3.1
        reads RAM, then the GPUs, then the CPU (``EmissionsTracker.__init__`` builds its
        hardware list in that order), each from its own clock reading, so the GPUs'
        window lies between the two: their mean."""
        cpu = self.cpu_energy_j / self.cpu_power_w
        ram = self.ram_energy_j / self.ram_power_w
        return (cpu + ram) / 2

    @property
    def node_gpu_power_w(self) -> float:
        """The node's GPUs' mean power over the energy window."""
        return self.gpu_energy_j / self.energy_window_s


def _number(row: Mapping[str, str], column: str, where: str) -> float:
    value = float_or_none(row.get(column), f"{where}: {column}")
    if value is None:
        raise ConfigError(f"{where}: the {column} column is empty")
    return value


def read_file(path: Path) -> list[PhpRun]:
    """Every run of one of the study's CSVs."""
    PhpFile.parse(path.stem)  # refuse a file that is not the study's
    runs = []
    for i, row in enumerate(read_csv_rows(path), start=2):
        where = f"{path.name} line {i}"
        runs.append(
            PhpRun(
                file=path.stem,
                model=row["project_name"].strip(),
                run_id=row.get("run_id", ""),
                timestamp=row.get("timestamp", ""),
                duration_s=_number(row, "duration", where),
                gpu_energy_j=kwh_to_j(_number(row, "gpu_energy", where)),
                cpu_energy_j=kwh_to_j(_number(row, "cpu_energy", where)),
                ram_energy_j=kwh_to_j(_number(row, "ram_energy", where)),
                cpu_power_w=_number(row, "cpu_power", where),
                ram_power_w=_number(row, "ram_power", where),
                gpu_power_w=_number(row, "gpu_power", where),
                gpu_count=int(_number(row, "gpu_count", where)),
            )
        )
    return runs


def find_reference_dir(start: Path | None = None) -> Path | None:
    """shared/reference/power_hungry_processing inside or beside the repository, or None."""
    return find_shared(SUBDIR, start)


def require_reference_dir(folder: Path | None = None) -> Path:
    return require_shared(SUBDIR, folder)


def read_runs(folder: Path | None = None) -> list[PhpRun]:
    """Every run of every CSV in the study's folder, in file order."""
    where = require_reference_dir(folder)
    paths = sorted(where.glob("*.csv"))
    if not paths:
        raise ConfigError(f"{where} holds no CSV files")
    return [run for path in paths for run in read_file(path)]


def registered_spec(model: str) -> TaskModelSpec | None:
    """The suite's spec of a Hub id as the study wrote it: by repo id or alias, else by
    the name after the organisation ("bert-base-uncased" is google-bert/bert-base-uncased);
    None if no registered model (or more than one) answers to it."""
    try:
        return get_task_model(model)
    except ConfigError:
        pass
    name = model.lower().rpartition("/")[2]
    found = [
        s
        for s in list_task_models()
        if s.repo_id.lower().rpartition("/")[2] == name or name in (a.lower() for a in s.aliases)
    ]
    return found[0] if len(found) == 1 else None


def compute_task(spec: TaskModelSpec, task: str) -> str | None:
    """The suite task whose compute the model's run is: the file's task where the model
    is registered for it; "text-generation" for a plain language model doing a
    zero-shot task through a prompt; None where the suite cannot run the model so."""
    if task in spec.tasks:
        return task
    if "text-generation" in spec.tasks:
        return "text-generation"
    return None


def generation_for(file: PhpFile) -> Generation | None:
    """Tokens written per query (None for tasks that do not generate)."""
    return GENERATION.get(file.prefix)


def excluded_reason(file: PhpFile, model: str) -> str | None:
    """Why a configuration cannot calibrate or validate a prediction, or None.

    - "_resized" images: their size is not stated, and a query's host time follows it
      (the same model is 5-8 ms slower per query on them than on the originals).
    - zero-shot summaries by instruction-tuned models: they stop at their end token, at
      lengths that differ by model (on CNN articles BLOOMZ-560m takes 610 ms a query and
      BLOOMZ-7b1, whose every token costs several times more, 773 ms), and the study
      states no limit.
    - zero-shot runs of plain language models (GPT-2, BLOOM, OPT, Llama 2): they run to a
      length limit the study does not state.
    """
    if file.resized:
        return "the '_resized' images' size is not stated (host time follows it)"
    if file.prefix.startswith("zeroshot_"):
        if not model.lower().startswith(INSTRUCTION_TUNED):
            return "a plain language model run zero-shot: its generation limit is not stated"
        if file.prefix == "zeroshot_summarize":
            return "zero-shot summaries stop at the model's end token: their length is unknown"
    return None


@dataclass(frozen=True)
class PhpConfiguration:
    """One model on one dataset: the medians of its runs, and what it ran.

    ``spec`` is the suite's repo id of the model (None: not registered, so not
    predicted); ``compute_task`` the task whose compute it is. Energies and times are
    medians over the runs, each on its own (a run's loading time can be an outlier).
    """

    file: str
    model: str
    task: str
    kind: str
    dataset: str
    runs: int
    duration_s: float
    window_s: float
    node_gpu_energy_j: float
    node_gpus: int
    cpu_energy_j: float
    ram_energy_j: float
    spec: str | None
    compute_task: str | None
    sizes: DatasetSizes
    new_tokens: int | None
    generation_reason: str = ""
    dtype: str = DTYPE
    notes: tuple[str, ...] = field(default=())
    excluded: str | None = None  # why it cannot calibrate a prediction (``excluded_reason``)

    @property
    def latency_s(self) -> float:
        """Seconds per query."""
        return self.duration_s / QUERIES_PER_RUN

    @property
    def loading_s(self) -> float:
        """The part of the energy window before the queries started (model loading)."""
        return max(0.0, self.window_s - self.duration_s)

    @property
    def node_gpu_power_w(self) -> float:
        return self.node_gpu_energy_j / self.window_s

    def one_gpu_energy_j(self, idle_w: float) -> float:
        """The working GPU's energy per query if one idle GPU draws ``idle_w``: the
        node's GPU energy less the others' idle and its own idle while loading."""
        others = (self.node_gpus - 1) * idle_w * self.window_s
        own_loading = idle_w * self.loading_s
        return (self.node_gpu_energy_j - others - own_loading) / QUERIES_PER_RUN

    def label(self) -> str:
        return f"{self.model} on {self.file}"


def configurations(runs: Iterable[PhpRun]) -> list[PhpConfiguration]:
    """One configuration per file and model, in the files' order."""
    grouped: dict[tuple[str, str], list[PhpRun]] = {}
    for run in runs:
        grouped.setdefault((run.file, run.model), []).append(run)
    out = []
    for (stem, model), members in grouped.items():
        file = PhpFile.parse(stem)
        spec = registered_spec(model)
        task = compute_task(spec, file.task) if spec is not None else None
        generation = generation_for(file)
        excluded = excluded_reason(file, model)
        notes = [] if excluded is None else [f"excluded: {excluded}"]
        generates = spec is not None and spec.decoder is not None and task != "text-to-image"
        out.append(
            PhpConfiguration(
                file=stem,
                model=model,
                task=file.task,
                kind=file.kind,
                dataset=file.dataset,
                runs=len(members),
                duration_s=statistics.median(r.duration_s for r in members),
                window_s=statistics.median(r.energy_window_s for r in members),
                node_gpu_energy_j=statistics.median(r.gpu_energy_j for r in members),
                node_gpus=members[0].gpu_count,
                cpu_energy_j=statistics.median(r.cpu_energy_j for r in members),
                ram_energy_j=statistics.median(r.ram_energy_j for r in members),
                spec=None if spec is None else spec.repo_id,
                compute_task=task,
                sizes=dataset_sizes(file.task, file.dataset),
                new_tokens=generation.new_tokens if generation and generates else None,
                generation_reason=generation.reason if generation and generates else "",
                notes=tuple(notes),
                excluded=excluded,
            )
        )
    return out


def load(folder: Path | None = None) -> list[PhpConfiguration]:
    """Every configuration of the study (registered in the suite or not)."""
    return configurations(read_runs(folder))


def session_spread_w(configs: Sequence[PhpConfiguration]) -> dict[str, float]:
    """How much the node's GPU power of the *same* model differs between the datasets of
    one task (run in different sessions): the median over models of (max - min), in W
    for the node and per GPU. What this spread does to a one-GPU figure is the
    uncertainty the data leaves."""
    by_model: dict[tuple[str, str], list[float]] = {}
    for c in configs:
        by_model.setdefault((c.task, c.model), []).append(c.node_gpu_power_w)
    spreads = [max(v) - min(v) for v in by_model.values() if len(v) > 1]
    node = statistics.median(spreads) if spreads else 0.0
    gpus = max((c.node_gpus for c in configs), default=1)
    return {"node_w": node, "per_gpu_w": node / gpus, "models": float(len(spreads))}


def node_power_summary(configs: Sequence[PhpConfiguration]) -> dict[str, Any]:
    """What the energies support, as plain data: the node's GPU power range, the idle
    bound it implies, the energy window against the duration."""
    powers = sorted(c.node_gpu_power_w for c in configs)
    stretch = sorted(c.window_s / c.duration_s for c in configs)
    gpus = max((c.node_gpus for c in configs), default=1)
    return {
        "configurations": len(configs),
        "node_gpus": gpus,
        "node_gpu_power_w": {
            "min": powers[0],
            "median": statistics.median(powers),
            "max": powers[-1],
        },
        "idle_per_gpu_upper_bound_w": powers[0] / gpus,
        "energy_window_over_duration": {
            "min": stretch[0],
            "median": statistics.median(stretch),
            "max": stretch[-1],
        },
        "largest_loading_s": max(c.loading_s for c in configs),
        "session_spread": session_spread_w(configs),
    }
