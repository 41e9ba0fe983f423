"""What a CronWorkflow does now: ``decide(cron, children, now) → CronDecision``, pure.

Level-triggered: only ``status.lastScheduledTime`` and the child runs as they are decide, so a
restarted controller neither skips nor doubles a tick. Runs are named ``<cron>-<unix seconds of
the tick>``; a tick whose run exists counts as scheduled even when the status write that should
have recorded it was lost (the latest child tick moves ``lastScheduledTime`` forward), and
creating the same run twice is refused by the API server.

A tick is due when it is the latest tick of any schedule after ``lastScheduledTime`` (or the
object's creation) and not after ``now``. It starts only within its window: at most
``startingDeadlineSeconds`` late, and never less than :data:`ON_TIME_SECONDS` (our own timer and
watch latency), so after an outage only the most recent missed tick runs, as in Argo and
Kubernetes CronJobs, and without a deadline a tick missed by more than the window is skipped, as
Argo skips it. ``concurrencyPolicy``: Allow starts another run, Forbid waits while a run is active
(the tick starts if the active run ends within the window, as a CronJob does; Argo skips at
once), Replace terminates the active runs (``spec.shutdown: Terminate``) and starts the new one.

Counting: a child counts once into ``succeeded``/``failed`` when it is first seen finished while
listed in ``status.active`` or newer than ``lastScheduledTime``. History limits keep the newest
finished runs (3 succeeded, 1 failed or errored by default) and delete older ones. ``suspend``
stops new runs; ``stopStrategy`` stops them for good (``phase: Stopped``); ``when`` is
substituted with ``{{cronworkflow.*}}`` and evaluated at each due tick (false: skipped). A bad
schedule, timezone or expression is a ``SpecError`` condition with Argo's message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from analysis import assessment
from analysis.assessment import format_time
from analysis.expr import ExprError, compile_expression
from analysis.workflows.conditions import ConditionError, evaluate_when
from analysis.workflows.cron_model import (
    CronCondition,
    CronWorkflow,
    CronWorkflowStatus,
    ObjectReference,
)
from analysis.workflows.cron_schedule import CronScheduleError, Schedule, parse_schedule
from analysis.workflows.status import FINAL_PHASES, GROUP, KIND, VERSION
from analysis.workflows.substitution import Scope, SubstitutionError, substitute

__all__ = [
    "CRON_LABEL",
    "DEFAULT_FAILED_HISTORY",
    "DEFAULT_SUCCESSFUL_HISTORY",
    "ON_TIME_SECONDS",
    "SCHEDULED_ANNOTATION",
    "ChildRun",
    "CreateRun",
    "CronAction",
    "CronDecision",
    "DeleteRun",
    "TerminateRun",
    "child_manifest",
    "child_name",
    "decide",
    "format_time",
    "next_tick",
    "parse_time",
    "schedules_of",
    "submission_failed",
]

CRON_LABEL: Final = "workflows.argoproj.io/cron-workflow"
"""Argo's label on runs a CronWorkflow created (harmless on our kind: Argo watches its own)."""
SCHEDULED_ANNOTATION: Final = "workflows.argoproj.io/scheduled-time"
"""Argo's annotation; the engine reads it into ``{{workflow.scheduledTime}}``."""
DEFAULT_SUCCESSFUL_HISTORY: Final = 3
DEFAULT_FAILED_HISTORY: Final = 1
ON_TIME_SECONDS: Final = 10
"""The smallest start window: a tick found this late (timer, watch, restart) still starts."""
LOOKAHEAD_TICKS: Final = 100_000
"""Guard on walking ticks inside one window (``@every 1s`` with a deadline of a day)."""


@dataclass(frozen=True)
class ChildRun:
    """What the decision needs of one WorkflowRun the CronWorkflow created."""

    name: str
    phase: str | None
    scheduled: datetime | None
    uid: str | None = None

    @property
    def finished(self) -> bool:
        return self.phase in FINAL_PHASES


@dataclass(frozen=True)
class CreateRun:
    name: str
    scheduled: datetime


@dataclass(frozen=True)
class TerminateRun:
    name: str


@dataclass(frozen=True)
class DeleteRun:
    name: str


CronAction = CreateRun | TerminateRun | DeleteRun


@dataclass(frozen=True)
class CronDecision:
    status: CronWorkflowStatus
    actions: tuple[CronAction, ...]
    wake_at: datetime | None


def parse_time(text: str | None) -> datetime | None:
    """An RFC 3339 time; None for none or for text that is not one (annotations are user-editable)."""
    try:
        return assessment.parse_time(text)
    except ValueError:
        return None


def child_name(cron_name: str, tick: datetime) -> str:
    return f"{cron_name}-{int(tick.timestamp())}"


