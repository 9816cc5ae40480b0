"""A diffusion model's generation as one of the suite's protocols runs it.

``genwatt predict --protocol P`` and ``genwatt footprint --protocol P`` on a text-to-image
or text-to-video model predict what ``genwatt suite --protocol P`` runs: the task's
steps where the catalog fixes them (AI Energy Score's 30 for text-to-image), the
protocol's precision (AI Energy Score holds the pipeline in FP32), its batch size. The
prediction itself is the diffusion predictor's; this module only settles the settings,
the energy the protocol scores, and says what it chose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from genwatt.errors import ConfigError
from genwatt.models.call_defaults import call_default_guidance
from genwatt.models.registry import get_model
from genwatt.models.tasks.catalog import get_task
from genwatt.models.tasks.protocols import Protocol, get_protocol, protocol_dtype
from genwatt.models.tasks.registry import list_task_models
from genwatt.models.tasks.spec import TaskModelSpec
from genwatt.predict.task_model import DEFAULT_HOST_POWER_SOURCE, TaskModelParams
from genwatt.predict.task_predictor import PER
from genwatt.units import j_to_wh


@dataclass(frozen=True)
class DiffusionRun:
    """The settings a protocol (or a plain ``--task``) fixes for a diffusion model."""

    task: str
    protocol: Protocol | None
    steps: int | None  # None: the model's own
    dtype: str | None  # None: each component's own
    guidance: float | None  # None: the model's own
    notes: tuple[str, ...]

    @property
    def settings(self) -> dict[str, Any]:
        """What it fixes, as the diffusion predictor's keyword arguments (None: the
        model's own)."""
        return {"steps": self.steps, "guidance": self.guidance, "dtype": self.dtype}

    @property
    def machine_energy(self) -> bool:
        """Whether the protocol scores the whole machine's energy (then the prediction
        adds the host, ``host_power_w``)."""
        return self.protocol is not None and self.protocol.basis in ("machine", "both")


# The host's power while a diffusion model runs, for whole-machine protocols: the task
# predictor's default (CodeCarbon's constant for an unrecognised CPU).
HOST_POWER_W = TaskModelParams().host_power_w
HOST_POWER_SOURCE = DEFAULT_HOST_POWER_SOURCE


def suite_entry(name: str) -> TaskModelSpec:
    """The suite's entry for the diffusion registry's ``name``; ConfigError if the suite
    does not run it (a tiny form, a model outside its tasks)."""
    for spec in list_task_models():
        if spec.diffusion_model == name:
            return spec
    raise ConfigError(
        f"{name} is not one of the suite's models, so no task or protocol applies to it; "
        "drop --task/--protocol (`genwatt tasks` lists the suite's models)."
    )


def diffusion_run(
    name: str,
    *,
    task: str | None = None,
    protocol: str | None = None,
    batch: int = 1,
    steps: int | None = None,
    dtype: str | None = None,
    guidance: float | None = None,
) -> DiffusionRun:
    """What ``genwatt suite`` would run for the diffusion registry's ``name`` on ``task``
    under ``protocol``: steps given, else the task's fixed steps under a protocol (the
    model's own without one); the protocol's precision; its batch size; guidance given,
    else the pipeline class's default where the protocol calls pipelines without one.
    ConfigError for a task the model does not run, an unknown protocol, a batch size or
    precision the protocol refuses."""
    spec = suite_entry(name)
    chosen = spec.tasks[0] if task is None else get_task(task).name
    if chosen not in spec.tasks:
        raise ConfigError(
            f"{spec.repo_id} runs {', '.join(spec.tasks)}, not {chosen}; drop --task."
        )
    if protocol is None:
        return DiffusionRun(chosen, None, steps, dtype, guidance, ())
    fixed = get_protocol(protocol)
    if fixed.fixed and batch not in fixed.batch_sizes:
        raise ConfigError(f"--protocol {protocol} runs batch size 1; drop --batch {batch}.")
    task_spec = get_task(chosen)
    run_steps = steps or task_spec.steps
    run_dtype = protocol_dtype(fixed, chosen, dtype)
    steps_text = f"{run_steps} steps" if run_steps else "the model's own steps"
    dtype_text = run_dtype or "the model's own precision"
    notes = [
        f"{fixed.name}: {fixed.description}; {steps_text}, {dtype_text}, as "
        f"`genwatt suite --protocol {fixed.name}` runs {chosen}"
    ]
    run_guidance = guidance
    if run_guidance is None and fixed.pipeline_guidance:
        model = get_model(name)
        run_guidance = call_default_guidance(model)
        if run_guidance is not None:
            notes.append(
                f"{fixed.name} calls the pipeline without a guidance scale: "
                f"{model.pipeline_class}'s default {run_guidance:g}, not the model card's "
                f"{model.defaults.guidance:g}"
            )
    if fixed.basis in ("machine", "both"):
        notes.append(
            f"whole-machine energy adds the host at {HOST_POWER_W:g} W over the latency "
            f"({HOST_POWER_SOURCE})"
        )
    return DiffusionRun(chosen, fixed, run_steps, run_dtype, run_guidance, tuple(notes))


def protocol_fields(
    run: DiffusionRun, energy_gpu_j: float, latency_s: float, batch: int
) -> dict[str, Any]:
    """What a prediction under ``run`` adds to the diffusion predictor's JSON: the task,
    the protocol, the figures per 1,000 queries (one query = one image or clip) and, for
    a whole-machine protocol, the whole machine's (GPU plus the host at
    ``HOST_POWER_W``)."""
    fields: dict[str, Any] = {
        "task": run.task,
        "protocol": None if run.protocol is None else run.protocol.name,
        "energy_gpu_wh_per_1000": j_to_wh(energy_gpu_j) * PER / batch,
    }
    if run.machine_energy:
        machine_j = energy_gpu_j + HOST_POWER_W * latency_s
        fields["energy_machine_j"] = machine_j
        fields["energy_wh_per_1000"] = j_to_wh(machine_j) * PER / batch
    return fields
