"""One answer per read per instant, shared by every request and stream that asks for it.

Ten pages viewing 1,000 rollouts must not make ten lists of the cluster or ten JSON renderings
on a server that runs Python code one thread at a time. Requests for the same key that arrive
within ``max_age`` of an answer get that answer; while one request computes it, the others
wait for it instead of computing it again. One-shot reads (``GET .../info``) share their answer
for half a second; the live streams key their views and overview deltas by the change counter,
so each is made once per change for all the pages. Only successes are kept, an action clears
the one-shot answers, and entries older than ``forget_after`` are dropped, so memory follows
what is being viewed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["SharedReads"]

T = TypeVar("T")


class SharedReads(Generic[T]):
    def __init__(
        self, max_age: float = 0.5, forget_after: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_age = max_age
        self.forget_after = forget_after
        self._clock = clock
        self._lock = threading.Lock()
        self._answers: dict[str, tuple[float, T]] = {}
        self._key_locks: dict[str, threading.Lock] = {}

    def get(self, key: str, compute: Callable[[], T]) -> T:
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                found = self._answers.get(key)
            if found is not None and self._clock() - found[0] < self.max_age:
                return found[1]
            started = self._clock()  # the answer is as old as the reads it was made from
            answer = compute()
            with self._lock:
                self._answers[key] = (started, answer)
                self._forget_old(started)
            return answer

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()

    def _forget_old(self, now: float) -> None:
        for key in [k for k, (at, _) in self._answers.items() if now - at > self.forget_after]:
            del self._answers[key]
            self._key_locks.pop(key, None)
