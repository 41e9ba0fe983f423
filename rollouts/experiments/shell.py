"""The imperative half of the Experiment controller: read, plan, send — one pass per call.

`ExperimentReconciler.reconcile` is what a loop (`registry`) calls with the freshest Experiment:

1. it gathers the children from kopf's indexes, merged with what our own writes returned (the
   watch may not have delivered them yet), fetches live any AnalysisRun the status records but
   the cache lacks, and — before the experiment is available — checks that each analysis's
   AnalysisTemplate exists;
2. calls `plan_experiment`;
3. sends the writes in order. A ReplicaSet that already exists is ours if this Experiment
   controls it under the same template (a cache that had not caught up); otherwise the clash is
   a refused write that also bumps the template's ``collisionCount``. A write the API refuses
   for good (4xx) is remembered and the next plan turns it into the template's or analysis's
   ``Error`` status with Argo's message — one status write, never a retry loop; anything else
   (a 5xx, a timeout) fails the pass and the loop backs off;
4. patches the status through the main resource (Experiments have no status subresource) with a
   ``resourceVersion`` precondition — a 409 re-reads the Experiment and plans again — and only
   then posts the pass's Events.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Protocol

from analysis.composition import CompositionError, new_run_spec
from analysis.controller.reconcile import Result
from analysis.models import AnalysisTemplateRef, Argument, DryRun, ManifestError, MeasurementRetention
from rollouts.controller import apicalls
from rollouts.controller.analysisruns import fetch_templates
from rollouts.controller.apicalls import JSON, MERGE_PATCH, Request
from rollouts.controller.events import event_body
from rollouts.controller.kube import ApiError, KubeClient
from rollouts.controller.settings import FIELD_MANAGER
from rollouts.controller.writeback import WriteBack
from rollouts.experiments.actions import (
    Action,
    CreateExperimentRun,
    CreateService,
    DeleteService,
    EmitRolloutEvent,
)
from rollouts.experiments.children import (
    ReplicaSetRecord,
    RunRecord,
    ServiceRecord,
    project_replica_set,
    project_run,
    project_service,
)
from rollouts.experiments.inputs import TEMPLATE_NAME_ANNOTATION, ExperimentObject, Observed
from rollouts.experiments.plan import ExperimentPlan, plan_experiment
from rollouts.models.common import RolloutAnalysis
from rollouts.planner.actions import CreateReplicaSet, EmitEvent, PatchReplicaSet, TerminateAnalysisRun
from rollouts.planner.inputs import as_list, as_mapping, as_str

__all__ = ["ChildSource", "ExperimentReconciler", "Failures"]

log = logging.getLogger(__name__)

GROUP: Final = "/apis/argoproj.io/v1alpha1"
_WRITE: Final = {"fieldManager": FIELD_MANAGER}
MAX_RUN_NAME_ATTEMPTS: Final = 10


class ChildSource(Protocol):
    """Where the reconciler reads an Experiment's children (kopf's indexes, in `registry`)."""

    def replica_sets(self, namespace: str, experiment: str) -> Iterable[ReplicaSetRecord]: ...

    def services(self, namespace: str, experiment: str) -> Iterable[ServiceRecord]: ...

    def runs(self, namespace: str, experiment: str) -> Iterable[RunRecord]: ...


class ReconcileMetrics(Protocol):
    def observe(self, namespace: str, name: str, seconds: float, *, failed: bool) -> None: ...


@dataclass
class Failures:
    """Refused writes of the last passes, until the status records them as ``Error``."""

    templates: dict[str, str] = field(default_factory=dict)
    analyses: dict[str, str] = field(default_factory=dict)
    collisions: set[str] = field(default_factory=set)


@dataclass
class _Memory:
    """What one Experiment's passes remember between them."""

    replica_sets: WriteBack[ReplicaSetRecord] = field(default_factory=WriteBack)
    services: WriteBack[ServiceRecord] = field(default_factory=WriteBack)
    runs: WriteBack[RunRecord] = field(default_factory=WriteBack)
    failures: Failures = field(default_factory=Failures)


