"""A rich progress bar with ETA that the sweep runner reports into."""

from __future__ import annotations

from types import TracebackType

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class RichSweepProgress:
    def __init__(self, description: str = "sweep") -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[current]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            transient=False,
        )
        self._task = self._progress.add_task(description, total=None, current="", start=False)
        self._failed = 0

    def __enter__(self) -> RichSweepProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def start(self, total: int, done: int) -> None:
        self._progress.update(self._task, total=total, completed=done)
        self._progress.start_task(self._task)

    def advance(self, label: str, ok: bool) -> None:
        if not ok:
            self._failed += 1
        failed = f" [red]{self._failed} failed[/]" if self._failed else ""
        self._progress.update(self._task, advance=1, current=f"{label}{failed}")
