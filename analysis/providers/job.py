"""The Job provider (reference §7.3): one batch/v1 Job per measurement, judged by its conditions.

Unlike the HTTP providers a Job measurement outlives the reconcile that started it: ``measure``
creates the Job and returns a ``Running`` measurement with a ``resumeAt``; later reconciles
``resume`` it until the Job's ``Complete`` or ``Failed`` condition appears; a terminating run
``terminate``s it (the Job is deleted, the measurement ends Inconclusive). ``garbage_collect``
deletes the run's oldest Jobs of a metric beyond the measurement-retention limit, which the
generic provider contract has no step for (the shell calls it for ``Conclusion.trimmed``).

The decisions — the Job manifest, the verdict from a Job and its pods, when to look again — are
pure functions below; `JobProvider` only sends the requests. A provider is bound to one run
(the Job names and back-references need its uid and name), so the shell builds one per
reconcile. Differences from upstream: the first check is one second after creation rather
than "now" (we do not watch Jobs, so "now" would be a busy loop), and then ``sqrt(2·elapsed)``
seconds apart as upstream.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from analysis.assessment import format_time, parse_time
from analysis.controller.api import ApiCaller, ApiCallError
from analysis.models import AnalysisPhase, Measurement, Metric, MetricResult
from analysis.providers.base import error_measurement, finish_measurement, utc_now

__all__ = [
    "JOB_NAMESPACE_KEY",
    "JOB_NAME_KEY",
    "METRIC_NAME_ANNOTATION",
    "RUN_NAMESPACE_ANNOTATION",
    "RUN_NAME_ANNOTATION",
    "RUN_UID_LABEL",
    "JobProvider",
    "RunIdentity",
    "job_manifest",
    "job_name",
    "job_pod_selector",
    "job_verdict",
    "jobs_to_collect",
    "metric_job_name",
    "next_check_at",
    "pod_image_problem",
]

RUN_UID_LABEL: Final = "analysisrun.argoproj.io/uid"
RUN_NAME_ANNOTATION: Final = "analysisrun.argoproj.io/name"
RUN_NAMESPACE_ANNOTATION: Final = "analysisrun.argoproj.io/namespace"
METRIC_NAME_ANNOTATION: Final = "analysisrun.argoproj.io/metric-name"
JOB_NAME_KEY: Final = "job-name"
JOB_NAMESPACE_KEY: Final = "job-namespace"
# The Job controller copies a Job's name into its pods' `job-name` and
# `batch.kubernetes.io/job-name` labels, whose values may not exceed 63 characters.
JOB_NAME_LIMIT: Final = 63
IMAGE_PROBLEMS: Final = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName"})
FIRST_CHECK: Final = timedelta(seconds=1)
JOBS_PATH: Final = "/apis/batch/v1/namespaces/{namespace}/jobs"


@dataclass(frozen=True)
class RunIdentity:
    """The AnalysisRun a provider measures for."""

    name: str
    namespace: str
    uid: str


def metric_job_name(run_uid: str, metric_name: str, number: int) -> str:
    """Upstream's ``<runUID>.<metric>.<n>``, the metric part cut so the name fits 63 bytes.

    As upstream, only the metric part is shortened, by exactly as many bytes as the whole is
    over the limit, lengths counting UTF-8 bytes. A cut through a multi-byte character drops
    that character (upstream keeps its stray bytes); such a name is refused by the API server
    either way, object names being ``[a-z0-9.-]``. Upstream panics if the uid and number alone
    exceed the limit, which a real (36-character) uid cannot; we keep an empty metric part.
    """
    name = f"{run_uid}.{metric_name}.{number}"
    over = len(name.encode()) - JOB_NAME_LIMIT
    if over <= 0:
        return name
    encoded = metric_name.encode()
    kept = encoded[: max(len(encoded) - over, 0)].decode(errors="ignore")
    return f"{run_uid}.{kept}.{number}"


def job_name(run: RunIdentity, metric_name: str, result: MetricResult | None) -> str:
    """The Job of the metric's next measurement, n counting this run's measurements and errors."""
    taken = 0 if result is None else (result.count or 0) + (result.error or 0)
    return metric_job_name(run.uid, metric_name, taken + 1)


def job_manifest(run: RunIdentity, metric: Metric, name: str, namespace: str) -> dict[str, Any]:
    """The Job to create: the metric's spec, our labels/annotations, the run as owner."""
    job = metric.provider.job
    if job is None:
        raise ValueError(f"metric {metric.name!r} has no job provider")
    metadata = job.metadata
    labels = {**(metadata.labels or {} if metadata else {}), RUN_UID_LABEL: run.uid}
    annotations = {
        **(metadata.annotations or {} if metadata else {}),
        RUN_NAME_ANNOTATION: run.name,
        RUN_NAMESPACE_ANNOTATION: run.namespace,
        METRIC_NAME_ANNOTATION: metric.name,
    }
    spec = dict(job.spec)
    template = dict(spec.get("template") or {})
    template_metadata = dict(template.get("metadata") or {})
    template_metadata["labels"] = {**(template_metadata.get("labels") or {}), RUN_UID_LABEL: run.uid}
    template["metadata"] = template_metadata
    spec["template"] = template
    manifest: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace, "labels": labels, "annotations": annotations},
        "spec": spec,
    }
    if namespace == run.namespace:
        manifest["metadata"]["ownerReferences"] = [
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "AnalysisRun",
                "name": run.name,
                "uid": run.uid,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    return manifest


def _true_condition(job: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind and condition.get("status") == "True":
            return dict(condition)
    return None


def job_verdict(job: Mapping[str, Any]) -> AnalysisPhase | None:
    """Successful on ``Complete``, Failed on ``Failed``, else None (upstream adds no message)."""
    if _true_condition(job, "Complete") is not None:
        return AnalysisPhase.SUCCESSFUL
    if _true_condition(job, "Failed") is not None:
        return AnalysisPhase.FAILED
    return None


def job_pod_selector(job: Mapping[str, Any]) -> str | None:
    """The Job's ``spec.selector`` as a label-selector query, which finds its pods as upstream does.

    The API server fills in the generated selector (the controller uid) unless the Job sets
    ``manualSelector``; then it is the user's, which may carry match expressions. None when the
    Job has no selector, which selects no pods (an empty query would select every pod).
    """
    selector = (job.get("spec") or {}).get("selector")
    if selector is None:
        return None
    terms = [f"{key}={value}" for key, value in (selector.get("matchLabels") or {}).items()]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key", ""), expression.get("operator", "")
        values = ",".join(expression.get("values") or [])
        if operator == "In":
            terms.append(f"{key} in ({values})")
        elif operator == "NotIn":
            terms.append(f"{key} notin ({values})")
        elif operator == "Exists":
            terms.append(key)
        elif operator == "DoesNotExist":
            terms.append(f"!{key}")
        else:
            raise ValueError(f"unknown label selector operator {operator!r}")
    return ",".join(terms)


def pod_image_problem(pods: Sequence[Mapping[str, Any]]) -> str | None:
    """Upstream's message naming the first pod container that cannot pull its image, if any.

    The text, trailing newline included, is upstream's: it ends up in the run's message.
    """
    for pod in pods:
        status = pod.get("status") or {}
        pod_name = (pod.get("metadata") or {}).get("name", "")
        for key in ("initContainerStatuses", "containerStatuses"):
            for container in status.get(key) or []:
                waiting = (container.get("state") or {}).get("waiting") or {}
                reason = waiting.get("reason")
                if reason in IMAGE_PROBLEMS:
                    return (
                        f"Pod {pod_name}, container {container.get('name', '')} has terminal error "
                        f"({reason}): {waiting.get('message', '')}\n"
                    )
    return None


def next_check_at(started_at: datetime, now: datetime) -> datetime:
    """Look again after ``sqrt(2·elapsed)`` seconds (at least one second), as upstream."""
    elapsed = max((now - started_at).total_seconds(), 0.0)
    return now + max(timedelta(seconds=math.sqrt(2 * elapsed)), FIRST_CHECK)


def jobs_to_collect(jobs: Sequence[Mapping[str, Any]], metric_name: str, keep: int) -> list[str]:
    """Names of the metric's oldest Jobs beyond ``keep`` (by creation time, then name)."""
    own = [
        job
        for job in jobs
        if ((job.get("metadata") or {}).get("annotations") or {}).get(METRIC_NAME_ANNOTATION) == metric_name
    ]
    own.sort(key=lambda job: (job["metadata"].get("creationTimestamp") or "", job["metadata"]["name"]))
    return [job["metadata"]["name"] for job in own[: max(len(own) - keep, 0)]]


class JobProvider:
    """Measures ``provider.job`` metrics of one run through an :class:`ApiCaller`."""

    type = "Job"

    def __init__(
        self,
        api: ApiCaller,
        run: RunIdentity,
        results: Mapping[str, MetricResult],
        *,
        job_namespace: str | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.api = api
        self.run = run
        self.results = results
        self.namespace = job_namespace or run.namespace
        self.clock = clock

    def _jobs(self, namespace: str) -> str:
        return JOBS_PATH.format(namespace=namespace)

    def metric_metadata(self, metric: Metric) -> dict[str, str] | None:
        return None

    async def measure(self, metric: Metric) -> Measurement:
        started = self.clock()
        name = job_name(self.run, metric.name, self.results.get(metric.name))
        try:
            manifest = job_manifest(self.run, metric, name, self.namespace)
        except ValueError as error:
            return error_measurement(str(error), started, self.clock())
        try:
            await self.api.call("POST", self._jobs(self.namespace), body=manifest)
        except ApiCallError as error:
            # As upstream, the message is the API server's own, also when the Job that exists is
            # not this run's or cannot be read.
            if error.status != 409 or not await self._ours(name):
                return error_measurement(error.message, started, self.clock())
        return Measurement(
            phase=str(AnalysisPhase.RUNNING),
            started_at=format_time(started),
            metadata={JOB_NAME_KEY: name, JOB_NAMESPACE_KEY: self.namespace},
            resume_at=format_time(started + FIRST_CHECK),
        )

    async def _ours(self, name: str) -> bool:
        """Whether an existing Job of that name was created for this run (a retried create)."""
        try:
            existing = await self.api.call("GET", f"{self._jobs(self.namespace)}/{name}")
        except ApiCallError:
            return False
        return bool(((existing.get("metadata") or {}).get("labels") or {}).get(RUN_UID_LABEL) == self.run.uid)

    def _where(self, measurement: Measurement) -> tuple[str, str]:
        metadata = measurement.metadata or {}
        return metadata.get(JOB_NAME_KEY, ""), metadata.get(JOB_NAMESPACE_KEY, self.namespace)

    async def resume(self, metric: Metric, measurement: Measurement) -> Measurement:
        name, namespace = self._where(measurement)
        now = self.clock()
        problem: str | None = None
        try:
            job = await self.api.call("GET", f"{self._jobs(namespace)}/{name}")
            verdict = job_verdict(job)
            selector = job_pod_selector(job)
            if verdict is None and selector is not None:
                pods = await self.api.call(
                    "GET", f"/api/v1/namespaces/{namespace}/pods", params={"labelSelector": selector}
                )
                problem = pod_image_problem(pods.get("items") or [])
        except ApiCallError as error:
            return finish_measurement(measurement, AnalysisPhase.ERROR, error.message, now)
        except ValueError as error:
            return finish_measurement(measurement, AnalysisPhase.ERROR, str(error), now)
        if problem is not None:
            return finish_measurement(measurement, AnalysisPhase.INCONCLUSIVE, problem, now)
        if verdict is None:
            started = parse_time(measurement.started_at) or now
            return measurement.model_copy(update={"resume_at": format_time(next_check_at(started, now))})
        return finish_measurement(measurement, verdict, "", now)

    async def terminate(self, metric: Metric, measurement: Measurement) -> Measurement:
        name, namespace = self._where(measurement)
        now = self.clock()
        try:
            await self._delete(namespace, name, "Foreground")
        except ApiCallError as error:
            return finish_measurement(measurement, AnalysisPhase.ERROR, error.message, now)
        return finish_measurement(measurement, AnalysisPhase.INCONCLUSIVE, "", now)

    async def _delete(self, namespace: str, name: str, propagation: str) -> None:
        try:
            await self.api.call(
                "DELETE",
                f"{self._jobs(namespace)}/{name}",
                body={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation},
            )
        except ApiCallError as error:
            if error.status != 404:
                raise

    async def garbage_collect(self, metric_name: str, keep: int) -> None:
        """Delete this run's oldest Jobs of ``metric_name`` beyond ``keep``."""
        listed = await self.api.call(
            "GET", self._jobs(self.namespace), params={"labelSelector": f"{RUN_UID_LABEL}={self.run.uid}"}
        )
        for name in jobs_to_collect(listed.get("items") or [], metric_name, keep):
            await self._delete(self.namespace, name, "Background")
