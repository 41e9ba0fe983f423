"""Finding and stopping the devcluster's processes by pid, safely.

A pid in an old state file may since belong to another program, so a pid counts as ours only while
its command line mentions the cluster directory (every part's arguments do, and so does the
supervisor's ``--dir``). Zombies count as gone: they hold no port and no file.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path


def _proc(pid: int, name: str) -> bytes | None:
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes()
    except OSError:
        return None


def is_zombie(stat: bytes) -> bool:
    """Whether a /proc/PID/stat line is of a zombie (state field after the command in parens)."""
    after_command = stat.rpartition(b")")[2].split()
    return bool(after_command) and after_command[0] in (b"Z", b"X")


def mentions(cmdline: bytes, directory: Path) -> bool:
    """Whether a NUL-separated /proc/PID/cmdline names the directory or a path inside it."""
    target = str(directory)
    for arg in cmdline.split(b"\0"):
        text = arg.decode(errors="replace")
        value = text.split("=", 1)[1] if text.startswith("--") and "=" in text else text
        if value == target or value.startswith(target + "/"):
            return True
    return False


def is_ours(pid: int, directory: Path) -> bool:
    """Alive, not a zombie, and running for this cluster directory."""
    if pid <= 0:
        return False
    stat, cmdline = _proc(pid, "stat"), _proc(pid, "cmdline")
    if stat is None or cmdline is None or is_zombie(stat):
        return False
    return mentions(cmdline, directory)


def alive(pids: Iterable[int], directory: Path) -> list[int]:
    return [pid for pid in pids if is_ours(pid, directory)]


def signal_all(pids: Iterable[int], directory: Path, signum: signal.Signals) -> None:
    for pid in alive(pids, directory):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def wait_gone(pids: Iterable[int], directory: Path, timeout: float) -> list[int]:
    """Wait until none of ``pids`` is ours; return the ones still alive at the deadline."""
    pids = list(pids)
    deadline = time.monotonic() + timeout
    while True:
        left = alive(pids, directory)
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.1)
