"""The shared per-object loops: starting, waking, stopping, failures, fresher bodies, restarts.

A small in-memory `Reconciles` stands in for a controller: it records every body it is handed
and answers from a script, so each test sees exactly the passes the loop ran.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from analysis.controller.loops import KeyedLoops, RunLoops
from analysis.controller.reconcile import Result

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def body(name: str, version: int, namespace: str = "ns") -> dict[str, Any]:
    return {"metadata": {"namespace": namespace, "name": name, "resourceVersion": str(version)}}


class Recorder:
    """Reconciles by recording the body and returning what ``answer`` says (or raising it)."""

    def __init__(self, answer: Callable[[Mapping[str, Any]], Result] = lambda _: Result()) -> None:
        self.seen: list[Mapping[str, Any]] = []
        self.answer = answer
        self.changed = asyncio.Event()

    async def reconcile(self, body: Mapping[str, Any]) -> Result:
        self.seen.append(body)
        self.changed.set()
        return self.answer(body)

    async def passes(self, count: int) -> None:
        """Wait until at least ``count`` reconciles ran."""
        while len(self.seen) < count:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 5)


def versions(seen: list[Mapping[str, Any]]) -> list[str]:
    return [str(item["metadata"]["resourceVersion"]) for item in seen]


def test_an_event_starts_a_loop_and_wake_reconciles_the_copy_it_holds() -> None:
    async def scenario() -> None:
        recorder = Recorder()
        loops = RunLoops(recorder, lambda: NOW, kind="Experiment")
        loops.event("ADDED", body("a", 5))
        await recorder.passes(1)
        loops.wake("ns", "a")
        await recorder.passes(2)
        loops.wake("ns", "missing")  # no loop: nothing happens, nothing raises
        assert versions(recorder.seen) == ["5", "5"]
        loop = loops.get("ns", "a")
        assert loop is not None and loop.task is not None
        assert loop.task.get_name() == "Experiment ns/a"
        assert loops.runs() == [body("a", 5)]
        await loops.stop_all()
        assert len(loops) == 0

    asyncio.run(scenario())


def test_an_older_watch_copy_does_not_replace_a_newer_one() -> None:
    async def scenario() -> None:
        recorder = Recorder(lambda seen: Result(body=body("a", 9)))
        loops = RunLoops(recorder, lambda: NOW)
        loops.event("ADDED", body("a", 5))
        await recorder.passes(1)
        loops.event("MODIFIED", body("a", 7))  # older than the 9 our write returned
        await recorder.passes(2)
        assert versions(recorder.seen) == ["5", "9"]
        await loops.stop_all()

    asyncio.run(scenario())


def test_deleted_stops_and_forgets_the_loop() -> None:
    async def scenario() -> None:
        recorder = Recorder()
        loops = RunLoops(recorder, lambda: NOW)
        loops.event("ADDED", body("a", 1))
        await recorder.passes(1)
        loop = loops.get("ns", "a")
        assert loop is not None and loop.task is not None
        loops.event("DELETED", body("a", 2))
        await asyncio.wait_for(loop.task, 5)
        assert loops.get("ns", "a") is None
        assert len(recorder.seen) == 1

    asyncio.run(scenario())


def test_a_gone_object_ends_its_loop_and_a_recreated_one_gets_a_new_loop() -> None:
    async def scenario() -> None:
        recorder = Recorder(lambda seen: Result(gone=seen["metadata"]["resourceVersion"] == "1"))
        loops = RunLoops(recorder, lambda: NOW)
        loops.event("MODIFIED", body("a", 1))
        first = loops.get("ns", "a")
        assert first is not None and first.task is not None
        await asyncio.wait_for(first.task, 5)
        loops.event("ADDED", body("a", 3))
        await recorder.passes(2)
        assert loops.get("ns", "a") is not first
        assert versions(recorder.seen) == ["1", "3"]
        await loops.stop_all()

    asyncio.run(scenario())


def test_a_failed_reconcile_is_logged_with_the_kind_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def answer(seen: Mapping[str, Any]) -> Result:
        if seen["metadata"]["resourceVersion"] == "1":
            raise RuntimeError("apiserver said no")
        return Result()

    async def scenario() -> None:
        recorder = Recorder(answer)
        loops = RunLoops(recorder, lambda: NOW, kind="WorkflowRun")
        loops.event("ADDED", body("a", 1))
        await recorder.passes(1)
        loops.event("MODIFIED", body("a", 2))  # wakes the loop before its backoff ends
        await recorder.passes(2)
        await loops.stop_all()

    with caplog.at_level(logging.WARNING, logger="analysis.controller.loops"):
        asyncio.run(scenario())
    messages = [record.getMessage() for record in caplog.records]
    assert messages == ["WorkflowRun ns/a: reconcile failed (retry in 1s): apiserver said no"]


def test_a_requeue_time_brings_the_next_pass_without_an_event() -> None:
    async def scenario() -> None:
        recorder = Recorder(lambda seen: Result(requeue_at=NOW))  # due already
        loops = RunLoops(recorder, lambda: NOW)
        loops.event("ADDED", body("a", 1))
        await recorder.passes(3)
        await loops.stop_all()

    asyncio.run(scenario())


class Counting:
    """A minimal `Loop`: counts what `KeyedLoops` asks of it and runs until stopped."""

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self.observed: list[Mapping[str, Any]] = []
        self.wakes = 0
        self._stopped = asyncio.Event()

    def observe(self, body: Mapping[str, Any]) -> None:
        self.observed.append(body)

    def wake(self) -> None:
        self.wakes += 1

    def stop(self) -> None:
        self._stopped.set()

    async def run(self) -> None:
        await self._stopped.wait()


def test_keyed_loops_start_one_loop_per_object_and_group_them_by_namespace() -> None:
    async def scenario() -> None:
        started: list[tuple[str, str]] = []

        def start(namespace: str, name: str) -> Counting:
            started.append((namespace, name))
            return Counting()

        loops = KeyedLoops("Rollout", start)
        loops.event("ADDED", body("a", 1))
        loops.event("MODIFIED", body("a", 2))
        loops.event("ADDED", body("b", 1, namespace="other"))
        loops.wake("ns", "a")
        assert started == [("ns", "a"), ("other", "b")]
        first = loops.get("ns", "a")
        assert first is not None
        assert versions(first.observed) == ["1", "2"] and first.wakes == 1
        assert loops.in_namespace("other") == [loops.get("other", "b")]
        await loops.stop_all()
        assert first.task is not None and first.task.done()

    asyncio.run(scenario())
