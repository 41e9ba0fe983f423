"""``rollouts controller``: run the Rollout controller against the current kubeconfig or in-cluster.

Flags follow Argo's controller (§12) where one exists — its spellings (``--loglevel``,
``--logformat``, ``--metricsPort``, ``--healthzPort``) are accepted as aliases so an Argo
Deployment's arguments keep working — plus ``--kubeconfig``/``--context`` for running outside a
cluster. Logging goes through kopf's formatter, text or JSON.
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
from rollouts.controller.settings import ControllerConfig, workflow_controller_default

__all__ = ["config_from_args", "register"]

LOG_LEVELS = ("debug", "info", "warn", "warning", "error")
# A Kubernetes API version as it appears in apiVersion after the group: v1, v1beta1, v1alpha3.
API_VERSION = re.compile(r"v[1-9][0-9]*((alpha|beta)[1-9][0-9]*)?")
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


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
    parser.set_defaults(func=run)
