"""One `Plan` against the API: its writes in order, then the status patch (at most one).

The planner decided everything; what is left here are the API's own answers, each mapped to
Argo's reaction (§3.2):

* creating newRS answers **AlreadyExists** — if the existing ReplicaSet is ours with an equal
  template it *is* newRS (look again with it); otherwise the name collides and
  ``status.collisionCount`` is bumped, which changes the hash on the next pass;
* creating newRS fails otherwise (quota, admission, an invalid template) — the planner's
  ``create_error_plan`` is written instead: a Warning Event and ``Progressing=False``;
* a child patched or deleted is already **gone** (NotFound) — the cache was stale: stop and look
  again once the watch has caught up;
* a write to the Rollout — the status patch or a planned spec/metadata patch, both guarded by
  the ``resourceVersion`` the plan was made from (or our own previous write returned) —
  **conflicts** (409: someone, e.g. Argo's plugin, edited the Rollout since it was read): re-read
  it and plan again rather than overwrite their edit;
* an eviction is refused by a PodDisruptionBudget (429) — leave the pod for the next pass.

Events that report a status transition are posted only after the status patch succeeded (a
conflicting pass is planned again and would post them twice); those that report one of the
plan's writes (``EmitEvent.with_write``) are posted as the plan reaches them.

Every object a write returns is remembered (`writeback`) so the next pass plans from it even if
the watch lags. `SetTrafficWeight` goes to the `traffic` routers; a routing object they cannot
bring to the desired state (missing, owned by someone else) stops the pass with Argo's
``TrafficRoutingError`` Warning Event, retried later. AnalysisRuns are built and created by
`analysisruns`; the experiment step's Experiment is built by `rollouts.planner.experiments` from
newRS and stableRS, read here for their pod templates. A run or Experiment that cannot be built
(or that the API refuses) stops the pass the same way, with the reason as a
``ReconciliationError`` Warning Event: nothing after it is applied, nothing is faked.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import httpx

import traffic
from rollouts.controller import apicalls
from rollouts.controller.analysisruns import RunCreationError, create_analysis_run
from rollouts.controller.correlation import Correlated, Correlator
from rollouts.controller.events import event_body
from rollouts.controller.kube import ApiError, KubeClient
from rollouts.controller.observe import (
    ChildRecord,
    ReplicaSetRecord,
    ServiceRecord,
    project_child,
    project_replica_set,
    project_service,
)
from rollouts.controller.settings import FIELD_MANAGER
from rollouts.controller.templates import ephemeral_metadata, template_digest
from rollouts.controller.writeback import WriteBack
from rollouts.planner import (
    Action,
    CreateAnalysisRun,
    CreateExperiment,
    CreateReplicaSet,
    DeleteAnalysisRun,
    DeleteExperiment,
    DeleteReplicaSet,
    EmitEvent,
    EvictPod,
    PatchReplicaSet,
    PatchRollout,
    Plan,
    Requeue,
    ScaleReplicaSet,
    ScaleWorkload,
    SetServiceSelector,
    SetTrafficWeight,
    TerminateAnalysisRun,
    TerminateExperiment,
)
from rollouts.planner.experiments import ExperimentSpecError, experiment_manifest
from rollouts.planner.inputs import RolloutView, as_int, as_mapping, as_str
from rollouts.planner.status import create_error_plan

__all__ = ["Applier", "Outcome", "Unsupported", "Written", "traffic_intent"]

log = logging.getLogger(__name__)

NOT_FOUND: Final = 404
CONFLICT: Final = 409
TOO_MANY_REQUESTS: Final = 429
SERVER_ERROR: Final = 500
EVENT_TRIES: Final = 12
EVENT_RETRY_SECONDS: Final = 10.0


@dataclass
class Written:
    """The write-back memory of one Rollout's children (see `writeback`)."""

    replica_sets: WriteBack[ReplicaSetRecord] = field(default_factory=WriteBack)
    services: WriteBack[ServiceRecord] = field(default_factory=WriteBack)
    runs: WriteBack[ChildRecord] = field(default_factory=WriteBack)
    experiments: WriteBack[ChildRecord] = field(default_factory=WriteBack)


