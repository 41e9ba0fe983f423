"""Controller benchmark on a running devcluster: prints counts and ratios, asserts nothing.

    rollouts dev-cluster up --dir /tmp/bench-dc
    python bench/controller.py --dir /tmp/bench-dc [--rollouts 100]

Part 1 drives one 5-replica, 4-step canary (two timed pauses) from an image update to Healthy
and prints the API requests the controller sent by verb and resource (its own
``controller_clientset_k8s_request_total``), the apiserver's ``apiserver_request_total`` delta
for Rollouts and ReplicaSets (every client), writes per step, reconcile passes, and the delay from
a ReplicaSet becoming more available to the next Rollout status change seen on the watch.
Part 2 updates ``--rollouts`` small canaries at once and prints the time until all are Healthy,
the controller's peak RSS and its CPU seconds, then checks that an idle controller sends nothing.
The controller runs as a subprocess scoped to the benchmark's namespace, as in the tests.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
from kubernetes import client, watch

from rollouts.crds.install import install_crds
from rollouts.devcluster import DevCluster

GROUP, VERSION = "argoproj.io", "v1alpha1"
SAMPLE = re.compile(r"^(\w+)\{(.*)\} ([0-9.e+]+)$")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def parse_metrics(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    samples = []
    for line in text.splitlines():
        match = SAMPLE.match(line)
        if match and match.group(1) == name:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2)))
            samples.append((labels, float(match.group(3))))
    return samples


class Controller:
    def __init__(self, cluster: DevCluster, namespace: str, log: Path) -> None:
        self.metrics_port, self.healthz_port = free_port(), free_port()
        command = [
            sys.executable, "-m", "rollouts.cli", "controller", "--kubeconfig", str(cluster.kubeconfig),
            "--namespace", namespace, "--metrics-port", str(self.metrics_port),
            "--healthz-port", str(self.healthz_port),
        ]  # fmt: skip
        with log.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not self._up():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise SystemExit(f"controller did not start; see {log}")
            time.sleep(0.2)
        self.peak_rss_kib = 0
        self._sampling = True
        threading.Thread(target=self._sample_rss, daemon=True).start()

    def _up(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.healthz_port}/healthz", timeout=2):
                return True
        except OSError:
            return False

    def _sample_rss(self) -> None:
        while self._sampling:
            try:
                status = Path(f"/proc/{self.process.pid}/status").read_text()
            except OSError:
                return
            rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
            self.peak_rss_kib = max(self.peak_rss_kib, rss)
            time.sleep(0.2)

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def metric(self, name: str) -> list[tuple[dict[str, str], float]]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as answer:
            return parse_metrics(answer.read().decode(), name)

    def requests(self) -> Counter[tuple[str, str]]:
        counts: Counter[tuple[str, str]] = Counter()
        for labels, value in self.metric("controller_clientset_k8s_request_total"):
            counts[(labels["verb"], labels["kind"])] += int(value)
        return counts

    def stop(self) -> None:
        self._sampling = False
        self.process.terminate()
        self.process.wait(timeout=30)


def apiserver_requests(cluster: DevCluster) -> Counter[tuple[str, str]]:
    """``apiserver_request_total`` for Rollouts and ReplicaSets, by verb and (sub)resource."""
    credentials = cluster.credentials()
    response = httpx.get(
        f"{credentials.server}/metrics",
        headers={"Authorization": f"Bearer {credentials.token}"},
        verify=str(cluster.layout.ca_cert),
        timeout=30,
    )
    counts: Counter[tuple[str, str]] = Counter()
    for labels, value in parse_metrics(response.text, "apiserver_request_total"):
        if labels.get("resource") in ("rollouts", "replicasets"):
            resource = labels["resource"] + (f"/{labels['subresource']}" if labels.get("subresource") else "")
            counts[(labels.get("verb", ""), resource)] += int(value)
    return counts


class Timeline:
    """Two watches: when a ReplicaSet gains available pods, how long until the Rollout's status
    next changes; and how many controller writes happen while each step is current."""

    def __init__(self, api: client.ApiClient, namespace: str, controller: Controller) -> None:
        self.custom, self.apps = client.CustomObjectsApi(api), client.AppsV1Api(api)
        self.namespace, self.controller = namespace, controller
        self.latencies: list[float] = []
        self.step_writes: dict[Any, int] = defaultdict(int)
        self._lock = threading.Lock()
        self._pending: float | None = None
        self._available: dict[str, int] = {}
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._replica_sets, daemon=True),
            threading.Thread(target=self._rollouts, daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()
        time.sleep(1)  # both watches established before the update

    def stop(self) -> None:
        self._stop.set()

    def _writes(self) -> int:
        return sum(v for (verb, _), v in self.controller.requests().items() if verb != "GET")

    def _replica_sets(self) -> None:
        stream = watch.Watch()
        for event in stream.stream(
            self.apps.list_namespaced_replica_set, self.namespace, timeout_seconds=900
        ):
            if self._stop.is_set():
                return
            rs = event["object"]
            available = rs.status.available_replicas or 0
            with self._lock:
                if available > self._available.get(rs.metadata.name, available):
                    self._pending = self._pending or time.monotonic()
                self._available[rs.metadata.name] = available

    def _rollouts(self) -> None:
        stream = watch.Watch()
        last_step, writes_then = None, self._writes()
        for event in stream.stream(
            self.custom.list_namespaced_custom_object,
            GROUP,
            VERSION,
            self.namespace,
            "rollouts",
            timeout_seconds=900,
        ):
            if self._stop.is_set():
                return
            with self._lock:
                if self._pending is not None:
                    self.latencies.append(time.monotonic() - self._pending)
                    self._pending = None
            step = (event["object"].get("status") or {}).get("currentStepIndex")
            if step != last_step:
                writes = self._writes()
                self.step_writes[last_step] += writes - writes_then
                last_step, writes_then = step, writes


def rollout(name: str, replicas: int, steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Rollout",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
            "strategy": {"canary": {"steps": steps}},
        },
    }


def set_image(custom: client.CustomObjectsApi, namespace: str, name: str, image: str) -> None:
    patch = [{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": image}]
    custom.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, "rollouts", name, patch, _content_type="application/json-patch+json"
    )


def healthy(custom: client.CustomObjectsApi, namespace: str, name: str, image: str) -> bool:
    ro = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "rollouts", name)
    status = ro.get("status") or {}
    return bool(
        ro["spec"]["template"]["spec"]["containers"][0]["image"] == image
        and status.get("observedGeneration") == str(ro["metadata"]["generation"])
        and status.get("phase") == "Healthy"
        and status.get("stableRS") == status.get("currentPodHash")
    )


def wait(check: Any, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.2)


def single_canary(api: client.ApiClient, cluster: DevCluster, namespace: str, log: Path) -> None:
    custom = client.CustomObjectsApi(api)
    steps = [{"setWeight": 25}, {"pause": {"duration": 2}}, {"setWeight": 50}, {"pause": {"duration": 2}}]
    controller = Controller(cluster, namespace, log)
    try:
        body = rollout("bench", 5, steps)
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "rollouts", body)
        wait(lambda: healthy(custom, namespace, "bench", "nginx:1.27"))
        before_controller, before_apiserver = controller.requests(), apiserver_requests(cluster)
        passes_before = sum(v for _, v in controller.metric("rollout_reconcile_count"))

        timeline = Timeline(api, namespace, controller)
        timeline.start()
        started = time.monotonic()
        set_image(custom, namespace, "bench", "nginx:1.28")
        wait(lambda: healthy(custom, namespace, "bench", "nginx:1.28"))
        elapsed = time.monotonic() - started
        time.sleep(1)
        timeline.stop()
        after_controller, after_apiserver = controller.requests(), apiserver_requests(cluster)
        passes = sum(v for _, v in controller.metric("rollout_reconcile_count")) - passes_before
        print(f"\n== one 5-replica, 4-step canary (2 timed 2s pauses): Healthy after {elapsed:.1f}s")
        print("controller requests by verb/resource:")
        for key in sorted(set(after_controller) | set(before_controller)):
            delta = after_controller[key] - before_controller[key]
            if delta:
                print(f"  {key[0]:6} {key[1]:18} {delta}")
        print("apiserver_request_total delta (all clients) for rollouts/replicasets:")
        for key in sorted(after_apiserver):
            delta = after_apiserver[key] - before_apiserver[key]
            if delta:
                print(f"  {key[0]:8} {key[1]:18} {delta}")
        print(f"reconcile passes: {int(passes)}")
        print(f"controller writes while each currentStepIndex was current: {dict(timeline.step_writes)}")
        latencies = sorted(timeline.latencies)
        if latencies:
            print(
                f"RS availability change -> next Rollout status change: n={len(latencies)} "
                f"median={latencies[len(latencies) // 2] * 1000:.0f}ms max={latencies[-1] * 1000:.0f}ms"
            )
    finally:
        controller.stop()


def many_canaries(api: client.ApiClient, cluster: DevCluster, namespace: str, log: Path, count: int) -> None:
    custom = client.CustomObjectsApi(api)
    steps = [{"setWeight": 50}, {"pause": {"duration": 1}}]
    controller = Controller(cluster, namespace, log)
    try:
        names = [f"r{i:03d}" for i in range(count)]
        for name in names:
            custom.create_namespaced_custom_object(
                GROUP, VERSION, namespace, "rollouts", rollout(name, 2, steps)
            )
        wait(lambda: all(healthy(custom, namespace, n, "nginx:1.27") for n in names), timeout=900)
        cpu_before = controller.cpu_seconds()
        started = time.monotonic()
        for name in names:
            set_image(custom, namespace, name, "nginx:1.28")
        wait(lambda: all(healthy(custom, namespace, n, "nginx:1.28") for n in names), timeout=1800)
        elapsed = time.monotonic() - started
        cpu = controller.cpu_seconds() - cpu_before
        print(f"\n== {count} canaries (2 replicas, setWeight 50 + 1s pause) updated at once")
        rss = controller.peak_rss_kib / 1024
        print(f"all Healthy after {elapsed:.1f}s; controller CPU {cpu:.1f}s; peak RSS {rss:.0f} MiB")
        idle_before = sum(controller.requests().values())
        time.sleep(10)
        idle = sum(controller.requests().values()) - idle_before
        print(f"requests during 10s idle with {count} Rollouts: {idle}")
    finally:
        controller.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="a running devcluster's directory")
    parser.add_argument("--rollouts", type=int, default=100)
    args = parser.parse_args()
    cluster = DevCluster(args.dir)
    if not cluster.is_running():
        raise SystemExit(f"no devcluster running in {args.dir}")
    with cluster.api_client() as api:
        install_crds(api)
        core = client.CoreV1Api(api)
        logs = Path(tempfile.mkdtemp(prefix="bench-controller-"))
        for part, run in (("single", single_canary), ("many", many_canaries)):
            namespace = core.create_namespace({"metadata": {"generateName": f"bench-{part}-"}}).metadata.name
            wait(lambda ns=namespace: bool(core.list_namespaced_service_account(ns).items))
            if part == "single":
                run(api, cluster, namespace, logs / f"{part}.log")
            else:
                run(api, cluster, namespace, logs / f"{part}.log", args.rollouts)  # type: ignore[call-arg]
            core.delete_namespace(namespace)
        print(f"\ncontroller logs: {logs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
