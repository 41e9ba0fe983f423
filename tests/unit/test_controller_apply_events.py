"""Events through the Applier: repeats patch the posted Event, transient failures are retried
off the reconcile path with client-go's schedule, refusals are not (`rollouts.controller.apply`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast
from unittest import mock

import httpx
import pytest

from rollouts.controller import apicalls, apply
from rollouts.controller.apply import Applier
from rollouts.controller.kube import ApiError, KubeClient
from rollouts.planner import EmitEvent

ROLLOUT = {"metadata": {"name": "web", "namespace": "prod", "uid": "u-1", "resourceVersion": "3"}}
PAUSED = EmitEvent("RolloutPaused", "Rollout is paused (CanaryPauseStep)")


class Client:
    def __init__(self, answer: Callable[[apicalls.Request, int], Any]) -> None:
        self.answer = answer
        self.sent: list[apicalls.Request] = []

    async def send(self, request: apicalls.Request) -> Any:
        self.sent.append(request)
        return self.answer(request, len(self.sent))


def echo(request: apicalls.Request, _: int) -> Any:
    return request.body


async def emit_all(client: Client, *events: EmitEvent, settle: bool = False) -> Applier:
    applier = Applier(cast(KubeClient, client), clock=lambda: datetime(2026, 12, 7, tzinfo=UTC))
    for event in events:
        await applier.emit(ROLLOUT, event)
    if settle:
        while applier._event_retries:
            await asyncio.gather(*applier._event_retries)
    return applier


def test_a_repeated_event_is_one_post_then_patches_of_its_count() -> None:
    client = Client(echo)
    asyncio.run(emit_all(client, PAUSED, PAUSED, PAUSED))
    assert [(r.method, r.content_type) for r in client.sent] == [
        ("POST", "application/json"),
        ("PATCH", apicalls.STRATEGIC_MERGE_PATCH),
        ("PATCH", apicalls.STRATEGIC_MERGE_PATCH),
    ]
    name = client.sent[0].body["metadata"]["name"]
    assert client.sent[1].path == f"/api/v1/namespaces/prod/events/{name}"
    assert [r.body["count"] for r in client.sent[1:]] == [2, 3]


def test_a_patch_of_an_event_gone_meanwhile_creates_it_again() -> None:
    def answer(request: apicalls.Request, _: int) -> Any:
        if request.method == "PATCH":
            raise ApiError(404, "NotFound", "events not found")
        return request.body

    client = Client(answer)
    asyncio.run(emit_all(client, PAUSED, PAUSED))
    assert [r.method for r in client.sent] == ["POST", "PATCH", "POST"]
    assert client.sent[2].body["count"] == 2


@pytest.mark.parametrize(
    "failure",
    [
        ApiError(429, "TooManyRequests", "slow down"),
        ApiError(503, "ServiceUnavailable", ""),
        httpx.ConnectError("refused"),
    ],
)
def test_a_transient_failure_is_retried_in_the_background_until_it_lands(failure: Exception) -> None:
    def answer(request: apicalls.Request, number: int) -> Any:
        if number <= 2:
            raise failure
        return request.body

    client = Client(answer)
    with mock.patch.object(apply, "EVENT_RETRY_SECONDS", 0.0):
        asyncio.run(emit_all(client, PAUSED, settle=True))
    assert [r.method for r in client.sent] == ["POST", "POST", "POST"]


def test_retries_stop_after_twelve_tries_and_refusals_are_not_retried() -> None:
    def unavailable(request: apicalls.Request, _: int) -> Any:
        raise ApiError(500, "InternalError", "etcd down")

    client = Client(unavailable)
    with mock.patch.object(apply, "EVENT_RETRY_SECONDS", 0.0):
        asyncio.run(emit_all(client, PAUSED, settle=True))
    assert len(client.sent) == apply.EVENT_TRIES == 12

    def invalid(request: apicalls.Request, _: int) -> Any:
        raise ApiError(422, "Invalid", "message too long")

    refused = Client(invalid)
    asyncio.run(emit_all(refused, PAUSED, settle=True))
    assert len(refused.sent) == 1


def test_the_pass_does_not_wait_for_retries() -> None:
    def unavailable(request: apicalls.Request, _: int) -> Any:
        raise ApiError(503, "ServiceUnavailable", "")

    client = Client(unavailable)

    async def scenario() -> int:
        applier = await emit_all(client, PAUSED)  # returns after the first try
        pending = len(applier._event_retries)
        for task in applier._event_retries:
            task.cancel()
        return pending

    assert asyncio.run(scenario()) == 1
    assert len(client.sent) == 1
