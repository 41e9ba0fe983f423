"""``rollouts controller``: run the Rollout controller against the current kubeconfig or in-cluster.

Flags follow Argo's controller (§12) where one exists — its spellings (``--loglevel``,
``--logformat``, ``--metricsPort``, ``--healthzPort``) are accepted as aliases so an Argo
Deployment's arguments keep working — plus ``--kubeconfig``/``--context`` for running outside a
cluster. Logging goes through kopf's formatter, text or JSON.

Leader election uses Argo's flags and defaults (``--leader-elect``, lease 15s, renew 10s, retry
2s, written as Go durations) with one difference: when ``--leader-elect`` is not given it is on
only where the controller knows its own namespace (in a Pod, or with ``POD_NAMESPACE``), since a
local run — the demo, a developer's shell — has no natural place for the Lease.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
from pathlib import Path

import kopf
import yaml

import traffic
from analysis.values import parse_go_duration
from rollouts.controller.leadership import ElectionTimings
from rollouts.controller.settings import ControllerConfig, LeaderElection, workflow_controller_default

__all__ = ["config_from_args", "register"]

LOG_LEVELS = ("debug", "info", "warn", "warning", "error")
# A Kubernetes API version as it appears in apiVersion after the group: v1, v1beta1, v1alpha3.
API_VERSION = re.compile(r"v[1-9][0-9]*((alpha|beta)[1-9][0-9]*)?")
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


# strconv.ParseBool's spellings, so ``--leader-elect=false`` from an Argo manifest keeps working.
GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def go_bool(text: str) -> bool:
    if text in GO_TRUE:
        return True
    if text in GO_FALSE:
        return False
    raise argparse.ArgumentTypeError(f"must be true or false, not {text!r}")


def own_namespace_known() -> bool:
    """Whether the controller runs with a namespace of its own (in a Pod, or ``POD_NAMESPACE``)."""
    return bool(os.environ.get("POD_NAMESPACE")) or SERVICE_ACCOUNT_NAMESPACE.is_file()


def own_namespace() -> str:
    """``POD_NAMESPACE``, else the service account's namespace, else ``argo-rollouts`` (§12)."""
    if os.environ.get("POD_NAMESPACE"):
        return os.environ["POD_NAMESPACE"]
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or "argo-rollouts"
    except OSError:
        return "argo-rollouts"


def traffic_settings_from_args(args: argparse.Namespace) -> traffic.TrafficSettings:
    """Routing-object API versions; an unset ``--traffic-split-api-version`` stays ``None`` so the
    version the cluster serves is discovered (SMI's current CRD serves only v1alpha4, while
    Argo's fixed default v1alpha1 would be refused)."""
    for flag, version in (
        ("--istio-api-version", args.istio_api_version),
        ("--traffic-split-api-version", args.traffic_split_api_version),
    ):
        if version is not None and not API_VERSION.fullmatch(version):
            raise ValueError(f"{flag} must be an API version such as v1alpha3 or v1beta1, not {version!r}")
    return traffic.TrafficSettings(
        istio_api_version=args.istio_api_version, smi_api_version=args.traffic_split_api_version
    )


def _duration(flag: str, text: str) -> float:
    try:
        return parse_go_duration(text)
    except ValueError as error:
        raise ValueError(f"{flag} must be a duration such as 15s or 1m, not {text!r}") from error


def leader_election_from_args(args: argparse.Namespace) -> LeaderElection | None:
    timings = ElectionTimings(  # checked even when off: a typo must not wait for the day it is used
        lease_duration=_duration("--leader-election-lease-duration", args.leader_election_lease_duration),
        renew_deadline=_duration("--leader-election-renew-deadline", args.leader_election_renew_deadline),
        retry_period=_duration("--leader-election-retry-period", args.leader_election_retry_period),
    )
    enabled = own_namespace_known() if args.leader_elect is None else args.leader_elect
    if not enabled:
        return None
    return LeaderElection(namespace=args.leader_election_namespace or own_namespace(), timings=timings)


def config_from_args(args: argparse.Namespace) -> ControllerConfig:
    namespaces = list(args.namespace or [])
    if args.namespaced and not namespaces:
        namespaces = [own_namespace()]
    if args.rollout_resync <= 0:
        raise ValueError("--rollout-resync must be a positive number of seconds")
    for flag, port in (("--metrics-port", args.metrics_port), ("--healthz-port", args.healthz_port)):
        if not 0 <= port <= 65535:
            raise ValueError(f"{flag} must be between 0 and 65535 (0 disables it), not {port}")
    return ControllerConfig(
        namespaces=tuple(dict.fromkeys(namespaces)),
        instance_id=args.instance_id,
        resync_seconds=float(args.rollout_resync),
        metrics_port=args.metrics_port,
        healthz_port=args.healthz_port,
        kubeconfig=args.kubeconfig,
        context=args.context,
        traffic_settings=traffic_settings_from_args(args),
        notifications=args.notifications,
        notifications_namespace=own_namespace(),
        self_service_notifications=args.self_service_notification_enabled,
        workflow_controller=(
            workflow_controller_default(os.environ)
            if args.workflow_controller is None
            else args.workflow_controller
        ),
        leader_election=leader_election_from_args(args),
    )