@dataclass(frozen=True)
class Unsupported:
    """A planned action that cannot be carried out (a routing object, a run or an Experiment that
    cannot be built or written), reported with Argo's Event reason."""

    reason: str
    message: str


@dataclass
class Outcome:
    """What applying a plan left behind for the loop."""

    rollout: dict[str, Any] | None = None
    """The freshest Rollout body a write returned (or a re-read after a conflict)."""

    requeue_at: datetime | None = None
    """The earliest `Requeue` of the plan."""

    replan: bool = False
    """Plan again at once: the world differs from what the plan assumed."""

    writes: int = 0
    status_written: bool = False
    gone: bool = False
    unsupported: Unsupported | None = None


def _resource_version(body: Any) -> str:
    """An object's ``resourceVersion``: the Rollout's a write is guarded by, or the one a DELETE
    answered with (the tombstone's, see `writeback`)."""
    return as_str(as_mapping(as_mapping(body).get("metadata")).get("resourceVersion"))


def traffic_intent(action: SetTrafficWeight) -> traffic.Intent:
    """The routers' input for a planned `SetTrafficWeight` (experiment destinations included)."""
    return traffic.Intent(
        weight=action.weight,
        canary_hash=action.canary_hash,
        stable_hash=action.stable_hash,
        extra=tuple(traffic.Destination(d.service_name, d.pod_template_hash, d.weight) for d in action.extra),
        header_route=action.header_route,
        mirror_route=action.mirror_route,
        remove_managed_routes=action.remove_managed_routes,
    )


