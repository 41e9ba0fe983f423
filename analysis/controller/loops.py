"""One wake-up loop per object: the machinery the AnalysisRun, WorkflowRun, Experiment and
Rollout controllers share.

An asyncio task rather than a kopf daemon: kopf guards daemons with a finalizer, which would
block deleting an object while the controller is down and patch objects created by Argo
Rollouts just for bookkeeping. `KeyedLoops` holds the loops by (namespace, name): a watch event
starts an object's loop (or feeds the running one), DELETED stops it, and `wake` lets a child's
event reach its owner's loop. It only needs the small `Loop` protocol, so the Rollout loop
(`rollouts.controller.loop`), which plans and applies in its own way, is kept by it too.

`RunLoop` is the loop of a controller whose reconcile is one call (`Reconciles`): it sleeps
until a watch event wakes it, until the requeue time the last reconcile asked for (derived from
status timestamps, so a restarted controller picks up exactly where the status says), or until
the resync period passes; then it reconciles the freshest copy of the object it has (the
watch's or the one our last write returned, whichever has the higher resourceVersion). A
failing reconcile backs off exponentially and never ends the loop. Only one reconcile of an
object runs at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final, Generic, Protocol, TypeVar

from analysis.controller.reconcile import Result

__all__ = ["KeyedLoops", "Loop", "Reconciles", "RunLoop", "RunLoops", "newer"]

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


class Loop(Protocol):
    """What `KeyedLoops` needs of a loop."""

    task: asyncio.Task[None] | None

    def observe(self, body: Mapping[str, Any]) -> None:
        """Take the watch's copy of the object and wake."""

    def wake(self) -> None:
        """Reconcile soon, from the copy already held (a child changed)."""

    def stop(self) -> None: ...

    async def run(self) -> None: ...


LoopT = TypeVar("LoopT", bound=Loop)


class KeyedLoops(Generic[LoopT]):
    """The running loops keyed by (namespace, name); an object's first watch event starts its loop.

    ``start(namespace, name)`` makes the loop; ``kind`` names the objects in task names.
    """

    def __init__(self, kind: str, start: Callable[[str, str], LoopT]) -> None:
        self.kind = kind
        self._start = start
        self._loops: dict[tuple[str, str], LoopT] = {}

    def __len__(self) -> int:
        return len(self._loops)

    def get(self, namespace: str, name: str) -> LoopT | None:
        return self._loops.get((namespace, name))

    def loops(self) -> list[LoopT]:
        """A snapshot of the loops; safe to call from the metrics thread."""
        return list(self._loops.values())

    def in_namespace(self, namespace: str) -> list[LoopT]:
        return [loop for (ns, _), loop in list(self._loops.items()) if ns == namespace]

    def event(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        """Feed one watch event: DELETED stops the loop; anything else starts or feeds it (a loop
        that ended, e.g. on a deletionTimestamp, is started afresh for a recreated object)."""
        metadata = body.get("metadata") or {}
        key = (str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))
        loop = self._loops.get(key)
        if event_type == "DELETED":
            if loop is not None:
                self._loops.pop(key).stop()
            return
        if loop is None or loop.task is None or loop.task.done():
            loop = self._start(*key)
            loop.task = asyncio.get_running_loop().create_task(
                loop.run(), name=f"{self.kind} {key[0]}/{key[1]}"
            )
            self._loops[key] = loop
        loop.observe(body)

    def wake(self, namespace: str, name: str) -> None:
        """Wake the object's loop, if it has one, to reconcile the copy it holds."""
        loop = self._loops.get((namespace, name))
        if loop is not None:
            loop.wake()

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


class Reconciles(Protocol):
    """What a `RunLoop` drives: one reconcile of the object's freshest copy."""

    async def reconcile(self, body: Mapping[str, Any]) -> Result: ...


class RunLoop:
    """The reconcile loop of one object whose reconcile is one `Reconciles` call."""

    def __init__(
        self,
        reconciler: Reconciles,
        clock: Callable[[], datetime],
        resync_seconds: float,
        *,
        label: str = "AnalysisRun",
    ) -> None:
        self._reconciler = reconciler
        self._clock = clock
        self._resync = resync_seconds
        self._label = label
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

    def wake(self) -> None:
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
            result = await self._reconciler.reconcile(body)
        except Exception as error:  # a failed reconcile must never end the loop
            self._failures += 1
            delay = min(2.0 ** (self._failures - 1), MAX_BACKOFF)
            metadata = body.get("metadata") or {}
            where = f"{metadata.get('namespace')}/{metadata.get('name')}"
            log.warning("%s %s: reconcile failed (retry in %.0fs): %s", self._label, where, delay, error)
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


class RunLoops(KeyedLoops[RunLoop]):
    """`RunLoop`s of one kind of object (``kind`` labels tasks and log lines)."""

    def __init__(
        self,
        reconciler: Reconciles,
        clock: Callable[[], datetime],
        resync_seconds: float = 300.0,
        *,
        kind: str = "AnalysisRun",
    ) -> None:
        super().__init__(
            kind, lambda _namespace, _name: RunLoop(reconciler, clock, resync_seconds, label=kind)
        )

    def runs(self) -> list[Mapping[str, Any]]:
        """The latest copy of every object held; safe to call from the metrics thread."""
        return [body for loop in self.loops() if (body := loop.body) is not None]
