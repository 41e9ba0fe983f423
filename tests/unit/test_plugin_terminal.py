"""Colour decisions, in-place redraw and the watch loop (fake clock, no terminal needed)."""

from __future__ import annotations

import io

import pytest

from rollouts.plugin.terminal import Palette, redraw, strip_ansi, use_color
from rollouts.plugin.watching import Frame, watch


@pytest.mark.parametrize(
    ("is_tty", "environ", "flag", "expected"),
    [
        (True, {"TERM": "xterm"}, False, True),
        (False, {"TERM": "xterm"}, False, False),
        (True, {"TERM": "xterm", "NO_COLOR": ""}, False, False),
        (True, {"TERM": "dumb"}, False, False),
        (True, {"TERM": "xterm"}, True, False),
    ],
)
def test_use_color(is_tty: bool, environ: dict[str, str], flag: bool, expected: bool) -> None:
    assert use_color(is_tty=is_tty, environ=environ, no_color_flag=flag) is expected


def test_palette() -> None:
    assert Palette(enabled=False).paint("ok", "green") == "ok"
    assert Palette(enabled=True).paint("ok", "green") == "\x1b[32mok\x1b[0m"
    assert Palette(enabled=True).paint("ok", "plain") == "ok"


def test_first_frame_has_no_cursor_moves() -> None:
    output, height = redraw(0, ["a", "b"], width=80, max_height=24)
    assert (output, height) == ("a\x1b[K\nb\x1b[K\n\x1b[J", 2)


def test_next_frame_goes_back_over_the_previous_one_without_clearing_the_screen() -> None:
    output, height = redraw(3, ["only"], width=80, max_height=24)
    assert output == "\x1b[3Fonly\x1b[K\n\x1b[J"
    assert "\x1b[2J" not in output  # no full clear: that is what flickers
    assert height == 1


def test_long_lines_are_cut_to_the_width_keeping_colour_codes_whole() -> None:
    line = "\x1b[32m" + "x" * 10 + "\x1b[0m" + "y" * 10
    output, _ = redraw(0, [line], width=12, max_height=24)
    assert strip_ansi(output.split("\x1b[K")[0]) == "x" * 10 + "yy"


def test_tall_frames_are_cut_to_the_screen() -> None:
    output, height = redraw(0, [str(n) for n in range(10)], width=80, max_height=4)
    assert height == 4
    assert "... 7 more lines" in output


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_watch_draws_changed_frames_only_and_stops_on_an_exit_code() -> None:
    frames = iter([Frame("a\n"), Frame("a\n"), Frame("b\n"), Frame("c\n", exit_code=3)])
    stream, time = io.StringIO(), FakeTime()
    code = watch(lambda: next(frames), stream=stream, live=False, clock=time.clock, sleep=time.sleep)
    assert code == 3
    assert stream.getvalue() == "a\n\nb\n\nc\n"


def test_watch_gives_up_at_the_timeout() -> None:
    stream, time = io.StringIO(), FakeTime()
    code = watch(
        lambda: Frame("same\n"), stream=stream, live=False, timeout=5, clock=time.clock, sleep=time.sleep
    )
    assert code is None
    assert stream.getvalue() == "same\n"
    assert time.now >= 5


def test_watch_never_refreshes_faster_than_argo() -> None:
    frames = iter([Frame("a"), Frame("b", exit_code=0)])
    time = FakeTime()
    watch(
        lambda: next(frames),
        stream=io.StringIO(),
        live=False,
        interval=0.01,
        clock=time.clock,
        sleep=time.sleep,
    )
    assert time.sleeps == [0.2]


def test_live_watch_redraws_in_place() -> None:
    frames = iter([Frame("one\ntwo\n"), Frame("three\n", exit_code=0)])
    stream, time = io.StringIO(), FakeTime()
    watch(lambda: next(frames), stream=stream, live=True, clock=time.clock, sleep=time.sleep)
    assert "\x1b[2Fthree\x1b[K\n\x1b[J" in stream.getvalue()
