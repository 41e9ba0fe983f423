"""Reads shared between pages: one computation per view per half second, never a stale error."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from rollouts.dashboard.sharing import SharedReads


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def counter() -> tuple[list[int], Callable[[], bytes]]:
    calls: list[int] = []

    def compute() -> bytes:
        calls.append(1)
        return f"answer {len(calls)}".encode()

    return calls, compute


def test_a_fresh_answer_is_shared_and_an_old_one_recomputed() -> None:
    clock = Clock()
    reads = SharedReads(max_age=0.5, clock=clock)
    calls, compute = counter()
    assert reads.get("list", compute) == b"answer 1"
    clock.now += 0.4
    assert reads.get("list", compute) == b"answer 1"
    clock.now += 0.2
    assert reads.get("list", compute) == b"answer 2"
    assert reads.get("detail/ns/web", compute) == b"answer 3"
    assert len(calls) == 3


def test_an_action_clears_every_answer() -> None:
    reads = SharedReads(clock=Clock())
    _, compute = counter()
    reads.get("list", compute)
    reads.clear()
    assert reads.get("list", compute) == b"answer 2"


def test_failures_are_not_kept() -> None:
    reads = SharedReads(clock=Clock())

    def broken() -> bytes:
        raise RuntimeError("apiserver down")

    with pytest.raises(RuntimeError):
        reads.get("list", broken)
    assert reads.get("list", lambda: b"back") == b"back"


def test_old_views_are_forgotten() -> None:
    clock = Clock()
    reads = SharedReads(forget_after=60.0, clock=clock)
    reads.get("detail/ns/gone", lambda: b"x")
    clock.now += 61
    reads.get("list", lambda: b"y")
    assert list(reads._answers) == ["list"]


def test_concurrent_requests_wait_for_one_computation() -> None:
    reads = SharedReads(max_age=60.0)
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow() -> bytes:
        calls.append(1)
        started.set()
        release.wait(10)
        return b"shared"

    answers: list[bytes] = []
    first = threading.Thread(target=lambda: answers.append(reads.get("list", slow)))
    first.start()
    started.wait(10)
    others = [threading.Thread(target=lambda: answers.append(reads.get("list", slow))) for _ in range(5)]
    for thread in others:
        thread.start()
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert answers == [b"shared"] * 6
    assert len(calls) == 1
