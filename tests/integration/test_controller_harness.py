"""The controller as a subprocess on the devcluster, and the helpers the controller tests share.

Every controller test runs ``rollouts controller`` for real — a separate process, scoped to the
test's namespace, on free ports — so killing it (SIGKILL) and starting it again is exactly what
happens to a Pod. Its ``/metrics`` endpoint (``controller_clientset_k8s_request_total``,
``rollout_reconcile``) is how tests *count* writes and passes; nothing here asserts a duration.
Waiting is polling the API with a generous timeout that only turns a hang into a failure.

The tests in this module check the harness's own promises: the process starts, serves health
and metrics, refuses bad flags with a message, and sends nothing while nothing changes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from kubernetes import client

from rollouts.crds.install import install_crds
from rollouts.devcluster import DevCluster

pytestmark = pytest.mark.integration

GROUP, VERSION = "argoproj.io", "v1alpha1"
MERGE_PATCH = "application/merge-patch+json"
POLL = 0.2
WAIT = 90.0
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(check: Callable[[], T | None], what: str, timeout: float = WAIT) -> T:
    """Poll ``check`` until it returns something truthy; fail with ``what`` if it never does."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = check()
        except AssertionError as error:
            last = error
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; last observed: {last!r}", pytrace=False)
        time.sleep(POLL)


@dataclass
class ControllerProcess:
    """``rollouts controller`` scoped to one namespace, as a child process."""

    kubeconfig: Path
    namespace: str
    log_path: Path
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None
    metrics_port: int = 0
    healthz_port: int = 0

    def start(self) -> ControllerProcess:
        self.metrics_port, self.healthz_port = free_port(), free_port()
        command = self.command()
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
        log.close()
        wait_for(self._healthy, "the controller to answer /healthz")
        return self

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "rollouts.cli",
            "controller",
            "--kubeconfig",
            str(self.kubeconfig),
            "--namespace",
            self.namespace,
            "--metrics-port",
            str(self.metrics_port),
            "--healthz-port",
            str(self.healthz_port),
            "--log-level",
            "debug",
            "--leader-elect=false",  # one controller per test namespace; the election tests turn it on
            *self.extra_args,
        ]

    def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            pytest.fail(
                f"the controller exited with {self.process.returncode}:\n{self.log_tail()}", pytrace=False
            )
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.healthz_port}/healthz", timeout=2) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL, as when a node dies: no cleanup handler runs."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def metrics(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
        samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            name_labels, _, value = line.rpartition(" ")
            name, _, labels = name_labels.partition("{")
            pairs = frozenset(
                (key, raw.strip('"'))
                for key, _, raw in (item.partition("=") for item in labels.rstrip("}").split('",') if item)
            )
            samples[(name, frozenset((k, v.rstrip('"')) for k, v in pairs))] = float(value)
        return samples

    def requests(self, *, kind: str | None = None, verb: str | None = None, name: str | None = None) -> int:
        """How many API requests the controller sent (``controller_clientset_k8s_request_total``)."""
        total = 0.0
        for (metric, labels), value in self.metrics().items():
            if metric != "controller_clientset_k8s_request_total":
                continue
            found = dict(labels)
            if kind is not None and found.get("kind") != kind:
                continue
            if verb is not None and found.get("verb") != verb:
                continue
            if name is not None and found.get("name") != name:
                continue
            total += value
        return int(total)

    def writes(self, **labels: str) -> int:
        return sum(self.requests(verb=verb, **labels) for verb in ("POST", "PATCH", "PUT", "DELETE"))

    def passes(self, name: str) -> int:
        for (metric, labels), value in self.metrics().items():
            if metric == "rollout_reconcile_count" and dict(labels).get("name") == name:
                return int(value)
        return 0


@pytest.fixture(scope="session")
def rollout_crds(api_client: Any) -> list[str]:
    return install_crds(api_client, timeout=120)


@pytest.fixture
def controller(
    devcluster: DevCluster, namespace: str, rollout_crds: list[str], tmp_path: Path
) -> Iterator[ControllerProcess]:
    process = ControllerProcess(devcluster.kubeconfig, namespace, tmp_path / "controller.log").start()
    try:
        yield process
    finally:
        process.stop()
        print(f"--- controller log (tail) ---\n{process.log_tail(200)}")


class Cluster:
    """Small typed helpers over the official client for one namespace."""

    def __init__(self, api_client: Any, namespace: str) -> None:
        self.namespace = namespace
        self.custom = client.CustomObjectsApi(api_client)
        self.apps = client.AppsV1Api(api_client)
        self.core = client.CoreV1Api(api_client)

    # -- Rollouts
    def create_rollout(self, body: dict[str, Any]) -> dict[str, Any]:
        created: dict[str, Any] = self.custom.create_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "rollouts", body
        )
        return created

    def rollout(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.custom.get_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "rollouts", name
        )
        return found

    def patch_rollout(self, name: str, patch: Any) -> None:
        self.custom.patch_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "rollouts", name, patch, _content_type=MERGE_PATCH
        )

    def patch_status(self, name: str, patch: Any) -> None:
        self.custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, self.namespace, "rollouts", name, patch, _content_type=MERGE_PATCH
        )

    def json_patch_rollout(self, name: str, operations: list[dict[str, Any]]) -> None:
        self.custom.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            self.namespace,
            "rollouts",
            name,
            operations,
            _content_type="application/json-patch+json",
        )

    def set_image(self, name: str, image: str) -> None:
        self.json_patch_rollout(
            name, [{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": image}]
        )

    def status(self, name: str) -> dict[str, Any]:
        status: dict[str, Any] = self.rollout(name).get("status") or {}
        return status

    # -- ReplicaSets, Services, Events
    def replica_sets(self) -> dict[str, Any]:
        items = self.apps.list_namespaced_replica_set(self.namespace).items
        return {rs.metadata.name: rs for rs in items}

    def counts(self) -> dict[str, tuple[int, int]]:
        """name -> (spec.replicas, status.availableReplicas) of every ReplicaSet in the namespace."""
        return {
            name: (rs.spec.replicas or 0, rs.status.available_replicas or 0)
            for name, rs in self.replica_sets().items()
        }

    def create_service(self, name: str, app: str) -> None:
        self.core.create_namespaced_service(
            self.namespace,
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name},
                "spec": {"selector": {"app": app}, "ports": [{"port": 80, "targetPort": 8080}]},
            },
        )

    def service_selector(self, name: str) -> dict[str, str]:
        selector: dict[str, str] = self.core.read_namespaced_service(name, self.namespace).spec.selector or {}
        return selector

    def events(self, reason: str | None = None) -> list[Any]:
        items = self.core.list_namespaced_event(self.namespace).items
        return [event for event in items if reason is None or event.reason == reason]


