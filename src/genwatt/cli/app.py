"""The ``genwatt`` command. Commands are registered here; each lives in its own module.

Only typer and rich are imported at start-up; every command imports what it needs
when it runs, so ``genwatt --help`` answers in a fraction of a second.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import import_module
from typing import Any

import typer

from genwatt import __version__
from genwatt.errors import GenwattError

app = typer.Typer(
    name="genwatt",
    help="Measure, predict and cut the energy of generative AI inference.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# command name -> (module, function, extra click settings)
_COMMANDS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "env": ("genwatt.cli.env", "env", {}),
    "measure": (
        "genwatt.cli.measure",
        "measure",
        {"context_settings": {"allow_interspersed_args": False}},
    ),
    "results": ("genwatt.cli.results", "results", {}),
    "models": ("genwatt.cli.models", "models", {}),
    "bench": ("genwatt.cli.bench", "bench", {}),
    "sweep": ("genwatt.cli.sweep", "sweep", {}),
    "report": ("genwatt.cli.report", "report", {}),
    "predict": ("genwatt.cli.predict", "predict", {}),
    "gpus": ("genwatt.cli.gpus", "gpus", {}),
    "calibrate": ("genwatt.cli.calibrate", "calibrate", {}),
    "check-reference": ("genwatt.cli.check_reference", "check_reference", {}),
    "mitigate": ("genwatt.cli.mitigate", "mitigate", {}),
}


def _register(name: str, module: str, function: str, settings: dict[str, Any]) -> None:
    try:
        target: Callable[..., Any] = getattr(import_module(module), function)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return  # a command whose module is not written yet is simply absent
    app.command(name, **settings)(target)


for _name, (_module, _function, _settings) in _COMMANDS.items():
    _register(_name, _module, _function, _settings)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"genwatt {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Measure, predict and cut the energy of generative AI inference."""


def main() -> None:
    """Console entry point: our own errors become one clear line and exit code 2."""
    try:
        app()
    except GenwattError as exc:
        from rich.console import Console

        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