def schedules_of(cron: CronWorkflow) -> list[Schedule]:
    """Every schedule parsed with the timezone; raises CronScheduleError with Argo's message."""
    expressions = cron.spec.all_schedules()
    if not expressions:
        raise CronScheduleError("at least one schedule is required (spec.schedules)")
    return [parse_schedule(expression, cron.spec.timezone) for expression in expressions]


def next_tick(schedules: Sequence[Schedule], after: datetime) -> datetime | None:
    ticks = [tick for schedule in schedules if (tick := schedule.next_after(after)) is not None]
    return min(ticks, default=None)


def _latest_tick(schedules: Sequence[Schedule], since: datetime, now: datetime) -> datetime | None:
    """The latest tick in (since, now], or None."""
    latest: datetime | None = None
    for schedule in schedules:
        tick = schedule.next_after(since)
        for _ in range(LOOKAHEAD_TICKS):
            if tick is None or tick > now:
                break
            latest = tick if latest is None or tick > latest else latest
            tick = schedule.next_after(tick)
    return latest


def _variables(cron: CronWorkflow, status: CronWorkflowStatus) -> tuple[dict[str, str], dict[str, Any]]:
    """``cronworkflow.*`` as text (for ``{{...}}`` tags) and as values (for expressions)."""
    metadata = cron.metadata
    objects: dict[str, Any] = {
        "cronworkflow.name": metadata.name or "",
        "cronworkflow.namespace": metadata.namespace or "",
        "cronworkflow.labels": dict(metadata.labels or {}),
        "cronworkflow.annotations": dict(metadata.annotations or {}),
        "cronworkflow.lastScheduledTime": status.last_scheduled_time,
        "cronworkflow.failed": status.failed or 0,
        "cronworkflow.succeeded": status.succeeded or 0,
    }
    values = {
        "cronworkflow.name": objects["cronworkflow.name"],
        "cronworkflow.namespace": objects["cronworkflow.namespace"],
        "cronworkflow.failed": str(objects["cronworkflow.failed"]),
        "cronworkflow.succeeded": str(objects["cronworkflow.succeeded"]),
    }
    if status.last_scheduled_time:
        values["cronworkflow.lastScheduledTime"] = status.last_scheduled_time
    for kind in ("labels", "annotations"):
        for key, value in objects[f"cronworkflow.{kind}"].items():
            values[f"cronworkflow.{kind}.{key}"] = value
    return values, objects


def _stopped(cron: CronWorkflow, status: CronWorkflowStatus) -> bool:
    """Whether ``stopStrategy.expression`` holds; raises ValueError on a bad expression."""
    strategy = cron.spec.stop_strategy
    if strategy is None:
        return False
    _, objects = _variables(cron, status)
    environment = {"cronworkflow": {key.split(".", 1)[1]: value for key, value in objects.items()}}
    try:
        result = compile_expression(strategy.expression).evaluate(environment)
    except ExprError as error:
        raise ValueError(f"invalid stopStrategy expression {strategy.expression!r}: {error}") from None
    if not isinstance(result, bool):
        raise ValueError(f"stopStrategy expression {strategy.expression!r} gave {result!r}, not a boolean")
    return result


def _when_holds(cron: CronWorkflow, status: CronWorkflowStatus) -> bool:
    """``spec.when`` after substitution; raises ValueError with the reason."""
    when = cron.spec.when
    if not when:
        return True
    values, objects = _variables(cron, status)
    try:
        return evaluate_when(substitute(when, Scope(values=values, objects=objects)))
    except (SubstitutionError, ConditionError) as error:
        raise ValueError(str(error)) from None


def _reference(namespace: str | None, name: str, uid: str | None) -> ObjectReference:
    return ObjectReference(
        api_version=f"{GROUP}/{VERSION}", kind=KIND, name=name, namespace=namespace, uid=uid
    )


def _counted(
    children: Sequence[ChildRun], stored: CronWorkflowStatus, last: datetime | None
) -> tuple[int, int]:
    """Children finished since the stored status: (succeeded, failed) to add."""
    listed = {reference.name for reference in stored.active or ()}
    fresh = [
        child
        for child in children
        if child.finished
        and (
            child.name in listed or (child.scheduled is not None and (last is None or child.scheduled > last))
        )
    ]
    succeeded = sum(1 for child in fresh if child.phase == "Succeeded")
    return succeeded, len(fresh) - succeeded