@pytest.fixture
def cluster(api_client: Any, namespace: str) -> Cluster:
    return Cluster(api_client, namespace)


def after_newest_pod(cluster: Cluster, app: str) -> None:
    """Wait until the wall clock's whole second is past every pod's creation (``restartAt`` has
    whole seconds and only pods created strictly before it are restarted)."""
    items = cluster.core.list_namespaced_pod(cluster.namespace, label_selector=f"app={app}").items
    newest = max(pod.metadata.creation_timestamp for pod in items)
    wait_for(lambda: datetime.now(UTC).replace(microsecond=0) > newest, "a second after the newest pod")


def condition(status: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((c for c in status.get("conditions") or [] if c.get("type") == kind), None)


def rollout_manifest(
    name: str, strategy: dict[str, Any], *, replicas: int = 5, image: str = "nginx:1.27", **spec: Any
) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Rollout",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
            "strategy": strategy,
            **spec,
        },
    }


def settled(cluster: Cluster, name: str, phase: str, **fields: Any) -> Callable[[], dict[str, Any] | None]:
    """A check: the Rollout's current generation was observed and it shows ``phase`` and ``fields``."""

    def check() -> dict[str, Any] | None:
        rollout = cluster.rollout(name)
        status = rollout.get("status") or {}
        if status.get("observedGeneration") != str(rollout["metadata"]["generation"]):
            return None
        if status.get("phase") != phase:
            return None
        if any(status.get(key) != value for key, value in fields.items()):
            return None
        return status

    return check


# -- the harness's own tests


def test_the_controller_serves_health_and_metrics_and_is_silent_when_idle(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    before = controller.requests()
    time.sleep(3)  # nothing exists in the namespace: nothing may be sent
    assert controller.requests() == before == 0
    metrics = controller.metrics()
    assert any(metric == "argo_rollouts_controller_info" for metric, _ in metrics)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--metrics-port", "70000"], "--metrics-port must be between 0 and 65535"),
        (["--rollout-resync", "0"], "--rollout-resync must be a positive number"),
    ],
)
def test_bad_flags_are_refused_with_a_message(flags: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rollouts.cli", "controller", *flags],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert message in result.stdout + result.stderr


def test_an_unreadable_kubeconfig_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "kubeconfig"
    broken.write_text("this: [is not a kubeconfig")
    result = subprocess.run(
        [sys.executable, "-m", "rollouts.cli", "controller", "--kubeconfig", str(broken)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "cannot load Kubernetes credentials" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
