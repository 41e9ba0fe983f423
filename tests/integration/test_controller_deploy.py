# ruff: noqa: F401, F811 - pytest fixtures imported from the harness are parameters by design
"""``deploy/`` on the devcluster: it applies cleanly, and its least-privilege RBAC is enough.

The controller runs as the ``argo-rollouts`` ServiceAccount the manifests create (a token from
the TokenRequest API in a kubeconfig of its own), not as the cluster admin, and drives a canary
with Services and a Job-metric analysis step, a blue-green and a restart to the end. A missing permission
shows up as a 403 in the controller's request metric, which must stay empty.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from test_controller_harness import (
    Cluster,
    ControllerProcess,
    after_newest_pod,
    cluster,
    rollout_crds,
    rollout_manifest,
    settled,
    wait_for,
)

from rollouts.devcluster import DevCluster
from rollouts.manifests import apply_documents
from rollouts.planner import operations

REPO = Path(__file__).resolve().parents[2]
# A Job metric: the devcluster's kubelet really runs the command, so the run measures something.
SMOKE_TEMPLATE = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "AnalysisTemplate",
    "metadata": {"name": "smoke"},
    "spec": {
        "metrics": [
            {
                "name": "smoke",
                "provider": {
                    "job": {
                        "spec": {
                            "backoffLimit": 0,
                            "template": {
                                "spec": {
                                    "restartPolicy": "Never",
                                    "containers": [
                                        {
                                            "name": "smoke",
                                            "image": "busybox",
                                            "command": ["sh", "-c", "exit 0"],
                                        }
                                    ],
                                }
                            },
                        }
                    }
                },
            }
        ]
    },
}


def rendered() -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl (for its built-in kustomize) is needed to render deploy/", pytrace=False)
    output = subprocess.run(
        [kubectl, "kustomize", str(REPO / "deploy")], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return [document for document in yaml.safe_load_all(output) if document]


def service_account_kubeconfig(devcluster: DevCluster, api_client: Any, path: Path) -> Path:
    token = client.CoreV1Api(api_client).create_namespaced_service_account_token(
        "argo-rollouts",
        "argo-rollouts",
        {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": 3600},
        },
    )
    admin = yaml.safe_load(devcluster.kubeconfig.read_text())
    admin["users"] = [{"name": "argo-rollouts", "user": {"token": token.status.token}}]
    admin["contexts"] = [
        {"name": "sa", "context": {"cluster": admin["clusters"][0]["name"], "user": "argo-rollouts"}}
    ]
    admin["current-context"] = "sa"
    path.write_text(yaml.safe_dump(admin))
    return path


def forbidden(controller: ControllerProcess) -> list[dict[str, str]]:
    return [
        dict(labels)
        for (metric, labels), _ in controller.metrics().items()
        if metric == "controller_clientset_k8s_request_total" and dict(labels).get("status_code") == "403"
    ]


def test_the_controller_works_with_the_deploy_rbac_and_nothing_more(
    devcluster: DevCluster, api_client: Any, rollout_crds: list[str], cluster: Cluster, tmp_path: Path
) -> None:
    applied = apply_documents(api_client, rendered(), "argo-rollouts")
    assert "Deployment/argo-rollouts" in applied and "ClusterRole/argo-rollouts" in applied
    kubeconfig = service_account_kubeconfig(devcluster, api_client, tmp_path / "sa-kubeconfig")
    controller = ControllerProcess(kubeconfig, cluster.namespace, tmp_path / "controller.log").start()
    try:
        cluster.create_service("shop-active", "shop")
        cluster.create_service("shop-preview", "shop")
        cluster.create_service("web-stable", "web")
        cluster.create_service("web-canary", "web")
        cluster.custom.create_namespaced_custom_object(
            "argoproj.io", "v1alpha1", cluster.namespace, "analysistemplates", SMOKE_TEMPLATE
        )
        canary = {
            "canary": {
                "stableService": "web-stable",
                "canaryService": "web-canary",
                "steps": [
                    {"setWeight": 50},
                    {"analysis": {"templates": [{"templateName": "smoke"}]}},
                    {"pause": {}},
                ],
            }
        }
        cluster.create_rollout(rollout_manifest("web", canary, replicas=2))
        cluster.create_rollout(
            rollout_manifest(
                "shop",
                {"blueGreen": {"activeService": "shop-active", "previewService": "shop-preview"}},
                replicas=1,
            )
        )
        wait_for(settled(cluster, "web", "Healthy"), "the canary's initial deploy")
        wait_for(settled(cluster, "shop", "Healthy"), "the blue-green's initial deploy")
        cluster.set_image("web", "nginx:1.28")
        cluster.set_image("shop", "nginx:1.28")
        status = wait_for(
            settled(cluster, "web", "Paused", currentStepIndex=2), "the pause after the analysis"
        )
        assert status["canary"].get("currentStepAnalysisRunStatus") is None  # cleared once the step passed
        runs = cluster.custom.list_namespaced_custom_object(
            "argoproj.io", "v1alpha1", cluster.namespace, "analysisruns"
        )
        assert [run["status"]["phase"] for run in runs["items"]] == ["Successful"]
        cluster.patch_status("web", operations.promote(cluster.rollout("web")).status)
        wait_for(settled(cluster, "web", "Healthy", currentStepIndex=3), "the canary promoted")
        wait_for(
            lambda: (
                settled(cluster, "shop", "Healthy")()
                and cluster.status("shop")["stableRS"] == cluster.status("shop")["currentPodHash"]
            ),
            "blue-green promoted",
        )
        after_newest_pod(cluster, "shop")
        restart = operations.restart(cluster.rollout("shop"), now=datetime.now(UTC))
        cluster.patch_rollout("shop", restart.spec)
        wait_for(
            settled(cluster, "shop", "Healthy", restartedAt=restart.spec["spec"]["restartAt"]), "the restart"
        )
        assert controller.requests(kind="pods/eviction", verb="POST") >= 1
        assert forbidden(controller) == []
        assert controller.requests(kind="rollouts/status") > 0
    finally:
        controller.stop()
        print(controller.log_tail(100))
