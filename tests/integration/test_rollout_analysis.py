# ruff: noqa: F401, F811 - pytest fixtures imported from other modules are parameters by design
"""A canary gated by an analysis step, on the devcluster, against a real Prometheus.

One ``rollouts controller`` process runs both controllers: the Rollout's pass creates the step's
AnalysisRun from an AnalysisTemplate (§3.9), the AnalysisRun controller measures the exporter's
success ratio through Prometheus, and the Rollout reacts to the run's phase — proceeds to
Healthy when it passes, aborts (Degraded, canary scaled to zero) when it fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from prometheus import Exporter, PrometheusServer
from test_controller_harness import (
    GROUP,
    VERSION,
    Cluster,
    ControllerProcess,
    cluster,
    controller,
    rollout_crds,
    rollout_manifest,
    settled,
    wait_for,
)
from test_prometheus_provider import exporter, prometheus

from rollouts.hashes import pod_template_hash
from rollouts.planner import operations

NAME = "web"
STEPS: list[dict[str, Any]] = [
    {"setWeight": 20},
    {"analysis": {"templates": [{"templateName": "success-ratio"}], "args": [{"name": "revision"}]}},
    {"setWeight": 60},
]


def ratio(revision: str) -> str:
    """Share of non-5xx responses since the exporter started (no rate window to age out)."""
    return (
        f'sum(http_requests_total{{revision="{revision}",code!~"5.."}}) / '
        f'sum(http_requests_total{{revision="{revision}"}})'
    )


def create_template(cluster: Cluster, address: str, **metric_fields: Any) -> None:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AnalysisTemplate",
        "metadata": {"name": "success-ratio"},
        "spec": {
            "args": [{"name": "revision"}],
            "metrics": [
                {
                    "name": "success-ratio",
                    "interval": "1s",
                    "count": 2,
                    "successCondition": "result[0] >= 0.95",
                    "failureLimit": 0,
                    "provider": {"prometheus": {"address": address, "query": ratio("{{args.revision}}")}},
                    **metric_fields,
                }
            ],
        },
    }
    cluster.custom.create_namespaced_custom_object(
        GROUP, VERSION, cluster.namespace, "analysistemplates", body
    )


def canary_with_analysis(revision: str) -> dict[str, Any]:
    steps = [dict(step) for step in STEPS]
    steps[1] = {"analysis": {**STEPS[1]["analysis"], "args": [{"name": "revision", "value": revision}]}}
    return rollout_manifest(NAME, {"canary": {"steps": steps}})


def hash_of(image: str) -> str:
    template = rollout_manifest(NAME, {})["spec"]["template"]
    template["spec"]["containers"][0]["image"] = image
    return pod_template_hash(template, None)


def analysis_runs(cluster: Cluster) -> list[dict[str, Any]]:
    listed = cluster.custom.list_namespaced_custom_object(GROUP, VERSION, cluster.namespace, "analysisruns")
    items: list[dict[str, Any]] = listed["items"]
    return items


def start(
    cluster: Cluster,
    prometheus: PrometheusServer,
    revision: str,
    rollout: dict[str, Any] | None = None,
    **metric_fields: Any,
) -> tuple[str, str]:
    create_template(cluster, prometheus.address, **metric_fields)
    cluster.create_rollout(rollout or canary_with_analysis(revision))
    stable_hash, canary_hash = hash_of("nginx:1.27"), hash_of("nginx:1.28")
    wait_for(settled(cluster, NAME, "Healthy", stableRS=stable_hash), "the initial deploy")
    assert analysis_runs(cluster) == []  # the initial deploy skips the steps
    cluster.set_image(NAME, "nginx:1.28")
    return stable_hash, canary_hash


def test_a_passing_analysis_step_lets_the_canary_complete(
    controller: ControllerProcess, cluster: Cluster, prometheus: PrometheusServer, exporter: Exporter
) -> None:
    exporter.record("200", 100, revision="healthy")
    prometheus.wait_for_value('sum(http_requests_total{revision="healthy"})', 100)
    _, canary_hash = start(cluster, prometheus, "healthy")
    wait_for(
        settled(cluster, NAME, "Healthy", stableRS=canary_hash, currentPodHash=canary_hash), "the promotion"
    )
    runs = analysis_runs(cluster)
    assert [r["metadata"]["name"] for r in runs] == [f"{NAME}-{canary_hash}-2-1"]
    created = runs[0]
    assert created["status"]["phase"] == "Successful"
    labels = created["metadata"]["labels"]
    assert labels == {
        "app": NAME,
        "rollouts-pod-template-hash": canary_hash,
        "rollout-type": "Step",
        "step-index": "1",
    }
    assert created["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "2"
    owner = created["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("Rollout", NAME, True)
    assert created["spec"]["args"] == [{"name": "revision", "value": "healthy"}]
    result = created["status"]["metricResults"][0]
    assert result["metadata"]["ResolvedPrometheusQuery"] == ratio("healthy")
    assert (result["count"], result["successful"]) == (2, 2)
    reasons = [e.reason for e in cluster.events("AnalysisRunSuccessful")]
    assert reasons, "the Rollout reports the run's phase"


def test_a_failing_analysis_step_aborts_the_canary(
    controller: ControllerProcess, cluster: Cluster, prometheus: PrometheusServer, exporter: Exporter
) -> None:
    exporter.record("200", 40, revision="broken")
    exporter.record("503", 60, revision="broken")
    prometheus.wait_for_value('sum(http_requests_total{revision="broken"})', 100)
    stable_hash, canary_hash = start(cluster, prometheus, "broken")
    status = wait_for(settled(cluster, NAME, "Degraded", stableRS=stable_hash), "the abort")
    assert status["abort"] is True
    run_name = f"{NAME}-{canary_hash}-2-1"
    assert status["canary"]["currentStepAnalysisRunStatus"]["name"] == run_name
    assert status["canary"]["currentStepAnalysisRunStatus"]["status"] == "Failed"
    assert "Step-based analysis phase failed: " in status["message"]
    assert 'Metric "success-ratio" assessed Failed due to failed (1) > failureLimit (0)' in status["message"]
    wait_for(
        lambda: cluster.counts() == {f"{NAME}-{canary_hash}": (0, 0), f"{NAME}-{stable_hash}": (5, 5)},
        "the canary scaled down and the stable back to 5",
    )
    run = next(r for r in analysis_runs(cluster) if r["metadata"]["name"] == run_name)
    assert run["status"]["phase"] == "Failed"
    assert run["status"]["metricResults"][0]["measurements"][0]["value"] == "[0.4]"


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "canary-analysis.yaml"


def test_the_canary_analysis_example_completes_with_its_prometheus_and_job_metrics(
    controller: ControllerProcess, cluster: Cluster, prometheus: PrometheusServer, exporter: Exporter
) -> None:
    template, rollout, service = yaml.safe_load_all(EXAMPLE.read_text(encoding="utf-8"))
    step_args = rollout["spec"]["strategy"]["canary"]["steps"][1]["analysis"]["args"]
    step_args.append({"name": "prometheus-address", "value": prometheus.address})  # ours, on loopback
    name = rollout["metadata"]["name"]
    cluster.custom.create_namespaced_custom_object(
        GROUP, VERSION, cluster.namespace, "analysistemplates", template
    )
    cluster.core.create_namespaced_service(cluster.namespace, service)
    cluster.create_rollout(rollout)
    wait_for(settled(cluster, name, "Healthy"), "the initial deploy")
    pod_template = rollout["spec"]["template"]
    pod_template["spec"]["containers"][0]["image"] = "nginx:1.28"
    canary_hash = pod_template_hash(pod_template, None)
    exporter.record("200", 50, revision=canary_hash)
    prometheus.wait_for_value(f'sum(http_requests_total{{revision="{canary_hash}"}})', 50)
    cluster.set_image(name, "nginx:1.28")
    wait_for(settled(cluster, name, "Healthy", stableRS=canary_hash), "the analysed promotion")
    run = next(r for r in analysis_runs(cluster) if r["metadata"]["name"] == f"{name}-{canary_hash}-2-1")
    results = {result["name"]: result for result in run["status"]["metricResults"]}
    assert run["status"]["phase"] == "Successful"
    assert (results["success-ratio"]["successful"], results["smoke-test"]["successful"]) == (2, 1)
    assert results["success-ratio"]["measurements"][0]["value"] == "[1]"


def test_an_inconclusive_analysis_pauses_until_promoted(
    controller: ControllerProcess, cluster: Cluster, prometheus: PrometheusServer, exporter: Exporter
) -> None:
    exporter.record("200", 50, revision="stable")
    exporter.record("500", 50, revision="stable")
    prometheus.wait_for_value('sum(http_requests_total{revision="stable"})', 100)
    _, canary_hash = start(cluster, prometheus, "stable", failureCondition="result[0] < 0.1")
    status = wait_for(settled(cluster, NAME, "Paused", currentStepIndex=1), "the inconclusive pause")
    assert [c["reason"] for c in status["pauseConditions"]] == ["InconclusiveAnalysisRun"]
    assert status["canary"]["currentStepAnalysisRunStatus"]["status"] == "Inconclusive"
    patches = operations.promote(cluster.rollout(NAME))
    if patches.spec is not None:
        cluster.patch_rollout(NAME, patches.spec)
    if patches.status is not None:
        cluster.patch_status(NAME, patches.status)
    wait_for(
        settled(cluster, NAME, "Healthy", stableRS=canary_hash), "the promotion after the user's promote"
    )


def test_a_failing_background_analysis_aborts_the_canary(
    controller: ControllerProcess, cluster: Cluster, prometheus: PrometheusServer, exporter: Exporter
) -> None:
    exporter.record("200", 10, revision="canary")
    exporter.record("503", 90, revision="canary")
    prometheus.wait_for_value('sum(http_requests_total{revision="canary"})', 100)
    background = {
        "templates": [{"templateName": "success-ratio"}],
        "args": [{"name": "revision", "value": "canary"}],
        "startingStep": 1,
    }
    rollout = rollout_manifest(
        NAME, {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}], "analysis": background}}
    )
    stable_hash, canary_hash = start(cluster, prometheus, "canary", rollout, interval="1s", count=None)
    status = wait_for(settled(cluster, NAME, "Degraded", stableRS=stable_hash), "the abort")
    run_name = f"{NAME}-{canary_hash}-2"
    assert status["canary"]["currentBackgroundAnalysisRunStatus"]["name"] == run_name
    assert "Background analysis phase failed: " in status["message"]
    created = next(r for r in analysis_runs(cluster) if r["metadata"]["name"] == run_name)
    assert created["metadata"]["labels"]["rollout-type"] == "Background"
    assert "step-index" not in created["metadata"]["labels"]


def test_blue_green_pre_promotion_analysis_gates_the_switch(
    controller: ControllerProcess, cluster: Cluster, prometheus: PrometheusServer, exporter: Exporter
) -> None:
    exporter.record("200", 10, revision="idle")
    exporter.record("500", 90, revision="idle")
    prometheus.wait_for_value('sum(http_requests_total{revision="idle"})', 100)
    for service in ("web-active", "web-preview"):
        cluster.create_service(service, NAME)
    pre = {"templates": [{"templateName": "success-ratio"}], "args": [{"name": "revision", "value": "idle"}]}
    strategy = {
        "blueGreen": {
            "activeService": "web-active",
            "previewService": "web-preview",
            "prePromotionAnalysis": pre,
        }
    }
    rollout = rollout_manifest(NAME, strategy, replicas=2)
    stable_hash, green_hash = start(cluster, prometheus, "idle", rollout)
    status = wait_for(settled(cluster, NAME, "Degraded", stableRS=stable_hash), "the aborted switch")
    run_name = f"{NAME}-{green_hash}-2-pre"
    assert status["blueGreen"]["prePromotionAnalysisRunStatus"]["name"] == run_name
    assert "Blue/green pre-promotion analysis phase failed: " in status["message"]
    assert cluster.service_selector("web-active")["rollouts-pod-template-hash"] == stable_hash
    created = next(r for r in analysis_runs(cluster) if r["metadata"]["name"] == run_name)
    assert created["metadata"]["labels"]["rollout-type"] == "PrePromotion"
