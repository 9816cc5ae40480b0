"""Latency and energy of one pipeline call of any task: a roofline plus the fixed costs.

At batch size 1 a FLOP model alone is wrong by orders of magnitude for small models: a
135M-parameter LLM can cost about what a 1.7B one does, because the GPU waits on kernel
launches, on memory and on the host, not on arithmetic. So each phase of a call
(``forward``, or ``encode`` / ``prefill`` / ``decode``; the diffusion tasks' phases too)
takes

    t_phase = max(F / (R_prec x e_c), B / (BW x e_m))      the roofline ("busy") part
            + kernels x t_kernel [+ forwards x t_step]      the launch-bound part

where F and B are the phase's FLOPs and bytes moved (weights read per forward,
activations, KV cache), R_prec the datasheet peak for the precision it runs in
(``precision_of``: fp32 on the CUDA cores, fp16/bf16 on the tensor cores), BW the
memory bandwidth, ``kernels`` its eager kernel launches (aten ops) and, in the phases
of ``generate`` (``prefill`` and ``decode``), ``forwards`` its steps: what ``generate``
does around the model each step (logits processors, choosing the token, updating the
cache) in Python. A call adds host time per query by input kind (tokenising text;
decoding, resizing and normalising an image, in proportion to its pixels (the input's
and the processed image's); computing
audio features; post-processing) and a fixed per-call pipeline overhead:

    latency = sum of t_phase + batch x (t_host(kind) + pixels x t_pixel) + t_call

A benchmark that does not run a pipeline changes the host part: ``host_delta_s`` per
query (the GPU at its floor) and ``rest_s`` per query of preprocessing done before the
model is loaded, at the GPU's rest power (``genwatt.predict.harness``).

Batch size is an input: FLOPs and bytes of activations grow with it (the ``compute``
passed in is for the whole batch), kernels and weight reads do not, so the
launch-bound part is shared by the batch's queries.

Energy. The GPU draws P_idle the whole call and P_busy while its units are busy with
the roofline part; the launch-bound and host parts leave it mostly waiting:

    E_gpu = P_idle x latency + (P_busy - P_idle) x busy_s

with both powers fractions of the board's TDP, so that a fit on one GPU carries to
another through its datasheet. Why not a third power for "awake but launch-bound": a
GPU waiting between small kernels runs its clocks up and draws somewhat more than idle,
but the published data genwatt calibrates on (Power Hungry Processing: eight A100s
summed, seven idle) cannot tell that level from idle, so a parameter for it would be
fitted to noise (see ``genwatt.predict.power_hungry_processing``).

Whole-machine energy adds the host (CPU and RAM) at ``host_power_w`` for the whole
latency. The physical floor is FLOPs / (peak bf16 FLOP/s / TDP): the energy if every
FLOP ran at peak and drew exactly TDP (``genwatt.predict.model.floor_j``).

Every figure here is a prediction; the ``TaskEstimate`` says so (``provenance``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, Protocol, runtime_checkable

from genwatt.predict.hardware import HardwareProfile, Precision
from genwatt.predict.model import floor_j

HostKind = Literal["text", "image", "audio"]
HOST_KINDS: tuple[HostKind, ...] = ("text", "image", "audio")

# The suite's input kinds (``genwatt.models.tasks.spec.InputKind``) by what the host does
# to them: every text-like input is tokenised, a diffusion prompt too.
_HOST_KIND_OF_INPUT: dict[str, HostKind] = {
    "text": "text",
    "question-context": "text",
    "sentence-pair": "text",
    "masked-text": "text",
    "prompt": "text",
    "image": "image",
    "audio": "audio",
}

PROVENANCE = "predicted"


@runtime_checkable
class PassLike(Protocol):
    """What the model needs of one phase's compute (``genwatt.flops.task_compute``)."""

    flops: float
    weight_bytes: float
    activation_bytes: float
    kv_bytes: float
    kernels: float
    forwards: float


@runtime_checkable
class ComputeLike(Protocol):
    """The compute of one pipeline call: its phases and the precision it runs in."""

    phases: Mapping[str, PassLike]
    dtype: str


@dataclass(frozen=True)
class TaskModelParams:
    """Every parameter of the task model. Efficiencies are fractions of the datasheet's
    peaks, powers fractions of the board's TDP (``host_power_w`` excepted: the host is
    not the GPU), times in seconds."""

    compute_efficiency: float = 0.5  # e_c: of the precision's peak FLOP/s
    memory_efficiency: float = 0.7  # e_m: of the memory bandwidth
    kernel_s: float = 1.5e-5  # t_kernel: host time to dispatch one eager kernel
    step_s: float = 0.0  # t_step: per step of ``generate`` beyond the model's kernels
    call_s: float = 0.0  # t_call: per pipeline call (batch), Python and set-up
    host_text_s: float = 1e-3  # per query: tokenise, post-process
    host_image_s: float = 1e-2  # per query: decode, resize, normalise an image
    host_audio_s: float = 2e-2  # per query: load and featurise a clip
    host_pixel_s: float = 0.0  # per image pixel handled: decode, resize, normalise
    idle_power_frac: float = 0.15  # P_idle / TDP: the GPU awake, waiting
    busy_power_frac: float = 0.8  # P_busy / TDP: while the roofline part runs
    host_power_w: float = 42.5  # CPU and RAM, W (see ``DEFAULT_HOST_POWER_SOURCE``)

    def host_s(self, kind: HostKind) -> float:
        """Host time per query for an input of ``kind``."""
        return {
            "text": self.host_text_s,
            "image": self.host_image_s,
            "audio": self.host_audio_s,
        }[kind]

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskModelParams:
        known = {f.name for f in fields(cls)}
        return cls(**{k: float(v) for k, v in data.items() if k in known})


