"""API writes per setWeight step, per traffic router, counted on a real devcluster.

For each router (NGINX, Istio, Gateway API, SMI) the benchmark runs the real controller in its
own namespace, creates the Services, the routing object and a traffic-routed Rollout with steps
``setWeight 20 / pause / setWeight 50 / pause / setWeight 80 / pause``, changes the image, and
at each pause reads the controller's ``controller_clientset_k8s_request_total`` counters. The
writes between two pauses are everything one setWeight step cost: the routing object (the
minimum is one write), the ReplicaSet scale-up of §3.5, the Rollout status, and Events (POSTs of
their own, listed apart). Nothing is timed: the numbers are counts.

Usage: ``python bench/traffic_writes.py [--devcluster-dir DIR]`` (DIR: a running devcluster
started with ``rollouts dev-cluster up --with gateway-api,istio,smi``; without it one is started
in a temporary directory and stopped at the end).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kubernetes import client

from rollouts.crds.install import install_crds
from rollouts.devcluster import ADDON_PINS, DevCluster
from rollouts.planner import operations

NAME = "web"
STEPS: list[dict[str, Any]] = [
    {"setWeight": 20},
    {"pause": {}},
    {"setWeight": 50},
    {"pause": {}},
    {"setWeight": 80},
    {"pause": {}},
]
ROUTING_KINDS = {"ingresses", "virtualservices", "destinationrules", "httproutes", "trafficsplits"}
BACKEND = (
    {"name": f"{NAME}-stable", "port": 80, "weight": 100},
    {"name": f"{NAME}-canary", "port": 80, "weight": 0},
)
ROUTERS: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {
    "nginx": (
        {"nginx": {"stableIngress": "shop"}},
        [
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "Ingress",
                "metadata": {"name": "shop"},
                "spec": {
                    "rules": [
                        {
                            "http": {
                                "paths": [
                                    {
                                        "path": "/",
                                        "pathType": "Prefix",
                                        "backend": {
                                            "service": {"name": f"{NAME}-stable", "port": {"number": 80}}
                                        },
                                    }
                                ]
                            }
                        }
                    ]
                },
            }
        ],
    ),
    "istio": (
        {"istio": {"virtualService": {"name": "shop"}}},
        [
            {
                "apiVersion": "networking.istio.io/v1alpha3",
                "kind": "VirtualService",
                "metadata": {"name": "shop"},
                "spec": {
                    "hosts": ["shop"],
                    "http": [
                        {
                            "route": [
                                {"destination": {"host": f"{NAME}-stable"}, "weight": 100},
                                {"destination": {"host": f"{NAME}-canary"}, "weight": 0},
                            ]
                        }
                    ],
                },
            }
        ],
    ),
    "gatewayapi": (
        {"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "shop"}}},
        [
            {
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "HTTPRoute",
                "metadata": {"name": "shop"},
                "spec": {"parentRefs": [{"name": "gateway"}], "rules": [{"backendRefs": list(BACKEND)}]},
            }
        ],
    ),
    "smi": ({"smi": {}}, []),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait(check: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


def writes_by_kind(metrics_port: int) -> Counter[str]:
    """Writes the controller sent so far, by resource (``events`` included)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    counts: Counter[str] = Counter()
    for line in text.splitlines():
        if not line.startswith("controller_clientset_k8s_request_total{"):
            continue
        labels_text, _, value = line.rpartition(" ")
        labels = dict(item.split("=", 1) for item in labels_text[labels_text.index("{") + 1 : -1].split(","))
        if labels.get("verb", '"GET"').strip('"') != "GET":
            counts[labels["kind"].strip('"')] += int(float(value))
    return counts


