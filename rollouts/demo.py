"""``rollouts demo``: the README's main job, run locally on the devcluster.

It brings up the devcluster (or reuses a running one), installs our CRDs and starts, in the
background, the controller (scoped to the demo namespace), a real Prometheus and the exporter
it scrapes (:mod:`rollouts.localprom`); their pids and logs sit beside the cluster's files. It
applies the example canary with an ``analysis`` step added after its first ``setWeight``, gated
by an AnalysisTemplate made here with the address of that Prometheus, waits for the first
revision to be Healthy, then changes the image and prints every change — step, phase,
ReplicaSet sizes, the AnalysisRun's phase and measured success rate — until the new revision
is Healthy. The demo plays the users: when a canary revision appears it records its requests
(99% successful) in the exporter. At an indefinite ``pause`` step it promotes the Rollout the
way ``kubectl rollouts promote`` does (``--manual`` stops there and prints the commands).
Last it starts the dashboard in the background and prints its URL with the access token.

It is idempotent: a second run reuses everything still running; re-applying the example puts its
image back (itself a canary through the analysis) before the update. ``rollouts demo --down``
stops the background processes (the cluster has its own ``down``).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rollouts.devcluster import DevCluster, DevClusterError
from rollouts.localprom import Exporter, LocalPrometheusError, PrometheusServer, free_port
from rollouts.manifests import ManifestFileError, apply_documents, load_documents

DEMO_NAMESPACE = "rollouts-demo"
DEMO_MANIFEST = "canary-basic.yaml"
DEMO_ROLLOUT = "canary-basic"
DEMO_TEMPLATE = "demo-success-rate"
IMAGES = ("nginx:1.27", "nginx:1.28")
WAIT_SECONDS = 600
# the requests the demo's "users" send to each canary revision: 99% succeed (the gate is 95%)
CANARY_REQUESTS = {"200": 990, "500": 10}
# background processes: state file (pid first) and what to call them when stopping them
BACKGROUND = {
    "demo-dashboard.pid": "dashboard",
    "demo-prometheus.pid": "Prometheus",
    "demo-exporter.pid": "exporter",
    "demo-controller.pid": "controller",
}


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
    return _answers(f"http://127.0.0.1:{port}/healthz")


def _recorded(state_file: Path) -> tuple[int, str] | None:
    """(pid, detail) recorded in ``state_file`` if that process is still alive."""
    try:
        pid_text, detail = state_file.read_text().split(maxsplit=1)
        pid = int(pid_text)
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid, detail.strip()


def _running(state_file: Path) -> tuple[int, int] | None:
    """(pid, port) of a live demo process recorded in ``state_file``."""
    recorded = _recorded(state_file)
    if recorded is None or not recorded[1].isdigit():
        return None
    return recorded[0], int(recorded[1])


def _answers(url: str, headers: dict[str, str] | None = None) -> bool:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def start_controller(cluster: DevCluster) -> int:
    """The demo's controller: reused if it is alive and healthy, else started detached; its pid."""
    state_file = cluster.directory / "demo-controller.pid"
    running = _running(state_file)
    if running is not None and _healthy(running[1]):
        _say(f"reusing the controller already running (pid {running[0]})")
        return running[0]
    port = free_port()
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


def start_prometheus(cluster: DevCluster) -> tuple[Exporter, str]:
    """The exporter and the Prometheus scraping it: reused if both answer, else (re)started."""
    exporter_state = cluster.directory / "demo-exporter.pid"
    prometheus_state = cluster.directory / "demo-prometheus.pid"
    exporter_running, prometheus_running = _running(exporter_state), _running(prometheus_state)
    if exporter_running is not None and prometheus_running is not None:
        exporter = Exporter(revisions=(), port=exporter_running[1])
        address = f"http://127.0.0.1:{prometheus_running[1]}"
        if _answers(f"http://127.0.0.1:{exporter.port}/metrics") and _answers(f"{address}/-/ready"):
            _say(f"reusing Prometheus at {address} (pid {prometheus_running[0]}) and its exporter")
            return exporter, address
    # one of them is gone: Prometheus' config names the exporter's port, so restart both
    stop_background(cluster.directory, ("demo-prometheus.pid", "demo-exporter.pid"))
    exporter = Exporter(revisions=(), log=cluster.directory / "demo-exporter.log").start()
    assert exporter.process is not None  # start() set it
    exporter_state.write_text(f"{exporter.process.pid} {exporter.port}")
    prometheus = PrometheusServer(
        cluster.directory / "demo-prometheus", targets=(f"127.0.0.1:{exporter.port}",), detached=True
    )
    try:
        prometheus.start()
    finally:
        if prometheus.process is not None:
            prometheus_state.write_text(f"{prometheus.process.pid} {prometheus.port}")
    _say(f"Prometheus running in the background at {prometheus.address} (log {prometheus.log})")
    return exporter, prometheus.address


