"""The executor a command line asks for (``--executor local|ray`` and Ray's options)."""

from __future__ import annotations

from genwatt.errors import ConfigError
from genwatt.run.executor import LOCAL, Executor, validate_executor


def make_executor(
    name: str,
    *,
    address: str | None = None,
    max_parallel: int | None = None,
    gpus_per_config: float | None = None,
) -> Executor | None:
    """The executor the command line asked for: None for ``local`` (the runners' own
    loop), a ``RayExecutor`` for ``ray``. Ray's options with ``local`` are an error."""
    validate_executor(name)
    if name == LOCAL:
        given = [
            flag
            for flag, value in (
                ("--ray-address", address),
                ("--max-parallel", max_parallel),
                ("--gpus-per-config", gpus_per_config),
            )
            if value is not None
        ]
        if given:
            raise ConfigError(f"{', '.join(given)}: only with --executor ray")
        return None
    from genwatt.run.ray_executor import RayExecutor, RayOptions

    return RayExecutor(
        RayOptions(address=address, max_parallel=max_parallel, gpus_per_config=gpus_per_config)
    )
