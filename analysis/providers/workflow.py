"""The ``workflow`` provider (our extension): an Argo-style workflow run as a measurement.

It has the Job provider's shape, because a workflow also outlives the reconcile that starts it:
``measure`` creates a ``WorkflowRun`` (``workflows.rollouts.dev``, run by our workflow engine)
owned by the AnalysisRun and returns a ``Running`` measurement naming it; ``resume`` reads the
run until its phase is final; ``terminate`` sets ``spec.shutdown: Terminate`` (as ``argo
terminate`` does) and ends the measurement Inconclusive; ``garbage_collect`` deletes the oldest
runs of a metric beyond the measurement-retention limit, as Jobs are.

The verdict: ``Succeeded`` is judged by the metric's conditions over the workflow's output
parameters (Successful when it has none), ``Failed`` is Failed and ``Error`` is Error, both with
the workflow's message. The measurement value is a JSON object of the output parameters: the
entrypoint node's ``outputs.parameters``, then the workflow's global outputs
(``status.outputs.parameters``, from ``globalName``) over them. A parameter whose text is JSON
(``0.93``, ``true``, ``{"a": 1}``) is decoded, so ``result.score >= 0.9`` compares numbers; any
other text stays a string.

The spec is checked with the engine's own validation before anything is created, so a broken
workflow is an Error measurement listing every problem rather than a run that fails later.

``executor: argo`` delegates to a real Argo Workflows: the same object (name, labels, owner,
spec) is created as an ``argoproj.io`` ``Workflow``, whose status has the same shape, so the
verdict and the value are read the same way. Our validation is skipped there (Argo runs
template types our engine does not, and validates itself); a cluster without Argo's CRDs makes
an Error measurement saying so.
Every decision (name, spec, manifest, verdict, value) is a pure function below;
`WorkflowProvider` only sends the requests, and turns every failure into an Error measurement.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any, Final

from pydantic import ValidationError as ModelError

from analysis.assessment import evaluate_result, format_time, parse_time
from analysis.controller.api import MERGE_PATCH, ApiCallError
from analysis.models import AnalysisPhase, Measurement, Metric, MetricResult
from analysis.models.providers import WorkflowMetric
from analysis.providers.base import MAX_VALUE_CHARS, error_measurement, finish_measurement
from analysis.providers.job import (
    FIRST_CHECK,
    METRIC_NAME_ANNOTATION,
    RUN_NAME_ANNOTATION,
    RUN_NAMESPACE_ANNOTATION,
    RUN_UID_LABEL,
    JobProvider,
    RunIdentity,
    next_check_at,
)
from analysis.workflows.delegate import ARGO_GROUP, ARGO_PLURAL, ARGO_VERSION
from analysis.workflows.spec import Workflow
from analysis.workflows.status import GROUP, KIND, VERSION
from analysis.workflows.validation import workflow_problems

__all__ = [
    "WORKFLOW_EXECUTOR_KEY",
    "WORKFLOW_NAMESPACE_KEY",
    "WORKFLOW_NAME_KEY",
    "WorkflowProvider",
    "WorkflowSpecError",
    "output_value",
    "run_verdict",
    "terminate_patch",
    "workflow_run_manifest",
    "workflow_run_name",
    "workflow_spec",
]

WORKFLOW_NAME_KEY: Final = "workflow-name"
WORKFLOW_NAMESPACE_KEY: Final = "workflow-namespace"
WORKFLOW_EXECUTOR_KEY: Final = "workflow-executor"
RUNS_PATH: Final = f"/apis/{GROUP}/{VERSION}/namespaces/{{namespace}}/workflowruns"
ARGO_PATH: Final = f"/apis/{ARGO_GROUP}/{ARGO_VERSION}/namespaces/{{namespace}}/{ARGO_PLURAL}"
ARGO: Final = "argo"
ARGO_MISSING: Final = (
    "executor argo: the cluster does not serve argoproj.io/v1alpha1 workflows "
    "(Argo Workflows is not installed); leave executor out to use our engine"
)
TEMPLATES_PATH: Final = "/apis/argoproj.io/v1alpha1/namespaces/{namespace}/workflowtemplates/{name}"
CLUSTER_TEMPLATES_PATH: Final = "/apis/argoproj.io/v1alpha1/clusterworkflowtemplates/{name}"
_NOT_DNS: Final = re.compile(r"[^a-z0-9-]+")
_SLUG_CHARS: Final = 40


class WorkflowSpecError(ValueError):
    """The metric's workflow cannot be run; the message names every problem."""