def success_rate_template(prometheus_address: str) -> dict[str, Any]:
    """The demo's analysis: the canary revision's share of non-5xx requests, twice, 5 s apart."""
    selector = 'revision="{{args.canary-hash}}"'
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": DEMO_TEMPLATE},
        "spec": {
            "args": [{"name": "canary-hash"}],
            "metrics": [
                {
                    "name": "success-rate",
                    "initialDelay": "3s",  # a scrape (every second) has seen the canary's requests
                    "interval": "5s",
                    "count": 2,
                    "failureLimit": 0,
                    "successCondition": "len(result) > 0 && result[0] >= 0.95",
                    "provider": {
                        "prometheus": {
                            "address": prometheus_address,
                            "query": f'sum(http_requests_total{{{selector}, code!~"5.."}})'
                            f" / sum(http_requests_total{{{selector}}})",
                        }
                    },
                }
            ],
        },
    }


def demo_documents(prometheus_address: str) -> list[dict[str, Any]]:
    """The example canary with an analysis step after its first ``setWeight``, and its template."""
    documents = load_documents(examples_dir() / DEMO_MANIFEST)
    for document in documents:
        if document.get("kind") == "Rollout":
            steps: list[dict[str, Any]] = document["spec"]["strategy"]["canary"]["steps"]
            analysis = {
                "analysis": {
                    "templates": [{"templateName": DEMO_TEMPLATE}],
                    "args": [{"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}}],
                }
            }
            first_weight = next(i for i, step in enumerate(steps) if "setWeight" in step)
            steps.insert(first_weight + 1, analysis)
    return [success_rate_template(prometheus_address), *documents]


def start_dashboard(cluster: DevCluster) -> str:
    """``kubectl rollouts dashboard`` for the demo namespace, detached; its URL (with the token)."""
    state_file = cluster.directory / "demo-dashboard.pid"
    recorded = _recorded(state_file)
    if recorded is not None and _answers(recorded[1]):
        _say(f"reusing the dashboard already running (pid {recorded[0]})")
        return recorded[1]
    log_path = cluster.directory / "demo-dashboard.log"
    log_path.write_bytes(b"")  # the URL is read back from this log
    command = [
        sys.executable, "-m", "rollouts.plugin", "dashboard",
        "--kubeconfig", str(cluster.kubeconfig), "-n", DEMO_NAMESPACE, "--port", "0",
    ]  # fmt: skip
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        lines = [line for line in log_path.read_text().splitlines() if line.startswith("Dashboard: ")]
        if lines:
            url = lines[0].removeprefix("Dashboard: ").strip()
            break
        if process.poll() is not None or time.monotonic() > deadline:
            raise DemoError(f"the dashboard did not start; see {log_path}")
        time.sleep(0.3)
    state_file.write_text(f"{process.pid} {url}")
    _say(f"dashboard running in the background (pid {process.pid}, log {log_path})")
    return url


class DemoTraffic:
    """The demo's users: each new canary revision gets its requests recorded once."""

    def __init__(self, exporter: Exporter) -> None:
        self.exporter = exporter
        self.served: set[str] = set()

    def serve(self, rollout: dict[str, Any]) -> None:
        status = rollout.get("status") or {}
        canary, stable = status.get("currentPodHash"), status.get("stableRS")
        if not canary or not stable or canary == stable or canary in self.served:
            return
        for code, count in CANARY_REQUESTS.items():
            self.exporter.record(code, count, revision=canary)
        self.served.add(canary)
        total = sum(CANARY_REQUESTS.values())
        share = CANARY_REQUESTS["200"] / total
        _say(f"users sent {total} requests to revision {canary}: {share:.0%} succeeded")


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

    def analysis_runs(self) -> list[str]:
        """One line per AnalysisRun of the demo: phase and each metric's latest measured value."""
        runs = self.custom.list_namespaced_custom_object(
            "argoproj.io", "v1alpha1", DEMO_NAMESPACE, "analysisruns"
        )["items"]
        lines = []
        for run in sorted(runs, key=lambda found: str(found["metadata"].get("creationTimestamp"))):
            status = run.get("status") or {}
            values = []
            for metric in status.get("metricResults") or []:
                measurements = metric.get("measurements") or []
                latest = measurements[-1].get("value", "-") if measurements else "-"
                values.append(f"{metric.get('name')}={latest} ({len(measurements)} measured)")
            phase = status.get("phase") or "Pending"
            lines.append("  ".join([f"AnalysisRun {run['metadata']['name']} {phase}", *values]))
        return lines

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


def follow(
    demo: DemoRollout, traffic: DemoTraffic, *, until: Callable[[dict[str, Any]], bool], manual: bool
) -> bool:
    """Print each change of the canary until ``until`` holds; ``False`` if left paused (manual)."""
    last = None
    shown_runs = set(demo.analysis_runs())  # runs of earlier demos are not news
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        rollout = demo.get()
        traffic.serve(rollout)
        for run_line in demo.analysis_runs():
            if run_line not in shown_runs:
                _say(run_line)
                shown_runs.add(run_line)
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


def _drive(api_client: Any, traffic: DemoTraffic, manual: bool) -> bool:
    demo = DemoRollout(api_client)
    current = demo.get()["spec"]["template"]["spec"]["containers"][0]["image"]
    _say(f"waiting for {DEMO_ROLLOUT} ({current}) to be Healthy")
    follow(demo, traffic, until=_healthy_with(current), manual=manual)
    target = IMAGES[1] if current != IMAGES[1] else IMAGES[0]
    _say(f"updating the image {current} -> {target}: a new revision starts its canary steps")
    demo.set_image(target)
    return follow(demo, traffic, until=_healthy_with(target), manual=manual)


def run(args: argparse.Namespace) -> int:
    from kubernetes.client.exceptions import ApiException

    from rollouts.crds.install import CrdInstallError, install_crds

    if args.down:
        stopped = stop_background(Path(args.dir))
        _say(f"stopped: {', '.join(stopped)}" if stopped else "nothing of the demo was running")
        print(f"rollouts dev-cluster down --dir {args.dir}   # to stop the cluster too")
        return 0
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
            start_controller(cluster)
            exporter, prometheus_address = start_prometheus(cluster)
            applied = apply_documents(api_client, demo_documents(prometheus_address), DEMO_NAMESPACE)
            _say(f"applied {', '.join(applied)} in namespace {DEMO_NAMESPACE}")
            finished = _drive(api_client, DemoTraffic(exporter), args.manual)
        dashboard_url = start_dashboard(cluster)
    except (DevClusterError, CrdInstallError, ManifestFileError, DemoError) as error:
        print(f"demo: error: {error}", file=sys.stderr)
        return 1
    except ApiException as error:
        print(f"demo: the API server refused a request: {error.status} {error.reason}", file=sys.stderr)
        return 1
    except (LocalPrometheusError, FileNotFoundError) as error:
        print(f"demo: Prometheus could not run: {error}", file=sys.stderr)
        return 1
    print()
    _say("the new revision is Healthy" if finished else "left at a pause step for you to drive")
    print(f"export KUBECONFIG={cluster.kubeconfig}")
    print(f"kubectl -n {DEMO_NAMESPACE} get rollouts,replicasets,pods")
    print(f"kubectl rollouts -n {DEMO_NAMESPACE} promote {DEMO_ROLLOUT}      # next step (--full: all steps)")
    print(f"kubectl rollouts -n {DEMO_NAMESPACE} abort {DEMO_ROLLOUT}        # back to the stable version")
    print(f"kubectl rollouts -n {DEMO_NAMESPACE} set image {DEMO_ROLLOUT} web=nginx:1.29   # another update")
    _say(f"dashboard {dashboard_url}")
    print(
        f"rollouts demo --down --dir {args.dir}   # stop the controller, Prometheus, exporter and dashboard"
    )
    print(f"rollouts dev-cluster down --dir {args.dir}   # stop the cluster too")
    return 0


def stop_background(cluster_dir: Path, state_files: Iterable[str] = BACKGROUND) -> list[str]:
    """Stop the demo's background processes recorded in ``cluster_dir``; the names of those that ran."""
    stopped = []
    for state_file in state_files:
        recorded = _recorded(Path(cluster_dir) / state_file)
        if recorded is not None:
            os.kill(recorded[0], signal.SIGTERM)
            _wait_gone(recorded[0])  # e.g. Prometheus lets go of its TSDB lock before a restart
            stopped.append(BACKGROUND[state_file])
    return stopped


def _wait_gone(pid: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            return
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("demo", help="run the local demo on the devcluster")
    parser.add_argument("--dir", default=".devcluster", help="devcluster directory (default .devcluster)")
    parser.add_argument("--nodes", type=int, default=3, help="fake nodes to start (default 3)")
    parser.add_argument(
        "--manual",
        action="store_true",
        help="stop at the first indefinite pause instead of promoting, and print how to go on",
    )
    parser.add_argument(
        "--down",
        action="store_true",
        help="stop the demo's controller, Prometheus, exporter and dashboard (not the cluster)",
    )
    parser.set_defaults(func=run)
