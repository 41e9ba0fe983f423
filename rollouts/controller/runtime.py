"""Wiring one controller together and running it under kopf (embedded, not via ``kopf run``).

`Controller` owns the pieces a run needs — API client, applier, metrics, the loops and the index
adapter — so a test can start a controller in its own event loop, read its metrics and stop it,
and ``rollouts controller`` starts exactly the same thing. Credentials are loaded once and shared
by kopf's watches (its login handler) and our writes. One operator hosts every controller: the
Rollouts', the AnalysisRuns' (`analysis.controller`), the Experiments' (`rollouts.experiments`) and
the WorkflowRuns'/CronWorkflows' (`analysis.workflows`); every Rollout Event also feeds the
notifier, and with leader election the operator starts only once this process leads.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import kopf
from kubernetes import client as k8s_client

from analysis.controller.registry import register as register_analysis
from analysis.workflows.cron_registry import register as register_cron_workflows
from analysis.workflows.registry import register as register_workflows
from rollouts.controller.analysisruns import KubeApiCaller
from rollouts.controller.apply import Applier
from rollouts.controller.collectors import StateCollector
from rollouts.controller.elector import LeaderElector, LeadershipLost
from rollouts.controller.kube import KubeClient, connection_info, load_configuration
from rollouts.controller.loop import Loops, Shell
from rollouts.controller.metrics import ControllerMetrics
from rollouts.controller.settings import ControllerConfig, operator_settings
from rollouts.controller.wakeups import IndexedChildren, build_registry
from rollouts.experiments.registry import register as register_experiments
from rollouts.notifications.wiring import Notifier, start_notifier
from rollouts.planner import EmitEvent
from rollouts.planner.inputs import as_mapping, as_str

__all__ = ["Controller", "run_controller", "utc_now"]

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Controller:
    """One controller instance: configuration, credentials, metrics, loops."""

    def __init__(
        self,
        config: ControllerConfig,
        configuration: k8s_client.Configuration | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.config = config
        self.configuration = configuration or load_configuration(config.kubeconfig, config.context)
        self.metrics = ControllerMetrics()
        self.children = IndexedChildren()
        self.clock = clock
        self._client: KubeClient | None = None
        self.loops: Loops | None = None
        self.notifier: Notifier | None = None

    def _count_event(self, rollout: Any, event: EmitEvent) -> None:
        metadata = as_mapping(as_mapping(rollout).get("metadata"))
        self.metrics.events.labels(
            namespace=as_str(metadata.get("namespace")),
            name=as_str(metadata.get("name")),
            type="Warning" if event.warning else "Normal",
            reason=event.reason,
        ).inc()
        if self.notifier is not None:  # queued only: delivery never delays the reconcile
            self.notifier.notify(rollout, event.reason, event.warning)

    async def run(self, *, stop_flag: Any = None, ready_flag: Any = None) -> None:
        """Run until ``stop_flag`` is set (or a signal stops kopf)."""
        client = KubeClient(self.configuration, observer=self.metrics.observe_request)
        self._client = client
        self.notifier = start_notifier(self.config, client, self.metrics)
        applier = Applier(
            client,
            clock=self.clock,
            on_event=self._count_event,
            traffic_settings=self.config.traffic_settings,
        )
        shell = Shell(
            client=client,
            applier=applier,
            children=self.children,
            metrics=self.metrics,
            clock=self.clock,
            resync_seconds=self.config.resync_seconds,
        )
        self.loops = Loops(shell)
        namespace = self.config.namespaces[0] if self.config.namespaces else None
        registry = build_registry(
            self.loops, self.children, lambda: connection_info(self.configuration, namespace)
        )
        runs = register_analysis(registry, KubeApiCaller(client), clock=self.clock)
        register_experiments(
            registry,
            client,
            self.metrics.registry,
            clock=self.clock,
            resync_seconds=self.config.resync_seconds,
        )
        resource_client = k8s_client.ApiClient(self.configuration)  # for workflow resource steps
        register_workflows(
            registry,
            KubeApiCaller(client),
            clock=self.clock,
            resource_client=resource_client,
            enabled=self.config.workflow_controller,
        )
        register_cron_workflows(
            registry,
            KubeApiCaller(client),
            clock=self.clock,
            resync_seconds=self.config.resync_seconds,
            enabled=self.config.workflow_controller,
        )
        # Argo's state metrics (rollout_info, analysis_run_info, ...), read from the loops at scrape time
        self.metrics.registry.register(StateCollector(self.loops.rollouts, runs.runs))
        if self.config.metrics_port:
            self.metrics.serve(self.config.metrics_port, self.config.bind_address)
        liveness = (
            f"http://{self.config.bind_address}:{self.config.healthz_port}/healthz"
            if self.config.healthz_port
            else None
        )
        try:
            operator = kopf.operator(
                registry=registry,
                settings=operator_settings(self.config),
                clusterwide=not self.config.namespaces,
                namespaces=list(self.config.namespaces),
                standalone=True,
                liveness_endpoint=liveness,
                stop_flag=stop_flag,
                ready_flag=ready_flag,
            )
            election = self.config.leader_election
            if election is None:
                await operator
            else:  # the operator (watches and writes) starts only once this process leads
                elector = LeaderElector(client, election, self.metrics.registry)
                health = (self.config.bind_address, self.config.healthz_port) if liveness else None
                await elector.run(operator, health)
        finally:
            if self.notifier is not None:
                await self.notifier.close()
            resource_client.close()  # type: ignore[no-untyped-call]  # its thread pool, if resource steps made one
            await client.close()


def run_controller(config: ControllerConfig, configuration: k8s_client.Configuration | None = None) -> int:
    """Run in the main thread until SIGINT/SIGTERM; the exit code of ``rollouts controller``."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("run_controller must run in the main thread (it handles signals)")
    try:
        asyncio.run(Controller(config, configuration).run())
    except LeadershipLost as lost:
        log.error("leader election lost, stopping: %s", lost)  # the Pod restarts and campaigns again
        return 1
    return 0
