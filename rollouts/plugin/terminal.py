"""Terminal concerns: whether to colour, how to colour, and redrawing a frame in place.

Colour is used only when stdout is a terminal, ``NO_COLOR`` is unset (https://no-color.org),
``TERM`` is not ``dumb`` and ``--no-color`` was not given; `use_color` decides from those facts
alone so it is testable without a terminal.

`redraw` is the watch loop's anti-flicker trick: instead of clearing the screen (which blanks it
for a moment), move the cursor up over the previous frame, overwrite each line, clear what is left
of it, and clear below the new frame if it is shorter. Lines are cut to the terminal width so none
wraps, since a wrapped line would throw the next move-up off by one row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from rollouts.plugin.icons import Tone

__all__ = ["Palette", "redraw", "strip_ansi", "use_color"]

_CODES: Final[dict[str, str]] = {
    "green": "32",
    "red": "31",
    "yellow": "33",
    "blue": "34",
    "gray": "90",
    "bold": "1",
}
_ANSI: Final = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def use_color(*, is_tty: bool, environ: Mapping[str, str], no_color_flag: bool = False) -> bool:
    if no_color_flag or not is_tty:
        return False
    if "NO_COLOR" in environ:
        return False
    return environ.get("TERM", "") != "dumb"


@dataclass(frozen=True)
class Palette:
    enabled: bool = False

    def paint(self, text: str, tone: Tone | str) -> str:
        code = _CODES.get(tone)
        if not self.enabled or code is None or not text:
            return text
        return f"\x1b[{code}m{text}\x1b[0m"


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def _cut(line: str, width: int) -> str:
    """Cut a line (which may hold colour codes) to ``width`` visible characters."""
    if len(strip_ansi(line)) <= width:
        return line
    out, visible, position = [], 0, 0
    while position < len(line) and visible < width:
        match = _ANSI.match(line, position)
        if match:
            out.append(match.group())
            position = match.end()
            continue
        out.append(line[position])
        visible += 1
        position += 1
    return "".join(out) + "\x1b[0m"


def redraw(previous_height: int, lines: Sequence[str], width: int, max_height: int) -> tuple[str, int]:
    """The bytes that replace a frame of ``previous_height`` rows with ``lines``; and the new height.

    ``max_height`` keeps the frame within the screen (a frame that scrolls cannot be overwritten).
    """
    shown = list(lines)
    if len(shown) > max_height:
        shown = [*shown[: max_height - 1], f"... {len(lines) - max_height + 1} more lines"]
    moves = f"\x1b[{previous_height}F" if previous_height else ""
    body = "".join(f"{_cut(line, width)}\x1b[K\n" for line in shown)
    return f"{moves}{body}\x1b[J", len(shown)
