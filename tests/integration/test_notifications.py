# ruff: noqa: F401, F811 - pytest fixtures imported from the harness are parameters by design
"""Notifications from a real controller on the devcluster to HTTP receivers the test runs.

The controller reads ``argo-rollouts-notification-configmap``/``-secret`` from its own namespace
(``POD_NAMESPACE``, set to the test's namespace), and every Event it records on the Rollout may
notify the receivers subscribed by annotation. The receivers are real HTTP servers on loopback
that record each request and answer with scripted status codes, so retries are seen as they
happen on the wire. Nothing here asserts a duration: the "did not wait" check is an ordering
(the Rollout is Healthy while the receiver has not yet accepted the notification).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from test_controller_harness import (
    Cluster,
    ControllerProcess,
    cluster,
    rollout_crds,
    rollout_manifest,
    settled,
    wait_for,
)

from rollouts.devcluster import DevCluster

NAME = "shop"
SUBSCRIBE = "notifications.argoproj.io/subscribe"
STEPS: list[dict[str, Any]] = [{"setWeight": 50}, {"setWeight": 100}]


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    """An HTTP server recording requests; ``script[path]`` lists the statuses to answer first."""

    script: dict[str, list[int]] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def handle_one(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with receiver.lock:
                    pending = receiver.script.get(self.path) or []
                    status = pending.pop(0) if pending else 200
                    headers = {key.lower(): value for key, value in self.headers.items()}
                    receiver.requests.append(Received(self.command, self.path, headers, body, status))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = do_PUT = handle_one  # noqa: N815 - http.server's method names

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [request for request in self.requests if request.path == path]

    def at_least(self, count: int, path: str) -> list[Received] | None:
        found = self.at(path)
        return found if len(found) >= count else None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def notifying_controller(
    devcluster: DevCluster,
    namespace: str,
    rollout_crds: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[ControllerProcess]:
    """The controller with the test's namespace as its own, so it reads the ConfigMap there."""
    monkeypatch.setenv("POD_NAMESPACE", namespace)
    process = ControllerProcess(devcluster.kubeconfig, namespace, tmp_path / "controller.log").start()
    try:
        yield process
    finally:
        process.stop()
        print(f"--- controller log (tail) ---\n{process.log_tail(200)}")


def configure(cluster: Cluster, data: dict[str, str], secrets: dict[str, str] | None = None) -> None:
    config_map = {"metadata": {"name": "argo-rollouts-notification-configmap"}, "data": data}
    cluster.core.create_namespaced_config_map(cluster.namespace, config_map)
    encoded = {key: base64.b64encode(value.encode()).decode() for key, value in (secrets or {}).items()}
    secret = {"metadata": {"name": "argo-rollouts-notification-secret"}, "data": encoded}
    cluster.core.create_namespaced_secret(cluster.namespace, secret)


def update_to_completion(cluster: Cluster, annotations: dict[str, str]) -> dict[str, Any]:
    """Create the Rollout, let it become Healthy, change its image and wait for the update to finish."""
    manifest = rollout_manifest(NAME, {"canary": {"steps": STEPS}}, replicas=2)
    manifest["metadata"]["annotations"] = annotations
    cluster.create_rollout(manifest)
    wait_for(settled(cluster, NAME, "Healthy"), "the first revision to become Healthy")
    cluster.set_image(NAME, "nginx:1.28")
    return wait_for(
        settled(cluster, NAME, "Healthy", currentStepIndex=len(STEPS)), "the update to complete", timeout=120
    )


def metric(controller: ControllerProcess, name: str, reason: str) -> float:
    return sum(
        value
        for (metric_name, labels), value in controller.metrics().items()
        if metric_name == name and dict(labels).get("reason") == reason
    )


def test_a_completed_rollout_is_posted_to_the_webhook_with_the_templated_body(
    notifying_controller: ControllerProcess, cluster: Cluster, receiver: Receiver
) -> None:
    configure(
        cluster,
        {
            "service.webhook.deploys": (
                f"url: {receiver.url}/hooks\n"
                "headers:\n- name: Content-Type\n  value: application/json\n"
                "- name: X-Deploy-Token\n  value: $deploy-token\n"
            ),
            "template.rollout-completed": (
                "message: Rollout {{.rollout.metadata.name}} has been completed.\n"
                "webhook:\n  deploys:\n    method: POST\n    path: /completed/{{.rollout.metadata.name}}\n"
                '    body: |\n      {"rollout": {{toJson .rollout.metadata.name}}, '
                '"image": "{{(index .rollout.spec.template.spec.containers 0).image}}", '
                '"steps": {{len .rollout.spec.strategy.canary.steps}}}\n'
            ),
        },
        {"deploy-token": "s3cret"},
    )
    update_to_completion(cluster, {f"{SUBSCRIBE}.on-rollout-completed.deploys": ""})
    # one notification per RolloutCompleted Event: the first revision's and the update's
    completed = cluster.events("RolloutCompleted")
    requests = wait_for(
        lambda: receiver.at_least(len(completed), f"/hooks/completed/{NAME}"),
        "a notification per RolloutCompleted Event",
    )
    assert len(requests) == len(completed) >= 1
    request = requests[-1]
    assert request.method == "POST"
    assert json.loads(request.body) == {"rollout": NAME, "image": "nginx:1.28", "steps": 2}
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-deploy-token"] == "s3cret"
    wait_for(
        lambda: metric(notifying_controller, "notification_send_success_total", "RolloutCompleted") >= 1,
        "the success to be counted",
    )
    assert metric(notifying_controller, "notification_send_error_total", "RolloutCompleted") == 0


