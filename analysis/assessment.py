"""Deciding an AnalysisRun: measurement outcomes, metric and run phases, and when to measure next.

Reference §6.2 and §6.6 to §6.8. A reconcile of one run is two pure calls around the provider I/O:

1. :func:`plan_reconcile` (run, now) → which metrics to measure, resume or terminate now, or a
   final status when the spec cannot run (``Unable to resolve metric arguments``, ``Analysis
   spec invalid``);
2. the shell reads the Secrets the args name, fills them in with :func:`resolve_tasks` (a
   missing one ends the run: :func:`fail_reconcile`) and takes the measurements (providers
   never raise: a provider error is an ``Error`` measurement);
3. :func:`conclude_reconcile` (run, plan, measurements, now) → the new status, the Events to
   emit and the time of the next reconcile.

Every rule follows upstream's ``analysis/analysis.go``, with these deliberate differences, each
fixing a reported problem of the incumbent:

* **An errored metric is never Successful.** Upstream assesses a terminated metric Successful
  even when every measurement it took errored (errors do not count towards ``count``), so a
  run whose queries all failed could end Successful. Here such a metric ends ``Error``
  ("every measurement errored (N)"). A metric terminated before its first measurement still
  ends Successful, as upstream.
* **Measurements keep to a grid.** Upstream schedules the next measurement at the previous
  one's ``finishedAt + interval``, so every measurement drifts later by the query time and the
  reconcile lag. Here measurements are due at ``startedAt + initialDelay + k·interval``; the
  next one is the first grid point after the previous measurement *started*. Only status
  timestamps are read, so a restarted controller neither skips nor repeats a measurement, and
  a late measurement does not push the later ones back. After an ``Error`` measurement the
  retry is 10 s after it finished, as upstream.
* **A failing metric ends the run in the same reconcile.** Upstream notices "terminating"
  (some metric Failed, Error or Inconclusive) only on the next reconcile; here the assessment
  is repeated at once, giving the state upstream reaches one reconcile later.
* An unfinished (Job) measurement of a terminating run is terminated at once; upstream waits
  for its ``resumeAt`` and may complete the run with the Job still running.
* ``runSummary`` counts metrics by their assessed phase (upstream counts a metric that ended
  by reaching ``count`` with ``consecutiveSuccessLimit`` unmet as Successful).
* Intervals must be positive (upstream would measure on every reconcile).
* A count or limit that is not an integer after argument substitution (``count: "x"``)
  ends the run ``Error`` naming the field; upstream reads it as 0, silently turning a
  ``failureLimit`` into 0 or a ``count`` into "unbounded".

Timestamps are written as RFC 3339 in UTC with microseconds when they are not whole seconds
(Go clients parse both), so the grid is exact. Time is always a parameter.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from analysis.composition import (
    SECRET_PLACEHOLDER,
    CompositionError,
    args_without_secrets,
    dry_run_metrics,
    redact,
    resolve_metric,
    resolve_metrics,
    resolve_secret_args,
    retention_limits,
)
from analysis.expr import ExprError, evaluate_condition
from analysis.expr.program import utc_now
from analysis.models import (
    AnalysisPhase,
    AnalysisRun,
    AnalysisRunStatus,
    Argument,
    Measurement,
    Metric,
    MetricResult,
    RunSummary,
)
from analysis.values import (
    DurationError,
    IntOrString,
    IntOrStringError,
    go_atoi,
    int_or_string_value,
    parse_go_duration_ns,
)

__all__ = [
    "DEFAULT_CONSECUTIVE_ERROR_LIMIT",
    "ERROR_RETRY_INTERVAL",
    "Conclusion",
    "Event",
    "MetricLimits",
    "Plan",
    "SpecError",
    "TakenMeasurement",
    "Task",
    "TaskKind",
    "Verdict",
    "assess_metric",
    "conclude_reconcile",
    "evaluate_result",
    "fail_reconcile",
    "format_time",
    "next_measurement_at",
    "parse_time",
    "plan_reconcile",
    "record_measurement",
    "replace_status",
    "resolve_tasks",
    "validate_metrics",
]

DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4
"""Errors in a row tolerated: the fifth consecutive error makes the metric Error."""

ERROR_RETRY_INTERVAL = timedelta(seconds=10)
"""Delay before retrying after an Error measurement (and the interval of a metric without one)."""

_PHASE_ORDER = (
    AnalysisPhase.SUCCESSFUL,
    AnalysisPhase.RUNNING,
    AnalysisPhase.PENDING,
    AnalysisPhase.INCONCLUSIVE,
    AnalysisPhase.ERROR,
    AnalysisPhase.FAILED,
)
"""Best to worst, as upstream ranks phases when picking a run's phase."""

