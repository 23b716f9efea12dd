"""Progress on stderr for the commands: a bar with counts and ETA on a terminal, one plain line per step when
stderr is not a terminal (logs, CI, pipes), nothing at all with ``--quiet``.

Use::

    progress = Progress(quiet=args.quiet)
    with progress.step("rendering figures", total=len(figs)) as s:
        for f in figs:
            ...
            s.advance()

Library code below the commands takes a plain ``Callable[[str], None]`` message callback (no I/O there);
:meth:`Progress.messages` turns such messages into one step: on a terminal each message advances the bar and
shows as its postfix (a message starting ``[i/N]`` sets the total, so the bar gets an ETA); otherwise each
message is one plain line, as before. The bar is tqdm's (``file=stderr``); nothing here touches stdout.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from harness._terminal import clean

_FRACTION = re.compile(r"^\s*\[(\d+)/(\d+)\]")


class Step:
    """One step of a command: ``advance(n)`` after each unit of work, ``note(text)`` to say which."""

    def __init__(self, label: str, total: int | None, bar: Any | None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._bar = bar

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)

    def set_total(self, total: int) -> None:
        self.total = total
        if self._bar is not None and self._bar.total != total:
            self._bar.total = total
            self._bar.refresh()

    def note(self, text: str) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(clean(text)[:60], refresh=False)


class Progress:
    """Where a command reports progress: ``quiet`` silences it; ``tty`` defaults to ``stream.isatty()``."""

    def __init__(self, *, quiet: bool = False, stream: TextIO | None = None, tty: bool | None = None) -> None:
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        if tty is None:
            isatty = getattr(self.stream, "isatty", None)
            tty = bool(isatty()) if callable(isatty) else False
        self.tty = tty

    def say(self, message: str) -> None:
        """One plain line (indented two spaces), unless quiet."""
        if not self.quiet:
            print(f"  {clean(message)}", file=self.stream, flush=True)

    @contextmanager
    def step(self, label: str, total: int | None = None, *, unit: str = "it") -> Iterator[Step]:
        """A step: a tqdm bar (count, rate, ETA when ``total`` is known) on a terminal; else one line."""
        if self.quiet:
            yield Step(label, total, None)
            return
        if not self.tty:
            self.say(f"{label}" + (f" ({total} {unit})" if total is not None and unit != "it" else ""))
            yield Step(label, total, None)
            return
        from tqdm import tqdm  # type: ignore[import-untyped]

        bar = tqdm(
            total=total,
            desc=f"  {clean(label)}",
            unit=unit,
            file=self.stream,
            leave=True,
            dynamic_ncols=True,
            mininterval=0.2,
        )
        try:
            yield Step(label, total, bar)
        finally:
            bar.close()

    @contextmanager
    def messages(self, label: str, total: int | None = None) -> Iterator[Callable[[str], None] | None]:
        """A message callback for library code, shown as one step (None when quiet: no work to format)."""
        if self.quiet:
            yield None
            return
        if not self.tty:
            self.say(label)
            yield self.say
            return
        with self.step(label, total) as s:

            def on_message(message: str) -> None:
                m = _FRACTION.match(message)
                if m is not None:
                    s.set_total(int(m.group(2)))
                s.advance()
                s.note(message)

            yield on_message


@contextmanager
def step(label: str, total: int | None = None, *, quiet: bool = False) -> Iterator[Step]:
    """Shorthand for ``Progress(quiet=quiet).step(label, total)`` on stderr."""
    with Progress(quiet=quiet).step(label, total) as s:
        yield s


def elapsed(start: float) -> str:
    """Seconds since ``start`` (a :func:`time.perf_counter` value) as ``12.3 s``."""
    return f"{time.perf_counter() - start:.1f} s"