TASK_PARAMETER_NAMES: tuple[str, ...] = tuple(f.name for f in fields(TaskModelParams))

# The default host power is CodeCarbon's figure for a CPU it does not recognise: half of
# an 85 W TDP (codecarbon 2.3.1, external/hardware.py: POWER_CONSTANT = 85,
# CONSUMPTION_PERCENTAGE_CONSTANT = 0.5), the figure the Power Hungry Processing CSVs
# carry as ``cpu_power``. RAM is left out: CodeCarbon's RAM figure is a constant per
# installed GB (3 W / 8 GB), a property of the machine, not of the workload.
DEFAULT_HOST_POWER_SOURCE = (
    "CodeCarbon's constant for an unrecognised CPU (half of 85 W; codecarbon 2.3.1); "
    "RAM not included"
)


def precision_of(dtype: str) -> Precision:
    """The datasheet rate a model held in ``dtype`` computes at.

    fp16 and bf16 run on the tensor cores (their dense rates are equal on every profile
    here). fp32 runs on the CUDA cores: PyTorch leaves TF32 off for matmuls
    (``torch.backends.cuda.matmul.allow_tf32`` is False since 1.12); "tf32" names the
    case where a user turns it on.
    """
    text = dtype.lower().removeprefix("torch.")
    if text in ("float16", "fp16", "half", "bfloat16", "bf16"):
        return "bf16"
    if text == "tf32":
        return "tf32"
    if text in ("float32", "fp32", "float"):
        return "fp32"
    raise ValueError(f"no datasheet rate for dtype {dtype!r}")


def host_kind_of(input_kind: str) -> HostKind:
    """What the host does per query for one of the suite's input kinds."""
    try:
        return _HOST_KIND_OF_INPUT[input_kind]
    except KeyError:
        raise ValueError(
            f"unknown input kind {input_kind!r}; known: {sorted(_HOST_KIND_OF_INPUT)}"
        ) from None


@dataclass(frozen=True)
class PhaseTimes:
    """Seconds one phase spends in each part of the model."""

    compute_s: float  # F / (R e_c)
    memory_s: float  # B / (BW e_m)
    launch_s: float  # kernels x t_kernel + forwards x t_forward

    @property
    def busy_s(self) -> float:
        """The roofline part: the GPU's units busy, at P_busy."""
        return max(self.compute_s, self.memory_s)

    @property
    def total_s(self) -> float:
        return self.busy_s + self.launch_s

    @property
    def bound(self) -> str:
        """What limits the phase: "compute", "memory" or "launch"."""
        if self.launch_s >= self.busy_s:
            return "launch"
        return "compute" if self.compute_s >= self.memory_s else "memory"


def phase_times(
    name: str,
    phase: PassLike,
    hardware: HardwareProfile,
    params: TaskModelParams,
    precision: Precision,
) -> PhaseTimes:
    """The roofline and launch-bound seconds of the phase called ``name``."""
    moved = phase.weight_bytes + phase.activation_bytes + phase.kv_bytes
    steps = phase.forwards if name in STEP_PHASES else 0.0
    return PhaseTimes(
        compute_s=phase.flops / (hardware.peak_flops(precision) * params.compute_efficiency),
        memory_s=moved / (hardware.memory_bandwidth_bps * params.memory_efficiency),
        launch_s=phase.kernels * params.kernel_s + steps * params.step_s,
    )


HOST_PHASE = "host"  # per-query pre/post-processing and the per-call overhead
# A dataset preprocessed before the model is loaded (AI Energy Score's phase name).
PREPROCESS_PHASE = "preprocess_dataset"
# The phases of ``generate``: each of their forwards is a step with its own Python.
STEP_PHASES = ("prefill", "decode")


