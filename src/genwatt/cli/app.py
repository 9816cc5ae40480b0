"""The ``genwatt`` command. Commands are listed here; each lives in its own module.

Start-up is kept short. A command's module is imported only when that command runs
(or when ``--help`` lists them all), so ``genwatt predict`` does not pay for the sweep
spec's pydantic models. ``genwatt measure``, whose start-up delays every command it
measures, does not even build the typer app: ``main`` hands a plain measure command
line straight to ``genwatt.cli.measure``. The typer app itself, ``app``, is built on
first use.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from collections.abc import Callable, Iterator, MutableMapping
from importlib import import_module
from typing import TYPE_CHECKING, Any

from genwatt.errors import GenwattError
from genwatt.version import __version__

if TYPE_CHECKING:
    import typer

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
    "footprint": ("genwatt.cli.footprint", "footprint", {}),
    "gpus": ("genwatt.cli.gpus", "gpus", {}),
    "calibrate": ("genwatt.cli.calibrate", "calibrate", {}),
    "check-reference": ("genwatt.cli.check_reference", "check_reference", {}),
    "mitigate": ("genwatt.cli.mitigate", "mitigate", {}),
    "carbon": ("genwatt.cli.carbon", "carbon", {}),
    "tasks": ("genwatt.cli.tasks", "tasks", {}),
    "suite": ("genwatt.cli.suite", "suite", {}),
    "metrics": ("genwatt.cli.metrics", "metrics", {}),
}


def _written(module: str) -> bool:
    """Whether a command's module exists yet (a command not written yet is not listed)."""
    return importlib.util.find_spec(module) is not None


class _LazyCommands(MutableMapping[str, Any]):
    """The click commands by name, each built from its module on first use.

    The names come from ``_COMMANDS`` without importing anything, so click resolves one
    command, lists them all for ``--help`` and suggests near misses as usual.
    """

    def __init__(self, build: Callable[[str], Any]) -> None:
        self._build = build
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            if name not in _COMMANDS or not _written(_COMMANDS[name][0]):
                raise KeyError(name)
            self._built[name] = self._build(name)
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        listed = [name for name, (module, _, _) in _COMMANDS.items() if _written(module)]
        return iter([*listed, *(name for name in self._built if name not in _COMMANDS)])

    def __len__(self) -> int:
        return sum(1 for _ in self)


@functools.cache
def typer_app() -> typer.Typer:
    """The typer app of every command (what ``app`` names)."""
    import typer
    from typer.core import TyperGroup
    from typer.main import get_command_from_info
    from typer.models import CommandInfo

    class LazyGroup(TyperGroup):
        """A typer group whose commands are imported only when needed."""

        def __init__(self, **attrs: Any) -> None:
            super().__init__(**attrs)
            self.commands = _LazyCommands(self._build)

        def _build(self, name: str) -> Any:
            module, function, settings = _COMMANDS[name]
            target: Callable[..., Any] = getattr(import_module(module), function)
            return get_command_from_info(
                CommandInfo(name=name, callback=target, **settings),
                pretty_exceptions_short=True,
                rich_markup_mode=self.rich_markup_mode,
            )

    app = typer.Typer(
        name="genwatt",
        cls=LazyGroup,
        help="Measure, predict and cut the energy of generative AI inference.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    def version(value: bool) -> None:
        if value:
            typer.echo(f"genwatt {__version__}")
            raise typer.Exit()

    @app.callback()
    def _root(
        version: bool = typer.Option(
            False, "--version", callback=version, is_eager=True, help="Print the version."
        ),
    ) -> None:
        """Measure, predict and cut the energy of generative AI inference."""

    return app


def __getattr__(name: str) -> Any:
    """``app``, the typer app, built on first use (see the module docstring)."""
    if name == "app":
        return typer_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console entry point: our own errors become one clear line and exit code 2."""
    args = sys.argv[1:]
    try:
        if args[:1] == ["measure"]:
            _measure_fast(args[1:])
        typer_app()()
    except GenwattError as exc:
        from rich.console import Console

        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)


def _measure_fast(args: list[str]) -> None:
    """Run a plain ``genwatt measure`` command line without building the typer app (see
    ``genwatt.cli.measure``); return only when typer must handle it (help, errors)."""
    from genwatt.cli.measure import parse_args, run

    options = parse_args(args)
    if options is not None:
        sys.exit(run(options))


if __name__ == "__main__":
    main()