def test_step_completed_messages_reach_a_slack_incoming_webhook(
    notifying_controller: ControllerProcess, cluster: Cluster, receiver: Receiver
) -> None:
    # no trigger or template configured: the built-in on-rollout-step-completed is used
    configure(
        cluster, {"service.slack": f"webhookURL: {receiver.url}/services/T0/B0/x\nusername: rollouts\n"}
    )
    update_to_completion(cluster, {f"{SUBSCRIBE}.on-rollout-step-completed.slack": "deploys"})
    requests = wait_for(
        lambda: receiver.at_least(2, "/services/T0/B0/x"),
        "two step-completed messages",
    )
    payloads = [json.loads(request.body) for request in requests]
    assert all(request.method == "POST" for request in requests)
    assert sorted(payload["text"] for payload in payloads) == [
        f"Rollout {NAME} step number 1/2 has been completed.",
        f"Rollout {NAME} step number 2/2 has been completed.",
    ]
    assert all(payload["username"] == "rollouts" for payload in payloads)
    fields = payloads[0]["attachments"][0]["fields"]
    assert {"title": "web", "value": "nginx:1.28", "short": True} in fields
    # the settings are read through a short cache, not once per Event
    events = sum(
        value
        for (metric_name, labels), value in notifying_controller.metrics().items()
        if metric_name == "rollout_events_total" and dict(labels).get("name") == NAME
    )
    reads = notifying_controller.requests(kind="configmaps", verb="GET")
    assert 1 <= reads < events, (reads, events)


def test_a_failing_receiver_gets_the_message_on_the_third_try_while_the_rollout_goes_on(
    notifying_controller: ControllerProcess, cluster: Cluster, receiver: Receiver
) -> None:
    # the update's notification (path names the new image) is refused twice, then accepted
    update_path = "/flaky/nginx:1.28"
    receiver.script[update_path] = [500, 500]
    configure(
        cluster,
        {
            # long waits between attempts: the Rollout finishes its update meanwhile
            "service.webhook.flaky": f"url: {receiver.url}\nretryWaitMin: 15s\nretryWaitMax: 15s\n",
            "template.rollout-updated": (
                "message: updated {{.rollout.metadata.name}}\n"
                "webhook:\n  flaky:\n    method: POST\n"
                "    path: /flaky/{{(index .rollout.spec.template.spec.containers 0).image}}\n"
                "    body: updated {{.rollout.metadata.name}}\n"
            ),
        },
    )
    update_to_completion(cluster, {f"{SUBSCRIBE}.on-rollout-updated.flaky": ""})
    # Healthy with every step done, yet the receiver has not accepted the update's notification
    assert [request.status for request in receiver.at(update_path)] in ([500], [500, 500])
    attempts = wait_for(lambda: receiver.at_least(3, update_path), "the third try")
    assert [(request.status, request.body) for request in attempts] == [
        (500, f"updated {NAME}".encode()),
        (500, f"updated {NAME}".encode()),
        (200, f"updated {NAME}".encode()),
    ]
    sent = len(receiver.at("/flaky/nginx:1.27")) + 1  # the first revision's, and the update's
    wait_for(
        lambda: metric(notifying_controller, "notification_send_success_total", "RolloutUpdated") >= sent,
        "the successes to be counted",
    )
    assert metric(notifying_controller, "notification_send_error_total", "RolloutUpdated") == 0
    log = notifying_controller.log_path.read_text(errors="replace")
    assert "attempt 1 failed" in log and "attempt 2 failed" in log and "(attempt 3)" in log


def test_a_broken_template_is_logged_and_counted_and_the_rollout_still_completes(
    notifying_controller: ControllerProcess, cluster: Cluster, receiver: Receiver
) -> None:
    configure(
        cluster,
        {
            "service.webhook.hook": f"url: {receiver.url}/hook\n",
            "template.rollout-completed": "message: 'Rollout {{.rollout.metadata.name'\n",
            "template.rollout-updated": "message: 'updated {{.rollout.metadata.name}}'\n",
        },
    )
    status = update_to_completion(
        cluster,
        {f"{SUBSCRIBE}.on-rollout-completed.hook": "", f"{SUBSCRIBE}.on-rollout-updated.hook": ""},
    )
    assert status["phase"] == "Healthy"
    wait_for(
        lambda: metric(notifying_controller, "notification_send_error_total", "RolloutCompleted") >= 1,
        "the broken template to be counted as an error",
    )
    log = notifying_controller.log_path.read_text(errors="replace")
    assert "template 'rollout-completed' is broken" in log and "1:9: unclosed action" in log
    # the other notification of the same configuration is still delivered
    updated = wait_for(lambda: receiver.at_least(len(cluster.events("RolloutUpdated")), "/hook"), "updates")
    assert {request.body for request in updated} == {f"updated {NAME}".encode()}