def configure_logging(level: str, log_format: str) -> None:
    kopf.configure(
        debug=level == "debug",
        quiet=level in ("warn", "warning", "error"),
        log_format=kopf.LogFormat.JSON if log_format == "json" else kopf.LogFormat.FULL,
    )
    if level == "error":
        logging.getLogger().setLevel(logging.ERROR)
    if level != "debug":
        # kopf logs every handled watch event, httpx every request: useful only when debugging.
        for noisy in ("kopf.objects", "httpx"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def run(args: argparse.Namespace) -> int:
    from kubernetes.config import ConfigException

    from rollouts.controller.kube import load_configuration
    from rollouts.controller.runtime import run_controller

    try:
        config = config_from_args(args)
    except ValueError as error:
        print(f"rollouts controller: error: {error}")
        return 2
    configure_logging(args.log_level, args.log_format)
    try:
        configuration = load_configuration(config.kubeconfig, config.context)
    except (ConfigException, OSError, ValueError, yaml.YAMLError) as error:
        print(f"rollouts controller: error: cannot load Kubernetes credentials: {error}")
        return 1
    return run_controller(config, configuration)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("controller", help="run the Rollout controller")
    parser.add_argument(
        "--namespace", action="append", metavar="NS", help="watch only this namespace (repeatable)"
    )
    parser.add_argument("--namespaced", action="store_true", help="watch only the controller's own namespace")
    parser.add_argument(
        "--instance-id", default="", help="handle only objects labelled with this controller instance id"
    )
    parser.add_argument(
        "--log-level", "--loglevel", dest="log_level", choices=LOG_LEVELS, default="info", help="log level"
    )
    parser.add_argument(
        "--log-format", "--logformat", dest="log_format", choices=("text", "json"), default="text"
    )
    parser.add_argument(
        "--metrics-port",
        "--metricsPort",
        dest="metrics_port",
        type=int,
        default=8090,
        help="Prometheus /metrics port (0 disables; default 8090)",
    )
    parser.add_argument(
        "--healthz-port",
        "--healthzPort",
        dest="healthz_port",
        type=int,
        default=8080,
        help="/healthz port (0 disables; default 8080)",
    )
    parser.add_argument(
        "--kubeconfig", default=None, help="kubeconfig file (default: $KUBECONFIG or in-cluster)"
    )
    parser.add_argument("--context", default=None, help="kubeconfig context")
    parser.add_argument(
        "--rollout-resync",
        type=float,
        default=900.0,
        help="seconds between cache-only re-plans of every Rollout (default 900)",
    )
    parser.add_argument(
        "--istio-api-version",
        default=traffic.TrafficSettings().istio_api_version,
        help="API version of Istio's VirtualService and DestinationRule (default v1alpha3)",
    )
    parser.add_argument(
        "--traffic-split-api-version",
        default=None,
        help="API version of SMI's TrafficSplit (default: the version the cluster serves)",
    )
    parser.add_argument(
        "--notifications",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="send notifications for Events per argo-rollouts-notification-configmap (default on)",
    )
    parser.add_argument(
        "--self-service-notification-enabled",
        action="store_true",
        help="also read the notification ConfigMap and Secret in each Rollout's namespace",
    )
    parser.add_argument(
        "--workflow-controller",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run WorkflowRuns in this process (default: $ROLLOUTS_WORKFLOW_CONTROLLER, else on)",
    )
    parser.add_argument(
        "--leader-elect",
        nargs="?",
        const=True,
        default=None,
        type=go_bool,
        metavar="BOOL",
        help="run only while holding the Lease argo-rollouts-controller-lock "
        "(default: on in a Pod or with $POD_NAMESPACE, else off)",
    )
    parser.add_argument(
        "--leader-election-namespace",
        default=None,
        help="namespace of the leader-election Lease (default: the controller's own namespace)",
    )
    parser.add_argument(
        "--leader-election-lease-duration",
        default="15s",
        help="how long followers wait before taking over an unrenewed Lease (default 15s)",
    )
    parser.add_argument(
        "--leader-election-renew-deadline",
        default="10s",
        help="how long the leader keeps retrying a renewal before it stops (default 10s)",
    )
    parser.add_argument(
        "--leader-election-retry-period",
        default="2s",
        help="how often candidates try to acquire or renew the Lease (default 2s)",
    )
    parser.set_defaults(func=run)
