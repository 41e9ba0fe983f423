"""The imperative shell of the CronWorkflow controller: observe, one pure decision, the writes.

Each reconcile takes the CronWorkflow as the watch delivered it and its runs from a kopf index
(WorkflowRuns labelled ``workflows.argoproj.io/cron-workflow``; no LIST per pass), lets
``cron_policy.decide`` choose, then creates runs (``POST``; a 409 means the tick's run exists,
which is what we wanted), terminates runs (``spec.shutdown: Terminate``, for Replace), deletes
runs beyond the history limits, and writes ``status`` with one merge patch only when it
changed. The loop wakes at the next tick (``Result.requeue_at``) and on every event of a run.

Runs we created but the index has not shown yet are remembered for a short while, so the echo
of our own status write cannot drop them from ``status.active`` or let Forbid start a second
run; a restarted controller starts with an empty memory and a full index instead. A manifest
that does not fit the model is reported as a ``SpecError`` condition, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from analysis.controller.api import MERGE_PATCH, ApiCaller, ApiCallError
from analysis.controller.reconcile import Result
from analysis.models.base import ManifestError
from analysis.workflows.cron_model import CRON_PLURAL, CronCondition, CronWorkflow, CronWorkflowStatus
from analysis.workflows.cron_policy import (
    SCHEDULED_ANNOTATION,
    ChildRun,
    CreateRun,
    DeleteRun,
    TerminateRun,
    child_manifest,
    decide,
    parse_time,
    submission_failed,
)
from analysis.workflows.status import GROUP, VERSION

__all__ = ["CronReconciler", "RunSource", "project_run"]

CRONS_PATH: Final = f"/apis/{GROUP}/{VERSION}/namespaces/{{namespace}}/{CRON_PLURAL}"
RUNS_PATH: Final = f"/apis/{GROUP}/{VERSION}/namespaces/{{namespace}}/workflowruns"
REMEMBER_CREATED: Final = timedelta(seconds=60)
"""How long a run we created stands in for the index's view of it."""

RunSource = Callable[[str, str], list[Mapping[str, Any]]]
"""(namespace, cron name) → projections (``project_run``) of the runs labelled with it."""


def project_run(body: Mapping[str, Any]) -> dict[str, Any]:
    """What the index keeps of a WorkflowRun: name, uid, owner uids, phase, scheduled time."""
    metadata = body.get("metadata") or {}
    return {
        "name": metadata.get("name"),
        "uid": metadata.get("uid"),
        "owners": [owner.get("uid") for owner in metadata.get("ownerReferences") or ()],
        "phase": (body.get("status") or {}).get("phase"),
        "scheduled": (metadata.get("annotations") or {}).get(SCHEDULED_ANNOTATION),
    }


def _child(projection: Mapping[str, Any]) -> ChildRun:
    return ChildRun(
        name=str(projection.get("name") or ""),
        phase=projection.get("phase"),
        scheduled=parse_time(projection.get("scheduled")),
        uid=projection.get("uid"),
    )


class CronReconciler:
    """Reconciles CronWorkflows through one API caller; their runs come from ``runs``."""

    def __init__(self, api: ApiCaller, runs: RunSource, *, clock: Callable[[], datetime]) -> None:
        self.api = api
        self.runs = runs
        self.clock = clock
        self._created: dict[tuple[str, str], dict[str, tuple[datetime, datetime]]] = {}

    async def reconcile(self, body: Mapping[str, Any]) -> Result:
        metadata = body.get("metadata") or {}
        namespace, name = str(metadata.get("namespace", "")), str(metadata.get("name", ""))
        key = (namespace, name)
        if metadata.get("deletionTimestamp"):
            self._created.pop(key, None)
            return Result(gone=True)
        stored_raw = body.get("status") or {}
        try:
            cron = CronWorkflow.from_dict(body)
        except ManifestError as error:
            status = _stored(stored_raw)
            status.conditions = [CronCondition(type="SpecError", status="True", message=str(error))]
            return Result(body=await self._write(namespace, name, stored_raw, status))
        now = self.clock()
        decision = decide(cron, self._children(key, cron, now), now)
        status = decision.status
        for action in decision.actions:
            if isinstance(action, CreateRun):
                status = await self._create(key, cron, action, status, now)
            elif isinstance(action, TerminateRun):
                await self._tolerating_404(
                    "PATCH",
                    f"{RUNS_PATH.format(namespace=namespace)}/{action.name}",
                    body={"spec": {"shutdown": "Terminate"}},
                )
            elif isinstance(action, DeleteRun):
                await self._tolerating_404(
                    "DELETE",
                    f"{RUNS_PATH.format(namespace=namespace)}/{action.name}",
                    params={"propagationPolicy": "Background"},
                )
        written = await self._write(namespace, name, stored_raw, status)
        return Result(requeue_at=decision.wake_at, body=written)

    def _children(self, key: tuple[str, str], cron: CronWorkflow, now: datetime) -> list[ChildRun]:
        """The cron's runs from the index (ours by owner uid) plus recent creations not seen yet."""
        uid = cron.metadata.uid
        seen = [
            _child(projection)
            for projection in self.runs(*key)
            if uid is None or uid in (projection.get("owners") or ())
        ]
        names = {child.name for child in seen}
        remembered = self._created.get(key, {})
        for run_name, (tick, created_at) in list(remembered.items()):
            if run_name in names or now - created_at > REMEMBER_CREATED:
                del remembered[run_name]
            else:
                seen.append(ChildRun(run_name, None, tick))
        return seen

    async def _create(
        self,
        key: tuple[str, str],
        cron: CronWorkflow,
        action: CreateRun,
        status: CronWorkflowStatus,
        now: datetime,
    ) -> CronWorkflowStatus:
        try:
            await self.api.call("POST", RUNS_PATH.format(namespace=key[0]), body=child_manifest(cron, action))
        except ApiCallError as error:
            if error.status != 409:
                message = f"cannot create WorkflowRun {action.name}: {error.message}"
                return submission_failed(status, cron.status, action.name, message)
        self._created.setdefault(key, {})[action.name] = (action.scheduled, now)
        return status

    async def _tolerating_404(self, method: str, path: str, **request: Any) -> None:
        if method == "PATCH":
            request["content_type"] = MERGE_PATCH
        try:
            await self.api.call(method, path, **request)
        except ApiCallError as error:
            if error.status != 404:
                raise

    async def _write(
        self, namespace: str, name: str, stored: Any, status: CronWorkflowStatus
    ) -> Mapping[str, Any] | None:
        """Merge patch ``status`` when it differs from the stored one (unset fields go as null)."""
        if isinstance(stored, Mapping) and _stored(stored) == status:
            return None
        answer: Mapping[str, Any] | None = await self.api.call(
            "PATCH",
            f"{CRONS_PATH.format(namespace=namespace)}/{name}",
            body={"status": _patch(status)},
            content_type=MERGE_PATCH,
        )
        return answer


def _stored(raw: Any) -> CronWorkflowStatus:
    try:
        return CronWorkflowStatus.model_validate(raw if isinstance(raw, Mapping) else {})
    except ValueError:
        return CronWorkflowStatus()


def _patch(status: CronWorkflowStatus) -> dict[str, Any]:
    """Unset top-level fields as null (a merge patch deletes them); nothing null inside lists."""
    present = status.model_dump(by_alias=True, exclude_none=True)
    return {key: present.get(key) for key in status.model_dump(by_alias=True)}
