"""One wake-up loop per AnalysisRun, as the Rollout controller runs one per Rollout.

An asyncio task rather than a kopf daemon, for the same reason as the Rollout loop: kopf guards
daemons with a finalizer, which would block deleting a run while the controller is down and
patch runs created by Argo Rollouts just for bookkeeping. Each loop sleeps until a watch event
wakes it, until the requeue time the last reconcile asked for (derived from status timestamps,
so a restarted controller picks up exactly where the status says), or until the resync period
passes; then it reconciles the freshest copy of the run it has (the watch's or the one our
last write returned, whichever has the higher resourceVersion). A failing reconcile backs off
exponentially and never ends the loop. Only one reconcile of a run runs at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from analysis.controller.reconcile import Reconciler, Result

__all__ = ["RunLoop", "RunLoops", "newer"]

log = logging.getLogger(__name__)

TIMER_SLACK: Final = 0.05
"""Seconds added to a timed wake-up so that a due time compared with ``<=`` has passed."""
MAX_BACKOFF: Final = 300.0


def _version(body: Mapping[str, Any] | None) -> int:
    text = str(((body or {}).get("metadata") or {}).get("resourceVersion") or "")
    return int(text) if text.isdigit() else -1


def newer(candidate: Mapping[str, Any] | None, current: Mapping[str, Any] | None) -> bool:
    """Whether ``candidate`` has a higher resourceVersion than ``current`` (etcd revisions)."""
    return candidate is not None and (current is None or _version(candidate) > _version(current))


class RunLoop:
    """The reconcile loop of one AnalysisRun."""

    def __init__(self, reconciler: Reconciler, clock: Callable[[], datetime], resync_seconds: float) -> None:
        self._reconciler = reconciler
        self._clock = clock
        self._resync = resync_seconds
        self._body: Mapping[str, Any] | None = None
        self._wake = asyncio.Event()
        self._stopped = False
        self._failures = 0
        self.passes = 0
        self.task: asyncio.Task[None] | None = None

    def observe(self, body: Mapping[str, Any]) -> None:
        if newer(body, self._body) or _version(body) < 0:
            self._body = body
        self._wake.set()

    @property
    def body(self) -> Mapping[str, Any] | None:
        return self._body

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    async def run(self) -> None:
        delay: float | None = 0.0
        while not self._stopped:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._resync if delay is None else delay)
            self._wake.clear()
            if self._stopped or self._body is None:
                break
            delay = await self._pass(self._body)

    async def _pass(self, body: Mapping[str, Any]) -> float | None:
        """One reconcile; the seconds until the next timed one (None: resync only)."""
        self.passes += 1
        try:
            result: Result = await self._reconciler.reconcile(body)
        except Exception as error:  # a failed reconcile must never end the loop
            self._failures += 1
            delay = min(2.0 ** (self._failures - 1), MAX_BACKOFF)
            name = (body.get("metadata") or {}).get("name")
            log.warning("AnalysisRun %s: reconcile failed (retry in %.0fs): %s", name, delay, error)
            log.debug("reconcile failure", exc_info=True)
            return delay
        self._failures = 0
        if result.gone:
            self._stopped = True
            return None
        if result.body is not None and newer(result.body, self._body):
            self._body = result.body
        if result.requeue_at is None:
            return None
        return max((result.requeue_at - self._clock()).total_seconds(), 0.0) + TIMER_SLACK


class RunLoops:
    """The running loops keyed by (namespace, name); a run's first watch event starts its loop."""

    def __init__(
        self, reconciler: Reconciler, clock: Callable[[], datetime], resync_seconds: float = 300.0
    ) -> None:
        self._reconciler = reconciler
        self._clock = clock
        self._resync = resync_seconds
        self._loops: dict[tuple[str, str], RunLoop] = {}

    def __len__(self) -> int:
        return len(self._loops)

    def get(self, namespace: str, name: str) -> RunLoop | None:
        return self._loops.get((namespace, name))

    def runs(self) -> list[Mapping[str, Any]]:
        """The latest copy of every AnalysisRun held; safe to call from the metrics thread."""
        return [body for loop in list(self._loops.values()) if (body := loop.body) is not None]

    def run_event(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        metadata = body.get("metadata") or {}
        key = (str(metadata.get("namespace", "")), str(metadata.get("name", "")))
        loop = self._loops.get(key)
        if event_type == "DELETED":
            if loop is not None:
                self._loops.pop(key).stop()
            return
        if loop is None or loop.task is None or loop.task.done():
            loop = RunLoop(self._reconciler, self._clock, self._resync)
            loop.task = asyncio.get_running_loop().create_task(
                loop.run(), name=f"analysisrun {key[0]}/{key[1]}"
            )
            self._loops[key] = loop
        loop.observe(body)

    async def stop_all(self) -> None:
        loops = list(self._loops.values())
        self._loops.clear()
        for loop in loops:
            loop.stop()
        tasks = [loop.task for loop in loops if loop.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=10)
        for task in tasks:
            task.cancel()
