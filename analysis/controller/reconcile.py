"""One reconcile of one AnalysisRun (reference §6.8): read, decide, measure, write.

The deciding is `analysis.assessment`'s; this module is the imperative shell around it:

1. a completed run is deleted once its ``ttlStrategy`` has expired, else left alone;
2. :func:`~analysis.assessment.plan_reconcile` picks the due tasks; the Secrets the args name
   are read and filled in (a missing one ends the run Error, as upstream);
3. the providers run the tasks concurrently — they never raise, so one metric's failure is an
   Error measurement, never a lost reconcile;
4. :func:`~analysis.assessment.conclude_reconcile` gives the new status, the Events and the next
   requeue; Jobs and WorkflowRuns of trimmed measurements are garbage-collected;
5. the status is written with one merge patch on the main resource (the CRD has no status
   subresource), only when it changed; then the Events are posted (best effort).

A manifest that does not fit the model is not dropped silently: the run ends ``Error`` with the
model's message naming the offending field. The pure helpers (TTL deadline, status patch, Event
body) are unit-tested without a cluster.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from analysis.assessment import (
    Conclusion,
    Event,
    Plan,
    TakenMeasurement,
    Task,
    TaskKind,
    conclude_reconcile,
    fail_reconcile,
    format_time,
    parse_time,
    plan_reconcile,
    resolve_tasks,
)
from analysis.composition import CompositionError, secret_names
from analysis.controller.api import MERGE_PATCH, ApiCaller, ApiCallError, run_path
from analysis.models import (
    AnalysisPhase,
    AnalysisRun,
    AnalysisRunStatus,
    ManifestError,
    Measurement,
    Metric,
)
from analysis.providers.base import HttpDriver, Provider, error_measurement
from analysis.providers.job import JobProvider, RunIdentity
from analysis.providers.prometheus import PrometheusProvider
from analysis.providers.web import WebProvider
from analysis.providers.workflow import WorkflowProvider

__all__ = [
    "Reconciler",
    "Result",
    "event_body",
    "invalid_manifest_status",
    "status_patch",
    "ttl_deadline",
]

log = logging.getLogger(__name__)

COMPONENT = "rollouts-controller"
_COMPLETED = frozenset(str(phase) for phase in AnalysisPhase if phase.completed)


@dataclass(frozen=True)
class Result:
    """What a reconcile leaves for the loop: when to look again, or that the run is gone."""

    requeue_at: datetime | None = None
    gone: bool = False
    body: Mapping[str, Any] | None = None
    """The run as our status write returned it (fresher than the watch's copy)."""


def ttl_deadline(run: AnalysisRun) -> datetime | None:
    """When a completed run is to be deleted (§6.8 step 1), or None to keep it."""
    status = run.status
    ttl = run.spec.ttl_strategy
    if status is None or ttl is None:
        return None
    completed_at = parse_time(status.completed_at)
    if completed_at is None:
        return None
    seconds = ttl.seconds_after_completion
    if status.phase == AnalysisPhase.SUCCESSFUL and ttl.seconds_after_success is not None:
        seconds = ttl.seconds_after_success
    elif status.phase == AnalysisPhase.FAILED and ttl.seconds_after_failure is not None:
        seconds = ttl.seconds_after_failure
    return None if seconds is None else completed_at + timedelta(seconds=seconds)


def status_patch(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any] | None:
    """The merge patch taking ``status`` from ``old`` to ``new`` (None when equal).

    Top-level keys that disappeared are nulled; nested values are replaced whole (lists are
    replaced by a merge patch anyway, and a status is small).
    """
    old = old or {}
    patch: dict[str, Any] = {key: value for key, value in new.items() if old.get(key) != value}
    patch.update({key: None for key in old if key not in new})
    return {"status": patch} if patch else None


def invalid_manifest_status(error: str, now: datetime) -> dict[str, Any]:
    """The status of a run whose manifest does not fit the model."""
    moment = format_time(now)
    return {
        "phase": str(AnalysisPhase.ERROR),
        "message": f"Analysis spec invalid: {error}",
        "startedAt": moment,
        "completedAt": moment,
    }


def event_body(run: Mapping[str, Any], event: Event, now: datetime) -> dict[str, Any]:
    """A core/v1 Event about the run (reasons and messages as upstream, §10.2)."""
    metadata = run.get("metadata") or {}
    name = str(metadata.get("name", ""))
    moment = format_time(now.replace(microsecond=0))
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{name}.", "namespace": metadata.get("namespace", "")},
        "involvedObject": {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AnalysisRun",
            "name": name,
            "namespace": metadata.get("namespace", ""),
            "uid": metadata.get("uid", ""),
            "resourceVersion": metadata.get("resourceVersion", ""),
        },
        "reason": event.reason,
        "message": event.message,
        "type": event.type,
        "source": {"component": COMPONENT},
        "firstTimestamp": moment,
        "lastTimestamp": moment,
        "count": 1,
    }


