"""What the dashboard's integration tests share: a dashboard subprocess, HTTP calls, namespaces,
screenshots and a reader for server-sent events."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashboard_browser import Browser, stop
from kubernetes import client
from plugin_helpers import now_text, set_rollout_status, until


def new_namespace(api_client: Any, prefix: str) -> str:
    core = client.CoreV1Api(api_client)
    body = client.V1Namespace(metadata=client.V1ObjectMeta(generate_name=prefix))
    name: str = core.create_namespace(body).metadata.name
    until("the default service account", lambda: core.list_namespaced_service_account(name).items, bool)
    return name


def write_paused_status(api_client: Any, namespace: str, name: str, **more: Any) -> None:
    """Status of a canary paused at step 1 (index), as a controller would write it; none runs."""
    set_rollout_status(
        api_client,
        namespace,
        name,
        phase="Paused",
        message="CanaryPauseStep",
        currentStepIndex=1,
        currentPodHash="bbb",
        stableRS="aaa",
        pauseConditions=[{"reason": "CanaryPauseStep", "startTime": now_text()}],
        controllerPause=True,
        replicas=2,
        availableReplicas=2,
        **more,
    )


@contextmanager
def dashboard_process(kubeconfig: str, *flags: str) -> Iterator[str]:
    """``kubectl-rollouts dashboard FLAGS`` on a free port; yields the URL it printed."""
    argv = [sys.executable, "-m", "rollouts.plugin", "dashboard", "--port", "0", *flags]
    process = subprocess.Popen(
        [*argv, "--kubeconfig", kubeconfig], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Dashboard: http://"), (line, process.stderr and process.stderr.read())
        yield line.split(" ", 1)[1].strip()
    finally:
        stop(process)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def refused_start(kubeconfig: str, *flags: str) -> str:
    """Start a dashboard that must refuse to start; its error output."""
    argv = [sys.executable, "-m", "rollouts.plugin", "dashboard", "--port", "0", *flags]
    done = subprocess.run(
        [*argv, "--kubeconfig", kubeconfig], check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, (done.stdout, done.stderr)
    return done.stderr


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def call(
    base: str,
    path: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, Any]:
    """``(status, JSON or bytes, headers)``; 4xx answers are returned, not raised."""
    request = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as answer:
            raw = answer.read()
            status, answer_headers = answer.status, answer.headers
    except urllib.error.HTTPError as error:
        raw, status, answer_headers = error.read(), error.code, error.headers
    content_type = answer_headers.get("Content-Type", "")
    return status, json.loads(raw) if "json" in content_type else raw, answer_headers


@dataclass(frozen=True)
class Event:
    name: str  # "message" unless the server named it
    id: str
    data: Any  # the JSON it carried


def events(base: str, path: str, headers: dict[str, str]) -> Iterator[Event]:
    """Open a server-sent-events stream now; its messages as they arrive (the stream is closed
    when the caller closes the iterator)."""
    request = urllib.request.Request(base + path, headers=headers)
    answer = urllib.request.urlopen(request, timeout=60)
    assert answer.headers.get("Content-Type", "").startswith("text/event-stream")
    return _messages(answer, path)


def _messages(answer: Any, path: str) -> Iterator[Event]:
    with answer:
        fields: dict[str, list[str]] = {}
        for raw in answer:
            line = raw.decode().rstrip("\n")
            if not line:
                if "data" in fields:
                    name = fields.get("event", ["message"])[0]
                    yield Event(name, fields.get("id", [""])[0], json.loads("\n".join(fields["data"])))
                fields = {}
            elif not line.startswith(":"):
                key, _, value = line.partition(": ")
                fields.setdefault(key, []).append(value)
    raise AssertionError(f"the stream {path} ended")


def first_event(base: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    """Open a server-sent-events stream and return its first message's JSON."""
    stream = events(base, path, headers)
    try:
        return dict(next(stream).data)
    finally:
        stream.close()


def artefacts_folder(fallback: Path) -> Path:
    folder = Path(os.environ.get("ROLLOUTS_TEST_ARTEFACTS") or fallback)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shot(browser: Browser, artefacts: Path, name: str) -> None:
    path = browser.screenshot(artefacts / f"dashboard-{name}.png")
    print(f"screenshot: {path}")
    assert path.stat().st_size > 5000  # a rendered page, not an empty image
