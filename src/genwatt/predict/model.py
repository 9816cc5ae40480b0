"""The analytical model: latency from FLOPs and efficiencies, energy from power x time.

For each stage (one pipeline call) of a workload,

    latency = F_text / (R_text e_aux)
            + forwards x [ A / (R e_attn(N)) + D / (R e_dense) ]
            + calls x t_call + F_vae / (R_vae e_aux) + t_fixed

where R is the datasheet peak for the component's precision, A and D the attention-score
and dense FLOPs of one denoiser forward, N its token count, and

    e_attn(N) = e_attn_max x N / (N + N_half x rho)

because flash-attention kernels fill the GPU better as sequences grow. The term this
adds, linear in N, is the attention's per-token memory traffic (Q, K, V and O), which
does not speed up with the peak: ``rho`` is the GPU's ridge point at the denoiser's
precision (peak FLOP/s over memory bandwidth) over the H100 SXM's at bf16, where the
shipped fit was made. It is 1 for every point that fit saw, and 0.07 for an H100 in
FP32, where a 4,096-token UNet attention then runs at 80 % of e_attn_max rather than
20 %. Energy is

    E = P_denoise x (denoiser compute time) + P_aux x (everything else),

with each power a fraction of the board's TDP, so that a fit on one GPU carries to
another through its datasheet. The physical floor is FLOPs / (peak bf16 FLOP/s / TDP):
the energy if every FLOP ran at peak rate and drew exactly TDP.

Why nested *forms*: with ~30 measurements a model with eight free parameters fits
noise. Each form frees a few more parameters than the one before; calibration picks the
simplest form whose cross-validated error the data supports (see ``fit``) and the
prediction says which one it used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

from genwatt.predict.generation_compute import Stage, Workload
from genwatt.predict.hardware import HardwareProfile, Precision


@dataclass(frozen=True)
class ModelParams:
    """Every parameter of the model; a form decides which are fitted and which tied."""

    attention_efficiency: float = 0.4  # e_attn_max: fraction of bf16 peak
    attention_half_tokens: float = 0.0  # N_half: 0 = efficiency independent of tokens
    dense_efficiency: float = 0.4  # fraction of the denoiser precision's peak
    aux_efficiency: float = 0.4  # text encoder and VAE decoder, fraction of their peak
    call_overhead_s: float = 0.0  # per denoiser call: launches, scheduler, CFG combine
    fixed_overhead_s: float = 0.0  # per pipeline call: set-up, latents, post-processing
    denoise_power_frac: float = 0.9  # GPU power in the denoiser's dense layers, of TDP
    attention_power_frac: float = 0.9  # ... in its attention kernels (tied to the above)
    aux_power_frac: float = 0.9  # GPU power the rest of the time, fraction of TDP

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelParams:
        known = {f.name for f in fields(cls)}
        return cls(**{k: float(v) for k, v in data.items() if k in known})


PARAMETER_NAMES: tuple[str, ...] = tuple(f.name for f in fields(ModelParams))
# Parameters that must be positive (fitted in log space); the others are >= 0.
POSITIVE = (
    "attention_efficiency",
    "dense_efficiency",
    "aux_efficiency",
    "denoise_power_frac",
    "attention_power_frac",
    "aux_power_frac",
)


@dataclass(frozen=True)
class ModelForm:
    """Which parameters a fit frees; ``ties`` makes one parameter equal another."""

    name: str
    description: str
    free: tuple[str, ...]
    ties: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ties", MappingProxyType(dict(self.ties)))
        unknown = (set(self.free) | set(self.ties) | set(self.ties.values())) - set(PARAMETER_NAMES)
        if unknown:
            raise ValueError(f"form {self.name}: unknown parameters {sorted(unknown)}")

    def apply(self, values: Mapping[str, float], base: ModelParams | None = None) -> ModelParams:
        """Parameters with the free ones set from ``values`` and the ties resolved."""
        params = replace(base or ModelParams(), **{k: float(values[k]) for k in self.free})
        tied = {k: getattr(params, source) for k, source in self.ties.items()}
        return replace(params, **tied)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "free": list(self.free),
            "ties": dict(self.ties),
        }


_POWER_ONE = {"aux_power_frac": "denoise_power_frac", "attention_power_frac": "denoise_power_frac"}
_ATTENTION_POWER = {"attention_power_frac": "denoise_power_frac"}
_SPLIT = (
    "attention_efficiency",
    "dense_efficiency",
    "aux_efficiency",
    "fixed_overhead_s",
    "denoise_power_frac",
    "aux_power_frac",
)

FORMS: tuple[ModelForm, ...] = (
    ModelForm(
        "single-efficiency",
        "one efficiency for every FLOP and one constant power (the paper's form)",
        ("attention_efficiency", "denoise_power_frac"),
        {
            "dense_efficiency": "attention_efficiency",
            "aux_efficiency": "attention_efficiency",
            **_POWER_ONE,
        },
    ),
    ModelForm(
        "per-component",
        "denoiser and text-encoder/VAE efficiencies, a fixed overhead per pipeline call, "
        "denoise and other power",
        tuple(n for n in _SPLIT if n != "dense_efficiency"),
        {"dense_efficiency": "attention_efficiency", **_ATTENTION_POWER},
    ),
    ModelForm(
        "attention-split",
        "as per-component, with separate efficiencies for attention scores and dense layers",
        _SPLIT,
        _ATTENTION_POWER,
    ),
    ModelForm(
        "attention-tokens",
        "as attention-split, with attention efficiency rising with tokens as N/(N+N_half)",
        (*_SPLIT, "attention_half_tokens"),
        _ATTENTION_POWER,
    ),
    ModelForm(
        "attention-tokens-calls",
        "as attention-tokens, plus a fixed time per denoiser call",
        (*_SPLIT, "attention_half_tokens", "call_overhead_s"),
        _ATTENTION_POWER,
    ),
    ModelForm(
        "attention-tokens-calls-power",
        "as attention-tokens-calls, with its own power for attention kernels",
        (*_SPLIT, "attention_half_tokens", "call_overhead_s", "attention_power_frac"),
    ),
)


def get_form(name: str) -> ModelForm:
    for form in FORMS:
        if form.name == name:
            return form
    raise ValueError(f"unknown model form {name!r}; known: {[f.name for f in FORMS]}")


@dataclass(frozen=True)
class StageTimes:
    """Seconds one stage spends in each part of the model."""

    text_encoder_s: float
    attention_s: float
    dense_s: float
    vae_decode_s: float
    overhead_s: float  # denoiser calls x t_call + t_fixed

    @property
    def denoise_s(self) -> float:
        return self.attention_s + self.dense_s

    @property
    def total_s(self) -> float:
        return self.text_encoder_s + self.denoise_s + self.vae_decode_s + self.overhead_s


# The hardware and precision ``attention_half_tokens`` is stated at (see the docstring).
RIDGE_REFERENCE = ("h100-sxm", "bf16")


def ridge_ratio(hardware: HardwareProfile, precision: Precision) -> float:
    """rho: ``hardware``'s ridge point at ``precision`` over the reference's."""
    from genwatt.predict.hardware import get_profile

    name, ref_precision = RIDGE_REFERENCE
    ref = get_profile(name)
    ref_ridge = ref.peak_flops(ref_precision) / ref.memory_bandwidth_bps  # type: ignore[arg-type]
    return hardware.peak_flops(precision) / hardware.memory_bandwidth_bps / ref_ridge


def attention_efficiency(tokens: float, params: ModelParams, rho: float = 1.0) -> float:
    """e_attn(N) = e_attn_max x N / (N + N_half x rho)."""
    if params.attention_half_tokens <= 0 or tokens <= 0:
        return params.attention_efficiency
    half = params.attention_half_tokens * rho
    return params.attention_efficiency * tokens / (tokens + half)


def _seconds(flops: float, peak_flops: float, efficiency: float) -> float:
    return flops / (peak_flops * efficiency) if flops else 0.0


def stage_times(stage: Stage, hardware: HardwareProfile, params: ModelParams) -> StageTimes:
    peak = hardware.peak_flops(stage.denoiser_precision)
    return StageTimes(
        text_encoder_s=_seconds(
            stage.text_encoder_flops,
            hardware.peak_flops(stage.text_encoder_precision),
            params.aux_efficiency,
        ),
        attention_s=_seconds(
            stage.forwards * stage.attention_flops_per_forward,
            peak,
            attention_efficiency(
                stage.tokens, params, ridge_ratio(hardware, stage.denoiser_precision)
            ),
        ),
        dense_s=stage.dense_seconds_at_peak(hardware) / params.dense_efficiency,
        vae_decode_s=_seconds(
            stage.vae_decode_flops, hardware.peak_flops(stage.vae_precision), params.aux_efficiency
        ),
        overhead_s=stage.calls * params.call_overhead_s + params.fixed_overhead_s,
    )


@dataclass(frozen=True)
class Estimate:
    """Latency and GPU energy of a workload, by component. Joules and seconds."""

    latency_by_component_s: dict[str, float]
    energy_by_component_j: dict[str, float]
    floor_j: float
    denoise_power_w: float
    aux_power_w: float

    @property
    def latency_s(self) -> float:
        return sum(self.latency_by_component_s.values())

    @property
    def energy_j(self) -> float:
        return sum(self.energy_by_component_j.values())

    @property
    def mean_power_w(self) -> float:
        return self.energy_j / self.latency_s if self.latency_s else 0.0


COMPONENTS = ("text_encoder", "denoise", "vae_decode", "overhead")


def estimate(workload: Workload, hardware: HardwareProfile, params: ModelParams) -> Estimate:
    """Latency, energy and the physical floor of ``workload`` on ``hardware``."""
    seconds = dict.fromkeys(COMPONENTS, 0.0)
    attention_s = 0.0
    for stage in workload.stages:
        t = stage_times(stage, hardware, params)
        seconds["text_encoder"] += t.text_encoder_s
        seconds["denoise"] += t.denoise_s
        seconds["vae_decode"] += t.vae_decode_s
        seconds["overhead"] += t.overhead_s
        attention_s += t.attention_s
    dense_w = params.denoise_power_frac * hardware.tdp_w
    attention_w = params.attention_power_frac * hardware.tdp_w
    aux_w = params.aux_power_frac * hardware.tdp_w
    energy = {k: aux_w * s for k, s in seconds.items()}
    energy["denoise"] = attention_w * attention_s + dense_w * (seconds["denoise"] - attention_s)
    return Estimate(
        latency_by_component_s=seconds,
        energy_by_component_j=energy,
        floor_j=floor_j(workload.flops["total"], hardware),
        denoise_power_w=energy["denoise"] / seconds["denoise"] if seconds["denoise"] else dense_w,
        aux_power_w=aux_w,
    )


def floor_j(flops: float, hardware: HardwareProfile) -> float:
    """The least energy any run of ``flops`` can take: every FLOP at peak, at TDP."""
    return flops / hardware.flops_per_j