def workflow_run_name(run: RunIdentity, metric_name: str, result: MetricResult | None) -> str:
    """``<metric>-<hash of run uid and metric>-<n>``: a DNS label, stable across retried creates.

    Not the Job provider's ``<uid>.<metric>.<n>``: the engine names pods and node IDs after the
    workflow and refuses names over 63 characters, so the run's uid is shortened to a hash.
    """
    taken = 0 if result is None else (result.count or 0) + (result.error or 0)
    slug = _NOT_DNS.sub("-", metric_name.lower()).strip("-")[:_SLUG_CHARS].strip("-") or "metric"
    digest = hashlib.sha256(f"{run.uid}/{metric_name}".encode()).hexdigest()[:10]
    return f"{slug}-{digest}-{taken + 1}"


def _provider(metric: Metric) -> WorkflowMetric:
    workflow: WorkflowMetric | None = getattr(metric.provider, "workflow", None)
    if workflow is None:
        raise WorkflowSpecError(f"metric {metric.name!r} has no workflow provider")
    return workflow


def workflow_spec(metric: Metric, template_spec: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The WorkflowSpec to run: the inline spec or the template's, with the metric's arguments.

    The metric's ``arguments.parameters`` replace the spec's parameters of the same name and
    are appended otherwise (Argo's merge of a Workflow onto its ``workflowTemplateRef``).
    """
    workflow = _provider(metric)
    if (workflow.spec is None) == (workflow.workflow_template_ref is None):
        raise WorkflowSpecError("exactly one of spec and workflowTemplateRef must be set")
    base = workflow.spec if workflow.spec is not None else template_spec
    if base is None:
        raise WorkflowSpecError("the workflow template has no spec")
    spec: dict[str, Any] = copy.deepcopy(dict(base))
    given = [
        parameter.to_dict() for parameter in (workflow.arguments and workflow.arguments.parameters) or []
    ]
    if given:
        arguments = dict(spec.get("arguments") or {})
        parameters = [dict(item) for item in arguments.get("parameters") or [] if isinstance(item, Mapping)]
        for parameter in given:
            same = next((item for item in parameters if item.get("name") == parameter["name"]), None)
            if same is None:
                parameters.append(parameter)
            else:
                same.update(parameter)
        arguments["parameters"] = parameters
        spec["arguments"] = arguments
    return spec


def spec_problems(name: str, spec: Mapping[str, Any]) -> list[str]:
    """What the engine would reject in ``spec``, checked before the run is created."""
    try:
        workflow = Workflow.model_validate({"metadata": {"name": name}, "spec": dict(spec)})
    except ModelError as error:
        return [
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors(include_url=False)
        ]
    return workflow_problems(workflow, None, strict=True)


def workflow_run_manifest(
    run: RunIdentity, metric: Metric, name: str, spec: Mapping[str, Any]
) -> dict[str, Any]:
    """The object to create: our labels/annotations (as on Jobs), the run as owner.

    A WorkflowRun for our engine; with ``executor: argo`` a real Argo ``Workflow`` instead.
    """
    workflow = _provider(metric)
    metadata = workflow.metadata
    labels = {**(metadata.labels or {} if metadata else {}), RUN_UID_LABEL: run.uid}
    annotations = {
        **(metadata.annotations or {} if metadata else {}),
        RUN_NAME_ANNOTATION: run.name,
        RUN_NAMESPACE_ANNOTATION: run.namespace,
        METRIC_NAME_ANNOTATION: metric.name,
    }
    owner = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisRun",
        "name": run.name,
        "uid": run.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }
    argo = workflow.executor == ARGO
    return {
        "apiVersion": f"{ARGO_GROUP}/{ARGO_VERSION}" if argo else f"{GROUP}/{VERSION}",
        "kind": "Workflow" if argo else KIND,
        "metadata": {
            "name": name,
            "namespace": run.namespace,
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [owner],
        },
        "spec": dict(spec),
    }


def _decoded(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _parameters(outputs: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    parameters = outputs.get("parameters") if isinstance(outputs, Mapping) else None
    for parameter in parameters if isinstance(parameters, list) else []:
        if isinstance(parameter, Mapping) and isinstance(parameter.get("name"), str) and "value" in parameter:
            found[parameter["name"]] = _decoded(parameter["value"])
    return found


def output_value(name: str, status: Mapping[str, Any]) -> dict[str, Any]:
    """The measurement's ``result``: entrypoint outputs, then global outputs over them.

    The entrypoint node is the root node, whose ID is the workflow's name (as in Argo).
    Malformed entries are skipped: the value is always an object.
    """
    nodes = status.get("nodes")
    root = nodes.get(name) if isinstance(nodes, Mapping) else None
    entrypoint = _parameters(root.get("outputs")) if isinstance(root, Mapping) else {}
    return {**entrypoint, **_parameters(status.get("outputs"))}


def _failed_step(status: Mapping[str, Any]) -> str | None:
    """``<step>: <message>`` of the last pod that failed, which says more than ``child 'x' failed``."""
    nodes = status.get("nodes")
    failed = [
        node
        for node in (nodes.values() if isinstance(nodes, Mapping) else [])
        if isinstance(node, Mapping)
        and node.get("type") == "Pod"
        and node.get("phase") in ("Failed", "Error")
    ]
    if not failed:
        return None
    last = max(failed, key=lambda node: str(node.get("finishedAt") or ""))
    return f"{last.get('displayName') or last.get('name')}: {last.get('message') or last.get('phase')}"


def run_verdict(metric: Metric, workflow_run: Mapping[str, Any]) -> tuple[AnalysisPhase, str, str] | None:
    """``(phase, message, value)`` once the workflow has a final phase, else None."""
    metadata = workflow_run.get("metadata") or {}
    status = workflow_run.get("status")
    if not isinstance(status, Mapping):
        return None
    phase = status.get("phase")
    if phase not in ("Succeeded", "Failed", "Error"):
        return None
    name = str(metadata.get("name", ""))
    result = output_value(name, status)
    value = json.dumps(result, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    if len(value) > MAX_VALUE_CHARS:
        value = value[:MAX_VALUE_CHARS] + "…(truncated)"
    if phase in ("Failed", "Error"):
        details = [str(part) for part in (status.get("message"), _failed_step(status)) if part]
        message = f"workflow {name} {phase}" + (f": {'; '.join(details)}" if details else "")
        return AnalysisPhase(phase), message, value
    verdict = evaluate_result(metric, result)
    return verdict.phase, verdict.error or "", value


def terminate_patch() -> dict[str, Any]:
    """The merge patch stopping a run as ``argo terminate`` does (exit handlers skipped)."""
    return {"spec": {"shutdown": "Terminate"}}


class WorkflowProvider(JobProvider):
    """Measures ``provider.workflow`` metrics of one run through an :class:`ApiCaller`.

    The bookkeeping of the objects it creates is the Job provider's (a retried create that
    finds its own object, retention clean-up by metric annotation), pointed at WorkflowRuns of
    the AnalysisRun's namespace, or at Argo's Workflows for ``executor: argo`` (a shallow copy
    of the provider aimed at the other path); measuring, resuming and terminating are its own.
    """

    type = "Workflow"

    executor: str | None = None
    """The executor of the metric at hand; ``_jobs`` (the Job provider's path hook) follows it."""

    def _jobs(self, namespace: str) -> str:
        return (ARGO_PATH if self.executor == ARGO else RUNS_PATH).format(namespace=namespace)

    def _for(self, executor: str | None) -> WorkflowProvider:
        """This provider aimed at WorkflowRuns (our engine) or at Argo's Workflows."""
        aimed = copy.copy(self)
        aimed.executor = executor
        return aimed

    async def measure(self, metric: Metric) -> Measurement:
        executor = _provider(metric).executor if metric.provider.workflow is not None else None
        return await self._for(executor)._measure(metric)

    async def _measure(self, metric: Metric) -> Measurement:
        started = self.clock()
        name = workflow_run_name(self.run, metric.name, self.results.get(metric.name))
        try:
            spec = workflow_spec(metric, await self._template_spec(metric))
            problems = [] if self.executor == ARGO else spec_problems(name, spec)
            if problems:
                raise WorkflowSpecError("invalid workflow: " + "; ".join(problems))
            manifest = workflow_run_manifest(self.run, metric, name, spec)
            try:
                await self.api.call("POST", self._jobs(self.namespace), body=manifest)
            except ApiCallError as error:
                if error.status == 404 and self.executor == ARGO:
                    raise WorkflowSpecError(ARGO_MISSING) from None
                if error.status != 409 or not await self._ours(name):
                    raise
        except WorkflowSpecError as error:
            return error_measurement(f"workflow {name}: {error}", started, self.clock())
        except ApiCallError as error:
            return error_measurement(f"workflow {name} could not be created: {error}", started, self.clock())
        metadata = {WORKFLOW_NAME_KEY: name, WORKFLOW_NAMESPACE_KEY: self.namespace}
        if self.executor == ARGO:
            metadata[WORKFLOW_EXECUTOR_KEY] = ARGO
        return Measurement(
            phase=str(AnalysisPhase.RUNNING),
            started_at=format_time(started),
            metadata=metadata,
            resume_at=format_time(started + FIRST_CHECK),
        )

    async def _template_spec(self, metric: Metric) -> Mapping[str, Any] | None:
        ref = _provider(metric).workflow_template_ref
        if ref is None:
            return None
        if ref.cluster_scope:
            path, kind = CLUSTER_TEMPLATES_PATH.format(name=ref.name), "ClusterWorkflowTemplate"
        else:
            path = TEMPLATES_PATH.format(namespace=self.namespace, name=ref.name)
            kind = "WorkflowTemplate"
        try:
            template = await self.api.call("GET", path)
        except ApiCallError as error:
            if error.status == 404:
                raise WorkflowSpecError(f"{kind} {ref.name!r} not found") from None
            raise
        spec = template.get("spec") if isinstance(template, Mapping) else None
        return spec if isinstance(spec, Mapping) else None

    def _where(self, measurement: Measurement) -> tuple[str, str]:
        metadata = measurement.metadata or {}
        return metadata.get(WORKFLOW_NAME_KEY, ""), metadata.get(WORKFLOW_NAMESPACE_KEY, self.namespace)

    def _of(self, measurement: Measurement) -> WorkflowProvider:
        """Aimed where the measurement's workflow was created (recorded in its metadata)."""
        return self._for((measurement.metadata or {}).get(WORKFLOW_EXECUTOR_KEY))

    async def resume(self, metric: Metric, measurement: Measurement) -> Measurement:
        return await self._of(measurement)._resume(metric, measurement)

    async def terminate(self, metric: Metric, measurement: Measurement) -> Measurement:
        return await self._of(measurement)._terminate(metric, measurement)

    async def _resume(self, metric: Metric, measurement: Measurement) -> Measurement:
        name, namespace = self._where(measurement)
        now = self.clock()
        try:
            found = await self.api.call("GET", f"{self._jobs(namespace)}/{name}")
        except ApiCallError as error:
            return finish_measurement(measurement, AnalysisPhase.ERROR, f"workflow {name}: {error}", now)
        verdict = run_verdict(metric, found if isinstance(found, Mapping) else {})
        if verdict is None:
            started = parse_time(measurement.started_at) or now
            return measurement.model_copy(update={"resume_at": format_time(next_check_at(started, now))})
        phase, message, value = verdict
        return finish_measurement(measurement.model_copy(update={"value": value}), phase, message, now)

    async def _terminate(self, metric: Metric, measurement: Measurement) -> Measurement:
        name, namespace = self._where(measurement)
        now = self.clock()
        try:
            await self.api.call(
                "PATCH",
                f"{self._jobs(namespace)}/{name}",
                body=terminate_patch(),
                content_type=MERGE_PATCH,
            )
        except ApiCallError as error:
            if error.status != 404:
                message = f"workflow {name} could not be terminated: {error}"
                return finish_measurement(measurement, AnalysisPhase.ERROR, message, now)
        return finish_measurement(measurement, AnalysisPhase.INCONCLUSIVE, "", now)

    async def garbage_collect(self, metric_name: str, keep: int) -> None:
        """Collect the metric's old WorkflowRuns, then its old Argo Workflows (if Argo is served)."""
        await JobProvider.garbage_collect(self._for(None), metric_name, keep)
        try:
            await JobProvider.garbage_collect(self._for(ARGO), metric_name, keep)
        except ApiCallError as error:
            if error.status != 404:
                raise
