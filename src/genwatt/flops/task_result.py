"""What ``task_compute`` returns: the compute of one pipeline call, phase by phase.

Plain data: FLOPs (2 x multiply-accumulates, as ``FlopCounterMode`` counts them), bytes
and kernel launches per phase, and what was assumed to get them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

PHASES = ("forward", "encode", "prefill", "decode")


@dataclass(frozen=True)
class PassCompute:
    """One phase of one pipeline call (a batch): what the accelerator must do.

    ``weight_bytes`` counts each parameter read once per forward, times the forwards;
    ``activation_bytes`` the bytes of every tensor the operations produce (an upper
    bound of memory traffic besides weights and cache); ``kv_bytes`` the KV cache read
    while decoding (0 in other phases); ``kernels`` the operations eager PyTorch
    dispatches (kernel launches); ``forwards`` the module calls of the phase.
    """

    flops: float
    weight_bytes: float
    activation_bytes: float
    kv_bytes: float
    kernels: int
    forwards: int

    def scaled(self, times: int) -> PassCompute:
        """The same phase ``times`` over (QA windows, audio chunks)."""
        return PassCompute(
            self.flops * times,
            self.weight_bytes * times,
            self.activation_bytes * times,
            self.kv_bytes * times,
            self.kernels * times,
            self.forwards * times,
        )

    def __add__(self, other: PassCompute) -> PassCompute:
        return PassCompute(
            self.flops + other.flops,
            self.weight_bytes + other.weight_bytes,
            self.activation_bytes + other.activation_bytes,
            self.kv_bytes + other.kv_bytes,
            self.kernels + other.kernels,
            self.forwards + other.forwards,
        )

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class TaskCompute:
    """The compute of one pipeline call of ``batch`` queries of ``model`` on ``task``.

    ``inputs`` states what was assumed (text tokens, image sides, seconds of audio, new
    tokens, beams...); ``phases`` holds ``forward`` for models that do not generate, and
    ``encode`` (where there is an encoder), ``prefill`` and ``decode`` (where more than
    one token is generated) for those that do.
    """

    model: str
    task: str
    batch: int
    inputs: dict[str, Any]
    dtype: str
    params: int
    phases: dict[str, PassCompute]
    notes: tuple[str, ...] = ()

    @property
    def flops(self) -> float:
        """FLOPs of the whole call, every phase."""
        return sum(p.flops for p in self.phases.values())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskCompute:
        """The inverse of ``to_dict`` (``total`` is recomputed, not read)."""
        return cls(
            model=data["model"],
            task=data["task"],
            batch=int(data["batch"]),
            inputs={k: tuple(v) if isinstance(v, list) else v for k, v in data["inputs"].items()},
            dtype=data["dtype"],
            params=int(data["params"]),
            phases={name: PassCompute(**phase) for name, phase in data["phases"].items()},
            notes=tuple(data.get("notes", ())),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; ``total`` sums the phases."""
        total = None
        for phase in self.phases.values():
            total = phase if total is None else total + phase
        return {
            "model": self.model,
            "task": self.task,
            "batch": self.batch,
            "inputs": {k: list(v) if isinstance(v, tuple) else v for k, v in self.inputs.items()},
            "dtype": self.dtype,
            "params": self.params,
            "phases": {name: phase.to_dict() for name, phase in self.phases.items()},
            "total": None if total is None else total.to_dict(),
            "notes": list(self.notes),
        }
