"""The refresh loop behind every ``--watch``: draw, stop when the caller says so, sleep, repeat.

A frame is drawn only when its text changed. On a terminal each frame replaces the previous one
in place (`terminal.redraw`, no flicker); elsewhere (a pipe, a CI log) each changed frame is
appended, separated by a blank line, so the log tells the story. Clock and sleep are injectable
for tests.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from rollouts.plugin.terminal import redraw

__all__ = ["Frame", "watch"]

MIN_REFRESH_SECONDS = 0.2  # Argo's plugin never redraws faster than this


@dataclass(frozen=True)
class Frame:
    """What to show now, and the exit code once the watch should end (``None``: keep going)."""

    text: str
    exit_code: int | None = None


def watch(
    next_frame: Callable[[], Frame],
    *,
    stream: TextIO,
    live: bool,
    interval: float = 1.0,
    timeout: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int | None:
    """Redraw until a frame carries an exit code (returned) or ``timeout`` passes (``None``)."""
    deadline = None if not timeout else clock() + timeout
    height = 0
    last = None
    while True:
        frame = next_frame()
        if frame.text != last:
            if live:
                size = shutil.get_terminal_size()
                output, height = redraw(
                    height, frame.text.rstrip("\n").split("\n"), size.columns, size.lines - 1
                )
                stream.write(output)
            else:
                stream.write(("\n" if last is not None else "") + frame.text)
            stream.flush()
            last = frame.text
        if frame.exit_code is not None:
            return frame.exit_code
        if deadline is not None and clock() >= deadline:
            return None
        sleep(max(interval, MIN_REFRESH_SECONDS))
