"""The dashboard against the devcluster, through its HTTP API and in headless Chromium.

One dashboard process (``kubectl-rollouts dashboard -A``, a real subprocess on a free port) and
one controller (watching ``live`` only) serve the module. Rollouts in ``still`` are never
reconciled: their status and AnalysisRun are written by the test, so the page shows exactly
known steps and measurements. Screenshots of every page are kept in
``$ROLLOUTS_TEST_ARTEFACTS`` (default: the test's temporary directory) and named in the output.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from dashboard_browser import Browser, stop
from dashboard_helpers import artefacts_folder, dashboard_process, new_namespace, shot, write_paused_status
from dashboard_helpers import call as call_at
from kubernetes import client
from plugin_helpers import (
    create_rollout,
    now_text,
    objects,
    read,
    rollout_manifest,
    set_rollout_status,
    until,
)

from rollouts.crds.install import install_crds
from rollouts.devcluster import DevCluster
from rollouts.plugin import main as plugin_main
from rollouts.plugin.ages import human_duration

pytestmark = pytest.mark.integration

STEPS = [{"setWeight": 50}, {"pause": {}}]
STILL_STEPS = [
    {"setWeight": 20},
    {"analysis": {"templates": [{"templateName": "error-rate"}]}},
    {"pause": {}},
    {"setWeight": 60},
]


@dataclass(frozen=True)
class Dashboard:
    url: str  # as printed, with the token
    base: str
    token: str
    kubeconfig: str


@pytest.fixture(scope="module")
def namespaces(api_client: Any) -> Iterator[tuple[str, str]]:
    install_crds(api_client, timeout=120)
    live, still = new_namespace(api_client, "dash-live-"), new_namespace(api_client, "dash-still-")
    try:
        yield live, still
    finally:
        for name in (live, still):
            client.CoreV1Api(api_client).delete_namespace(name, propagation_policy="Background")


@pytest.fixture(scope="module")
def controller(
    devcluster: DevCluster, namespaces: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    log = tmp_path_factory.mktemp("dashboard-controller") / "controller.log"
    argv = [sys.executable, "-m", "rollouts.cli", "controller", "--kubeconfig", str(devcluster.kubeconfig)]
    argv += ["--namespace", namespaces[0], "--metrics-port", "0", "--healthz-port", "0"]
    with log.open("w") as sink:
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        stop(process)


@pytest.fixture
def live_namespace(namespaces: tuple[str, str], controller: None) -> str:
    """The namespace our controller reconciles."""
    return namespaces[0]


@pytest.fixture(scope="module")
def dashboard(devcluster: DevCluster, namespaces: tuple[str, str]) -> Iterator[Dashboard]:
    with dashboard_process(str(devcluster.kubeconfig), "-A") as url:
        assert url.startswith("http://127.0.0.1:"), url
        base, token = url.split("/?token=")
        yield Dashboard(url, base, token, str(devcluster.kubeconfig))


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    opened = Browser(tmp_path_factory.mktemp("chromium"))
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return artefacts_folder(tmp_path_factory.mktemp("screenshots"))


def call(dashboard: Dashboard, path: str, **options: Any) -> tuple[int, Any, Any]:
    return call_at(dashboard.base, path, **options)


def bearer(dashboard: Dashboard, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {dashboard.token}", **more}


@pytest.fixture(scope="module")
def still_rollout(api_client: Any, namespaces: tuple[str, str]) -> dict[str, Any]:
    """A paused canary at its analysis step with a run of three measurements, written by hand."""
    namespace = namespaces[1]
    created = create_rollout(api_client, namespace, rollout_manifest("still", canary={"steps": STILL_STEPS}))
    write_paused_status(api_client, namespace, "still", readyReplicas=2, updatedReplicas=1)
    run = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisRun",
        "metadata": {
            "name": "still-bbb-2-1",
            "annotations": {"rollout.argoproj.io/revision": "2"},
            "ownerReferences": [
                {
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "Rollout",
                    "name": "still",
                    "uid": created["metadata"]["uid"],
                    "controller": True,
                }
            ],
        },
        "spec": {
            "metrics": [
                {
                    "name": "error-rate",
                    "successCondition": "result[0] < 0.05",
                    "provider": {"prometheus": {"address": "http://prometheus:9090", "query": "errors"}},
                }
            ]
        },
        "status": {
            "phase": "Running",
            "metricResults": [
                {
                    "name": "error-rate",
                    "phase": "Running",
                    "count": 3,
                    "successful": 2,
                    "failed": 1,
                    "measurements": [
                        {
                            "phase": "Successful",
                            "value": "[0.01]",
                            "startedAt": now_text(),
                            "finishedAt": now_text(),
                        },
                        {
                            "phase": "Failed",
                            "value": "[0.09]",
                            "startedAt": now_text(),
                            "finishedAt": now_text(),
                        },
                        {
                            "phase": "Successful",
                            "value": "[0.03]",
                            "startedAt": now_text(),
                            "finishedAt": now_text(),
                        },
                    ],
                }
            ],
        },
    }
    objects(api_client).create_namespaced_custom_object(
        "argoproj.io", "v1alpha1", namespace, "analysisruns", run
    )
    return read(api_client, namespace, "rollouts", "still")


def test_the_api_needs_the_token(dashboard: Dashboard, still_rollout: dict[str, Any]) -> None:
    status, body, _ = call(dashboard, "/api/v1/rollouts/info")
    assert (status, "missing token" in body["error"]) == (401, True)
    status, body, _ = call(dashboard, "/api/v1/rollouts/info", headers={"Authorization": "Bearer nope"})
    assert (status, "invalid token" in body["error"]) == (401, True)
    status, body, _ = call(dashboard, "/api/v1/rollouts/info", headers=bearer(dashboard))
    assert status == 200
    assert "still" in [row["name"] for row in body["rollouts"]]
    # the page itself holds no data; its URL token is traded for an HttpOnly cookie
    status, page, _ = call(dashboard, "/")
    assert (status, b"/app.js" in page) == (200, True)
    status, _, headers = call(dashboard, f"/?token={dashboard.token}")
    assert (status, headers["Location"]) == (303, "/")
    assert "HttpOnly" in headers["Set-Cookie"]
    cookie = headers["Set-Cookie"].split(";")[0]
    assert call(dashboard, "/api/v1/version", headers={"Cookie": cookie})[0] == 200


def test_bad_actions_are_refused_and_change_nothing(
    dashboard: Dashboard, api_client: Any, still_rollout: dict[str, Any]
) -> None:
    namespace = still_rollout["metadata"]["namespace"]
    path = f"/api/v1/rollouts/{namespace}/still/promote"
    json_headers = bearer(dashboard, **{"Content-Type": "application/json"})
    cases = [
        (bearer(dashboard, **{"Content-Type": "text/plain"}), b"{}", 415, "application/json"),
        (json_headers, b"{not json", 400, "malformed JSON body"),
        (json_headers, b'{"full": "yes"}', 400, '"full" must be true or false'),
        ({**json_headers, "Origin": "http://evil.example"}, b"{}", 403, "cross-site"),
        ({"Content-Type": "application/json"}, b"{}", 401, "missing token"),
        (json_headers, b" " * (65 * 1024), 413, "body too large"),
    ]
    for headers, body, expected, words in cases:
        status, answer, _ = call(dashboard, path, method="PUT", body=body, headers=headers)
        assert (status, words in answer["error"]) == (expected, True), answer
    status, answer, _ = call(
        dashboard,
        f"/api/v1/rollouts/{namespace}/nope/promote",
        method="PUT",
        body=b"{}",
        headers=json_headers,
    )
    assert (status, answer["error"]) == (404, 'rollouts.argoproj.io "nope" not found')
    status, answer, _ = call(
        dashboard, f"/api/v1/rollouts/{namespace}/still/undo/9", method="PUT", body=b"", headers=json_headers
    )
    assert status == 409
    assert "revision 9" in answer["error"] or "history" in answer["error"]
    after = read(api_client, namespace, "rollouts", "still")
    assert after["spec"] == still_rollout["spec"]
    assert after["status"] == still_rollout["status"]


def test_pages_show_the_overview_steps_and_a_metric_chart(
    dashboard: Dashboard, browser: Browser, artefacts: Path, still_rollout: dict[str, Any]
) -> None:
    browser.open(dashboard.url)
    browser.wait_for(
        "the still rollout in the overview", "!!document.querySelector('tr[data-name=\"still\"]')"
    )
    row = browser.evaluate("document.querySelector('tr[data-name=\"still\"]').innerText")
    assert "Paused" in row
    assert "1/4" in row
    assert "nginx:1.27" in row
    assert browser.evaluate("document.cookie") == ""  # the token cookie is HttpOnly
    shot(browser, artefacts, "overview")

    browser.click('tr[data-name="still"] a')
    browser.wait_for("the steps", "document.querySelectorAll('#steps li').length === 4")
    states = browser.evaluate("[...document.querySelectorAll('#steps li')].map(li => li.dataset.state)")
    assert states == ["done", "current", "pending", "pending"]
    assert "Analysis error-rate" in browser.evaluate("document.querySelector('#steps li.current').innerText")
    browser.wait_for(
        "the metric chart",
        "document.querySelectorAll('svg.chart[data-metric=\"error-rate\"] circle').length === 3",
    )
    marks = browser.evaluate(
        "[...document.querySelectorAll('svg.chart circle')].map(c => c.getAttribute('class'))"
    )
    assert marks == ["Successful", "Failed", "Successful"]
    assert "success: result[0] < 0.05" in browser.evaluate("document.querySelector('#analysis').innerText")
    text = browser.evaluate("document.body.innerText")
    assert "Strategy\tCanary" in text or "Strategy\nCanary" in text
    assert "[object" not in text
    assert "null" not in text
    shot(browser, artefacts, "detail-analysis")


def test_the_overview_changes_row_by_row_and_counts_ages_itself(
    dashboard: Dashboard, browser: Browser, api_client: Any, namespaces: tuple[str, str]
) -> None:
    namespace = namespaces[1]
    browser.open(dashboard.base + "/#/")
    browser.wait_for("the overview stream", "document.getElementById('live').dataset.state === 'open'")
    browser.wait_for("the overview", "!!document.querySelector('tr[data-name=\"still\"]')")
    browser.evaluate("window.sameDocument = true")
    create_rollout(api_client, namespace, rollout_manifest("listed", canary={"steps": STEPS}))
    write_paused_status(api_client, namespace, "listed")
    row = "document.querySelector('tr[data-name=\"listed\"]')?.innerText"
    browser.wait_for("the new row", f"({row} || '').includes('0/2')")
    set_rollout_status(api_client, namespace, "listed", readyReplicas=2)
    browser.wait_for("the row's ready pods", f"({row} || '').includes('2/2')")
    # both arrived as row updates on the open stream, not as whole lists or a reload
    assert browser.evaluate("window.liveRowUpdates") >= 2
    assert browser.evaluate("window.sameDocument") is True
    # the page counts ages itself, as kubectl prints them
    spans = [-5, 0, 59, 119, 120, 125, 600, 3 * 3600, 7 * 3600 + 300, 30 * 3600, 3 * 86400 + 3600, 20 * 86400]
    spans += [3 * 365 * 86400 + 4 * 86400, 9 * 365 * 86400]
    assert browser.evaluate(f"{spans}.map(humanDuration)") == [
        human_duration(timedelta(seconds=span)) for span in spans
    ]


def _paused_canary(api_client: Any, namespace: str, name: str) -> None:
    """A Healthy revision 1, then a new image: revision 2 waits at its pause step."""
    create_rollout(api_client, namespace, rollout_manifest(name, canary={"steps": STEPS}))
    until(
        f"{name} Healthy",
        lambda: read(api_client, namespace, "rollouts", name).get("status", {}).get("phase"),
        lambda p: p == "Healthy",
    )
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}}}}
    objects(api_client).patch_namespaced_custom_object(
        "argoproj.io", "v1alpha1", namespace, "rollouts", name, patch
    )
    until(
        f"{name} paused",
        lambda: read(api_client, namespace, "rollouts", name).get("status", {}),
        lambda s: s.get("phase") == "Paused" and s.get("currentStepIndex") == 1,
    )


def _open_paused(dashboard: Dashboard, browser: Browser, api_client: Any, namespace: str, name: str) -> None:
    """A canary paused by the controller, open on its detail page."""
    _paused_canary(api_client, namespace, name)
    browser.open(f"{dashboard.base}/#/rollout/{namespace}/{name}")
    # one expression: the previous page (another rollout) may still be showing for a moment
    browser.wait_for(
        f"{name} Paused at its pause step on the page",
        f"document.querySelector('#rollout-name')?.innerText === {name!r}"
        " && document.querySelector('.head .badge')?.innerText === 'Paused'"
        " && document.querySelector('#steps li.current')?.innerText.startsWith('2. Pause (until promoted)')",
    )


def test_clicking_promote_advances_the_rollout(
    dashboard: Dashboard, browser: Browser, artefacts: Path, api_client: Any, live_namespace: str
) -> None:
    live = live_namespace
    _open_paused(dashboard, browser, api_client, live, "clicked")
    shot(browser, artefacts, "detail-paused")
    browser.click("#promote")
    browser.wait_for("the confirmation", "document.getElementById('confirm').open")
    browser.click("#confirm-ok")
    until(
        "clicked Healthy after promote",
        lambda: read(api_client, live, "rollouts", "clicked").get("status", {}),
        lambda s: s.get("phase") == "Healthy" and s.get("stableRS") == s.get("currentPodHash"),
    )
    browser.wait_for("Healthy on the page", "document.querySelector('.head .badge')?.innerText === 'Healthy'")
    browser.wait_for("the controller's events", "document.querySelectorAll('#events tr').length > 0")
    assert "replica counts (no traffic router)" in browser.evaluate("document.body.innerText")
    shot(browser, artefacts, "detail-promoted")

    browser.click('button[data-revision="1"]')  # roll back to the first template
    browser.wait_for("the confirmation", "document.getElementById('confirm').open")
    browser.click("#confirm-ok")
    until(
        "the revision 1 image back in the spec",
        lambda: read(api_client, live, "rollouts", "clicked")["spec"]["template"]["spec"]["containers"][0],
        lambda container: container["image"] == "nginx:1.27",
    )


def test_a_plugin_change_shows_without_reload(
    dashboard: Dashboard, browser: Browser, artefacts: Path, api_client: Any, live_namespace: str
) -> None:
    live = live_namespace
    _open_paused(dashboard, browser, api_client, live, "watched")
    browser.evaluate("window.sameDocument = true")
    browser.wait_for("the live stream open", "document.getElementById('live').dataset.state === 'open'")
    messages = browser.evaluate("window.liveMessages")
    assert plugin_main(["abort", "watched", "-n", live, "--kubeconfig", dashboard.kubeconfig]) == 0
    browser.wait_for(
        "Degraded on the page", "document.querySelector('.head .badge')?.innerText === 'Degraded'"
    )
    assert browser.evaluate("window.sameDocument") is True  # updated in place, never reloaded
    # it came over the server-sent-events stream: more messages on it, and the page never
    # fetched a view (the JSON reads end in /info; the stream's path ends in /info/watch)
    assert browser.evaluate("window.liveMessages") > messages
    fetched = browser.evaluate(
        "performance.getEntriesByType('resource').map(e => e.name).filter(n => n.endsWith('/info'))"
    )
    assert fetched == []
    # (a stream shows in the timing entries only once it has ended; the open one is the page's)
    stream = browser.evaluate("source.readyState === EventSource.OPEN && new URL(source.url).pathname")
    assert stream == f"/api/v1/rollouts/{live}/watched/info/watch"
    shot(browser, artefacts, "detail-aborted-live")
