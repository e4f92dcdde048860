"""Progress bars for long command-line work (rich's, which comes with Textual), on stderr so
stdout stays for what scripts read; off when stderr is not a terminal."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

# (stage, done, total): what the store's long functions report as they go.
StageProgress = Callable[[str, int, int], None]


@contextmanager
def stage_progress() -> Iterator[StageProgress]:
    """A callback that shows one bar per stage ("customers", "search index", a table name)."""
    console = Console(file=sys.stderr)
    if not console.is_terminal:
        yield lambda stage, done, total: None
        return
    columns = (TextColumn("{task.description:<14}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as bars:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=total)
            bars.update(tasks[stage], completed=done, total=total)

        yield report
