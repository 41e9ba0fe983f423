# ruff: noqa: F401, F811 - pytest fixtures imported from the harness are parameters by design
"""A real Prometheus scrapes the controller's /metrics and answers PromQL on its series.

Issue 8's test: Debian's Prometheus (`rollouts.localprom`) with the running controller's metrics
port as its only target; ``rollout_info`` answers 1 with Argo's labels for a Rollout we create,
``rollout_abort_info`` names the reason once the Rollout is aborted, and its series goes stale
(the instant query answers nothing) when a retry lifts the abort.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_controller_harness import (
    Cluster,
    ControllerProcess,
    cluster,
    controller,
    rollout_crds,
    rollout_manifest,
    settled,
    wait_for,
)

from rollouts.localprom import PrometheusServer

pytestmark = pytest.mark.integration


@pytest.fixture
def prometheus(controller: ControllerProcess, tmp_path: Path) -> Iterator[PrometheusServer]:
    server = PrometheusServer(tmp_path / "prometheus", targets=(f"127.0.0.1:{controller.metrics_port}",))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _series(prometheus: PrometheusServer, promql: str) -> list[dict[str, Any]]:
    return [{**entry["metric"], "value": entry["value"][1]} for entry in prometheus.query(promql)]


def test_prometheus_answers_rollout_info_and_the_abort_reason(
    controller: ControllerProcess, cluster: Cluster, prometheus: PrometheusServer
) -> None:
    steps = [{"setWeight": 50}, {"pause": {}}]
    cluster.create_rollout(rollout_manifest("scraped", {"canary": {"steps": steps}}, replicas=2))
    wait_for(settled(cluster, "scraped", "Healthy"), "the Rollout to be Healthy")

    selector = f'namespace="{cluster.namespace}", name="scraped"'
    info = wait_for(
        lambda: _series(prometheus, f'rollout_info{{{selector}, phase="Completed"}}'),
        "Prometheus to answer rollout_info for the Healthy Rollout",
    )
    assert len(info) == 1
    assert {key: info[0][key] for key in ("namespace", "name", "strategy", "phase", "value")} == {
        "namespace": cluster.namespace,
        "name": "scraped",
        "strategy": "canary",
        "phase": "Completed",
        "value": "1",
    }
    assert "traffic_router" not in info[0]  # exported empty; Prometheus drops empty labels
    assert info[0]["job"] == "exporter"  # it came through the scrape, not from anywhere else
    assert _series(prometheus, f"rollout_abort_info{{{selector}}}") == []

    cluster.set_image("scraped", "nginx:1.28")
    wait_for(settled(cluster, "scraped", "Paused"), "the update to pause at its pause step")
    cluster.patch_status("scraped", {"status": {"abort": True}})  # what `kubectl rollouts abort` sends
    wait_for(settled(cluster, "scraped", "Degraded"), "the aborted Rollout to be Degraded")
    aborted = wait_for(
        lambda: _series(prometheus, f"rollout_abort_info{{{selector}}}"),
        "Prometheus to answer rollout_abort_info after the abort",
    )
    assert [(entry["reason"], entry["value"]) for entry in aborted] == [("UserAbort", "1")]
    phase = _series(prometheus, f"rollout_info{{{selector}}}")
    assert [entry["phase"] for entry in phase] == ["Abort"]

    # retry lifts the abort: the series leaves the scrape and Prometheus marks it stale
    cluster.patch_status("scraped", {"status": {"abort": False}})
    wait_for(
        lambda: not _series(prometheus, f"rollout_abort_info{{{selector}}}"),
        "rollout_abort_info to go stale after the retry",
    )
    health = wait_for(lambda: _series(prometheus, 'up{job="exporter"}'), "the controller target's up series")
    assert [entry["value"] for entry in health] == ["1"]
