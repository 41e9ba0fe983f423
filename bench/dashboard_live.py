"""Dashboard benchmark on a running devcluster: live pages over server-sent events; asserts nothing.

    rollouts dev-cluster up --dir /tmp/bench-dc
    python bench/dashboard_live.py --dir /tmp/bench-dc [--rollouts 1000] [--pages 10] [--seconds 30]

Creates ``--rollouts`` paused canaries (status written by the benchmark: no controller) in a
fresh namespace, starts ``kubectl-rollouts dashboard -n NS`` as a subprocess and opens
``--pages`` streams of the overview (``/api/v1/rollouts/info/watch``, what an open page holds).
Then, for ``--seconds`` each, it measures the server's CPU (user+system from /proc) and RSS in
three phases: idle (nothing changes), one status change per second, ten per second — the changes
being what a controller writes. It prints, per phase, CPU as a share of one core, RSS, the
messages and bytes each page received, and finally the overview's load time in headless
Chromium (navigation until all rows are drawn), median of five loads.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kubernetes import client

from rollouts.crds.install import install_crds
from rollouts.devcluster import DevCluster

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
from dashboard_browser import Browser, stop  # a test helper, not a package

GROUP, VERSION = "argoproj.io", "v1alpha1"
TICKS = 100  # /proc CPU times are in clock ticks (getconf CLK_TCK)


def rollout(name: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Rollout",
        "metadata": {"name": name, "labels": {"bench": "dashboard"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
            "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}]}},
        },
    }


def status(index: int) -> dict[str, Any]:
    return {
        "status": {
            "phase": "Paused",
            "message": "CanaryPauseStep",
            "currentStepIndex": 1,
            "replicas": 2,
            "availableReplicas": 2,
            "readyReplicas": index % 3,
            "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T00:00:00Z"}],
        }
    }


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


class Page(threading.Thread):
    """One open page's stream: counts the messages and bytes it receives."""

    def __init__(self, base: str, token: str) -> None:
        super().__init__(daemon=True)
        self.base, self.token = urlsplit(base), token
        self.messages = self.bytes = 0
        self.first = threading.Event()

    def run(self) -> None:
        connection = http.client.HTTPConnection(self.base.hostname, self.base.port, timeout=600)
        connection.request(
            "GET", "/api/v1/rollouts/info/watch", headers={"Authorization": f"Bearer {self.token}"}
        )
        answer = connection.getresponse()
        in_message = False
        for line in answer:
            self.bytes += len(line)
            in_message = in_message or line.startswith(b"data: ")
            if line == b"\n" and in_message:  # a blank line ends a message (comments have no data)
                in_message = False
                self.messages += 1
                self.first.set()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="a running devcluster's directory")
    parser.add_argument("--rollouts", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    cluster = DevCluster(args.dir)
    if not cluster.is_running():
        raise SystemExit(f"no devcluster running in {args.dir}")
    with cluster.api_client() as api:
        install_crds(api)
        core, objects = client.CoreV1Api(api), client.CustomObjectsApi(api)
        namespace = core.create_namespace({"metadata": {"generateName": "bench-dashboard-"}}).metadata.name
        try:
            measure(args, cluster, namespace, objects)
        finally:
            core.delete_namespace(namespace)
    return 0


def measure(args: argparse.Namespace, cluster: DevCluster, namespace: str, objects: Any) -> None:
    names = [f"web-{index:04d}" for index in range(args.rollouts)]

    def make(index: int) -> None:
        objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "rollouts", rollout(names[index]))
        objects.patch_namespaced_custom_object_status(
            GROUP, VERSION, namespace, "rollouts", names[index], status(index)
        )

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(make, range(args.rollouts)))
    print(f"{args.rollouts} rollouts created in {time.monotonic() - started:.0f} s")

    argv = [sys.executable, "-m", "rollouts.plugin", "dashboard", "-n", namespace, "--port", "0"]
    server = subprocess.Popen(
        [*argv, "--kubeconfig", str(cluster.kubeconfig)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().split(" ", 1)[1].strip()
        base, token = url.split("/?token=")
        pages = [Page(base, token) for _ in range(args.pages)]
        for page in pages:
            page.start()
        for page in pages:
            page.first.wait(120)
        print(f"{args.pages} pages open; first snapshot {pages[0].bytes / 1024:.0f} KiB each")
        for label, per_second in (("idle", 0), ("1 change/s", 1), ("10 changes/s", 10)):
            phase(
                label,
                per_second,
                seconds=args.seconds,
                pid=server.pid,
                pages=pages,
                objects=objects,
                namespace=namespace,
                names=names,
            )
        print(f"peak RSS {rss_mib(server.pid, 'VmHWM'):.0f} MiB")
        load_times(url, base, args.rollouts)
    finally:
        stop(server)


def phase(
    label: str,
    per_second: int,
    *,
    seconds: float,
    pid: int,
    pages: list[Page],
    objects: Any,
    namespace: str,
    names: list[str],
) -> None:
    messages, sent = [page.messages for page in pages], [page.bytes for page in pages]
    cpu, started, changes = cpu_seconds(pid), time.monotonic(), 0
    while time.monotonic() - started < seconds:
        if per_second:
            name = names[changes % len(names)]
            body = {"status": {"readyReplicas": changes % 3, "message": f"bench change {changes}"}}
            objects.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, "rollouts", name, body)
            changes += 1
            time.sleep(max(0.0, started + changes / per_second - time.monotonic()))
        else:
            time.sleep(0.5)
    elapsed = time.monotonic() - started
    share = (cpu_seconds(pid) - cpu) / elapsed
    got = statistics.mean(page.messages - before for page, before in zip(pages, messages, strict=True))
    volume = statistics.mean(page.bytes - before for page, before in zip(pages, sent, strict=True))
    print(
        f"{label:>13}: {changes} changes in {elapsed:.0f} s; server CPU {share:.0%} of a core, "
        f"RSS {rss_mib(pid):.0f} MiB; per page {got:.0f} messages, {volume / 1024:.0f} KiB"
    )


def load_times(url: str, base: str, rows: int) -> None:
    """Median time from navigation to every row drawn, in headless Chromium (checked every
    0.2 s over the DevTools protocol, so each figure is up to ~0.2 s late)."""
    browser = Browser(Path(tempfile.mkdtemp(prefix="bench-chromium-")))
    drawn = f"document.querySelectorAll('#rollouts tbody tr').length === {rows}"
    try:
        browser.open(url)  # trade the URL's token for the cookie once
        browser.wait_for("the rows", drawn, 300)
        times = []
        for _ in range(5):
            browser.open("about:blank")
            browser.wait_for("a blank page", "location.href === 'about:blank'")
            started = time.monotonic()
            browser.open(base + "/")
            browser.wait_for("the rows", drawn, 300)
            times.append(time.monotonic() - started)
        print(f"overview load ({rows} rows drawn): median {statistics.median(times):.2f} s, "
              f"min {min(times):.2f} s, max {max(times):.2f} s")  # fmt: skip
    finally:
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