_COMPLETED_PHASES = frozenset(phase for phase in AnalysisPhase if phase.completed)

_ENDING_PHASES = (AnalysisPhase.FAILED, AnalysisPhase.ERROR, AnalysisPhase.INCONCLUSIVE)
"""A non-dry-run metric in one of these makes the whole run terminate."""


class SpecError(ValueError):
    """A metric spec the controller cannot run; the message is upstream's."""


# --------------------------------------------------------------------------------------------
# One measurement (§6.6)


@dataclass(frozen=True)
class Verdict:
    """The phase a provider result earns, or the evaluation error that makes it ``Error``."""

    phase: AnalysisPhase
    error: str | None = None


def evaluate_result(metric: Metric, result: Any, *, clock: Callable[[], datetime] = utc_now) -> Verdict:
    """Upstream's ``EvaluateResult``: the outcome table of success and failure conditions.

    An empty provider result (``None`` or an empty list, e.g. a Prometheus query that matched
    no series) is not special unless a condition fails on it; then the Error message says that
    no data came back instead of showing an index error. ``len(result) == 0 || ...`` works.
    """
    conditions = (
        ("successCondition", metric.success_condition),
        ("failureCondition", metric.failure_condition),
    )
    outcomes: dict[str, bool] = {}
    for kind, text in conditions:
        if not text:
            continue
        try:
            outcomes[kind] = evaluate_condition(text, result, clock=clock)
        except ExprError as error:
            if result is None or (isinstance(result, list | tuple) and not result):
                reason = "metric result is nil or empty: no data returned from the metric provider"
            else:
                reason = str(error)
            return Verdict(AnalysisPhase.ERROR, f'could not evaluate {kind} "{text}": {reason}')
    if not outcomes:
        return Verdict(AnalysisPhase.SUCCESSFUL)
    succeeded = outcomes.get("successCondition", False)
    failed = outcomes.get("failureCondition", False)
    if "failureCondition" not in outcomes:
        failed = not succeeded
    elif "successCondition" not in outcomes:
        succeeded = not failed
    if failed:
        return Verdict(AnalysisPhase.FAILED)
    return Verdict(AnalysisPhase.SUCCESSFUL if succeeded else AnalysisPhase.INCONCLUSIVE)


# --------------------------------------------------------------------------------------------
# Metric settings (§6.2)