class _ReplanError(Exception):
    """The world moved under the pass (a collision, a refused write): plan again at once."""


def _experiment_path(namespace: str, name: str = "") -> str:
    base = f"{GROUP}/namespaces/{namespace}/experiments"
    return f"{base}/{name}" if name else base


def _refused(error: ApiError) -> bool:
    """A 4xx that retrying will not cure (not a conflict, not throttling)."""
    return 400 <= error.status < 500 and error.status not in (404, 409, 429)


class ExperimentReconciler:
    """Reconciles Experiments; one instance serves every Experiment of the controller."""

    def __init__(
        self,
        client: KubeClient,
        children: ChildSource,
        *,
        clock: Callable[[], datetime],
        metrics: ReconcileMetrics | None = None,
    ) -> None:
        self._client = client
        self._children = children
        self._clock = clock
        self._metrics = metrics
        self._memory: dict[tuple[str, str], _Memory] = {}

    def forget(self, namespace: str, name: str) -> None:
        """The Experiment was deleted: drop what its passes remembered."""
        self._memory.pop((namespace, name), None)

    async def reconcile(self, body: Mapping[str, Any]) -> Result:
        experiment = ExperimentObject(body)
        if experiment.metadata.get("deletionTimestamp"):
            return Result()
        started = time.perf_counter()
        failed = False
        try:
            return await self._pass(experiment)
        except Exception:
            failed = True
            raise
        finally:
            if self._metrics is not None:
                self._metrics.observe(
                    experiment.namespace, experiment.name, time.perf_counter() - started, failed=failed
                )

    async def _pass(self, experiment: ExperimentObject) -> Result:
        memory = self._memory.setdefault((experiment.namespace, experiment.name), _Memory())
        now = self._clock()
        observed = await self._observe(experiment, memory)
        plan = plan_experiment(experiment.obj, observed, now)
        try:
            renamed = await self._apply(experiment, plan, memory)
        except _ReplanError:
            return Result(requeue_at=now)
        patch = plan.status_patch
        if renamed:  # a run got a collision-suffixed name: record the name it really has
            runs = [dict(as_mapping(entry)) for entry in as_list(plan.status.get("analysisRuns"))]
            for entry in runs:
                recorded = as_str(entry.get("analysisRun"))
                entry["analysisRun"] = renamed.get(recorded, recorded)
            patch = {**(patch or {}), "analysisRuns": runs}
        written: Mapping[str, Any] | None = None
        if patch:
            try:
                written = await self._patch_status(experiment, patch)
            except ApiError as error:
                if error.status != 409:
                    raise
                fresh = await self._client.send(
                    apicalls.get_object(
                        _experiment_path(experiment.namespace, experiment.name),
                        "experiments",
                        experiment.namespace,
                        experiment.name,
                    )
                )
                return Result(body=fresh, requeue_at=now)
            memory.failures = Failures()  # recorded as Error statuses now
        await self._emit(experiment, plan.actions)
        return Result(body=written, requeue_at=plan.wake_at)

    # -- reading
    async def _observe(self, experiment: ExperimentObject, memory: _Memory) -> Observed:
        namespace, name, uid = experiment.namespace, experiment.name, experiment.uid
        replica_sets = [
            record
            for record in memory.replica_sets.merge(self._children.replica_sets(namespace, name))
            if record.owner_uid == uid
        ]
        services = [
            record
            for record in memory.services.merge(self._children.services(namespace, name))
            if record.owner_uid == uid
        ]
        runs = {
            record.name: record.view
            for record in memory.runs.merge(self._children.runs(namespace, name))
            if record.owner_uid == uid
        }
        for entry in as_list(experiment.status.get("analysisRuns")):
            recorded = as_str(as_mapping(entry).get("analysisRun"))
            if recorded and recorded not in runs:
                fetched = await self._get_run(namespace, recorded)
                if fetched is not None:
                    runs[recorded] = fetched.view
        analysis_errors = dict(memory.failures.analyses)
        if experiment.available_at is None and not experiment.finished:
            analysis_errors.update(await self._missing_templates(experiment))
        return Observed(
            replica_sets=tuple(record.view for record in replica_sets),
            services=tuple(record.view for record in services),
            runs=runs,
            template_errors=dict(memory.failures.templates),
            collisions=frozenset(memory.failures.collisions),
            analysis_errors=analysis_errors,
        )

    async def _get_run(self, namespace: str, name: str) -> RunRecord | None:
        path = f"{GROUP}/namespaces/{namespace}/analysisruns/{name}"
        try:
            body = await self._client.send(apicalls.get_object(path, "analysisruns", namespace, name))
        except ApiError as error:
            if error.status != 404:
                raise
            return None
        return project_run(body)

    async def _missing_templates(self, experiment: ExperimentObject) -> dict[str, str]:
        """§8.3: before the experiment is available, a referenced template must at least exist."""
        missing: dict[str, str] = {}
        for analysis in experiment.analyses:
            name = as_str(analysis.get("name"))
            status = as_mapping(experiment.run_status(name))
            if as_str(status.get("phase")) or as_str(status.get("analysisRun")):
                continue
            template = as_str(analysis.get("templateName"))
            cluster = analysis.get("clusterScope") is True
            kind = "ClusterAnalysisTemplate" if cluster else "AnalysisTemplate"
            plural = kind.lower() + "s"
            path = (
                f"{GROUP}/{plural}/{template}"
                if cluster
                else f"{GROUP}/namespaces/{experiment.namespace}/{plural}/{template}"
            )
            try:
                await self._client.send(apicalls.get_object(path, plural, experiment.namespace, template))
            except ApiError as error:
                if error.status != 404:
                    raise
                missing[name] = (
                    f"{kind} verification failed for analysis '{name}': "
                    f'{kind.lower()}.argoproj.io "{template}" not found'
                )
        return missing

    # -- writing
    async def _apply(
        self, experiment: ExperimentObject, plan: ExperimentPlan, memory: _Memory
    ) -> dict[str, str]:
        """Send the plan's writes; the AnalysisRuns created under a collision-suffixed name."""
        renamed: dict[str, str] = {}
        templates_by_rs = {
            f"{experiment.name}-{as_str(t.get('name'))}": as_str(t.get("name")) for t in experiment.templates
        }
        for action in plan.actions:
            if isinstance(action, CreateReplicaSet):
                await self._create_replica_set(experiment, action, memory)
            elif isinstance(action, PatchReplicaSet):
                await self._patch_replica_set(
                    experiment, action, memory, templates_by_rs.get(action.name, "")
                )
            elif isinstance(action, CreateService):
                await self._create_service(experiment, action, memory)
            elif isinstance(action, DeleteService):
                await self._delete_service(experiment, action, memory)
            elif isinstance(action, CreateExperimentRun):
                created = await self._create_run(experiment, action, memory)
                if created != action.name:
                    renamed[action.name] = created
            elif isinstance(action, TerminateAnalysisRun):
                try:
                    await self._client.send(apicalls.terminate_analysis_run(experiment.namespace, action))
                except ApiError as error:
                    if error.status != 404:
                        raise
        return renamed

    def _fail_template(self, memory: _Memory, template: str, message: str) -> None:
        log.warning("%s", message)
        memory.failures.templates[template] = message

    async def _create_replica_set(
        self, experiment: ExperimentObject, action: CreateReplicaSet, memory: _Memory
    ) -> None:
        namespace = experiment.namespace
        template = as_str(
            as_mapping(action.manifest["metadata"].get("annotations")).get(TEMPLATE_NAME_ANNOTATION)
        )
        try:
            body = await self._client.send(apicalls.create_replica_set(namespace, action.manifest))
        except ApiError as error:
            if error.status == 409:
                await self._claim_or_collide(experiment, action, template, memory)
                return
            if not _refused(error):
                raise
            self._fail_template(
                memory, template, f"Failed to create ReplicaSet for template '{template}': {error.message}"
            )
            await self._post_event(
                experiment,
                EmitEvent(
                    "ReplicaSetCreateError",
                    f"Failed to create new replica set {action.name}: {error.message}",
                    warning=True,
                ),
            )
            raise _ReplanError from None
        memory.replica_sets.remember(project_replica_set(body))

    async def _claim_or_collide(
        self, experiment: ExperimentObject, action: CreateReplicaSet, template: str, memory: _Memory
    ) -> None:
        """AlreadyExists: ours (the cache had not caught up), or someone else's ReplicaSet under the
        template's name. The name carries no hash, so bumping ``collisionCount`` alone (Argo) would
        collide again on every pass; the bump is recorded together with the template's ``Error``."""
        path = f"{apicalls.REPLICA_SETS.format(namespace=experiment.namespace)}/{action.name}"
        existing = await self._client.send(
            apicalls.get_object(path, "replicasets", experiment.namespace, action.name)
        )
        record = project_replica_set(existing)
        if (
            record.owner_uid == experiment.uid
            and record.view.annotations.get(TEMPLATE_NAME_ANNOTATION) == template
        ):
            memory.replica_sets.remember(record)
            return
        message = f'replicasets.apps "{action.name}" already exists and is not this template\'s'
        self._fail_template(
            memory, template, f"Failed to create ReplicaSet for template '{template}': {message}"
        )
        memory.failures.collisions.add(template)
        await self._post_event(
            experiment,
            EmitEvent(
                "ReplicaSetCreateError",
                f"Failed to create new replica set {action.name}: {message}",
                warning=True,
            ),
        )
        raise _ReplanError

    async def _patch_replica_set(
        self, experiment: ExperimentObject, action: PatchReplicaSet, memory: _Memory, template: str
    ) -> None:
        try:
            body = await self._client.send(apicalls.patch_replica_set(experiment.namespace, action))
        except ApiError as error:
            if error.status == 404:
                raise _ReplanError from None
            if not _refused(error):
                raise
            replicas = as_mapping(action.patch.get("spec")).get("replicas")
            message = (
                f"Unable to scale ReplicaSet for template '{template}' to desired replica count "
                f"'{replicas}': {error.message}"
                if replicas is not None
                else f"Unable to update ReplicaSet {action.name} for template '{template}': {error.message}"
            )
            self._fail_template(memory, template, message)
            await self._post_event(
                experiment,
                EmitEvent(
                    "ReplicaSetUpdateError", f"Failed to update {action.name}: {error.message}", warning=True
                ),
            )
            raise _ReplanError from None
        memory.replica_sets.remember(project_replica_set(body))

    async def _create_service(
        self, experiment: ExperimentObject, action: CreateService, memory: _Memory
    ) -> None:
        namespace = experiment.namespace
        path = f"/api/v1/namespaces/{namespace}/services"
        request = Request(
            "POST", path, "services", action.name, namespace, dict(action.manifest), JSON, _WRITE
        )
        try:
            body = await self._client.send(request)
        except ApiError as error:
            if error.status == 409:
                existing = await self._client.send(
                    apicalls.get_object(f"{path}/{action.name}", "services", namespace, action.name)
                )
                record = project_service(existing)
                if record.owner_uid == experiment.uid:
                    memory.services.remember(record)
                    return
            elif not _refused(error):
                raise
            self._fail_template(
                memory,
                action.template,
                f"Failed to create Service {action.name} for template '{action.template}': {error.message}",
            )
            raise _ReplanError from None
        memory.services.remember(project_service(body))

    async def _delete_service(
        self, experiment: ExperimentObject, action: DeleteService, memory: _Memory
    ) -> None:
        namespace = experiment.namespace
        path = f"/api/v1/namespaces/{namespace}/services/{action.name}"
        try:
            body = await self._client.send(Request("DELETE", path, "services", action.name, namespace))
        except ApiError as error:
            if error.status == 404:
                return
            if not _refused(error):
                raise
            self._fail_template(
                memory,
                action.template,
                f"Failed to delete Service for template '{action.template}': {error.message}",
            )
            raise _ReplanError from None
        version = as_str(as_mapping(as_mapping(body).get("metadata")).get("resourceVersion"))
        memory.services.forget_deleted(action.name, version)

    async def _create_run(
        self, experiment: ExperimentObject, action: CreateExperimentRun, memory: _Memory
    ) -> str:
        """Compose and create the run; the name it got (``.N`` appended on a foreign collision)."""
        namespace = experiment.namespace
        try:
            reference = AnalysisTemplateRef(
                template_name=action.template_name, cluster_scope=action.cluster_scope or None
            )
            namespaced, cluster = await fetch_templates(
                self._client.send, RolloutAnalysis(templates=[reference]), namespace
            )
            spec = new_run_spec(
                namespaced,
                cluster,
                [Argument.from_dict(arg) for arg in action.args],
                [DryRun.from_dict(rule) for rule in action.dry_run],
                [MeasurementRetention.from_dict(rule) for rule in action.measurement_retention],
            )
        except (CompositionError, ManifestError) as error:
            memory.failures.analyses[action.analysis] = (
                f"Failed to create AnalysisRun for analysis '{action.analysis}': {error}"
            )
            raise _ReplanError from None
        path = f"{GROUP}/namespaces/{namespace}/analysisruns"
        for attempt in range(MAX_RUN_NAME_ATTEMPTS):
            name = action.name if attempt == 0 else f"{action.name}.{attempt}"
            metadata = {**action.metadata, "name": name}
            manifest = {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "AnalysisRun",
                "metadata": metadata,
                "spec": spec.to_dict(),
            }
            try:
                body = await self._client.send(
                    Request("POST", path, "analysisruns", name, namespace, manifest, JSON, _WRITE)
                )
            except ApiError as error:
                if error.status == 409:
                    existing = await self._get_run(namespace, name)
                    if (
                        existing is not None
                        and existing.owner_uid == experiment.uid
                        and not existing.view.completed
                    ):
                        memory.runs.remember(existing)
                        return name
                    continue
                if not _refused(error):
                    raise
                memory.failures.analyses[action.analysis] = (
                    f"Failed to create AnalysisRun for analysis '{action.analysis}': {error.message}"
                )
                raise _ReplanError from None
            memory.runs.remember(project_run(body))
            return name
        raise RuntimeError(f"no free AnalysisRun name after {MAX_RUN_NAME_ATTEMPTS} attempts: {action.name}")

    async def _patch_status(self, experiment: ExperimentObject, patch: Mapping[str, Any]) -> Any:
        body = {
            "status": dict(patch),
            "metadata": {"resourceVersion": experiment.metadata.get("resourceVersion")},
        }
        path = _experiment_path(experiment.namespace, experiment.name)
        request = Request(
            "PATCH", path, "experiments", experiment.name, experiment.namespace, body, MERGE_PATCH, _WRITE
        )
        return await self._client.send(request)

    # -- Events
    async def _emit(self, experiment: ExperimentObject, actions: Iterable[Action]) -> None:
        for action in actions:
            if isinstance(action, EmitEvent):
                await self._post_event(experiment, action)
            elif isinstance(action, EmitRolloutEvent):
                rollout = {
                    "metadata": {"name": action.rollout, "namespace": experiment.namespace, "uid": action.uid}
                }
                body = event_body(
                    rollout, reason=action.reason, message=action.message, warning=True, now=self._clock()
                )
                await self._send_event(experiment.namespace, body)

    async def _post_event(self, experiment: ExperimentObject, event: EmitEvent) -> None:
        body = event_body(
            experiment.obj,
            reason=event.reason,
            message=event.message,
            warning=event.warning,
            now=self._clock(),
        )
        body["involvedObject"]["kind"] = "Experiment"
        await self._send_event(experiment.namespace, body)

    async def _send_event(self, namespace: str, body: Mapping[str, Any]) -> None:
        """Best effort, as client-go's recorder: a lost Event never fails a pass."""
        try:
            await self._client.send(apicalls.create_event(namespace, body))
        except ApiError as error:
            log.warning("Event %s not posted: %s", body.get("reason"), error)
