"""The controller's Prometheus metrics, under Argo Rollouts' names (§10.1), on a private registry.

Only what the shell itself knows is here: API requests it sent
(``controller_clientset_k8s_request_total``), reconcile passes and their duration
(``rollout_reconcile``), failed passes (``rollout_reconcile_error``) and Events emitted
(``rollout_events_total``). Tests and ``bench/`` read these to count writes instead of timing
anything. The registry is per controller instance so an in-process controller in a test never
shares counters with another.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    start_http_server,
)

from rollouts.controller.apicalls import Request
from rollouts.notifications.metrics import NotificationMetrics
from rollouts.planner.duration import FinishedAttempt

__all__ = ["ControllerMetrics"]

# 30 s to 8 h, the range an update plausibly takes (§10.1)
DURATION_BUCKETS = (30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0)


def _duration_histogram(name: str, documentation: str, registry: CollectorRegistry) -> Histogram:
    return Histogram(name, documentation, ["status"], buckets=DURATION_BUCKETS, registry=registry)


class ControllerMetrics:
    def __init__(self) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # the ``*_created`` series Argo does not have
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "controller_clientset_k8s_request",
            "API requests sent by the controller",
            ["kind", "namespace", "name", "verb", "status_code"],
            registry=self.registry,
        )
        self.reconcile = Histogram(
            "rollout_reconcile",
            "Rollout reconciliation performance",
            ["namespace", "name"],
            buckets=(0.01, 0.15, 0.25, 0.5, 1.0),
            registry=self.registry,
        )
        self.reconcile_errors = Counter(
            "rollout_reconcile_error",
            "Error occurring during the rollout",
            ["namespace", "name"],
            registry=self.registry,
        )
        self.events = Counter(
            "rollout_events",
            "Events sent by the controller about Rollouts",
            ["namespace", "name", "type", "reason"],
            registry=self.registry,
        )
        self.info = Gauge(
            "argo_rollouts_controller_info",
            "Running controller information",
            ["version"],
            registry=self.registry,
        )
        self.info.labels(version="rollouts").set(1)
        self.notifications = NotificationMetrics(self.registry)
        self.durations = {
            "total": _duration_histogram("rollout_duration_seconds", "Time an update took", self.registry),
            "progression": _duration_histogram(
                "rollout_progression_duration_seconds", "Update time less manual pauses", self.registry
            ),
            "manual_pause": _duration_histogram(
                "rollout_manual_pause_duration_seconds", "Update time in manual pauses", self.registry
            ),
        }

    def observe_attempt(self, attempt: FinishedAttempt) -> None:
        """An update ended (§3.23); called once its status write succeeded."""
        status = attempt.completion_status
        self.durations["total"].labels(status=status).observe(attempt.total_seconds)
        self.durations["progression"].labels(status=status).observe(attempt.progression_seconds)
        self.durations["manual_pause"].labels(status=status).observe(attempt.manual_pause_seconds)

    def observe_request(self, request: Request, status_code: int) -> None:
        self.requests.labels(
            kind=request.resource,
            namespace=request.namespace,
            name=request.name,
            verb=request.method,
            status_code=str(status_code),
        ).inc()

    def serve(self, port: int, address: str) -> None:
        """Expose ``/metrics`` on ``address:port`` from a daemon thread."""
        start_http_server(port, addr=address, registry=self.registry)
