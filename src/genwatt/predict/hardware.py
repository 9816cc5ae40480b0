"""Datasheet figures of the accelerators genwatt can predict for, each with its source.

Why datasheet peaks: a prediction is "FLOPs / (peak x efficiency)", and the efficiency
is fitted on one GPU (an H100) and carried to the others as a fraction of *their*
peak. That transfer is only as honest as the peaks, so every figure is the vendor's
**dense** number (NVIDIA quotes tensor-core throughput "with sparsity" in the headline;
we halve those), in FLOP/s, and cites the document it comes from.

``fp32`` is the plain (non-tensor-core) single-precision rate; ``tf32`` the dense
tensor-core rate that cuDNN uses for fp32 convolutions by default (PyTorch's
``torch.backends.cudnn.allow_tf32`` is True), which is what a VAE kept in fp32 runs at.
TDP is the board's maximum sustained power: the denominator of the physical floor.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from genwatt.errors import ConfigError
from genwatt.suggest import close_names

Precision = Literal["bf16", "fp32", "tf32"]


@dataclass(frozen=True)
class HardwareProfile:
    """One accelerator (or CPU class) as its datasheet describes it."""

    name: str
    display_name: str
    kind: Literal["gpu", "cpu"]
    peak_bf16_flops: float  # dense, FLOP/s
    peak_fp32_flops: float  # dense, non-tensor, FLOP/s
    peak_tf32_flops: float  # dense tensor-core rate for fp32 inputs, FLOP/s
    memory_bandwidth_bps: float  # bytes/s
    memory_gb: float
    tdp_w: float
    citation: str  # vendor document and year
    aliases: tuple[str, ...] = ()
    notes: str = ""

    def peak_flops(self, precision: Precision) -> float:
        """Peak dense FLOP/s for a component that runs in ``precision``."""
        return {
            "bf16": self.peak_bf16_flops,
            "fp32": self.peak_fp32_flops,
            "tf32": self.peak_tf32_flops,
        }[precision]

    @property
    def flops_per_j(self) -> float:
        """Best-case arithmetic per joule (bf16 peak at TDP): what the floor divides by."""
        return self.peak_bf16_flops / self.tdp_w

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["aliases"] = list(self.aliases)
        data["flops_per_j"] = self.flops_per_j
        return data


_T = 1e12
_TB = 1e12

PROFILES: tuple[HardwareProfile, ...] = (
    HardwareProfile(
        name="h100-sxm",
        display_name="NVIDIA H100 SXM5 80GB",
        kind="gpu",
        peak_bf16_flops=989.4 * _T,  # 1,979 TFLOPS "with sparsity" / 2
        peak_fp32_flops=66.9 * _T,
        peak_tf32_flops=494.7 * _T,
        memory_bandwidth_bps=3.35 * _TB,
        memory_gb=80,
        tdp_w=700,
        citation="NVIDIA H100 Tensor Core GPU datasheet (2023), H100 SXM column",
        aliases=("h100", "h100-80gb", "h100-sxm5", "nvidia h100 80gb hbm3"),
    ),
    HardwareProfile(
        name="h100-pcie",
        display_name="NVIDIA H100 PCIe 80GB",
        kind="gpu",
        peak_bf16_flops=756.5 * _T,  # 1,513 TFLOPS "with sparsity" / 2
        peak_fp32_flops=51.2 * _T,
        peak_tf32_flops=378.0 * _T,
        memory_bandwidth_bps=2.0 * _TB,
        memory_gb=80,
        tdp_w=350,
        citation="NVIDIA H100 Tensor Core GPU datasheet (2023), H100 PCIe column "
        "(max TDP 300-350 W configurable; 350 W used)",
        aliases=("h100-80gb-pcie", "nvidia h100 pcie"),
    ),
    HardwareProfile(
        name="h200",
        display_name="NVIDIA H200 SXM 141GB",
        kind="gpu",
        peak_bf16_flops=989.4 * _T,
        peak_fp32_flops=66.9 * _T,
        peak_tf32_flops=494.7 * _T,
        memory_bandwidth_bps=4.8 * _TB,
        memory_gb=141,
        tdp_w=700,
        citation="NVIDIA H200 Tensor Core GPU datasheet (2024), H200 SXM column",
        aliases=("h200-sxm", "nvidia h200"),
    ),
    HardwareProfile(
        name="a100-sxm-80gb",
        display_name="NVIDIA A100 SXM4 80GB",
        kind="gpu",
        peak_bf16_flops=312.0 * _T,  # 624 TFLOPS "with sparsity" / 2
        peak_fp32_flops=19.5 * _T,
        peak_tf32_flops=156.0 * _T,
        memory_bandwidth_bps=2.039 * _TB,
        memory_gb=80,
        tdp_w=400,
        citation="NVIDIA A100 Tensor Core GPU datasheet (2021), A100 80GB SXM column",
        aliases=("a100", "a100-sxm", "a100-80gb", "nvidia a100-sxm4-80gb"),
    ),
    HardwareProfile(
        name="l40s",
        display_name="NVIDIA L40S 48GB",
        kind="gpu",
        peak_bf16_flops=362.05 * _T,  # 733 TFLOPS "with sparsity" / 2
        peak_fp32_flops=91.6 * _T,
        peak_tf32_flops=183.0 * _T,
        memory_bandwidth_bps=0.864 * _TB,
        memory_gb=48,
        tdp_w=350,
        citation="NVIDIA L40S GPU datasheet (2023)",
        aliases=("nvidia l40s",),
    ),
    HardwareProfile(
        name="rtx-4090",
        display_name="NVIDIA GeForce RTX 4090 24GB",
        kind="gpu",
        # GeForce parts run bf16 with fp32 accumulation at half the fp16-accumulate
        # rate: 165.2 dense (330.3 with sparsity).
        peak_bf16_flops=165.2 * _T,
        peak_fp32_flops=82.6 * _T,
        peak_tf32_flops=82.6 * _T,
        memory_bandwidth_bps=1.008 * _TB,
        memory_gb=24,
        tdp_w=450,
        citation="NVIDIA Ada Lovelace GPU architecture whitepaper v2.02 (2023), "
        "GeForce RTX 4090 specifications (bf16 with fp32 accumulate); TDP = total "
        "graphics power",
        aliases=("4090", "geforce rtx 4090", "nvidia geforce rtx 4090"),
    ),
    HardwareProfile(
        name="b200",
        display_name="NVIDIA B200 (HGX, 180GB)",
        kind="gpu",
        peak_bf16_flops=2250.0 * _T,  # 4.5 PFLOPS "with sparsity" per GPU / 2
        peak_fp32_flops=75.0 * _T,  # 600 TFLOPS per 8-GPU HGX board / 8
        peak_tf32_flops=1125.0 * _T,  # 18 PFLOPS "with sparsity" per board / 8 / 2
        memory_bandwidth_bps=8.0 * _TB,
        memory_gb=180,
        tdp_w=1000,
        citation="NVIDIA HGX B200 datasheet (2024), per-GPU figures (board totals / 8)",
        aliases=("nvidia b200",),
    ),
    HardwareProfile(
        name="cpu-2vcpu",
        display_name="2 vCPU server cores (AVX2 / AVX-512, fp32)",
        kind="cpu",
        # 2 cores x 32 fp32 FLOP/cycle (two 256-bit FMA pipes; or one core's two
        # 512-bit pipes shared by 2 hyperthreads) x 2.45 GHz base clock.
        peak_bf16_flops=156.8e9,  # no bf16 matmul units: PyTorch computes bf16 via fp32
        peak_fp32_flops=156.8e9,
        peak_tf32_flops=156.8e9,
        memory_bandwidth_bps=6.4e9,  # 2/64 of 8 channels of DDR4-3200 (204.8 GB/s)
        memory_gb=8,
        tdp_w=4.4,  # 2 threads x (280 W / 128 threads)
        citation="AMD EPYC 7763 product page (2021): 2.45 GHz base, 280 W, 128 threads; "
        "Software Optimization Guide for AMD Family 19h processors (2020): two 256-bit "
        "FMA pipes per core",
        aliases=("cpu", "cpu-2", "2vcpu"),
        notes="A share of a server socket: TDP and bandwidth are per-thread shares.",
    ),
)


def list_profiles() -> list[HardwareProfile]:
    """Every profile, GPUs first, in the order above."""
    return sorted(PROFILES, key=lambda p: p.kind != "gpu")


def _index() -> dict[str, HardwareProfile]:
    index: dict[str, HardwareProfile] = {}
    for profile in PROFILES:
        for key in (profile.name, *profile.aliases):
            index[key.lower()] = profile
    return index


def get_profile(name: str) -> HardwareProfile:
    """The profile called ``name`` (or one of its aliases, any case)."""
    key = name.strip().lower().replace("_", "-")
    index = _index()
    if key in index:
        return index[key]
    close = close_names(key, {k: p.name for k, p in index.items()}, n=3)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    names = ", ".join(p.name for p in PROFILES)
    raise ConfigError(f"Unknown GPU {name!r}.{hint} Known: {names} (`genwatt gpus` lists them).")


def profile_for_device(device_name: str) -> HardwareProfile | None:
    """The profile of a device as NVML names it ("NVIDIA H100 80GB HBM3"), if any.

    Used to read a store's environment: runs remember their GPU by its NVML name.
    """
    text = device_name.lower()
    rules = (
        ("h200", "h200"),
        ("h100 pcie", "h100-pcie"),
        ("h100", "h100-sxm"),
        ("a100", "a100-sxm-80gb"),
        ("l40s", "l40s"),
        ("4090", "rtx-4090"),
        ("b200", "b200"),
    )
    for needle, name in rules:
        if needle in text:
            return get_profile(name)
    return None
