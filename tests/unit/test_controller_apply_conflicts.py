"""No user operation is lost to a pass planned from older state (`rollouts.controller.apply`).

Every write to the Rollout carries the ``resourceVersion`` the plan was made from — or the one
our own previous write of this pass returned — so a user's abort/retry/promote/pause landing
meanwhile makes it fail with 409; the pass then re-reads the Rollout and plans again. Driven
with a scripted client: what is sent, in which order, and how many requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from rollouts.controller import apicalls
from rollouts.controller.apply import Applier, Outcome, Written
from rollouts.controller.kube import ApiError, KubeClient
from rollouts.planner import EmitEvent, PatchRollout, Plan

ROLLOUT_PATH = "/apis/argoproj.io/v1alpha1/namespaces/prod/rollouts/web"
STATUS_PATH = f"{ROLLOUT_PATH}/status"
REVISION = PatchRollout({"metadata": {"annotations": {"rollout.argoproj.io/revision": "2"}}})
UPDATED = EmitEvent("RolloutUpdated", "Rollout updated to revision 2")


def rollout(version: str, **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "web", "namespace": "prod", "uid": "u-1", "resourceVersion": version},
        "spec": {"replicas": 1},
        "status": status,
    }


class ScriptedClient:
    """Answers each request with ``answer(request)``; records every request sent."""

    def __init__(self, answer: Callable[[apicalls.Request], Any]) -> None:
        self.answer = answer
        self.sent: list[apicalls.Request] = []

    async def send(self, request: apicalls.Request) -> Any:
        self.sent.append(request)
        return self.answer(request)

    def rollout_requests(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.sent if r.resource.startswith("rollouts")]


def apply(client: ScriptedClient, plan: Plan, read: dict[str, Any]) -> Outcome:
    applier = Applier(cast(KubeClient, client), clock=lambda: datetime(2024, 5, 1, tzinfo=UTC))
    return asyncio.run(applier.apply(plan, read, Written()))


def conflict() -> ApiError:
    return ApiError(409, "Conflict", "the object has been modified; please apply your changes")


def versioned_server(stored: dict[str, Any]) -> Callable[[apicalls.Request], Any]:
    """A Rollout store with the API server's merge-patch precondition: a body naming another
    ``resourceVersion`` than the stored one is refused with 409; each accepted write bumps it."""

    def answer(request: apicalls.Request) -> Any:
        if request.resource == "events":
            return {}
        if request.method == "GET":
            return stored
        precondition = request.body.get("metadata", {}).get("resourceVersion")
        if precondition is not None and precondition != stored["metadata"]["resourceVersion"]:
            raise conflict()
        for section in ("status", "spec"):
            stored[section] = {**stored[section], **request.body.get(section, {})}
        annotations = request.body.get("metadata", {}).get("annotations", {})
        stored["metadata"]["annotations"] = {**stored["metadata"].get("annotations", {}), **annotations}
        stored["metadata"]["resourceVersion"] = str(int(stored["metadata"]["resourceVersion"]) + 1)
        return {**stored, "metadata": dict(stored["metadata"])}

    return answer


def test_a_spec_or_metadata_write_is_guarded_by_the_version_the_plan_read() -> None:
    request = apicalls.patch_rollout("prod", "web", REVISION, "41")
    assert request.body == {
        "metadata": {"annotations": {"rollout.argoproj.io/revision": "2"}, "resourceVersion": "41"}
    }
    assert apicalls.patch_rollout("prod", "web", PatchRollout({"spec": {"replicas": 1}}), "41").body == {
        "spec": {"replicas": 1},
        "metadata": {"resourceVersion": "41"},
    }


def test_the_status_write_after_our_own_spec_write_uses_the_version_that_write_returned() -> None:
    """Our own write changes the resourceVersion: guarding the status patch with the old one
    would refuse every such pass (and cost a GET and a second pass)."""
    client = ScriptedClient(versioned_server(rollout("41")))
    outcome = apply(
        client, Plan(actions=(REVISION, UPDATED), status_patch={"phase": "Progressing"}), rollout("41")
    )
    assert outcome.status_written and not outcome.replan
    assert client.rollout_requests() == [("PATCH", ROLLOUT_PATH), ("PATCH", STATUS_PATH)]
    assert [
        r.body["metadata"]["resourceVersion"] for r in client.sent if r.resource.startswith("rollouts")
    ] == [
        "41",
        "42",
    ]
    assert outcome.rollout is not None and outcome.rollout["metadata"]["resourceVersion"] == "43"
    assert [r.resource for r in client.sent] == ["rollouts", "rollouts/status", "events"]


def test_a_user_retry_between_read_and_status_write_is_re_read_not_overwritten() -> None:
    stored = rollout("41", abort=True, phase="Degraded")
    client = ScriptedClient(versioned_server(stored))
    read = rollout("41", abort=True, phase="Degraded")
    stored["status"]["abort"] = False  # the plugin's retry lands while the pass computes
    stored["metadata"]["resourceVersion"] = "42"
    outcome = apply(client, Plan(actions=(UPDATED,), status_patch={"abort": True, "message": "x"}), read)
    assert (outcome.status_written, outcome.replan) == (False, True)
    assert client.rollout_requests() == [("PATCH", STATUS_PATH), ("GET", ROLLOUT_PATH)]
    assert stored["status"]["abort"] is False
    assert outcome.rollout is not None and outcome.rollout["status"]["abort"] is False
    assert not any(r.resource == "events" for r in client.sent)  # the re-planned pass reports it


def test_a_user_change_before_our_spec_write_stops_the_pass_before_the_status_write() -> None:
    """Unguarded, the spec write would succeed, return the user's version and so let the status
    patch planned from the older state through on top of the user's promote."""
    stored = rollout("41", pauseConditions=[{"reason": "CanaryPauseStep"}])
    client = ScriptedClient(versioned_server(stored))
    read = rollout("41", pauseConditions=[{"reason": "CanaryPauseStep"}])
    stored["status"]["pauseConditions"] = None  # promote
    stored["metadata"]["resourceVersion"] = "42"
    plan = Plan(
        actions=(REVISION, UPDATED), status_patch={"pauseConditions": [{"reason": "CanaryPauseStep"}]}
    )
    outcome = apply(client, plan, read)
    assert (outcome.status_written, outcome.replan, outcome.gone) == (False, True, False)
    assert client.rollout_requests() == [("PATCH", ROLLOUT_PATH), ("GET", ROLLOUT_PATH)]
    assert stored["status"]["pauseConditions"] is None
    assert "annotations" not in stored["metadata"]
    assert outcome.rollout is not None and outcome.rollout["metadata"]["resourceVersion"] == "42"
    assert not any(r.resource == "events" for r in client.sent)


def test_a_rollout_deleted_during_the_conflict_ends_the_pass_as_gone() -> None:
    def answer(request: apicalls.Request) -> Any:
        if request.method == "GET":
            raise ApiError(404, "NotFound", 'rollouts.argoproj.io "web" not found')
        raise conflict()

    client = ScriptedClient(answer)
    outcome = apply(client, Plan(actions=(REVISION,), status_patch={"phase": "Healthy"}), rollout("41"))
    assert (outcome.gone, outcome.replan, outcome.status_written) == (True, True, False)
    assert client.rollout_requests() == [("PATCH", ROLLOUT_PATH), ("GET", ROLLOUT_PATH)]


def test_an_ordinary_pass_sends_no_read() -> None:
    client = ScriptedClient(versioned_server(rollout("7")))
    outcome = apply(client, Plan(status_patch={"phase": "Healthy"}), rollout("7"))
    assert outcome.status_written
    assert [(r.method, r.path) for r in client.sent] == [("PATCH", STATUS_PATH)]
    assert client.sent[0].body == {"status": {"phase": "Healthy"}, "metadata": {"resourceVersion": "7"}}
