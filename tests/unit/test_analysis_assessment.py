"""The pure AnalysisRun core: outcome table, limits, metric and run phases, scheduling, reconcile."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from analysis.assessment import (
    ERROR_RETRY_INTERVAL,
    Conclusion,
    MetricLimits,
    SpecError,
    TakenMeasurement,
    TaskKind,
    assess_metric,
    conclude_reconcile,
    evaluate_result,
    fail_reconcile,
    format_time,
    next_measurement_at,
    parse_time,
    plan_reconcile,
    record_measurement,
    replace_status,
    resolve_tasks,
    validate_metrics,
)
from analysis.composition import CompositionError
from analysis.models import AnalysisRun, Measurement, Metric, MetricResult

T0 = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)
PROMETHEUS = {"prometheus": {"address": "http://prometheus:9090", "query": "up"}}


def metric(**fields: Any) -> Metric:
    return Metric.from_dict({"name": "m", "provider": PROMETHEUS, **fields})


def run_of(*metrics: dict[str, Any], **spec: Any) -> AnalysisRun:
    return AnalysisRun.from_dict({"spec": {"metrics": list(metrics), **spec}})


def m(name: str = "m", **fields: Any) -> dict[str, Any]:
    return {"name": name, "provider": PROMETHEUS, **fields}


def measured(phase: str, at: datetime, *, took: float = 1.0, message: str | None = None) -> Measurement:
    return Measurement(
        phase=phase,
        message=message,
        value="[1]" if phase != "Error" else None,
        started_at=format_time(at),
        finished_at=format_time(at + timedelta(seconds=took)),
    )


def result_of(*phases: str, limits_metric: Metric | None = None, **counters: int) -> MetricResult:
    result = MetricResult(name="m", phase="Running")
    for index, phase in enumerate(phases):
        result = record_measurement(
            result, measured(phase, T0 + timedelta(minutes=index)), replaces_last=False
        )
    return result.model_copy(update=counters) if counters else result


Outcomes = Callable[[str, datetime], Measurement]


def reconcile(
    run: AnalysisRun, now: datetime, outcome: Outcomes, secrets: tuple[str, ...] = ()
) -> Conclusion:
    """One reconcile as the shell will do it, with ``outcome`` standing in for the providers."""
    plan = plan_reconcile(run, now)
    taken = {task.metric.name: TakenMeasurement(outcome(task.metric.name, now)) for task in plan.tasks}
    return conclude_reconcile(run, plan, taken, now, secrets=secrets)


def drive(run: AnalysisRun, outcome: Outcomes, *, limit: int = 50) -> tuple[AnalysisRun, list[Conclusion]]:
    """Reconcile at each requeue time until the run completes."""
    now = T0
    steps: list[Conclusion] = []
    for _ in range(limit):
        conclusion = reconcile(run, now, outcome)
        steps.append(conclusion)
        run = replace_status(run, conclusion.status)
        if conclusion.requeue_at is None:
            return run, steps
        now = max(now, conclusion.requeue_at)
    raise AssertionError("the run did not complete")


def always(phase: str, message: str | None = None) -> Outcomes:
    return lambda name, now: measured(phase, now, message=message)


# --------------------------------------------------------------------------------------------
# §6.6 outcome table


@pytest.mark.parametrize(
    ("success", "failure", "expected"),
    [
        (None, None, "Successful"),
        ("result[0] >= 0.95", None, "Successful"),
        ("result[0] >= 0.99", None, "Failed"),
        (None, "result[0] < 0.95", "Successful"),
        (None, "result[0] >= 0.95", "Failed"),
        ("result[0] >= 0.95", "result[0] < 0.5", "Successful"),
        ("result[0] >= 0.99", "result[0] < 0.5", "Inconclusive"),
        ("result[0] >= 0.5", "result[0] >= 0.9", "Failed"),
    ],
)
def test_outcome_table(success: str | None, failure: str | None, expected: str) -> None:
    verdict = evaluate_result(metric(successCondition=success, failureCondition=failure), [0.96])
    assert (verdict.phase, verdict.error) == (expected, None)


def test_an_empty_result_indexed_by_a_condition_is_an_error_saying_no_data_came_back() -> None:
    verdict = evaluate_result(metric(successCondition="result[0] >= 0.95"), [])
    assert verdict.phase == "Error"
    assert verdict.error == (
        'could not evaluate successCondition "result[0] >= 0.95": '
        "metric result is nil or empty: no data returned from the metric provider"
    )
    assert evaluate_result(metric(failureCondition="result > 1"), None).error == (
        'could not evaluate failureCondition "result > 1": '
        "metric result is nil or empty: no data returned from the metric provider"
    )


def test_a_guarded_condition_handles_the_empty_result() -> None:
    guarded = metric(successCondition="len(result) == 0 || result[0] >= 0.95")
    assert evaluate_result(guarded, []).phase == "Successful"
    assert evaluate_result(metric(successCondition="default(result, 0) < 0.05"), None).phase == "Successful"


def test_condition_errors_name_the_condition_and_the_position() -> None:
    verdict = evaluate_result(metric(successCondition="result[0] >="), [1.0])
    assert verdict.phase == "Error"
    assert verdict.error is not None
    assert verdict.error.startswith('could not evaluate successCondition "result[0] >=": ')
    assert "(1:" in verdict.error
    not_bool = evaluate_result(metric(successCondition="result[0]"), [1.0])
    assert not_bool.error == 'could not evaluate successCondition "result[0]": expected bool, but got float64'


def test_nan_and_inf_results_follow_the_conditions() -> None:
    nan, inf = [math.nan], [math.inf]
    assert evaluate_result(metric(successCondition="result[0] >= 0.95"), nan).phase == "Failed"
    assert evaluate_result(metric(successCondition="isNaN(result[0])"), nan).phase == "Successful"
    assert evaluate_result(metric(failureCondition="isInf(result[0])"), inf).phase == "Failed"


def test_conditions_see_the_injected_clock() -> None:
    late = datetime(2030, 1, 1, tzinfo=UTC)
    condition = metric(successCondition='now() > date("2029-12-31")')
    assert evaluate_result(condition, 1.0, clock=lambda: late).phase == "Successful"
    assert evaluate_result(condition, 1.0, clock=lambda: T0).phase == "Failed"


# --------------------------------------------------------------------------------------------
# §6.2 limits and validation


def test_effective_count() -> None:
    assert MetricLimits.of(metric()).effective_count == 1
    assert MetricLimits.of(metric(interval="1m")).effective_count is None
    assert MetricLimits.of(metric(interval="1m", count=5)).effective_count == 5
    assert MetricLimits.of(metric(interval="1m", count="7")).effective_count == 7
    assert MetricLimits.of(metric()).consecutive_error_limit == 4
    assert MetricLimits.of(metric(interval="1m30s")).interval == timedelta(seconds=90)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"count": 2, "failureLimit": 3, "interval": "1m"}, "count must be >= failureLimit"),
        ({"count": 2, "inconclusiveLimit": 3, "interval": "1m"}, "count must be >= inconclusiveLimit"),
        (
            {"count": 3, "failureLimit": 2, "consecutiveSuccessLimit": 2, "interval": "1m"},
            "count must be >= failureLimit + consecutiveSuccessLimit",
        ),
        (
            {"count": 1, "failureLimit": -1, "consecutiveSuccessLimit": 2, "interval": "1m"},
            "count must be >= consecutiveSuccessLimit",
        ),
        ({"count": 3}, "interval must be specified when count > 1"),
        (
            {"interval": "5 minutes"},
            'invalid interval string: time: unknown unit " minutes" in duration "5 minutes"',
        ),
        ({"interval": "0s"}, "interval must be positive"),
        ({"initialDelay": "soon"}, 'invalid startDelay string: time: invalid duration "soon"'),
        ({"failureLimit": -2}, "failureLimit must be >= -1"),
        ({"inconclusiveLimit": -1}, "inconclusiveLimit must be >= 0"),
        ({"consecutiveErrorLimit": -1}, "consecutiveErrorLimit must be >= 0"),
        ({"consecutiveSuccessLimit": -1}, "consecutiveSuccessLimit must be >= 0"),
        ({"failureLimit": -1}, "failureLimit and consecutiveSuccessLimit cannot both be disabled"),
        ({"provider": {}}, "no provider specified"),
        ({"provider": {**PROMETHEUS, "web": {"url": "http://x"}}}, "multiple providers specified"),
        ({"provider": {"plugin": {"a/b": {}, "c/d": {}}}}, "multiple providers specified"),
    ],
)
def test_validation_messages(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError) as raised:
        validate_metrics([metric(**fields)])
    assert str(raised.value) == f"metrics[0]: {message}"


def test_validation_of_the_metric_list() -> None:
    for metrics, message in (
        ([], "no metrics specified"),
        ([metric(), metric()], "metrics[1]: duplicate name 'm'"),
    ):
        with pytest.raises(SpecError) as raised:
            validate_metrics(metrics)
        assert str(raised.value) == message
    validate_metrics(
        [metric(count="3", interval="1m"), metric(name="n", failureLimit="-1", consecutiveSuccessLimit="2")]
    )


# --------------------------------------------------------------------------------------------
# Counters and the metric phase


def test_counters_follow_upstream() -> None:
    result = result_of("Successful", "Successful", "Error", "Failed", "Inconclusive", "Error", "Error")
    assert (result.count, result.successful, result.failed, result.inconclusive, result.error) == (
        4,
        2,
        1,
        1,
        3,
    )
    assert (result.consecutive_error, result.consecutive_success) == (2, None)
    streak = result_of("Error", "Successful", "Successful")
    assert (streak.consecutive_error, streak.consecutive_success, streak.count) == (None, 2, 2)


def test_an_unfinished_measurement_changes_no_counter_until_it_completes() -> None:
    running = Measurement(phase="Running", started_at=format_time(T0))
    result = record_measurement(MetricResult(name="m", phase="Running"), running, replaces_last=False)
    assert result.count is None
    done = running.model_copy(update={"phase": "Successful", "finished_at": format_time(T0)})
    result = record_measurement(result, done, replaces_last=True)
    assert (len(result.measurements or []), result.count, result.successful) == (1, 1, 1)


@pytest.mark.parametrize(
    ("fields", "phases", "terminating", "expected", "reason"),
    [
        ({}, [], False, "Pending", ""),
        ({}, [], True, "Successful", ""),
        ({"interval": "1m"}, ["Successful"], False, "Running", ""),
        ({"interval": "1m"}, ["Successful"], True, "Successful", ""),
        ({}, ["Failed"], False, "Failed", "failed (1) > failureLimit (0)"),
        ({"interval": "1m", "failureLimit": 2}, ["Failed", "Failed"], False, "Running", ""),
        (
            {"interval": "1m", "failureLimit": 2},
            ["Failed"] * 3,
            False,
            "Failed",
            "failed (3) > failureLimit (2)",
        ),
        (
            {"interval": "1m", "failureLimit": -1, "consecutiveSuccessLimit": 2},
            ["Failed"] * 9,
            False,
            "Running",
            "",
        ),
        ({}, ["Inconclusive"], False, "Inconclusive", "inconclusive (1) > inconclusiveLimit (0)"),
        ({"interval": "1m"}, ["Error"] * 4, False, "Running", ""),
        (
            {"interval": "1m"},
            ["Error"] * 5,
            False,
            "Error",
            "consecutiveErrors (5) > consecutiveErrorLimit (4)",
        ),
        (
            {"consecutiveErrorLimit": 0},
            ["Error"],
            False,
            "Error",
            "consecutiveErrors (1) > consecutiveErrorLimit (0)",
        ),
        # Later checks win when several limits are exceeded.
        (
            {"interval": "1m", "consecutiveErrorLimit": 0},
            ["Failed", "Error"],
            False,
            "Error",
            "consecutiveErrors (1) > consecutiveErrorLimit (0)",
        ),
        (
            {"interval": "1m", "count": 3},
            ["Successful", "Failed"],
            False,
            "Failed",
            "failed (1) > failureLimit (0)",
        ),
        ({"interval": "1m", "count": 2}, ["Successful", "Error", "Successful"], False, "Successful", ""),
        (
            {"interval": "1m", "consecutiveSuccessLimit": 2},
            ["Successful", "Successful"],
            False,
            "Successful",
            "",
        ),
        (
            {"interval": "1m", "count": 3, "consecutiveSuccessLimit": 2, "failureLimit": 1},
            ["Successful", "Failed", "Successful"],
            False,
            "Inconclusive",
            "",
        ),
        (
            {"interval": "1m", "count": 3, "consecutiveSuccessLimit": 3, "failureLimit": -1},
            ["Successful", "Failed", "Successful"],
            False,
            "Failed",
            "",
        ),
        # Never Successful when nothing but errors was measured.
        ({"interval": "1m"}, ["Error", "Error"], True, "Error", "every measurement errored (2)"),
        ({"interval": "1m", "count": 5}, ["Error"], True, "Error", "every measurement errored (1)"),
        ({"interval": "1m"}, ["Error", "Successful", "Error"], True, "Successful", ""),
    ],
)
def test_metric_phase(
    fields: dict[str, Any], phases: list[str], terminating: bool, expected: str, reason: str
) -> None:
    limits = MetricLimits.of(metric(**fields))
    assert assess_metric(limits, result_of(*phases), terminating=terminating) == (expected, reason)


def test_an_in_flight_measurement_keeps_the_metric_running() -> None:
    result = result_of("Failed")
    result = record_measurement(result, Measurement(phase="Running"), replaces_last=False)
    assert assess_metric(MetricLimits.of(metric()), result, terminating=True) == ("Running", "")


# --------------------------------------------------------------------------------------------
# Scheduling


def test_the_first_measurement_waits_for_the_initial_delay() -> None:
    limits = MetricLimits.of(metric(interval="1m", initialDelay="30s"))
    assert next_measurement_at(limits, None, T0) == T0 + timedelta(seconds=30)
    assert next_measurement_at(MetricLimits.of(metric()), None, T0) == T0


def test_measurements_keep_to_the_grid_however_late_one_was() -> None:
    limits = MetricLimits.of(metric(interval="1m", initialDelay="10s"))
    late = MetricResult(
        name="m", phase="Running", measurements=[measured("Successful", T0 + timedelta(seconds=87))]
    )
    # Grid: 0:10, 1:10, 2:10 ... a measurement taken at 1:27 is followed by the one due at 2:10.
    assert next_measurement_at(limits, late, T0) == T0 + timedelta(minutes=2, seconds=10)
    very_late = MetricResult(
        name="m",
        phase="Running",
        measurements=[measured("Successful", T0 + timedelta(minutes=5, seconds=20))],
    )
    assert next_measurement_at(limits, very_late, T0) == T0 + timedelta(minutes=6, seconds=10)


def test_an_error_is_retried_ten_seconds_after_it_finished() -> None:
    limits = MetricLimits.of(metric(interval="5m"))
    errored = MetricResult(name="m", phase="Running", measurements=[measured("Error", T0, took=3)])
    assert next_measurement_at(limits, errored, T0) == T0 + timedelta(seconds=3) + ERROR_RETRY_INTERVAL


def test_no_measurement_is_due_once_the_count_is_reached() -> None:
    limits = MetricLimits.of(metric(interval="1m", count=2))
    assert next_measurement_at(limits, result_of("Successful", "Failed"), T0) is None
    assert next_measurement_at(limits, result_of("Successful", "Error"), T0) is not None


def test_times_round_trip_with_and_without_fractions() -> None:
    assert format_time(T0) == "2024-05-01T10:00:00Z"
    fraction = T0 + timedelta(microseconds=1500)
    assert format_time(fraction) == "2024-05-01T10:00:00.001500Z"
    assert parse_time(format_time(fraction)) == fraction
    assert parse_time("2024-05-01T12:00:00+02:00") == T0
    assert parse_time(None) is None


# --------------------------------------------------------------------------------------------
# Whole reconciles


def test_a_counted_metric_runs_to_success_on_schedule() -> None:
    run = run_of(m(interval="1m", count=3, successCondition="result[0] > 0"))
    run, steps = drive(run, always("Successful"))
    assert [step.status.phase for step in steps] == ["Running", "Running", "Successful"]
    assert [step.requeue_at for step in steps[:2]] == [T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    status = run.status
    assert status is not None
    assert (status.started_at, status.completed_at) == ("2024-05-01T10:00:00Z", "2024-05-01T10:02:00Z")
    assert status.run_summary is not None
    assert (status.run_summary.count, status.run_summary.successful) == (1, 1)
    assert [(e.type, e.reason, e.message) for e in steps[-1].events] == [
        ("Normal", "MetricSuccessful", "Metric 'm' Completed. Result: Successful"),
        ("Normal", "AnalysisRunSuccessful", "Analysis Completed. Result: Successful"),
    ]


def test_a_restart_neither_repeats_nor_skips_a_measurement() -> None:
    run = run_of(m(interval="1m", count=3))
    first = reconcile(run, T0, always("Successful"))
    run = replace_status(run, first.status)
    # A restarted controller reconciles at once, and again a little before the due time: nothing to do.
    for moment in (T0 + timedelta(seconds=2), T0 + timedelta(seconds=59)):
        assert plan_reconcile(run, moment).tasks == ()
    # After an outage the overdue measurement is taken once, then the grid resumes.
    late = T0 + timedelta(minutes=3, seconds=20)
    second = reconcile(run, late, always("Successful"))
    assert second.requeue_at == T0 + timedelta(minutes=4)
    run = replace_status(run, second.status)
    assert plan_reconcile(run, late + timedelta(seconds=1)).tasks == ()


def test_every_measurement_erroring_ends_the_run_in_error_after_the_limit() -> None:
    run = run_of(m(interval="1m", successCondition="result[0] > 0"))
    run, steps = drive(run, always("Error", 'Post "http://prometheus:9090/api/v1/query": connection refused'))
    assert run.status is not None
    assert run.status.phase == "Error"
    assert run.status.message == (
        'Metric "m" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4): '
        '"Error Message: Post "http://prometheus:9090/api/v1/query": connection refused"'
    )
    # Five measurements, each retried 10 s after the previous error finished.
    assert len(steps) == 5
    assert [step.requeue_at for step in steps[:4]] == [T0 + timedelta(seconds=11 * i) for i in range(1, 5)]


def test_a_terminated_run_whose_measurements_all_errored_is_not_successful() -> None:
    run = run_of(m(interval="1m"))
    conclusion = reconcile(run, T0, always("Error", "boom"))
    terminated = replace_status(run, conclusion.status).model_copy(
        update={"spec": run.spec.model_copy(update={"terminate": True})}
    )
    final = reconcile(terminated, T0 + timedelta(seconds=5), always("Successful"))
    assert final.status.phase == "Error"
    assert (
        final.status.message
        == 'Metric "m" assessed Error due to every measurement errored (1): "Error Message: boom"'
    )


def test_terminating_before_the_first_measurement_is_successful() -> None:
    run = run_of(m(interval="1m", initialDelay="5m"), terminate=True)
    conclusion = reconcile(run, T0, always("Failed"))
    assert (conclusion.status.phase, conclusion.status.message) == ("Successful", "Run Terminated")
    assert conclusion.requeue_at is None


def test_terminating_an_unbounded_metric_with_successes_is_successful() -> None:
    run = run_of(m(interval="1m"))
    run = replace_status(run, reconcile(run, T0, always("Successful")).status)
    stop = run.model_copy(update={"spec": run.spec.model_copy(update={"terminate": True})})
    conclusion = reconcile(stop, T0 + timedelta(seconds=30), always("Failed"))
    assert (conclusion.status.phase, conclusion.status.message) == ("Successful", "Run Terminated")


def test_a_failed_metric_ends_the_whole_run_in_the_same_reconcile() -> None:
    run = run_of(m("bad", interval="1m"), m("good", interval="1m"))

    def outcome(name: str, now: datetime) -> Measurement:
        return measured("Failed" if name == "bad" else "Successful", now)

    conclusion = reconcile(run, T0, outcome)
    phases = {r.name: r.phase for r in conclusion.status.metric_results or []}
    assert phases == {"bad": "Failed", "good": "Successful"}
    assert conclusion.status.phase == "Failed"
    assert conclusion.status.message == 'Metric "bad" assessed Failed due to failed (1) > failureLimit (0)'
    assert conclusion.status.run_summary is not None
    assert (conclusion.status.run_summary.failed, conclusion.status.run_summary.successful) == (1, 1)
    assert [e.reason for e in conclusion.events] == ["MetricFailed", "MetricSuccessful", "AnalysisRunFailed"]
    assert conclusion.events[0].type == "Warning"
    assert conclusion.requeue_at is None


def test_the_worst_metric_decides_the_run() -> None:
    run = run_of(m("a"), m("b"), m("c"))
    phases = {"a": "Inconclusive", "b": "Failed", "c": "Successful"}
    conclusion = reconcile(run, T0, lambda name, now: measured(phases[name], now))
    assert conclusion.status.phase == "Failed"
    inconclusive = reconcile(run_of(m("a"), m("c")), T0, lambda name, now: measured(phases[name], now))
    assert inconclusive.status.phase == "Inconclusive"
    assert (
        inconclusive.status.message
        == 'Metric "a" assessed Inconclusive due to inconclusive (1) > inconclusiveLimit (0)'
    )


def test_dry_run_metrics_never_decide_the_run() -> None:
    run = run_of(m("shadow"), m("real"), dryRun=[{"metricName": "sha.*"}])

    def outcome(name: str, now: datetime) -> Measurement:
        return measured("Failed" if name == "shadow" else "Successful", now)

    conclusion = reconcile(run, T0, outcome)
    assert conclusion.status.phase == "Successful"
    shadow = next(r for r in conclusion.status.metric_results or [] if r.name == "shadow")
    assert (shadow.dry_run, shadow.phase) == (True, "Failed")
    assert shadow.message == "Metric assessed Failed due to failed (1) > failureLimit (0)"
    assert conclusion.status.dry_run_summary is not None
    assert (conclusion.status.dry_run_summary.count, conclusion.status.dry_run_summary.failed) == (1, 1)
    only_dry = reconcile(run_of(m("x"), dryRun=[{"metricName": ".*"}]), T0, always("Failed"))
    assert only_dry.status.phase == "Successful"


@pytest.mark.parametrize(
    ("args", "condition", "message"),
    [
        ([{"name": "limit"}], "result > {{args.limit}}", 'argument "limit" was not supplied'),
        ([{"name": "other", "value": "1"}], "result > {{args.limit}}", "failed to resolve {{args.limit}}"),
        ([], "{{ inputs.x }}", "failed to resolve {{ inputs.x }}"),
        # As upstream: the placeholder runs to the next "}}" of the metric's JSON text.
        ([], "{{args.x", 'failed to resolve {{args.x","provider":{"prometheus":'),
    ],
)
def test_unresolvable_arguments_end_the_run_in_error(
    args: list[dict[str, str]], condition: str, message: str
) -> None:
    run = run_of(m(successCondition=condition), args=args)
    conclusion = reconcile(run, T0, always("Successful"))
    assert conclusion.status.phase == "Error"
    assert (conclusion.status.message or "").startswith(f"Unable to resolve metric arguments: {message}")
    assert conclusion.status.completed_at == "2024-05-01T10:00:00Z"
    assert [e.reason for e in conclusion.events] == ["AnalysisRunError"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"metrics": [m(count=5)]}, "metrics[0]: interval must be specified when count > 1"),
        (
            {"metrics": [m()], "dryRun": [{"metricName": "nothing"}]},
            "dryRun[0]: Rule didn't match any metric name(s)",
        ),
        (
            {"metrics": [m()], "measurementRetention": [{"metricName": "(", "limit": 2}]},
            "measurementRetention[0]: Rule didn't match any metric name(s)",
        ),
        (
            {"metrics": [m(count="{{args.n}}", interval="x")], "args": [{"name": "n", "value": "2"}]},
            'metrics[0]: invalid interval string: time: invalid duration "x"',
        ),
    ],
)
def test_an_invalid_spec_ends_the_run_in_error(spec: dict[str, Any], message: str) -> None:
    conclusion = reconcile(AnalysisRun.from_dict({"spec": spec}), T0, always("Successful"))
    assert (conclusion.status.phase, conclusion.status.message) == (
        "Error",
        f"Analysis spec invalid: {message}",
    )


def test_measurements_are_trimmed_to_the_retention_limit() -> None:
    run = run_of(
        m("kept", interval="1m"),
        m("short", interval="1m"),
        measurementRetention=[{"metricName": "^sh", "limit": 3}],
    )
    now = T0
    conclusion = None
    for _ in range(12):
        conclusion = reconcile(run, now, always("Successful"))
        run = replace_status(run, conclusion.status)
        now += timedelta(minutes=1)
    assert conclusion is not None
    sizes = {r.name: len(r.measurements or []) for r in conclusion.status.metric_results or []}
    assert sizes == {"kept": 10, "short": 3}
    assert dict(conclusion.trimmed) == {"kept": 10, "short": 3}
    kept = next(r for r in conclusion.status.metric_results or [] if r.name == "kept")
    assert kept.count == 12  # counters survive trimming
    assert (kept.measurements or [])[-1].started_at == format_time(T0 + timedelta(minutes=11))


def test_the_initial_delay_postpones_the_first_measurement() -> None:
    run = run_of(m(interval="1m", initialDelay="30s"))
    first = reconcile(run, T0, always("Successful"))
    assert first.status.metric_results == []
    assert (first.status.phase, first.requeue_at) == ("Running", T0 + timedelta(seconds=30))
    run = replace_status(run, first.status)
    assert plan_reconcile(run, T0 + timedelta(seconds=29)).tasks == ()
    assert [t.kind for t in plan_reconcile(run, T0 + timedelta(seconds=30)).tasks] == [TaskKind.MEASURE]


def test_asynchronous_measurements_are_resumed_then_terminated() -> None:
    run = run_of(m(interval="1m"))
    resume_at = T0 + timedelta(seconds=4)

    def running(name: str, now: datetime) -> Measurement:
        return Measurement(phase="Running", started_at=format_time(now), resume_at=format_time(resume_at))

    first = reconcile(run, T0, running)
    assert first.requeue_at == resume_at
    run = replace_status(run, first.status)
    assert plan_reconcile(run, T0 + timedelta(seconds=3)).tasks == ()
    plan = plan_reconcile(run, resume_at)
    assert [(t.kind, t.measurement is not None) for t in plan.tasks] == [(TaskKind.RESUME, True)]
    stop = run.model_copy(update={"spec": run.spec.model_copy(update={"terminate": True})})
    plan = plan_reconcile(stop, T0 + timedelta(seconds=1))  # terminated at once, not at resumeAt
    assert [t.kind for t in plan.tasks] == [TaskKind.TERMINATE]
    task_measurement = plan.tasks[0].measurement
    assert task_measurement is not None
    ended = task_measurement.model_copy(update={"phase": "Inconclusive"})
    conclusion = conclude_reconcile(stop, plan, {"m": TakenMeasurement(ended)}, T0 + timedelta(seconds=1))
    result = (conclusion.status.metric_results or [])[0]
    assert len(result.measurements or []) == 1
    last = (result.measurements or [])[0]
    assert (last.message, last.finished_at) == ("Metric Terminated", "2024-05-01T10:00:01Z")
    assert conclusion.status.phase == "Inconclusive"


def test_secret_values_are_redacted_from_measurement_messages() -> None:
    run = run_of(m())
    conclusion = reconcile(run, T0, always("Error", "401 for token hunter2 at x"), secrets=("hunter2",))
    measurement = ((conclusion.status.metric_results or [])[0].measurements or [])[0]
    assert measurement.message == "401 for token ***** at x"


def test_secret_backed_args_are_resolved_only_for_measuring() -> None:
    run = AnalysisRun.from_dict(
        {
            "spec": {
                "args": [{"name": "token", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}}],
                "metrics": [m(provider={"web": {"url": "http://x/?t={{args.token}}"}})],
            }
        }
    )
    plan = plan_reconcile(run, T0)
    assert plan.metrics[0].provider.web is not None
    assert plan.metrics[0].provider.web.url == "http://x/?t=temp-for-secret"
    metrics, secrets = resolve_tasks(plan, run.spec.args or [], {"creds": {"token": "s3cr3t"}})
    assert metrics["m"].provider.web is not None
    assert (metrics["m"].provider.web.url, secrets) == ("http://x/?t=s3cr3t", ("s3cr3t",))
    with pytest.raises(CompositionError) as missing:
        resolve_tasks(plan, run.spec.args or [], {})
    failed = fail_reconcile(plan, missing.value, T0)
    assert (failed.status.phase, failed.status.message) == (
        "Error",
        'Unable to resolve metric arguments: secrets "creds" not found',
    )


def test_a_completed_run_is_left_alone() -> None:
    run, _ = drive(run_of(m()), always("Successful"))
    plan = plan_reconcile(run, T0 + timedelta(hours=1))
    assert plan.tasks == ()
    conclusion = conclude_reconcile(run, plan, {}, T0 + timedelta(hours=1))
    assert (conclusion.status, conclusion.events, conclusion.requeue_at) == (run.status, (), None)


def test_metric_metadata_is_kept_with_the_result() -> None:
    run = run_of(m())
    plan = plan_reconcile(run, T0)
    taken: Mapping[str, TakenMeasurement] = {
        "m": TakenMeasurement(measured("Successful", T0), {"ResolvedPrometheusQuery": "up"})
    }
    conclusion = conclude_reconcile(run, plan, taken, T0)
    assert (conclusion.status.metric_results or [])[0].metadata == {"ResolvedPrometheusQuery": "up"}