@contextmanager
def controller(kubeconfig: Path, namespace: str) -> Iterator[int]:
    metrics_port, healthz_port = free_port(), free_port()
    command = [sys.executable, "-m", "rollouts.cli", "controller", "--kubeconfig", str(kubeconfig)]
    command += [
        "--namespace",
        namespace,
        "--metrics-port",
        str(metrics_port),
        "--healthz-port",
        str(healthz_port),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{healthz_port}/healthz", timeout=2) as answer:
                    return bool(answer.status == 200)
            except OSError:
                return False

        wait(healthy, "the controller")
        yield metrics_port
    finally:
        process.terminate()
        process.wait(timeout=30)


def rollout(traffic_routing: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": NAME},
        "spec": {
            "replicas": 5,
            "selector": {"matchLabels": {"app": NAME}},
            "template": {
                "metadata": {"labels": {"app": NAME}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
            "strategy": {
                "canary": {
                    "canaryService": f"{NAME}-canary",
                    "stableService": f"{NAME}-stable",
                    "trafficRouting": traffic_routing,
                    "steps": STEPS,
                }
            },
        },
    }


def measure(api_client: Any, kubeconfig: Path, router: str) -> list[tuple[int, Counter[str]]]:
    """(setWeight, writes by kind) for each step of one router's canary."""
    from kubernetes.dynamic import DynamicClient

    core, custom = client.CoreV1Api(api_client), client.CustomObjectsApi(api_client)
    namespace = core.create_namespace({"metadata": {"generateName": f"bench-{router}-"}}).metadata.name
    wait(lambda: bool(core.list_namespaced_service_account(namespace).items), "the default ServiceAccount")
    dynamic: Any = DynamicClient(api_client)  # type: ignore[no-untyped-call]
    traffic_routing, routing_objects = ROUTERS[router]
    for service in (f"{NAME}-stable", f"{NAME}-canary"):
        core.create_namespaced_service(
            namespace,
            {"metadata": {"name": service}, "spec": {"selector": {"app": NAME}, "ports": [{"port": 80}]}},
        )
    for body in routing_objects:
        dynamic.resources.get(api_version=body["apiVersion"], kind=body["kind"]).create(
            body=body, namespace=namespace
        )

    def status() -> dict[str, Any]:
        found: dict[str, Any] = custom.get_namespaced_custom_object(
            "argoproj.io", "v1alpha1", namespace, "rollouts", NAME
        )
        return found.get("status") or {}

    results = []
    try:
        with controller(kubeconfig, namespace) as metrics_port:
            custom.create_namespaced_custom_object(
                "argoproj.io", "v1alpha1", namespace, "rollouts", rollout(traffic_routing)
            )
            wait(lambda: status().get("phase") == "Healthy", "the initial deploy")
            before = writes_by_kind(metrics_port)
            patch = [
                {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "nginx:1.28"}
            ]
            custom.patch_namespaced_custom_object(
                "argoproj.io", "v1alpha1", namespace, "rollouts", NAME, patch,
                _content_type="application/json-patch+json",
            )  # fmt: skip
            for index in (1, 3, 5):
                wait(
                    lambda i=index: (
                        status().get("phase") == "Paused" and status().get("currentStepIndex") == i
                    ),
                    "a pause",
                )
                time.sleep(1)  # let a last pass finish; anything it writes belongs to this step
                after = writes_by_kind(metrics_port)
                results.append((STEPS[index - 1]["setWeight"], after - before))
                before = after
                body = custom.get_namespaced_custom_object(
                    "argoproj.io", "v1alpha1", namespace, "rollouts", NAME
                )
                promote = operations.promote(body)
                if promote.status is not None:
                    custom.patch_namespaced_custom_object_status(
                        "argoproj.io", "v1alpha1", namespace, "rollouts", NAME, dict(promote.status),
                        _content_type="application/merge-patch+json",
                    )  # fmt: skip
    finally:
        core.delete_namespace(namespace)
    return results


def report(rows: list[tuple[str, int, Counter[str]]]) -> str:
    columns = ("routing", "replicasets", "status", "events", "other", "total")
    header = f"{'router':<11} {'step':<13} " + " ".join(f"{column:>11}" for column in columns)
    lines = [header, "-" * len(header)]
    for router, weight, writes in rows:
        routing = sum(count for kind, count in writes.items() if kind in ROUTING_KINDS)
        replica_sets, status, events = writes["replicasets"], writes["rollouts/status"], writes["events"]
        other = sum(writes.values()) - routing - replica_sets - status - events
        values = (routing, replica_sets, status, events, other, sum(writes.values()))
        lines.append(f"{router:<11} {'setWeight ' + str(weight):<13} " + " ".join(f"{v:>11}" for v in values))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devcluster-dir", help="a running devcluster (with gateway-api,istio,smi)")
    args = parser.parse_args()
    owned = args.devcluster_dir is None
    directory = Path(args.devcluster_dir or tempfile.mkdtemp(prefix="bench-traffic-"))
    cluster = DevCluster(directory, progress=lambda message: print(f"devcluster: {message}", file=sys.stderr))
    if owned:
        cluster.up(nodes=3, with_=tuple(ADDON_PINS), owner_pid=os.getpid())
    try:
        with cluster.api_client() as api_client:
            install_crds(api_client, timeout=120)
            rows = [
                (router, weight, writes)
                for router in ROUTERS
                for weight, writes in measure(api_client, cluster.kubeconfig, router)
            ]
        print(report(rows))
    finally:
        if owned:
            cluster.down()


if __name__ == "__main__":
    main()