@dataclass(frozen=True)
class MetricLimits:
    """A metric's counts, limits and durations, read after argument substitution."""

    count: int
    failure_limit: int
    failure_limit_set: bool
    inconclusive_limit: int
    consecutive_error_limit: int
    consecutive_success_limit: int
    interval: timedelta | None
    initial_delay: timedelta | None

    @classmethod
    def of(cls, metric: Metric) -> MetricLimits:
        """Read a metric; raises :class:`SpecError` naming a field whose value cannot be read."""
        error_limit = (
            DEFAULT_CONSECUTIVE_ERROR_LIMIT
            if metric.consecutive_error_limit is None
            else _whole_number(metric.consecutive_error_limit, "consecutiveErrorLimit")
        )
        return cls(
            count=_whole_number(metric.count, "count"),
            failure_limit=_whole_number(metric.failure_limit, "failureLimit"),
            failure_limit_set=metric.failure_limit is not None,
            inconclusive_limit=_whole_number(metric.inconclusive_limit, "inconclusiveLimit"),
            consecutive_error_limit=error_limit,
            consecutive_success_limit=_whole_number(
                metric.consecutive_success_limit, "consecutiveSuccessLimit"
            ),
            interval=_duration(metric.interval, "invalid interval string"),
            initial_delay=_duration(metric.initial_delay, "invalid startDelay string"),
        )

    @property
    def effective_count(self) -> int | None:
        """Measurements to take: ``count``, else 1 without an interval; None means unbounded."""
        if self.count == 0:
            return 1 if self.interval is None else None
        return self.count

    @property
    def success_limit_applies(self) -> bool:
        return self.consecutive_success_limit > 0

    @property
    def failure_limit_applies(self) -> bool:
        return self.failure_limit >= 0 or not self.failure_limit_set


def _whole_number(value: IntOrString | None, field_name: str) -> int:
    """A count or limit after argument substitution; a string that is not an integer is an error.

    Upstream's ``IntValue`` reads ``"x"`` (or ``"2.5"``) as 0, so a typo silently turns a limit
    off or a count into "unbounded". The only string read leniently is the placeholder of a
    Secret-backed argument, which stands in for the real value while a run is validated.
    """
    if value is None or value == SECRET_PLACEHOLDER:
        return 0
    if isinstance(value, str):
        number, ok = go_atoi(value)
        if not ok:
            problem = "not an integer" if number == 0 else "out of range"
            raise SpecError(f'invalid {field_name} "{value}": {problem}')
        return number
    try:
        return int_or_string_value(value)
    except IntOrStringError as error:
        raise SpecError(f"invalid {field_name}: {error}") from None


