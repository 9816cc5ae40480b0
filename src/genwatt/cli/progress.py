"""Rich progress bars with ETA that the sweep and suite runners report into."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def _bars(console: Console | None = None) -> Progress:
    """Bars with a label, a count, what runs now, elapsed time and ETA."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[current]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        transient=False,
        console=console,
    )


def _failed_note(failed: int) -> str:
    return f" [red]{failed} failed[/]" if failed else ""


class _Bars:
    """Starts and stops its ``Progress`` as a context manager."""

    _progress: Progress

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()


class RichSweepProgress(_Bars):
    def __init__(self, description: str = "sweep") -> None:
        self._progress = _bars()
        self._task = self._progress.add_task(description, total=None, current="", start=False)
        self._failed = 0

    def start(self, total: int, done: int) -> None:
        self._progress.update(self._task, total=total, completed=done)
        self._progress.start_task(self._task)

    def advance(self, label: str, ok: bool) -> None:
        self._failed += 0 if ok else 1
        current = f"{label}{_failed_note(self._failed)}"
        self._progress.update(self._task, advance=1, current=current)


class RichSuiteProgress(_Bars):
    """Two bars: the suite's configurations, and the queries of the one running."""

    def __init__(self, console: Console | None = None) -> None:
        self._progress = _bars(console)
        self._configs = self._progress.add_task("suite", total=None, current="")
        self._queries = self._progress.add_task("queries", total=None, current="", visible=False)
        self._failed = 0

    def start(self, total: int, done: int) -> None:
        self._progress.update(self._configs, total=total, completed=done)

    def config_started(self, label: str, queries: int) -> None:
        self._progress.reset(self._queries, total=queries, current=label, visible=True)

    def query_done(self) -> None:
        self._progress.advance(self._queries)

    def config_done(self, label: str, ok: bool) -> None:
        self._failed += 0 if ok else 1
        current = f"{label}{_failed_note(self._failed)}"
        self._progress.update(self._configs, advance=1, current=current)