def _pruned(cron: CronWorkflow, children: Sequence[ChildRun]) -> list[DeleteRun]:
    """Finished runs beyond the history limits, oldest first."""
    spec = cron.spec
    limits = (
        ({"Succeeded"}, spec.successful_jobs_history_limit, DEFAULT_SUCCESSFUL_HISTORY),
        ({"Failed", "Error"}, spec.failed_jobs_history_limit, DEFAULT_FAILED_HISTORY),
    )
    doomed: list[DeleteRun] = []
    oldest = datetime.min.replace(tzinfo=UTC)
    for phases, limit, default in limits:
        kept = default if limit is None else limit
        finished = sorted(
            (child for child in children if child.phase in phases),
            key=lambda child: (child.scheduled or oldest, child.name),
        )
        excess = len(finished) - kept
        doomed += [DeleteRun(child.name) for child in finished[: max(excess, 0)]]
    return doomed


def decide(
    cron: CronWorkflow, children: Sequence[ChildRun], now: datetime, *, on_time_seconds: int = ON_TIME_SECONDS
) -> CronDecision:
    """The actions and the new status of one CronWorkflow pass (module docstring)."""
    stored = cron.status or CronWorkflowStatus()
    last = parse_time(stored.last_scheduled_time)
    child_ticks = [child.scheduled for child in children if child.scheduled is not None]
    newest = max([tick for tick in [last, *child_ticks] if tick is not None], default=None)
    succeeded, failed = _counted(children, stored, last)
    namespace = cron.metadata.namespace
    active = [
        _reference(namespace, child.name, child.uid)
        for child in sorted(children, key=lambda child: child.name)
        if not child.finished
    ]
    status = CronWorkflowStatus(
        active=active or None,
        last_scheduled_time=format_time(newest) if newest is not None else None,
        succeeded=(stored.succeeded or 0) + succeeded,
        failed=(stored.failed or 0) + failed,
        phase=stored.phase if stored.phase == "Stopped" else "Active",
    )
    actions: list[CronAction] = list(_pruned(cron, children))
    problems: list[str] = []
    try:
        schedules = schedules_of(cron)
    except CronScheduleError as error:
        problems.append(str(error))
        schedules = []
    if status.phase != "Stopped" and not problems:
        try:
            if _stopped(cron, status):
                status.phase = "Stopped"
        except ValueError as error:
            problems.append(str(error))
    wake_at: datetime | None = None
    if schedules and status.phase != "Stopped" and not problems and not cron.spec.suspend:
        wake_at = next_tick(schedules, now)
        window = max(cron.spec.starting_deadline_seconds or 0, on_time_seconds)
        created = parse_time(cron.metadata.creation_timestamp) or now
        since = max(newest or created, now - timedelta(seconds=window + 1))
        tick = _latest_tick(schedules, since, now)
        if tick is not None and now - tick <= timedelta(seconds=window):
            try:
                due = _when_holds(cron, status)
            except ValueError as error:
                problems.append(str(error))
                due = False
            running = [reference.name or "" for reference in active]
            policy = cron.spec.concurrency_policy or "Allow"
            if due and not (policy == "Forbid" and running):
                if policy == "Replace":
                    actions += [TerminateRun(name) for name in running]
                name = child_name(cron.metadata.name or "", tick)
                actions.append(CreateRun(name, tick))
                status.last_scheduled_time = format_time(tick)
                status.active = [*active, _reference(namespace, name, None)]
    if problems:
        status.conditions = [CronCondition(type="SpecError", status="True", message=m) for m in problems]
    return CronDecision(status, tuple(actions), wake_at)


def submission_failed(
    status: CronWorkflowStatus, previous: CronWorkflowStatus | None, name: str, message: str
) -> CronWorkflowStatus:
    """The status after the API refused to create run ``name``: the tick is not recorded."""
    failed = status.model_copy(deep=True)
    failed.last_scheduled_time = (previous or CronWorkflowStatus()).last_scheduled_time
    failed.active = [reference for reference in status.active or () if reference.name != name] or None
    condition = CronCondition(type="SubmissionError", status="True", message=message)
    failed.conditions = [*(status.conditions or []), condition]
    return failed


def child_manifest(cron: CronWorkflow, action: CreateRun) -> dict[str, Any]:
    """The WorkflowRun of one tick: the cron's workflowSpec and workflowMetadata, Argo's label
    and scheduled-time annotation, owned by the CronWorkflow."""
    metadata = cron.metadata
    extra = cron.spec.workflow_metadata
    labels: dict[str, str] = {**((extra.labels if extra else None) or {}), CRON_LABEL: metadata.name or ""}
    annotations: Mapping[str, str] = {
        **((extra.annotations if extra else None) or {}),
        SCHEDULED_ANNOTATION: format_time(action.scheduled),
    }
    owner = {
        "apiVersion": cron.api_version,
        "kind": cron.kind,
        "name": metadata.name,
        "uid": metadata.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "metadata": {
            "name": action.name,
            "namespace": metadata.namespace,
            "labels": labels,
            "annotations": dict(annotations),
            "ownerReferences": [owner],
        },
        "spec": dict(cron.spec.workflow_spec),
    }
