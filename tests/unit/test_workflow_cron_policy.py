"""The CronWorkflow decision: ticks, missed ticks, concurrency policies, history, suspend, stop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.models.base import ManifestError
from analysis.workflows.cron_model import CronWorkflow
from analysis.workflows.cron_policy import (
    CRON_LABEL,
    SCHEDULED_ANNOTATION,
    ChildRun,
    CreateRun,
    DeleteRun,
    TerminateRun,
    child_manifest,
    decide,
    submission_failed,
)

CREATED = datetime(2026, 5, 1, 9, 0, 0, tzinfo=UTC)
WORKFLOW_SPEC = {"entrypoint": "main", "templates": [{"name": "main", "container": {"image": "busybox"}}]}


def cron(status: dict[str, Any] | None = None, **spec: Any) -> CronWorkflow:
    manifest: dict[str, Any] = {
        "metadata": {
            "name": "nightly",
            "namespace": "data",
            "uid": "cron-uid",
            "creationTimestamp": "2026-05-01T09:00:00Z",
            "labels": {"team": "etl"},
        },
        "spec": {"schedules": ["*/5 * * * *"], "workflowSpec": WORKFLOW_SPEC, **spec},
    }
    if status is not None:
        manifest["status"] = status
    return CronWorkflow.from_dict(manifest)


def minutes(count: float) -> datetime:
    return CREATED + timedelta(minutes=count)


def run(tick_minutes: float, phase: str | None) -> ChildRun:
    tick = minutes(tick_minutes)
    return ChildRun(f"nightly-{int(tick.timestamp())}", phase, tick)


def test_nothing_before_the_first_tick_and_a_wake_at_it() -> None:
    decision = decide(cron(), [], minutes(2))
    assert decision.actions == ()
    assert decision.wake_at == minutes(5)
    assert decision.status.phase == "Active"
    assert decision.status.last_scheduled_time is None


def test_a_due_tick_creates_its_run_and_records_it() -> None:
    decision = decide(cron(), [], minutes(5) + timedelta(seconds=0.2))
    name = f"nightly-{int(minutes(5).timestamp())}"
    assert decision.actions == (CreateRun(name, minutes(5)),)
    assert decision.status.last_scheduled_time == "2026-05-01T09:05:00Z"
    assert [reference.name for reference in decision.status.active or []] == [name]
    assert decision.wake_at == minutes(10)


def test_a_recorded_tick_is_not_created_again() -> None:
    decision = decide(cron({"lastScheduledTime": "2026-05-01T09:05:00Z"}), [], minutes(5.1))
    assert decision.actions == ()


def test_a_run_whose_status_write_was_lost_still_counts_as_scheduled() -> None:
    """A restart after the create but before the status write neither doubles nor skips."""
    decision = decide(cron(), [run(5, "Running")], minutes(5.1))
    assert decision.actions == ()
    assert decision.status.last_scheduled_time == "2026-05-01T09:05:00Z"
    assert [reference.name for reference in decision.status.active or []] == [run(5, None).name]


def test_after_an_outage_only_the_latest_missed_tick_runs_within_the_deadline() -> None:
    stored = {"lastScheduledTime": "2026-05-01T09:05:00Z"}
    late = decide(cron(stored, startingDeadlineSeconds=120), [], minutes(31))
    assert late.actions == (CreateRun(run(30, None).name, minutes(30)),)
    too_late = decide(cron(stored, startingDeadlineSeconds=30), [], minutes(31))
    assert too_late.actions == ()
    assert too_late.status.last_scheduled_time == "2026-05-01T09:05:00Z"
    assert too_late.wake_at == minutes(35)


def test_without_a_deadline_a_tick_starts_only_on_time() -> None:
    stored = {"lastScheduledTime": "2026-05-01T09:05:00Z"}
    assert decide(cron(stored), [], minutes(10) + timedelta(seconds=9)).actions != ()
    assert decide(cron(stored), [], minutes(10) + timedelta(seconds=11)).actions == ()


def test_forbid_waits_while_a_run_is_active() -> None:
    stored = {"lastScheduledTime": "2026-05-01T09:05:00Z"}
    busy = decide(cron(stored, concurrencyPolicy="Forbid"), [run(5, "Running")], minutes(10))
    assert busy.actions == ()
    assert busy.status.last_scheduled_time == "2026-05-01T09:05:00Z"
    pending = decide(cron(stored, concurrencyPolicy="Forbid"), [run(5, None)], minutes(10))
    assert pending.actions == ()
    done = decide(cron(stored, concurrencyPolicy="Forbid"), [run(5, "Succeeded")], minutes(10))
    assert done.actions == (CreateRun(run(10, None).name, minutes(10)),)


def test_allow_starts_beside_an_active_run() -> None:
    stored = {"lastScheduledTime": "2026-05-01T09:05:00Z"}
    decision = decide(cron(stored), [run(5, "Running")], minutes(10))
    assert decision.actions == (CreateRun(run(10, None).name, minutes(10)),)
    assert len(decision.status.active or []) == 2


def test_replace_terminates_the_active_runs_then_starts() -> None:
    stored = {"lastScheduledTime": "2026-05-01T09:05:00Z"}
    decision = decide(cron(stored, concurrencyPolicy="Replace"), [run(5, "Running")], minutes(10))
    assert decision.actions == (
        TerminateRun(run(5, None).name),
        CreateRun(run(10, None).name, minutes(10)),
    )


def test_suspend_creates_nothing_and_sets_no_timer() -> None:
    decision = decide(cron(suspend=True), [], minutes(5))
    assert decision.actions == ()
    assert decision.wake_at is None


def test_finished_runs_are_counted_once() -> None:
    stored = {
        "lastScheduledTime": "2026-05-01T09:10:00Z",
        "active": [{"name": run(5, None).name}, {"name": run(10, None).name}],
        "succeeded": 4,
        "failed": 1,
    }
    children = [run(0, "Succeeded"), run(5, "Succeeded"), run(10, "Error")]
    first = decide(cron(stored), children, minutes(11))
    assert (first.status.succeeded, first.status.failed, first.status.active) == (5, 2, None)
    again = decide(cron(first.status.model_dump(by_alias=True, exclude_none=True)), children, minutes(12))
    assert (again.status.succeeded, again.status.failed) == (5, 2)


def test_history_limits_delete_the_oldest_finished_runs() -> None:
    stored = {"lastScheduledTime": "2026-05-01T09:35:00Z"}
    children = [run(m, "Succeeded") for m in (5, 10, 15, 20)] + [run(m, "Failed") for m in (25, 30)]
    children.append(run(35, "Running"))
    decision = decide(cron(stored), children, minutes(36))
    assert decision.actions == (DeleteRun(run(5, None).name), DeleteRun(run(25, None).name))
    kept_none = decide(
        cron(stored, successfulJobsHistoryLimit=0, failedJobsHistoryLimit=5), children, minutes(36)
    )
    assert {action.name for action in kept_none.actions} == {run(m, None).name for m in (5, 10, 15, 20)}


def test_stop_strategy_stops_for_good() -> None:
    strategy = {"expression": "cronworkflow.failed >= 2"}
    stored = {"lastScheduledTime": "2026-05-01T09:05:00Z", "failed": 2}
    decision = decide(cron(stored, stopStrategy=strategy), [], minutes(10))
    assert decision.status.phase == "Stopped"
    assert decision.actions == ()
    assert decision.wake_at is None
    stopped = {**stored, "failed": 0, "phase": "Stopped"}
    assert decide(cron(stopped, stopStrategy=strategy), [], minutes(10)).status.phase == "Stopped"
    below = {**stored, "failed": 1}
    assert decide(cron(below, stopStrategy=strategy), [], minutes(10)).actions != ()


def test_a_bad_stop_strategy_is_a_spec_error() -> None:
    decision = decide(cron(stopStrategy={"expression": "cronworkflow.failed >="}), [], minutes(5))
    assert decision.actions == ()
    [condition] = decision.status.conditions or []
    assert condition.type == "SpecError"
    assert "invalid stopStrategy expression 'cronworkflow.failed >='" in (condition.message or "")


def test_when_is_substituted_and_can_skip_a_tick() -> None:
    skip = decide(cron(when="{{cronworkflow.labels.team}} == ops"), [], minutes(5))
    assert skip.actions == ()
    assert skip.wake_at == minutes(10)
    go = decide(cron(when="{{= cronworkflow.succeeded == 0 }}"), [], minutes(5))
    assert len(go.actions) == 1
    first = decide(
        cron(when="'{{cronworkflow.lastScheduledTime}}' == '{{cronworkflow.name}}'"), [], minutes(5)
    )
    assert first.actions == ()
    broken = decide(cron(when="1 +"), [], minutes(5))
    assert broken.actions == ()
    assert (broken.status.conditions or [])[0].type == "SpecError"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"schedules": ["* * *"]},
            "cron schedule * * * is malformed: expected exactly 5 fields, found 3: [* * *]",
        ),
        (
            {"schedules": ["0 * * * *"], "timezone": "Nowhere/Land"},
            "cron schedule CRON_TZ=Nowhere/Land 0 * * * * is malformed: provided bad location "
            "Nowhere/Land: unknown time zone Nowhere/Land",
        ),
        ({"schedules": []}, "at least one schedule is required (spec.schedules)"),
    ],
)
def test_malformed_schedules_are_spec_errors_and_schedule_nothing(spec: dict[str, Any], message: str) -> None:
    decision = decide(cron(**spec), [], minutes(60))
    assert decision.actions == ()
    assert decision.wake_at is None
    assert [(c.type, c.message) for c in decision.status.conditions or []] == [("SpecError", message)]


def test_the_singular_v3_schedule_and_several_schedules_combine() -> None:
    both = cron(schedules=["0 10 * * *"], schedule="30 9 * * *")
    assert decide(both, [], minutes(2)).wake_at == minutes(30)
    decision = decide(both, [], minutes(30))
    assert decision.actions == (CreateRun(run(30, None).name, minutes(30)),)


def test_the_timezone_moves_the_ticks() -> None:
    paris = cron(schedules=["0 12 * * *"], timezone="Europe/Paris")
    assert decide(paris, [], minutes(0)).wake_at == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def test_a_failed_submission_is_not_recorded() -> None:
    decision = decide(cron(), [], minutes(5))
    failed = submission_failed(decision.status, None, run(5, None).name, "denied")
    assert failed.last_scheduled_time is None
    assert failed.active is None
    assert [(c.type, c.message) for c in failed.conditions or []] == [("SubmissionError", "denied")]


def test_the_child_manifest_carries_argos_label_annotation_and_owner() -> None:
    manifest = child_manifest(
        cron(workflowMetadata={"labels": {"tier": "batch"}, "annotations": {"note": "x"}}),
        CreateRun("nightly-1777626300", minutes(5)),
    )
    assert manifest["kind"] == "WorkflowRun"
    assert manifest["metadata"]["name"] == "nightly-1777626300"
    assert manifest["metadata"]["labels"] == {"tier": "batch", CRON_LABEL: "nightly"}
    assert manifest["metadata"]["annotations"] == {"note": "x", SCHEDULED_ANNOTATION: "2026-05-01T09:05:00Z"}
    [owner] = manifest["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
        "CronWorkflow",
        "nightly",
        "cron-uid",
        True,
    )
    assert manifest["spec"] == WORKFLOW_SPEC


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"concurrencyPolicy": "Sometimes"}, "spec.concurrencyPolicy"),
        ({"startingDeadlineSeconds": -1}, "spec.startingDeadlineSeconds"),
        ({"workflowSpec": None}, "spec.workflowSpec"),
    ],
)
def test_malformed_manifests_name_the_field(spec: dict[str, Any], problem: str) -> None:
    with pytest.raises(ManifestError, match=problem):
        cron(**spec)


SIMULATED_MINUTES = {"*/5 * * * *": set(range(0, 60, 5)), "0,7 * * * *": {0, 7}}


@settings(max_examples=80, deadline=None)
@given(
    policy=st.sampled_from(["Allow", "Forbid", "Replace"]),
    schedule=st.sampled_from(["*/5 * * * *", "@every 90s", "0,7 * * * *"]),
    steps=st.lists(
        st.tuples(
            st.integers(0, 15),  # timer latency, or seconds to the next event-driven pass
            st.booleans(),  # the pass is the timer's (at wake_at) rather than an event's
            st.booleans(),  # the oldest active run finishes first
            st.booleans(),  # the status write is lost (a crash, a conflict)
            st.sampled_from(["Succeeded", "Failed"]),
        ),
        min_size=1,
        max_size=40,
    ),
)
def test_a_simulated_world_never_doubles_a_tick_nor_breaks_the_policy(
    policy: str, schedule: str, steps: list[tuple[int, bool, bool, bool, str]]
) -> None:
    """Passes at timer or event instants; runs finish at random; status writes are lost at random."""
    spec = {"schedules": [schedule], "concurrencyPolicy": policy, "successfulJobsHistoryLimit": 2}
    stored: dict[str, Any] = {}
    children: dict[str, ChildRun] = {}
    created: list[datetime] = []
    now, wake_at = CREATED, None
    for delay, timer, finish_oldest, lose_write, outcome in steps:
        now = (wake_at if timer and wake_at else now) + timedelta(seconds=delay)
        running = sorted(name for name, child in children.items() if not child.finished)
        if finish_oldest and running:
            children[running[0]] = ChildRun(running[0], outcome, children[running[0]].scheduled)
            running = running[1:]
        decision = decide(cron(stored or None, **spec), list(children.values()), now)
        for action in decision.actions:
            if isinstance(action, CreateRun):
                assert action.name not in children, "a tick created twice"
                assert timedelta(0) <= now - action.scheduled <= timedelta(seconds=10)
                assert policy != "Forbid" or not running
                children[action.name] = ChildRun(action.name, None, action.scheduled)
                created.append(action.scheduled)
            elif isinstance(action, TerminateRun):
                assert policy == "Replace"
                children[action.name] = ChildRun(action.name, "Failed", children[action.name].scheduled)
            else:
                assert children[action.name].finished
                del children[action.name]
        assert sum(1 for child in children.values() if child.phase == "Succeeded") <= 2
        wake_at = decision.wake_at or wake_at
        if not lose_write:
            stored = decision.status.model_dump(by_alias=True, exclude_none=True)
    assert created == sorted(set(created))  # ticks only move forward, never twice
    allowed = SIMULATED_MINUTES.get(schedule)
    assert allowed is None or all(tick.second == 0 and tick.minute in allowed for tick in created)


def test_timer_driven_passes_create_one_run_per_tick() -> None:
    stored: dict[str, Any] = {}
    names: list[str] = []
    wake_at = decide(cron(), [], CREATED).wake_at
    for _ in range(6):
        assert wake_at is not None
        decision = decide(cron(stored or None), [], wake_at + timedelta(seconds=0.05))
        names += [action.name for action in decision.actions if isinstance(action, CreateRun)]
        stored = decision.status.model_dump(by_alias=True, exclude_none=True)
        wake_at = decision.wake_at
    assert names == [run(minute, None).name for minute in (5, 10, 15, 20, 25, 30)]
