"""The multi-task suite's registry: thirteen tasks and the checkpoints that run them.

Plain data, like the diffusion registry; only ``build`` imports torch and transformers,
when called.
"""

from __future__ import annotations

from genwatt.models.tasks.catalog import TASK_NAMES, TASKS, get_task
from genwatt.models.tasks.registry import get_task_model, list_task_models
from genwatt.models.tasks.spec import ModelKind, TaskModelSpec, TaskSpec, TokenizerScheme

__all__ = [
    "TASKS",
    "TASK_NAMES",
    "ModelKind",
    "TaskModelSpec",
    "TaskSpec",
    "TokenizerScheme",
    "get_task",
    "get_task_model",
    "list_task_models",
]
