"""The controller's configuration and the kopf settings derived from it.

kopf's defaults suit an operator that keeps handler progress in annotations and posts its own
Events; ours does neither. Every key kopf could write is moved under our own domain
(``rollouts.dev``) so that nothing under ``kopf.zalando.org`` ever appears on a user's object,
kopf's own Event posting is off (the controller posts Argo's Events itself), and the watches are
filtered on the server where the API allows it: ``--instance-id`` scoping (reference §0.2) by
label selector on Rollouts, AnalysisRuns and Experiments, and ReplicaSets to those carrying the
``rollouts-pod-template-hash`` label, so Deployment-owned ReplicaSets never reach the process.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import kopf

from rollouts.controller.leadership import LEASE_NAME, ElectionTimings
from traffic import TrafficSettings

__all__ = [
    "FIELD_MANAGER",
    "INSTANCE_ID_LABEL",
    "KOPF_DOMAIN",
    "WORKFLOW_CONTROLLER_ENV",
    "ControllerConfig",
    "LeaderElection",
    "instance_selector",
    "operator_settings",
    "workflow_controller_default",
]

KOPF_DOMAIN: Final = "rollouts.dev"
INSTANCE_ID_LABEL: Final = "argo-rollouts.argoproj.io/controller-instance-id"
FIELD_MANAGER: Final = "rollouts-controller"
REPLICA_SET_SELECTOR: Final = "rollouts-pod-template-hash"
WORKFLOW_CONTROLLER_ENV: Final = "ROLLOUTS_WORKFLOW_CONTROLLER"
_TRUE: Final = frozenset({"true", "1", "yes"})
_FALSE: Final = frozenset({"false", "0", "no"})


@dataclass(frozen=True)
class LeaderElection:
    """``--leader-elect`` and its Lease: which one, where, and how fast it expires."""

    namespace: str
    timings: ElectionTimings = field(default_factory=ElectionTimings)
    lease_name: str = LEASE_NAME


@dataclass(frozen=True)
class ControllerConfig:
    """What ``rollouts controller`` was asked to do."""

    namespaces: tuple[str, ...] = ()
    """Namespaces to watch; empty means the whole cluster."""

    instance_id: str = ""
    """Only objects labelled with this instance id (empty: only objects without the label)."""

    resync_seconds: float = 900.0
    """Re-plan every Rollout this often from the cache, even without events (no API requests)."""

    metrics_port: int = 8090
    """Port of the Prometheus ``/metrics`` endpoint; 0 disables it."""

    healthz_port: int = 8080
    """Port of the ``/healthz`` liveness endpoint; 0 disables it."""

    kubeconfig: str | None = None
    """A kubeconfig file; ``None`` means ``$KUBECONFIG``/``~/.kube/config`` or the in-cluster config."""

    context: str | None = None
    """The kubeconfig context to use (its current context by default)."""

    bind_address: str = "0.0.0.0"
    """Address the metrics and health endpoints listen on."""

    traffic_settings: TrafficSettings = field(default_factory=TrafficSettings)
    """API versions of the routing objects (``--istio-api-version``, ``--traffic-split-api-version``)."""

    notifications: bool = True
    """Send notifications for Events (``--notifications``; ``--no-notifications`` turns them off)."""

    notifications_namespace: str = "argo-rollouts"
    """Where the notification ConfigMap and Secret are read: the controller's own namespace."""

    self_service_notifications: bool = False
    """Also read the pair in each Rollout's namespace (``--self-service-notification-enabled``)."""

    workflow_controller: bool = True
    """Run WorkflowRuns in this process (``--no-workflow-controller``: another process, or nobody,
    runs them; the ``workflow`` metric provider still creates them)."""

    leader_election: LeaderElection | None = None
    """Campaign for this Lease before starting (``--leader-elect``); ``None`` runs at once."""


def workflow_controller_default(environ: Mapping[str, str]) -> bool:
    """``--workflow-controller``'s default: ``ROLLOUTS_WORKFLOW_CONTROLLER`` (true when unset)."""
    value = environ.get(WORKFLOW_CONTROLLER_ENV, "").strip().lower()
    if not value or value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"{WORKFLOW_CONTROLLER_ENV} must be true or false, not {environ[WORKFLOW_CONTROLLER_ENV]!r}"
    )


def instance_selector(instance_id: str) -> str:
    """The label selector of §0.2: this instance's objects, or the unlabelled ones."""
    return f"{INSTANCE_ID_LABEL}={instance_id}" if instance_id else f"!{INSTANCE_ID_LABEL}"


def operator_settings(config: ControllerConfig) -> kopf.OperatorSettings:
    """kopf settings for our shell: own domain, no Event posting, server-side watch filters."""
    settings = kopf.OperatorSettings()
    settings.persistence.finalizer = f"{KOPF_DOMAIN}/finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=KOPF_DOMAIN)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=KOPF_DOMAIN, key="last-handled-configuration"
    )
    settings.posting.enabled = False
    settings.posting.level = logging.CRITICAL
    settings.peering.standalone = True
    settings.peering.clusterwide = not config.namespaces
    settings.watching.label_selectors["argoproj.io", "rollouts"] = instance_selector(config.instance_id)
    settings.watching.label_selectors["argoproj.io", "analysisruns"] = instance_selector(config.instance_id)
    settings.watching.label_selectors["argoproj.io", "experiments"] = instance_selector(config.instance_id)
    settings.watching.label_selectors["apps", "replicasets"] = REPLICA_SET_SELECTOR
    return settings
