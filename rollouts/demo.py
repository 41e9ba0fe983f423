"""``rollouts demo``: the README's main job, run locally on the devcluster.

It brings up the devcluster (or reuses a running one), installs our CRDs, starts the controller
in the background (scoped to the demo namespace, its log and pid beside the cluster's files),
applies the example canary, waits for its first revision to be Healthy, then changes the image
and prints every change of the canary — step, phase, ReplicaSet sizes — until the new revision
is Healthy. At an indefinite ``pause`` step it promotes the Rollout the way ``kubectl rollouts
promote`` does and says so (``--manual`` stops there instead and prints the commands). It is
idempotent: a second run reuses the cluster and the controller and flips the image back.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rollouts.devcluster import DevCluster, DevClusterError
from rollouts.manifests import ManifestFileError, apply_documents, load_documents

DEMO_NAMESPACE = "rollouts-demo"
DEMO_MANIFESTS = ("analysistemplate-prometheus.yaml", "canary-basic.yaml")
DEMO_ROLLOUT = "canary-basic"
IMAGES = ("nginx:1.27", "nginx:1.28")
WAIT_SECONDS = 600


class DemoError(RuntimeError):
    """The demo could not go on (the message says why)."""


def examples_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "examples"


def _say(message: str) -> None:
    print(f"demo: {message}", flush=True)


def _ensure_namespace(api_client: Any, name: str) -> None:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    try:
        client.CoreV1Api(api_client).create_namespace(
            client.V1Namespace(metadata=client.V1ObjectMeta(name=name))
        )
    except ApiException as error:
        if error.status != 409:  # already there is fine
            raise


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def _running(state_file: Path) -> tuple[int, int] | None:
    """(pid, health port) of a demo controller recorded in ``state_file`` that is still alive."""
    try:
        pid, port = (int(part) for part in state_file.read_text().split())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid, port


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_controller(cluster: DevCluster) -> int:
    """The demo's controller: reused if it is alive and healthy, else started detached; its pid."""
    state_file = cluster.directory / "demo-controller.pid"
    running = _running(state_file)
    if running is not None and _healthy(running[1]):
        _say(f"reusing the controller already running (pid {running[0]})")
        return running[0]
    port = _free_port()
    log_path = cluster.directory / "demo-controller.log"
    command = [
        sys.executable,
        "-m",
        "rollouts.cli",
        "controller",
        "--kubeconfig",
        str(cluster.kubeconfig),
        "--namespace",
        DEMO_NAMESPACE,
        "--metrics-port",
        "0",
        "--healthz-port",
        str(port),
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    state_file.write_text(f"{process.pid} {port}")
    deadline = time.monotonic() + 60
    while not _healthy(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise DemoError(f"the controller did not start; see {log_path}")
        time.sleep(0.3)
    _say(f"controller running in the background (pid {process.pid}, log {log_path})")
    return process.pid


class DemoRollout:
    """Reads and drives the demo Rollout with the same patches Argo's plugin sends."""

    def __init__(self, api_client: Any) -> None:
        from kubernetes import client

        self.custom: Any = client.CustomObjectsApi(api_client)
        self.apps: Any = client.AppsV1Api(api_client)

    def get(self) -> dict[str, Any]:
        found: dict[str, Any] = self.custom.get_namespaced_custom_object(
            "argoproj.io", "v1alpha1", DEMO_NAMESPACE, "rollouts", DEMO_ROLLOUT
        )
        return found

    def sizes(self) -> str:
        items = self.apps.list_namespaced_replica_set(DEMO_NAMESPACE).items
        owned = sorted(
            (rs for rs in items if (rs.metadata.owner_references or [None])[0] is not None),
            key=lambda rs: rs.metadata.creation_timestamp,
        )
        return ", ".join(
            f"{rs.metadata.name} {rs.status.available_replicas or 0}/{rs.spec.replicas}" for rs in owned
        )

    def set_image(self, image: str) -> None:
        patch = [{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": image}]
        self.custom.patch_namespaced_custom_object(
            "argoproj.io",
            "v1alpha1",
            DEMO_NAMESPACE,
            "rollouts",
            DEMO_ROLLOUT,
            patch,
            _content_type="application/json-patch+json",
        )

    def promote(self) -> None:
        from rollouts.planner import operations

        patches = operations.promote(self.get())
        if patches.status is not None:
            self.custom.patch_namespaced_custom_object_status(
                "argoproj.io",
                "v1alpha1",
                DEMO_NAMESPACE,
                "rollouts",
                DEMO_ROLLOUT,
                dict(patches.status),
                _content_type="application/merge-patch+json",
            )


def _observed(rollout: dict[str, Any]) -> bool:
    status = rollout.get("status") or {}
    return bool(status.get("observedGeneration") == str(rollout["metadata"].get("generation")))


def _indefinite_pause(rollout: dict[str, Any]) -> bool:
    status = rollout.get("status") or {}
    steps = rollout["spec"]["strategy"]["canary"].get("steps") or []
    index = status.get("currentStepIndex")
    if not status.get("pauseConditions") or not isinstance(index, int) or index >= len(steps):
        return False
    pause = steps[index].get("pause")
    return isinstance(pause, dict) and pause.get("duration") is None


def follow(demo: DemoRollout, *, until: Callable[[dict[str, Any]], bool], manual: bool) -> bool:
    """Print each change of the canary until ``until`` holds; ``False`` if left paused (manual)."""
    last = None
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        rollout = demo.get()
        status = rollout.get("status") or {}
        steps = len(rollout["spec"]["strategy"]["canary"].get("steps") or [])
        line = (
            f"step {status.get('currentStepIndex', '-')}/{steps}  {status.get('phase', '?'):<11} "
            f"{status.get('message', '')[:40]:<40}  {demo.sizes()}"
        )
        if line != last:
            _say(line)
            last = line
        if _observed(rollout) and until(rollout):
            return True
        if _observed(rollout) and _indefinite_pause(rollout):
            if manual:
                return False
            _say(f"paused indefinitely: promoting, as `kubectl rollouts promote {DEMO_ROLLOUT}` would")
            demo.promote()
        time.sleep(1)
    raise DemoError(f"the canary did not finish within {WAIT_SECONDS} s")


def _healthy_with(image: str) -> Callable[[dict[str, Any]], bool]:
    def check(rollout: dict[str, Any]) -> bool:
        status = rollout.get("status") or {}
        current = rollout["spec"]["template"]["spec"]["containers"][0]["image"]
        return bool(
            current == image
            and status.get("phase") == "Healthy"
            and status.get("stableRS")
            and status.get("stableRS") == status.get("currentPodHash")
        )

    return check


def _drive(api_client: Any, manual: bool) -> bool:
    demo = DemoRollout(api_client)
    current = demo.get()["spec"]["template"]["spec"]["containers"][0]["image"]
    _say(f"waiting for {DEMO_ROLLOUT} ({current}) to be Healthy")
    follow(demo, until=_healthy_with(current), manual=manual)
    target = IMAGES[1] if current != IMAGES[1] else IMAGES[0]
    _say(f"updating the image {current} -> {target}: a new revision starts its canary steps")
    demo.set_image(target)
    return follow(demo, until=_healthy_with(target), manual=manual)


def run(args: argparse.Namespace) -> int:
    from kubernetes.client.exceptions import ApiException

    from rollouts.crds.install import CrdInstallError, install_crds

    cluster = DevCluster(args.dir, progress=_say)
    try:
        if cluster.is_running():
            _say(f"reusing the devcluster running in {cluster.directory}")
        else:
            cluster.up(nodes=args.nodes)
        with cluster.api_client() as api_client:
            names = install_crds(api_client)
            _say(f"CRDs installed: {', '.join(names)}")
            _ensure_namespace(api_client, DEMO_NAMESPACE)
            pid = start_controller(cluster)
            for manifest in DEMO_MANIFESTS:
                applied = apply_documents(
                    api_client, load_documents(examples_dir() / manifest), DEMO_NAMESPACE
                )
                _say(f"applied {', '.join(applied)} in namespace {DEMO_NAMESPACE}")
            finished = _drive(api_client, args.manual)
    except (DevClusterError, CrdInstallError, ManifestFileError, DemoError) as error:
        print(f"demo: error: {error}", file=sys.stderr)
        return 1
    except ApiException as error:
        print(f"demo: the API server refused a request: {error.status} {error.reason}", file=sys.stderr)
        return 1
    print()
    _say("the new revision is Healthy" if finished else "left at a pause step for you to drive")
    print(f"export KUBECONFIG={cluster.kubeconfig}")
    print(f"kubectl -n {DEMO_NAMESPACE} get rollouts,replicasets,pods")
    print(f"kubectl rollouts -n {DEMO_NAMESPACE} promote {DEMO_ROLLOUT}      # next step (--full: all steps)")
    print(f"kubectl rollouts -n {DEMO_NAMESPACE} abort {DEMO_ROLLOUT}        # back to the stable version")
    print(f"kubectl rollouts -n {DEMO_NAMESPACE} set image {DEMO_ROLLOUT} web=nginx:1.29   # another update")
    print(f"kill {pid}   # stop the demo controller (pid {pid})")
    print(f"rollouts dev-cluster down --dir {args.dir}   # when you are done")
    return 0


def stop_controller(cluster_dir: Path) -> bool:
    """Stop a demo controller left running in ``cluster_dir`` (used by tests); ``True`` if one ran."""
    running = _running(Path(cluster_dir) / "demo-controller.pid")
    if running is None:
        return False
    os.kill(running[0], signal.SIGTERM)
    return True


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("demo", help="run the local demo on the devcluster")
    parser.add_argument("--dir", default=".devcluster", help="devcluster directory (default .devcluster)")
    parser.add_argument("--nodes", type=int, default=3, help="fake nodes to start (default 3)")
    parser.add_argument(
        "--manual",
        action="store_true",
        help="stop at the first indefinite pause instead of promoting, and print how to go on",
    )
    parser.set_defaults(func=run)