def _decoded(data: Mapping[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, value in data.items():
        try:
            values[key] = base64.b64decode(value).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            continue  # an undecodable key reads as missing, which names it in the run's message
    return values


class Reconciler:
    """Reconciles runs through one API caller and one HTTP driver (shared by all runs)."""

    def __init__(
        self,
        api: ApiCaller,
        driver: HttpDriver,
        *,
        clock: Callable[[], datetime],
        prometheus_address: str | None = None,
        job_namespace: str | None = None,
    ) -> None:
        self.api = api
        self.clock = clock
        self.prometheus = PrometheusProvider(driver, default_address=prometheus_address, clock=clock)
        self.web = WebProvider(driver, clock=clock)
        self.job_namespace = job_namespace

    async def reconcile(self, body: Mapping[str, Any]) -> Result:
        now = self.clock()
        metadata = body.get("metadata") or {}
        namespace, name = str(metadata.get("namespace", "")), str(metadata.get("name", ""))
        if metadata.get("deletionTimestamp"):
            return Result(gone=True)
        try:
            run = AnalysisRun.from_dict(body)
        except ManifestError as error:
            if (body.get("status") or {}).get("phase") in _COMPLETED:
                return Result()
            status = invalid_manifest_status(str(error), now)
            await self._write(body, status, (Event("Warning", "AnalysisRunError", status["message"]),))
            return Result()
        if run.status is not None and run.status.phase in _COMPLETED:
            return await self._expire(run, namespace, name, now)
        plan = plan_reconcile(run, now)
        if plan.conclusion is not None:
            conclusion = plan.conclusion
        elif not plan.tasks:  # nothing due (e.g. the echo of our own write): no Secret reads
            conclusion = conclude_reconcile(run, plan, {}, now)
        else:
            conclusion = await self._measure(run, plan, namespace, now)
        written = await self._write(body, conclusion.status.to_dict(), conclusion.events)
        if written is None:
            return Result(gone=True)
        return Result(requeue_at=conclusion.requeue_at, body=written)

    async def _measure(self, run: AnalysisRun, plan: Plan, namespace: str, now: datetime) -> Conclusion:
        """Resolve the Secret-backed args, run the due tasks concurrently, conclude."""
        try:
            secrets = await self._secrets(namespace, run)
            metrics, redacted = resolve_tasks(plan, run.spec.args or [], secrets)
        except CompositionError as error:
            return fail_reconcile(plan, error, now)
        providers = self._providers(run, plan.status)
        taken = await asyncio.gather(
            *(self._take(providers, task, metrics[task.metric.name]) for task in plan.tasks)
        )
        by_name = {task.metric.name: result for task, result in zip(plan.tasks, taken, strict=True)}
        conclusion = conclude_reconcile(run, plan, by_name, self.clock(), secrets=redacted)
        await self._collect_jobs(providers, run, conclusion.trimmed)
        return conclusion

    async def _expire(self, run: AnalysisRun, namespace: str, name: str, now: datetime) -> Result:
        deadline = ttl_deadline(run)
        if deadline is None:
            return Result()
        if deadline > now:
            return Result(requeue_at=deadline)
        try:
            await self.api.call("DELETE", run_path(namespace, name))
        except ApiCallError as error:
            if error.status != 404:
                raise
        log.info("%s/%s: deleted after its ttlStrategy expired", namespace, name)
        return Result(gone=True)

    async def _secrets(self, namespace: str, run: AnalysisRun) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        for secret in secret_names(run.spec.args or []):
            try:
                body = await self.api.call("GET", f"/api/v1/namespaces/{namespace}/secrets/{secret}")
            except ApiCallError as error:
                if error.status != 404:
                    raise
                continue  # resolve_tasks reports it as upstream does
            found[secret] = _decoded(body.get("data") or {})
        return found

    def _providers(self, run: AnalysisRun, status: AnalysisRunStatus) -> dict[str, Provider]:
        identity = RunIdentity(run.metadata.name or "", run.metadata.namespace or "", run.metadata.uid or "")
        results = {result.name: result for result in status.metric_results or []}
        job = JobProvider(self.api, identity, results, job_namespace=self.job_namespace, clock=self.clock)
        workflow = WorkflowProvider(self.api, identity, results, clock=self.clock)
        return {"prometheus": self.prometheus, "web": self.web, "job": job, "workflow": workflow}

    @staticmethod
    def _provider_of(providers: Mapping[str, Provider], metric: Metric) -> Provider | None:
        configured = metric.provider.model_dump(exclude_none=True)
        return next((providers[key] for key in configured if key in providers), None)

    async def _take(self, providers: Mapping[str, Provider], task: Task, metric: Metric) -> TakenMeasurement:
        provider = self._provider_of(providers, metric)
        if provider is None:
            names = ", ".join(metric.provider.model_dump(exclude_none=True)) or "none"
            now = self.clock()
            return TakenMeasurement(error_measurement(f"unsupported metric provider: {names}", now, now))
        started = self.clock()
        measurement: Measurement
        try:
            if task.kind == TaskKind.MEASURE:
                measurement = await provider.measure(metric)
            elif task.kind == TaskKind.RESUME and task.measurement is not None:
                measurement = await provider.resume(metric, task.measurement)
            elif task.measurement is not None:
                measurement = await provider.terminate(metric, task.measurement)
            else:
                measurement = error_measurement("nothing to resume", started, started)
        except Exception as error:  # e.g. the API server unreachable while a Job is created
            message = f"{provider.type} provider failed: {error}"
            measurement = error_measurement(message, started, self.clock())
        return TakenMeasurement(measurement, provider.metric_metadata(metric))

    async def _collect_jobs(
        self, providers: Mapping[str, Provider], run: AnalysisRun, trimmed: Mapping[str, int]
    ) -> None:
        for metric in run.spec.metrics:
            collector = self._provider_of(providers, metric)
            # WorkflowProvider is a JobProvider: its runs are collected the same way
            if metric.name in trimmed and isinstance(collector, JobProvider):
                try:
                    await collector.garbage_collect(metric.name, trimmed[metric.name])
                except ApiCallError as error:  # cleanup is retried on the next trim
                    log.warning(
                        "%s: could not delete old %s runs of %s: %s",
                        run.metadata.name,
                        collector.type,
                        metric.name,
                        error,
                    )

    async def _write(
        self, body: Mapping[str, Any], status: dict[str, Any], events: tuple[Event, ...]
    ) -> Mapping[str, Any] | None:
        """Merge-patch the status if it changed, then post the Events; None when the run is gone."""
        metadata = body.get("metadata") or {}
        namespace, name = str(metadata.get("namespace", "")), str(metadata.get("name", ""))
        patch = status_patch(body.get("status"), status)
        written: Mapping[str, Any] = body
        if patch is not None:
            try:
                written = await self.api.call(
                    "PATCH", run_path(namespace, name), body=patch, content_type=MERGE_PATCH
                )
            except ApiCallError as error:
                if error.status == 404:
                    return None
                raise
        for event in events:
            try:
                await self.api.call(
                    "POST",
                    f"/api/v1/namespaces/{namespace}/events",
                    body=event_body(written, event, self.clock()),
                )
            except ApiCallError as error:
                log.warning("could not post Event %s on %s/%s: %s", event.reason, namespace, name, error)
        return written