class Applier:
    """Applies plans for the Rollouts of one controller."""

    def __init__(
        self,
        client: KubeClient,
        *,
        clock: Callable[[], datetime],
        on_event: Callable[[Mapping[str, Any], EmitEvent], None] | None = None,
        traffic_settings: traffic.TrafficSettings | None = None,
    ) -> None:
        self._client = client
        self._clock = clock
        self._on_event = on_event
        self._traffic_settings = traffic_settings or traffic.TrafficSettings()
        self._correlator = Correlator()
        self._event_retries: set[asyncio.Task[None]] = set()

    async def apply(
        self,
        plan: Plan,
        rollout: Mapping[str, Any],
        written: Written,
        *,
        workload: Mapping[str, Any] | None = None,
    ) -> Outcome:
        ro = RolloutView(rollout)
        outcome = Outcome()
        current: Mapping[str, Any] = rollout
        transitions: list[EmitEvent] = []
        for action in plan.actions:
            if isinstance(action, Requeue):
                if outcome.requeue_at is None or action.at < outcome.requeue_at:
                    outcome.requeue_at = action.at
                continue
            if isinstance(action, EmitEvent):
                if action.with_write:
                    await self.emit(current, action)
                else:
                    transitions.append(action)
                continue
            proceed = await self._apply_action(
                action, ro=ro, current=current, written=written, outcome=outcome, workload=workload
            )
            if outcome.rollout is not None:
                current = outcome.rollout
            if not proceed:
                return outcome  # status not written: the next pass decides these transitions again
        if plan.status_patch is not None:
            await self._patch_status(plan.status_patch, ro, current, outcome)
            if not outcome.status_written:
                return outcome  # 409 or gone: the re-planned pass reports the transitions, once
        # ``current`` is still the Rollout as this pass found it, as Argo hands it to its recorder
        # (notification templates read ``status.currentStepIndex`` before the step advanced)
        for event in transitions:
            await self.emit(current, event)
        return outcome

    async def _send(self, request: apicalls.Request, outcome: Outcome) -> Any:
        result = await self._client.send(request)
        if request.is_write:
            outcome.writes += 1
        return result

    async def _apply_action(
        self,
        action: Action,
        *,
        ro: RolloutView,
        current: Mapping[str, Any],
        written: Written,
        outcome: Outcome,
        workload: Mapping[str, Any] | None,
    ) -> bool:
        """Send one action; ``False`` stops the pass (the outcome says why)."""
        namespace = ro.namespace
        if isinstance(action, CreateReplicaSet):
            return await self._create_replica_set(action, ro, current, written, outcome)
        if isinstance(action, CreateExperiment):
            return await self._create_experiment(action, ro, current, written, outcome)
        try:
            if isinstance(action, ScaleReplicaSet | PatchReplicaSet):
                request = (
                    apicalls.scale_replica_set(namespace, action)
                    if isinstance(action, ScaleReplicaSet)
                    else apicalls.patch_replica_set(namespace, action)
                )
                written.replica_sets.remember(project_replica_set(await self._send(request, outcome)))
            elif isinstance(action, DeleteReplicaSet):
                result = await self._send(apicalls.delete_replica_set(namespace, action), outcome)
                written.replica_sets.forget_deleted(action.name, _resource_version(result))
            elif isinstance(action, PatchRollout):
                request = apicalls.patch_rollout(namespace, ro.name, action, _resource_version(current))
                outcome.rollout = await self._send(request, outcome)
            elif isinstance(action, SetServiceSelector):
                request = apicalls.set_service_selector(namespace, action)
                written.services.remember(project_service(await self._send(request, outcome)))
            elif isinstance(action, CreateAnalysisRun):
                try:
                    run = await create_analysis_run(lambda r: self._send(r, outcome), action, current)
                except RunCreationError as error:
                    outcome.unsupported = Unsupported("ReconciliationError", str(error))
                    return False
                written.runs.remember(project_child(run))
            elif isinstance(action, TerminateAnalysisRun):
                await self._send(apicalls.terminate_analysis_run(namespace, action), outcome)
            elif isinstance(action, TerminateExperiment):
                await self._send(apicalls.terminate_experiment(namespace, action), outcome)
            elif isinstance(action, DeleteAnalysisRun):
                result = await self._send(apicalls.delete_analysis_run(namespace, action), outcome)
                written.runs.forget_deleted(action.name, _resource_version(result))
            elif isinstance(action, DeleteExperiment):
                result = await self._send(apicalls.delete_experiment(namespace, action), outcome)
                written.experiments.forget_deleted(action.name, _resource_version(result))
            elif isinstance(action, SetTrafficWeight):
                return await self._route_traffic(action, current, outcome)
            elif isinstance(action, EvictPod):
                await self._evict(apicalls.evict_pod(namespace, action), outcome)
            elif isinstance(action, ScaleWorkload):
                await self._scale_workload(action, namespace, workload, outcome)
        except ApiError as error:
            if isinstance(action, PatchRollout) and error.status == CONFLICT:
                await self._reread_after_conflict(ro, outcome)
                return False
            if error.status != NOT_FOUND:
                raise
            if isinstance(
                action,
                TerminateAnalysisRun
                | TerminateExperiment
                | DeleteAnalysisRun
                | DeleteExperiment
                | DeleteReplicaSet,
            ):
                return True  # already gone is what we wanted
            if isinstance(action, PatchRollout):
                outcome.gone = True
                return False
            log.info("%s/%s: %s: not found, looking again", namespace, ro.name, type(action).__name__)
            outcome.replan = True
            return False
        return True

    async def _route_traffic(
        self, action: SetTrafficWeight, rollout: Mapping[str, Any], outcome: Outcome
    ) -> bool:
        """The `traffic` routers bring the routing objects to the action's weight and routes
        (§3.6); one that cannot stops the pass with Argo's ``TrafficRoutingError``."""
        intent = traffic_intent(action)

        async def send(request: traffic.Request) -> Any:
            params = {"fieldManager": FIELD_MANAGER} if request.is_write else {}
            fields = (request.name, request.namespace, request.body, request.content_type, params)
            return await self._send(
                apicalls.Request(request.method, request.path, request.resource, *fields), outcome
            )

        try:
            # An unset SMI version is discovered once and kept, not asked for on every pass.
            self._traffic_settings = await traffic.resolve_settings(
                send, traffic.Routing.from_rollout(rollout), self._traffic_settings
            )
            routed = await traffic.reconcile(send, rollout, intent, self._traffic_settings)
        except traffic.RoutingError as error:
            outcome.unsupported = Unsupported("TrafficRoutingError", str(error))
            return False
        for event in routed.events:
            await self.emit(rollout, EmitEvent(event.reason, event.message, event.warning))
        return True

    async def _evict(self, request: apicalls.Request, outcome: Outcome) -> None:
        try:
            await self._send(request, outcome)
        except ApiError as error:
            if error.status not in (TOO_MANY_REQUESTS, NOT_FOUND):
                raise
            log.info("eviction of %s refused for now: %s", request.name, error)

    async def _scale_workload(
        self,
        action: ScaleWorkload,
        namespace: str,
        workload: Mapping[str, Any] | None,
        outcome: Outcome,
    ) -> None:
        """Only when the referenced object's ``spec.replicas`` differs (§3.16)."""
        if (
            workload is not None
            and as_int(as_mapping(workload.get("spec")).get("replicas"), 1) == action.replicas
        ):
            return
        request = apicalls.scale_workload(namespace, action)
        if request is not None:
            await self._send(request, outcome)

    async def _create_replica_set(
        self,
        action: CreateReplicaSet,
        ro: RolloutView,
        current: Mapping[str, Any],
        written: Written,
        outcome: Outcome,
    ) -> bool:
        namespace = ro.namespace
        try:
            created = await self._send(apicalls.create_replica_set(namespace, action.manifest), outcome)
        except ApiError as error:
            if error.status == CONFLICT:
                return await self._already_exists(action, ro, current, written, outcome)
            if 400 <= error.status < 500:
                plan = create_error_plan(current, action.name, error.message or str(error), self._clock())
                for event in plan.of_type(EmitEvent):
                    await self.emit(current, event)
                if plan.status_patch is not None:
                    await self._patch_status(plan.status_patch, RolloutView(current), current, outcome)
                return False
            raise
        written.replica_sets.remember(project_replica_set(created))
        return True

    async def _create_experiment(
        self,
        action: CreateExperiment,
        ro: RolloutView,
        current: Mapping[str, Any],
        written: Written,
        outcome: Outcome,
    ) -> bool:
        """Read newRS and stableRS (their pod templates), build the Experiment, create it.

        An existing Experiment of that name that this Rollout controls is the one a lost status
        write left behind (reused, as Argo does); one it does not control, a step that cannot be
        built from, or a create the API refuses stops the pass with the reason.
        """
        namespace = ro.namespace
        try:
            new_rs = await self._send(apicalls.get_replica_set(namespace, action.new_rs_name), outcome)
            stable_rs = await self._send(apicalls.get_replica_set(namespace, action.stable_rs_name), outcome)
        except ApiError as error:
            if error.status != NOT_FOUND:
                raise
            outcome.replan = True  # the cache was stale: look again
            return False
        try:
            manifest = experiment_manifest(current, action, new_rs, stable_rs)
            created = await self._send(apicalls.create_experiment(namespace, manifest), outcome)
        except ExperimentSpecError as error:
            outcome.unsupported = Unsupported(
                "ReconciliationError", f"Experiment {action.name} cannot be created: {error}"
            )
            return False
        except ApiError as error:
            if error.status == CONFLICT:
                created = await self._send(apicalls.get_experiment(namespace, action.name), outcome)
                if project_child(created).owner_uid == ro.uid:
                    written.experiments.remember(project_child(created))
                    return True
                message = f"Experiment {action.name} already exists and is not owned by this Rollout"
            elif 400 <= error.status < 500:
                message = f"Experiment {action.name} cannot be created: {error.message or error}"
            else:
                raise
            outcome.unsupported = Unsupported("ReconciliationError", message)
            return False
        written.experiments.remember(project_child(created))
        return True

    async def _already_exists(
        self,
        action: CreateReplicaSet,
        ro: RolloutView,
        current: Mapping[str, Any],
        written: Written,
        outcome: Outcome,
    ) -> bool:
        path = f"{apicalls.REPLICA_SETS.format(namespace=ro.namespace)}/{action.name}"
        try:
            existing = await self._send(
                apicalls.get_object(path, "replicasets", ro.namespace, action.name), outcome
            )
        except ApiError as error:
            if error.status != NOT_FOUND:
                raise
            outcome.replan = True  # deleted in between: try again
            return False
        record = project_replica_set(existing)
        wanted = template_digest(
            as_mapping(as_mapping(action.manifest.get("spec")).get("template")),
            ephemeral_metadata(as_mapping(as_mapping(action.manifest.get("metadata")).get("annotations"))),
        )
        if record.owner_uid == ro.uid and record.template_digest == wanted:
            written.replica_sets.remember(record)
            outcome.replan = True
            return False
        count = as_int(ro.status.get("collisionCount"), 0) + 1
        log.info(
            "%s/%s: ReplicaSet name %s collides; collisionCount=%d", ro.namespace, ro.name, action.name, count
        )
        await self._patch_status({"collisionCount": count}, RolloutView(current), current, outcome)
        outcome.replan = True
        return False

    async def _patch_status(
        self,
        status_patch: Mapping[str, Any],
        ro: RolloutView,
        current: Mapping[str, Any],
        outcome: Outcome,
    ) -> None:
        request = apicalls.patch_rollout_status(
            ro.namespace, ro.name, status_patch, _resource_version(current)
        )
        try:
            outcome.rollout = await self._send(request, outcome)
            outcome.status_written = True
        except ApiError as error:
            if error.status == NOT_FOUND:
                outcome.gone = True
            elif error.status == CONFLICT:
                await self._reread_after_conflict(ro, outcome)
            else:
                raise

    async def _reread_after_conflict(self, ro: RolloutView, outcome: Outcome) -> None:
        """A Rollout write was refused (409): someone changed it after this pass read it. Read
        it again and plan from that, so their change (abort, retry, promote, pause) is kept."""
        outcome.replan = True
        path = f"{apicalls.ROLLOUTS.format(namespace=ro.namespace)}/{ro.name}"
        try:
            outcome.rollout = await self._send(
                apicalls.get_object(path, "rollouts", ro.namespace, ro.name), outcome
            )
        except ApiError as reread:
            if reread.status != NOT_FOUND:
                raise
            outcome.gone = True

    async def emit(self, rollout: Mapping[str, Any], event: EmitEvent) -> None:
        """Report an Event as client-go's recorder does: a repeat patches the count of the Event
        already posted, many similar ones are combined (``correlation``); a post that fails for a
        transient reason is retried off the reconcile path. Never raises (Events are best effort)."""
        namespace = as_str(as_mapping(rollout.get("metadata")).get("namespace"))
        now = self._clock()
        body = event_body(rollout, reason=event.reason, message=event.message, warning=event.warning, now=now)
        if self._on_event is not None:
            self._on_event(rollout, event)
        correlated = self._correlator.correlate(body, now)
        if not await self._post_event(namespace, correlated):
            task = asyncio.get_running_loop().create_task(self._retry_event(namespace, correlated))
            self._event_retries.add(task)
            task.add_done_callback(self._event_retries.discard)

    async def _post_event(self, namespace: str, correlated: Correlated) -> bool:
        """One try; ``True`` once done (accepted, or refused for good), ``False`` to try again."""
        name = as_str(as_mapping(correlated.body.get("metadata")).get("name"))
        try:
            if correlated.patch is not None:
                try:
                    posted = await self._client.send(apicalls.patch_event(namespace, name, correlated.patch))
                except ApiError as error:
                    if error.status != NOT_FOUND:
                        raise
                    posted = await self._client.send(apicalls.create_event(namespace, correlated.body))
            else:
                posted = await self._client.send(apicalls.create_event(namespace, correlated.body))
        except ApiError as error:
            if error.status == CONFLICT:  # an earlier try landed after all
                return True
            transient = error.status == TOO_MANY_REQUESTS or error.status >= SERVER_ERROR
            log.warning("could not post Event %s on %s: %s", correlated.body.get("reason"), namespace, error)
            return not transient
        except (OSError, httpx.TransportError) as error:
            reason = correlated.body.get("reason")
            log.warning("could not post Event %s on %s: %r", reason, namespace, error)
            return False
        self._correlator.posted(posted if isinstance(posted, Mapping) else correlated.body)
        return True

    async def _retry_event(self, namespace: str, correlated: Correlated) -> None:
        """client-go's schedule: up to 12 tries in all, the first retry after a random part of
        10 s (so controllers do not retry in step), then every 10 s."""
        for attempt in range(1, EVENT_TRIES):
            pause = EVENT_RETRY_SECONDS * (random.random() if attempt == 1 else 1.0)
            await asyncio.sleep(pause)
            if await self._post_event(namespace, correlated):
                return
        log.warning("gave up posting Event %s on %s", correlated.body.get("reason"), namespace)