@dataclass(frozen=True)
class TaskEstimate:
    """Predicted latency and energy of one pipeline call of ``batch`` queries.

    Seconds and joules for the whole call; the ``*_per_query`` properties divide by the
    batch. ``latency_by_phase_s`` and ``energy_by_phase_j`` hold every compute phase
    and ``host`` (pre/post-processing and the per-call overhead); they add up to the
    totals. ``bound_by_phase`` says what limits each compute phase.
    """

    latency_s: float
    latency_by_phase_s: dict[str, float]
    energy_gpu_j: float
    energy_machine_j: float
    energy_by_phase_j: dict[str, float]
    floor_j: float
    busy_s: float
    batch: int
    flops: float
    idle_power_w: float
    busy_power_w: float
    host_power_w: float
    bound_by_phase: dict[str, str] = field(default_factory=dict)
    provenance: str = PROVENANCE

    @property
    def busy_fraction(self) -> float:
        """Share of the latency the GPU's units are busy (the roofline part)."""
        return self.busy_s / self.latency_s if self.latency_s > 0 else 0.0

    @property
    def latency_s_per_query(self) -> float:
        """Seconds per query in a stream of calls: the call's latency over its batch."""
        return self.latency_s / self.batch

    @property
    def energy_gpu_j_per_query(self) -> float:
        return self.energy_gpu_j / self.batch

    @property
    def energy_machine_j_per_query(self) -> float:
        return self.energy_machine_j / self.batch

    @property
    def mean_gpu_power_w(self) -> float:
        return self.energy_gpu_j / self.latency_s if self.latency_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "latency_s": self.latency_s,
            "latency_s_per_query": self.latency_s_per_query,
            "latency_by_phase_s": dict(self.latency_by_phase_s),
            "energy_gpu_j": self.energy_gpu_j,
            "energy_gpu_j_per_query": self.energy_gpu_j_per_query,
            "energy_machine_j": self.energy_machine_j,
            "energy_machine_j_per_query": self.energy_machine_j_per_query,
            "energy_by_phase_j": dict(self.energy_by_phase_j),
            "floor_j": self.floor_j,
            "busy_s": self.busy_s,
            "busy_fraction": self.busy_fraction,
            "bound_by_phase": dict(self.bound_by_phase),
            "batch": self.batch,
            "flops": self.flops,
            "power_w": {
                "idle": self.idle_power_w,
                "busy": self.busy_power_w,
                "host": self.host_power_w,
            },
            "provenance": self.provenance,
        }


def estimate_task(
    compute: ComputeLike,
    hardware: HardwareProfile,
    params: TaskModelParams,
    *,
    batch: int = 1,
    host_kind: HostKind = "text",
    image_pixels: float = 0.0,
    host_delta_s: float = 0.0,
    rest_s: float = 0.0,
    rest_power_w: float = 0.0,
) -> TaskEstimate:
    """Latency, GPU and whole-machine energy, and the floor of one call of ``batch``
    queries whose compute (for the whole batch) is ``compute``.

    ``host_kind`` is what the host does to each query (``host_kind_of`` maps the suite's
    input kinds to it); ``image_pixels`` the pixels the host handles per query: the
    input image's plus the processed image's
    (``genwatt.predict.task_calibration.image_pixels``).

    ``host_delta_s`` changes the host time per query (a harness other than a pipeline;
    the host phase never goes below zero); ``rest_s`` adds a ``preprocess_dataset``
    phase of that many seconds per query at ``rest_power_w``.
    """
    if rest_s < 0 or rest_power_w < 0:
        raise ValueError("rest_s and rest_power_w must be 0 or more")
    if batch < 1:
        raise ValueError(f"batch must be 1 or more, got {batch}")
    precision = precision_of(compute.dtype)
    idle_w = params.idle_power_frac * hardware.tdp_w
    busy_w = params.busy_power_frac * hardware.tdp_w
    latency: dict[str, float] = {}
    energy: dict[str, float] = {}
    bounds: dict[str, str] = {}
    busy_total = 0.0
    flops = 0.0
    for name, phase in compute.phases.items():
        t = phase_times(name, phase, hardware, params, precision)
        latency[name] = t.total_s
        energy[name] = idle_w * t.total_s + (busy_w - idle_w) * t.busy_s
        bounds[name] = t.bound
        busy_total += t.busy_s
        flops += phase.flops
    host_s = batch * (params.host_s(host_kind) + image_pixels * params.host_pixel_s)
    host_s = max(0.0, host_s + params.call_s + batch * host_delta_s)
    latency[HOST_PHASE] = host_s
    energy[HOST_PHASE] = idle_w * host_s
    if rest_s > 0:
        latency[PREPROCESS_PHASE] = batch * rest_s
        energy[PREPROCESS_PHASE] = rest_power_w * batch * rest_s
    total_s = sum(latency.values())
    gpu_j = sum(energy.values())
    return TaskEstimate(
        latency_s=total_s,
        latency_by_phase_s=latency,
        energy_gpu_j=gpu_j,
        energy_machine_j=gpu_j + params.host_power_w * total_s,
        energy_by_phase_j=energy,
        floor_j=floor_j(flops, hardware),
        busy_s=busy_total,
        batch=batch,
        flops=flops,
        idle_power_w=idle_w,
        busy_power_w=busy_w,
        host_power_w=params.host_power_w,
        bound_by_phase=bounds,
    )