def _duration(text: str | None, problem: str) -> timedelta | None:
    if not text:
        return None
    try:
        nanoseconds = parse_go_duration_ns(text)
    except DurationError as error:
        raise SpecError(f"{problem}: {error}") from None
    return timedelta(microseconds=nanoseconds // 1000)


def validate_metrics(metrics: Sequence[Metric]) -> None:
    """Upstream's ``ValidateMetrics``: raises :class:`SpecError` naming the first problem."""
    if not metrics:
        raise SpecError("no metrics specified")
    names: set[str] = set()
    for index, metric in enumerate(metrics):
        if metric.name in names:
            raise SpecError(f"metrics[{index}]: duplicate name '{metric.name}'")
        names.add(metric.name)
        try:
            _validate_metric(metric)
        except SpecError as error:
            raise SpecError(f"metrics[{index}]: {error}") from None


def _validate_metric(metric: Metric) -> None:
    limits = MetricLimits.of(metric)
    count, failure, success = limits.count, limits.failure_limit, limits.consecutive_success_limit
    if count > 0:
        if failure >= 0 and count < failure + max(success, 0):
            needed = "failureLimit" if success <= 0 else "failureLimit + consecutiveSuccessLimit"
            raise SpecError(f"count must be >= {needed}")
        if failure < 0 and count < success:
            raise SpecError("count must be >= consecutiveSuccessLimit")
        if count < limits.inconclusive_limit:
            raise SpecError("count must be >= inconclusiveLimit")
    if count > 1 and not metric.interval:
        raise SpecError("interval must be specified when count > 1")
    if limits.interval is not None and limits.interval <= timedelta(0):
        raise SpecError("interval must be positive")
    checks = (
        (failure < -1, "failureLimit must be >= -1"),
        (limits.inconclusive_limit < 0, "inconclusiveLimit must be >= 0"),
        (limits.consecutive_error_limit < 0, "consecutiveErrorLimit must be >= 0"),
        (success < 0, "consecutiveSuccessLimit must be >= 0"),
        (failure == -1 and success == 0, "failureLimit and consecutiveSuccessLimit cannot both be disabled"),
    )
    for broken, message in checks:
        if broken:
            raise SpecError(message)
    provider = metric.provider
    configured = sum(
        1 for name in type(provider).model_fields if name != "plugin" and getattr(provider, name) is not None
    )
    configured += len(provider.plugin or {})
    if configured == 0:
        raise SpecError("no provider specified")
    if configured > 1:
        raise SpecError("multiple providers specified")


# --------------------------------------------------------------------------------------------
# Counters and metric phase (§6.7, §6.8 step 6)


def _completed(phase: str | None) -> bool:
    return phase in _COMPLETED_PHASES


def _last(result: MetricResult | None) -> Measurement | None:
    return result.measurements[-1] if result is not None and result.measurements else None


def record_measurement(
    result: MetricResult, measurement: Measurement, *, replaces_last: bool
) -> MetricResult:
    """Add (or complete) a measurement and update the counters as upstream does.

    Errors do not count towards ``count``; any other completed phase does. Successes build
    ``consecutiveSuccess``; every other completed phase resets it.
    """
    counters = {
        "count": result.count or 0,
        "successful": result.successful or 0,
        "failed": result.failed or 0,
        "inconclusive": result.inconclusive or 0,
        "error": result.error or 0,
        "consecutive_error": result.consecutive_error or 0,
        "consecutive_success": result.consecutive_success or 0,
    }
    phase = measurement.phase
    if phase == AnalysisPhase.ERROR:
        counters["error"] += 1
        counters["consecutive_error"] += 1
        counters["consecutive_success"] = 0
    elif _completed(phase):
        counters[{"Successful": "successful", "Failed": "failed", "Inconclusive": "inconclusive"}[phase]] += 1
        counters["count"] += 1
        counters["consecutive_error"] = 0
        success = phase == AnalysisPhase.SUCCESSFUL
        counters["consecutive_success"] = counters["consecutive_success"] + 1 if success else 0
    measurements = list(result.measurements or [])
    if replaces_last and measurements:
        measurements[-1] = measurement
    else:
        measurements.append(measurement)
    # Zero counters are omitted, as Go's omitempty writes them.
    update: dict[str, Any] = {key: value or None for key, value in counters.items()}
    return result.model_copy(update={**update, "measurements": measurements})


def _limit_breach(limits: MetricLimits, result: MetricResult) -> tuple[AnalysisPhase | None, str]:
    """Upstream's ``assessMetricFailureInconclusiveOrError``; later checks win."""
    phase: AnalysisPhase | None = None
    reason = ""
    failed = result.failed or 0
    if limits.failure_limit >= 0 and failed > limits.failure_limit:
        phase, reason = AnalysisPhase.FAILED, f"failed ({failed}) > failureLimit ({limits.failure_limit})"
    inconclusive = result.inconclusive or 0
    if inconclusive > limits.inconclusive_limit:
        phase = AnalysisPhase.INCONCLUSIVE
        reason = f"inconclusive ({inconclusive}) > inconclusiveLimit ({limits.inconclusive_limit})"
    errors = result.consecutive_error or 0
    if errors > limits.consecutive_error_limit:
        phase = AnalysisPhase.ERROR
        reason = f"consecutiveErrors ({errors}) > consecutiveErrorLimit ({limits.consecutive_error_limit})"
    return phase, reason


def assess_metric(
    limits: MetricLimits, result: MetricResult, *, terminating: bool
) -> tuple[AnalysisPhase, str]:
    """The metric's phase and, when a limit decided it, the reason (upstream's wording)."""
    if _completed(result.phase):
        return AnalysisPhase(result.phase), _limit_breach(limits, result)[1]
    measurements = result.measurements or []
    if not measurements:
        return (AnalysisPhase.SUCCESSFUL if terminating else AnalysisPhase.PENDING), ""
    if not _completed(measurements[-1].phase):
        return AnalysisPhase.RUNNING, ""
    breach, reason = _limit_breach(limits, result)
    if breach is not None:
        return breach, reason
    streak = result.consecutive_success or 0
    if limits.success_limit_applies and streak >= limits.consecutive_success_limit:
        return AnalysisPhase.SUCCESSFUL, ""
    count = limits.effective_count
    if count is not None and (result.count or 0) >= count:
        if limits.success_limit_applies:
            return (AnalysisPhase.INCONCLUSIVE if limits.failure_limit_applies else AnalysisPhase.FAILED), ""
        return AnalysisPhase.SUCCESSFUL, ""
    if not terminating:
        return AnalysisPhase.RUNNING, ""
    if (result.count or 0) == 0 and (result.error or 0) > 0:
        return AnalysisPhase.ERROR, f"every measurement errored ({result.error})"
    return AnalysisPhase.SUCCESSFUL, ""


# --------------------------------------------------------------------------------------------
# Time


def parse_time(text: str | None) -> datetime | None:
    """An RFC 3339 status timestamp as an aware UTC datetime (None stays None)."""
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC: whole seconds as Go writes them, microseconds when there are any."""
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{moment.microsecond:06d}Z" if moment.microsecond else f"{text}Z"


def next_measurement_at(
    limits: MetricLimits, result: MetricResult | None, started_at: datetime
) -> datetime | None:
    """When the metric's next new measurement is due; None when it needs no more.

    ``started_at`` is the run's ``status.startedAt``. An unfinished last measurement is not
    this function's business (it is resumed, see :func:`plan_reconcile`).
    """
    anchor = started_at + (limits.initial_delay or timedelta(0))
    measurements = (result.measurements or []) if result else []
    if not measurements:
        return anchor
    last = measurements[-1]
    count = limits.effective_count
    if count is not None and result is not None and (result.count or 0) >= count:
        return None
    finished = parse_time(last.finished_at)
    began = parse_time(last.started_at) or finished
    if last.phase == AnalysisPhase.ERROR or limits.interval is None or began is None:
        return (finished or began or anchor) + ERROR_RETRY_INTERVAL
    steps = math.floor((began - anchor) / limits.interval) + 1
    return anchor + steps * limits.interval


# --------------------------------------------------------------------------------------------
# One reconcile (§6.8)


class TaskKind(StrEnum):
    MEASURE = "measure"
    """Take a new measurement (provider ``Run``)."""
    RESUME = "resume"
    """Check an asynchronous measurement again (provider ``Resume``)."""
    TERMINATE = "terminate"
    """Stop an asynchronous measurement because the run is terminating (provider ``Terminate``)."""


@dataclass(frozen=True)
class Task:
    """A provider call the shell makes for one metric.

    ``metric`` is the spec's metric, still templated: resolve it with the Secret-backed args
    (:func:`analysis.composition.resolve_secret_args`, then ``resolve_metric``) before measuring.
    """

    kind: TaskKind
    metric: Metric
    measurement: Measurement | None = None
    """The unfinished measurement to resume or terminate."""


@dataclass(frozen=True)
class TakenMeasurement:
    """What a provider returned for a task, with the provider's metadata about the metric."""

    measurement: Measurement
    metric_metadata: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Event:
    """A Kubernetes Event to record on the AnalysisRun."""

    type: str
    reason: str
    message: str


@dataclass(frozen=True)
class Conclusion:
    """The outcome of a reconcile: the status to write, Events, and when to look again."""

    status: AnalysisRunStatus
    requeue_at: datetime | None = None
    events: tuple[Event, ...] = ()
    trimmed: Mapping[str, int] = field(default_factory=dict)
    """Metrics whose measurement history was trimmed, with the limit (for provider GC)."""


@dataclass(frozen=True)
class Plan:
    """What to do this reconcile; ``conclusion`` is set when no measurement is to be taken."""

    status: AnalysisRunStatus
    tasks: tuple[Task, ...] = ()
    metrics: tuple[Metric, ...] = ()
    """The metrics with args resolved (Secret-backed args as a placeholder): for decisions."""
    dry_run: frozenset[str] = frozenset()
    retention: Mapping[str, int] = field(default_factory=dict)
    terminating: bool = False
    conclusion: Conclusion | None = None


def _results_by_name(status: AnalysisRunStatus) -> dict[str, MetricResult]:
    return {result.name: result for result in status.metric_results or []}


def _terminating(run_terminate: bool, results: Iterable[MetricResult]) -> bool:
    return run_terminate or any(not r.dry_run and r.phase in _ENDING_PHASES for r in results)


def _finish(status: AnalysisRunStatus, phase: AnalysisPhase, message: str, now: datetime) -> Conclusion:
    """A run ending at once (spec problems), with upstream's completion Event."""
    ended = status.model_copy(
        update={
            "phase": str(phase),
            "message": message,
            "completed_at": status.completed_at or format_time(now),
        }
    )
    return Conclusion(ended, events=(_run_event(phase),))


def _run_event(phase: AnalysisPhase) -> Event:
    kind = "Warning" if phase in (AnalysisPhase.ERROR, AnalysisPhase.FAILED) else "Normal"
    return Event(kind, f"AnalysisRun{phase}", f"Analysis Completed. Result: {phase}")


def _pending(
    metric: Metric, result: MetricResult | None, started_at: datetime
) -> tuple[Measurement | None, datetime | None] | None:
    """None for a completed metric; else its unfinished measurement (if any) and when to act:
    the measurement's ``resumeAt``, or when the next new measurement is due (None: never).
    """
    if result is not None and _completed(result.phase):
        return None
    last = _last(result)
    if last is not None and not last.finished_at:
        return last, parse_time(last.resume_at)
    return None, next_measurement_at(MetricLimits.of(metric), result, started_at)


def plan_reconcile(run: AnalysisRun, now: datetime) -> Plan:
    """Upstream's reconcile up to the measurements: resolve, validate, pick the due tasks."""
    status = run.status or AnalysisRunStatus(phase="")
    if _completed(status.phase):
        return Plan(status=status, conclusion=Conclusion(status))
    if status.metric_results is None:
        status = status.model_copy(update={"metric_results": []})
    try:
        metrics = resolve_metrics(run.spec.metrics, args_without_secrets(run.spec.args or []))
    except CompositionError as error:
        message = f"Unable to resolve metric arguments: {error}"
        return Plan(status, conclusion=_finish(status, AnalysisPhase.ERROR, message, now))
    try:
        validate_metrics(metrics)
        dry_run = dry_run_metrics(run.spec.dry_run or [], metrics)
        retention = retention_limits(run.spec.measurement_retention or [], metrics)
    except (SpecError, CompositionError) as error:
        message = f"Analysis spec invalid: {error}"
        return Plan(status, conclusion=_finish(status, AnalysisPhase.ERROR, message, now))
    if not status.started_at:
        status = status.model_copy(update={"started_at": format_time(now)})
    started_at = parse_time(status.started_at) or now
    results = _results_by_name(status)
    terminating = _terminating(bool(run.spec.terminate), results.values())
    tasks: list[Task] = []
    for raw, metric in zip(run.spec.metrics, metrics, strict=True):
        pending = _pending(metric, results.get(metric.name), started_at)
        if pending is None:
            continue
        unfinished, due = pending
        if unfinished is not None:
            if due is None or due <= now or terminating:
                tasks.append(Task(TaskKind.TERMINATE if terminating else TaskKind.RESUME, raw, unfinished))
        elif not terminating and due is not None and due <= now:
            tasks.append(Task(TaskKind.MEASURE, raw))
    return Plan(status, tuple(tasks), tuple(metrics), dry_run, retention, terminating)


def resolve_tasks(
    plan: Plan, args: Sequence[Argument], secret_data: Mapping[str, Mapping[str, str]]
) -> tuple[dict[str, Metric], tuple[str, ...]]:
    """The task metrics ready for their providers (Secret-backed args filled in), and the
    Secret values to redact. ``secret_data`` holds the Secrets named by
    :func:`analysis.composition.secret_names`; raises :class:`CompositionError` when one is
    missing, which ends the run (:func:`fail_reconcile`) as upstream does.
    """
    resolved = resolve_secret_args(args, secret_data)
    metrics = {task.metric.name: resolve_metric(task.metric, resolved.args) for task in plan.tasks}
    return metrics, resolved.secrets


def fail_reconcile(plan: Plan, error: CompositionError, now: datetime) -> Conclusion:
    """The run ends Error because the arguments of its due metrics cannot be resolved."""
    return _finish(plan.status, AnalysisPhase.ERROR, f"Unable to resolve metric arguments: {error}", now)


def conclude_reconcile(
    run: AnalysisRun,
    plan: Plan,
    taken: Mapping[str, TakenMeasurement],
    now: datetime,
    *,
    secrets: Iterable[str] = (),
) -> Conclusion:
    """Record the measurements ``taken`` (by metric name), assess, trim and schedule."""
    if plan.conclusion is not None:
        return plan.conclusion
    secrets = tuple(secrets)
    results = _results_by_name(plan.status)
    order = [result.name for result in plan.status.metric_results or []]
    for task in plan.tasks:
        name = task.metric.name
        if name not in taken:
            continue
        measurement = _finished(taken[name].measurement, task, now, secrets)
        result = results.get(name) or MetricResult(
            name=name,
            phase=str(AnalysisPhase.RUNNING),
            dry_run=(name in plan.dry_run) or None,
            metadata=dict(taken[name].metric_metadata or {}) or None,
        )
        results[name] = record_measurement(result, measurement, replaces_last=task.kind != TaskKind.MEASURE)
        if name not in order:
            order.append(name)
    phase, message, summaries, results, events = _assess_run(run, plan, results)
    status = plan.status
    update: dict[str, Any] = {"run_summary": summaries[0], "dry_run_summary": summaries[1]}
    if phase != status.phase:
        update.update(phase=str(phase), message=message or None)
        if phase.completed:
            update["completed_at"] = status.completed_at or format_time(now)
            events = (*events, _run_event(phase))
    trimmed: dict[str, int] = {}
    for name, result in results.items():
        limit = plan.retention.get(name)
        if limit is not None and len(result.measurements or []) > limit:
            results[name] = result.model_copy(update={"measurements": (result.measurements or [])[-limit:]})
            trimmed[name] = limit
    update["metric_results"] = [results[name] for name in order]
    status = status.model_copy(update=update)
    requeue = None if AnalysisPhase(status.phase).completed else _requeue_at(plan, results, status)
    return Conclusion(status, requeue, events, trimmed)


def _finished(measurement: Measurement, task: Task, now: datetime, secrets: Sequence[str]) -> Measurement:
    update: dict[str, Any] = {}
    if _completed(measurement.phase) and not measurement.finished_at:
        update["finished_at"] = format_time(now)
    if not measurement.started_at:
        update["started_at"] = format_time(now)
    terminated = (AnalysisPhase.SUCCESSFUL, AnalysisPhase.INCONCLUSIVE)
    message = measurement.message
    if task.kind == TaskKind.TERMINATE and measurement.phase in terminated:
        message = "Metric Terminated"
    if message:
        update["message"] = redact(message, secrets)
    return measurement.model_copy(update=update) if update else measurement


def _assess_run(
    run: AnalysisRun, plan: Plan, results: dict[str, MetricResult]
) -> tuple[AnalysisPhase, str, tuple[RunSummary, RunSummary], dict[str, MetricResult], tuple[Event, ...]]:
    """Upstream's ``assessRunStatus``, repeated once if a metric ended the run in this pass."""
    terminating = plan.terminating
    events: list[Event] = []
    while True:
        outcome = _assess_pass(run, plan, results, terminating, events)
        now_terminating = _terminating(bool(run.spec.terminate), outcome[3].values())
        if now_terminating == terminating:
            return (*outcome, tuple(events))
        terminating, results = True, outcome[3]


def _assess_pass(
    run: AnalysisRun,
    plan: Plan,
    results: dict[str, MetricResult],
    terminating: bool,
    events: list[Event],
) -> tuple[AnalysisPhase, str, tuple[RunSummary, RunSummary], dict[str, MetricResult]]:
    results = dict(results)
    worst: AnalysisPhase | None = None
    message = "Run Terminated" if run.spec.terminate else ""
    everything_completed = True
    tallies = {False: _Tally(), True: _Tally()}
    for metric in plan.metrics:
        dry_run = metric.name in plan.dry_run
        tallies[dry_run].count += 1
        result = results.get(metric.name)
        if result is None:
            everything_completed = False
            continue
        phase, reason = assess_metric(MetricLimits.of(metric), result, terminating=terminating)
        if phase != result.phase:
            if phase.completed:
                events.append(_metric_event(metric.name, phase))
            last = _last(result)
            result = result.model_copy(
                update={"phase": str(phase), "message": last.message if last else None}
            )
        if not phase.completed:
            everything_completed = False
        elif not dry_run:
            if worst is None or _PHASE_ORDER.index(phase) > _PHASE_ORDER.index(worst):
                worst = phase
                if reason:
                    message = f'Metric "{metric.name}" assessed {phase} due to {reason}'
                    if result.message:
                        message += f': "Error Message: {result.message}"'
            tallies[False].add(phase)
        else:
            worst = worst or AnalysisPhase.SUCCESSFUL
            if reason:
                result = result.model_copy(update={"message": f"Metric assessed {phase} due to {reason}"})
            tallies[True].add(phase)
        results[metric.name] = result
    summaries = (tallies[False].summary(), tallies[True].summary())
    message = message.strip()
    if terminating:
        return worst or AnalysisPhase.SUCCESSFUL, message, summaries, results
    if not everything_completed or worst is None:
        return AnalysisPhase.RUNNING, "", summaries, results
    return worst, message, summaries, results


@dataclass
class _Tally:
    count: int = 0
    phases: dict[AnalysisPhase, int] = field(default_factory=dict)

    def add(self, phase: AnalysisPhase) -> None:
        self.phases[phase] = self.phases.get(phase, 0) + 1

    def summary(self) -> RunSummary:
        return RunSummary(
            count=self.count or None,
            successful=self.phases.get(AnalysisPhase.SUCCESSFUL) or None,
            failed=self.phases.get(AnalysisPhase.FAILED) or None,
            inconclusive=self.phases.get(AnalysisPhase.INCONCLUSIVE) or None,
            error=self.phases.get(AnalysisPhase.ERROR) or None,
        )


def _metric_event(name: str, phase: AnalysisPhase) -> Event:
    kind = "Warning" if phase in (AnalysisPhase.ERROR, AnalysisPhase.FAILED) else "Normal"
    return Event(kind, f"Metric{phase}", f"Metric '{name}' Completed. Result: {phase}")


def _requeue_at(
    plan: Plan, results: Mapping[str, MetricResult], status: AnalysisRunStatus
) -> datetime | None:
    """Upstream's ``calculateNextReconcileTime`` on the grid: the earliest thing due."""
    started_at = parse_time(status.started_at)
    if started_at is None:
        return None
    times: list[datetime] = []
    for metric in plan.metrics:
        pending = _pending(metric, results.get(metric.name), started_at)
        if pending is not None and pending[1] is not None:
            times.append(pending[1])
    return min(times, default=None)


def replace_status(run: AnalysisRun, status: AnalysisRunStatus) -> AnalysisRun:
    """The run with a new status (handy for shells and tests that reconcile repeatedly)."""
    return run.model_copy(update={"status": status})
