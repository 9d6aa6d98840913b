"""Progress bars for long builds: shown on a terminal, silent anywhere else.

One `Progress` per command; each step is a context manager yielding an ``advance(n)`` function,
so a step can hand it to code that only knows "n more items are done" (the validation's
``progress=`` callback takes exactly that)::

    with build_progress() as progress:
        with progress.step("loading", total=len(files)) as advance:
            for path in files:
                ...
                advance(1)

When stderr is not a terminal (tests, CI logs, pipes) nothing is drawn and `advance` costs a
function call. rich draws the bars (on stderr, so stdout stays the command's output).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

Advance = Callable[[int], None]


def _ignore(_n: int = 1) -> None:
    return None


class Progress:
    """Steps of one command. `enabled` False: every step is silent."""

    def __init__(self, *, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = _is_terminal(self.stream) if enabled is None else enabled
        self._bars = None

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bars = RichProgress(
                TextColumn("{task.description:<12}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._bars.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bars is not None:
            self._bars.__exit__(*exc)
            self._bars = None

    @contextmanager
    def step(self, description: str, *, total: int | None) -> Iterator[Advance]:
        """A bar for one step of `total` items (None: unknown, a spinner-like bar)."""
        bars = self._bars
        if bars is None:
            yield _ignore
            return
        task = bars.add_task(description, total=total)

        def advance(n: int = 1) -> None:
            bars.advance(task, n)

        try:
            yield advance
        finally:
            if total is not None:
                bars.update(task, completed=total)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def build_progress(*, enabled: bool | None = None) -> Progress:
    """The bars of `publisher build` (on stderr when it is a terminal)."""
    return Progress(enabled=enabled)


SILENT = Progress(enabled=False)
