"""Each plugin command against the devcluster: the exact object mutations of reference §3.11,
the tree of a rollout whose ReplicaSet has real (fake-kubelet) pods, ``status`` exit codes, and
errors for objects that do not exist.

The controller is not running here, so these tests check what the plugin writes (the contract
with any controller, ours or Argo's) and set the status a controller would write where a command
reads it. Tests of the controller reacting to these commands are in test_plugin_controller.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from plugin_helpers import (
    GROUP,
    VERSION,
    Plugin,
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

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def crds(api_client: Any) -> list[str]:
    return install_crds(api_client, timeout=120)


@pytest.fixture
def plugin(
    capsys: pytest.CaptureFixture[str], devcluster: DevCluster, namespace: str, crds: list[str]
) -> Plugin:
    return Plugin(capsys, str(devcluster.kubeconfig), namespace)


def test_promote_clears_the_pause_conditions(plugin: Plugin, api_client: Any, namespace: str) -> None:
    create_rollout(api_client, namespace, rollout_manifest("web"))
    set_rollout_status(
        api_client,
        namespace,
        "web",
        currentStepIndex=1,
        controllerPause=True,
        pauseConditions=[{"reason": "CanaryPauseStep", "startTime": now_text()}],
    )
    assert plugin("promote", "web") == (0, "rollout 'web' promoted\n", "")
    status = read(api_client, namespace, "rollouts", "web")["status"]
    assert "pauseConditions" not in status
    assert status["currentStepIndex"] == 1  # the controller moves on once it sees the resume
    assert status["controllerPause"] is True


def test_promote_without_a_pause_skips_the_current_step(
    plugin: Plugin, api_client: Any, namespace: str
) -> None:
    create_rollout(
        api_client,
        namespace,
        {**rollout_manifest("web"), "spec": {**rollout_manifest("web")["spec"], "paused": True}},
    )
    set_rollout_status(api_client, namespace, "web", currentStepIndex=0)
    assert plugin("promote", "web")[0] == 0
    rollout = read(api_client, namespace, "rollouts", "web")
    assert rollout["status"]["currentStepIndex"] == 1
    assert rollout["spec"]["paused"] is False


def test_promote_full(plugin: Plugin, api_client: Any, namespace: str) -> None:
    create_rollout(api_client, namespace, rollout_manifest("web"))
    set_rollout_status(api_client, namespace, "web", currentPodHash="new", stableRS="old", currentStepIndex=1)
    assert plugin("promote", "web", "--full") == (0, "rollout 'web' fully promoted\n", "")
    assert read(api_client, namespace, "rollouts", "web")["status"]["promoteFull"] is True


def test_abort_then_retry(plugin: Plugin, api_client: Any, namespace: str) -> None:
    create_rollout(api_client, namespace, rollout_manifest("web"))
    assert plugin("abort", "web") == (0, "rollout 'web' aborted\n", "")
    assert read(api_client, namespace, "rollouts", "web")["status"]["abort"] is True
    assert plugin("retry", "rollout", "web") == (0, "rollout 'web' retried\n", "")
    assert read(api_client, namespace, "rollouts", "web")["status"]["abort"] is False


def test_pause_then_resume(plugin: Plugin, api_client: Any, namespace: str) -> None:
    create_rollout(api_client, namespace, rollout_manifest("web"))
    set_rollout_status(
        api_client, namespace, "web", pauseConditions=[{"reason": "CanaryPauseStep", "startTime": now_text()}]
    )
    assert plugin("pause", "web") == (0, "rollout 'web' paused\n", "")
    assert read(api_client, namespace, "rollouts", "web")["spec"]["paused"] is True
    assert plugin("resume", "web") == (0, "rollout 'web' resumed\n", "")
    rollout = read(api_client, namespace, "rollouts", "web")
    assert rollout["spec"]["paused"] is False
    assert "pauseConditions" not in rollout["status"]


def test_restart_in(plugin: Plugin, api_client: Any, namespace: str) -> None:
    create_rollout(api_client, namespace, rollout_manifest("web"))
    before = datetime.now(UTC).replace(microsecond=0)
    assert plugin("restart", "web", "--in", "10m") == (0, "rollout 'web' restarts in 10m0s\n", "")
    after = datetime.now(UTC)
    restart_at = datetime.fromisoformat(read(api_client, namespace, "rollouts", "web")["spec"]["restartAt"])
    assert before + timedelta(minutes=10) <= restart_at <= after + timedelta(minutes=10)


def replica_set(
    rollout: dict[str, Any], revision: int, pod_hash: str, image: str, replicas: int = 0
) -> dict[str, Any]:
    name = rollout["metadata"]["name"]
    labels = {"app": name, "rollouts-pod-template-hash": pod_hash}
    return {
        "metadata": {
            "name": f"{name}-{pod_hash}",
            "labels": labels,
            "annotations": {"rollout.argoproj.io/revision": str(revision)},
            "ownerReferences": [
                {
                    "apiVersion": f"{GROUP}/{VERSION}",
                    "kind": "Rollout",
                    "name": name,
                    "uid": rollout["metadata"]["uid"],
                    "controller": True,
                }
            ],
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
        },
    }


def test_undo_restores_the_previous_template(plugin: Plugin, api_client: Any, namespace: str) -> None:
    rollout = create_rollout(api_client, namespace, rollout_manifest("web", image="nginx:1.28"))
    apps = client.AppsV1Api(api_client)
    apps.create_namespaced_replica_set(namespace, replica_set(rollout, 1, "aaa", "nginx:1.26"))
    apps.create_namespaced_replica_set(namespace, replica_set(rollout, 2, "bbb", "nginx:1.27"))
    apps.create_namespaced_replica_set(namespace, replica_set(rollout, 3, "ccc", "nginx:1.28"))
    assert plugin("undo", "web") == (0, "rollout 'web' undo\n", "")
    template = read(api_client, namespace, "rollouts", "web")["spec"]["template"]
    assert template["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert template["metadata"]["labels"] == {"app": "web"}  # the hash label is not copied
    assert plugin("undo", "web", "--to-revision", "1")[0] == 0
    assert (
        read(api_client, namespace, "rollouts", "web")["spec"]["template"]["spec"]["containers"][0]["image"]
        == "nginx:1.26"
    )
    assert plugin("undo", "web", "--to-revision", "1") == (
        0,
        "skipped rollback (current template already matches revision 1)\n",
        "",
    )
    assert plugin("undo", "web", "--to-revision", "7") == (
        1,
        "",
        "error: unable to find specified revision 7 in history\n",
    )


def test_set_image(plugin: Plugin, api_client: Any, namespace: str) -> None:
    create_rollout(api_client, namespace, rollout_manifest("web"))
    assert plugin("set", "image", "web", "web=nginx:1.29") == (0, 'rollout "web" image updated\n', "")
    rollout = read(api_client, namespace, "rollouts", "web")
    assert rollout["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.29"
    generation = rollout["metadata"]["generation"]
    assert plugin("set", "image", "web", "db=postgres:16") == (
        1,
        "",
        'error: unable to find container named "db"\n',
    )
    assert read(api_client, namespace, "rollouts", "web")["metadata"]["generation"] == generation


@pytest.mark.parametrize(
    "argv",
    [
        ["promote", "nope"],
        ["abort", "nope"],
        ["get", "rollout", "nope"],
        ["status", "nope"],
        ["set", "image", "nope", "web=x:1"],
        ["undo", "nope"],
    ],
)
def test_unknown_rollout(plugin: Plugin, argv: list[str]) -> None:
    assert plugin(*argv) == (1, "", 'error: rollouts.argoproj.io "nope" not found\n')


def test_unknown_experiment_and_run(plugin: Plugin) -> None:
    assert plugin("retry", "experiment", "nope")[2] == 'error: experiments.argoproj.io "nope" not found\n'
    assert plugin("terminate", "ar", "nope")[2] == 'error: analysisruns.argoproj.io "nope" not found\n'


def test_create_then_already_exists(plugin: Plugin, api_client: Any, namespace: str, tmp_path: Path) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: rate}\n"
        "spec: {metrics: [{name: rate, provider: {web: {url: 'http://x'}}}]}\n---\n"
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: web}\n"
        "spec: {replicas: 1, selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}},"
        " spec: {containers: [{name: web, image: 'nginx:1.27'}]}}, strategy: {canary: {}}}\n"
    )
    assert plugin("create", "-f", str(manifest)) == (
        0,
        "analysistemplate.argoproj.io/rate created\nrollout.argoproj.io/web created\n",
        "",
    )
    assert read(api_client, namespace, "rollouts", "web")["spec"]["replicas"] == 1
    assert plugin("create", "-f", str(manifest)) == (
        1,
        "",
        'error: analysistemplates.argoproj.io "rate" already exists\n',
    )


def test_terminate_analysisrun(plugin: Plugin, api_client: Any, namespace: str) -> None:
    objects(api_client).create_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        "analysisruns",
        {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "AnalysisRun",
            "metadata": {"name": "run"},
            "spec": {"metrics": [{"name": "rate", "provider": {"web": {"url": "http://x"}}}]},
        },
    )
    assert plugin("terminate", "analysisrun", "run") == (0, "analysisrun 'run' terminated\n", "")
    assert read(api_client, namespace, "analysisruns", "run")["spec"]["terminate"] is True


def experiment(name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Experiment",
        "metadata": {"name": name},
        "spec": {
            "templates": [
                {
                    "name": "base",
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                    },
                }
            ]
        },
        "status": {"phase": "Failed", "message": "boom"},
    }


def test_retry_and_terminate_experiment(plugin: Plugin, api_client: Any, namespace: str) -> None:
    objects(api_client).create_namespaced_custom_object(
        GROUP, VERSION, namespace, "experiments", experiment("exp")
    )
    assert read(api_client, namespace, "experiments", "exp")["status"]["phase"] == "Failed"
    assert plugin("retry", "experiment", "exp") == (0, "experiment 'exp' retried\n", "")
    assert "status" not in read(api_client, namespace, "experiments", "exp")
    assert plugin("terminate", "exp", "exp") == (0, "experiment 'exp' terminated\n", "")
    assert read(api_client, namespace, "experiments", "exp")["spec"]["terminate"] is True
    code, out, _ = plugin("list", "experiments")
    assert code == 0 and out.splitlines()[1].split()[:3] == ["exp", "◷", "Pending"]


def test_get_shows_real_pods_under_their_replica_set(plugin: Plugin, api_client: Any, namespace: str) -> None:
    rollout = create_rollout(api_client, namespace, rollout_manifest("web"))
    client.AppsV1Api(api_client).create_namespaced_replica_set(
        namespace, replica_set(rollout, 1, "aaa", "nginx:1.27", replicas=2)
    )
    set_rollout_status(
        api_client,
        namespace,
        "web",
        phase="Healthy",
        stableRS="aaa",
        currentPodHash="aaa",
        currentStepIndex=3,
        replicas=2,
        updatedReplicas=2,
        readyReplicas=2,
        availableReplicas=2,
    )
    core = client.CoreV1Api(api_client)
    until(
        "two ready pods",
        lambda: core.list_namespaced_pod(namespace, label_selector="app=web").items,
        lambda pods: (
            len(pods) == 2
            and all(
                any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or []) for p in pods
            )
        ),
    )
    code, out, err = plugin("get", "rollout", "web")
    assert (code, err) == (0, "")
    assert "Status:          ✔ Healthy" in out
    assert "Images:          nginx:1.27 (stable)" in out
    lines = out.splitlines()
    rs_line = next(line for line in lines if "web-aaa " in line)
    assert rs_line.split()[2:6] == ["ReplicaSet", "✔", "Healthy", rs_line.split()[5]]
    assert rs_line.endswith("stable")
    pod_lines = [line for line in lines if "Pod" in line]
    assert len(pod_lines) == 2
    assert all("✔ Running" in line and "ready:1/1" in line for line in pod_lines)
    code, out, _ = plugin("get", "rollout", "web", "-o", "json")
    assert code == 0 and '"stableRS": "aaa"' in out


def test_list_rollouts(plugin: Plugin, api_client: Any, namespace: str) -> None:
    create_rollout(api_client, namespace, rollout_manifest("web"))
    set_rollout_status(
        api_client, namespace, "web", phase="Paused", message="CanaryPauseStep", currentStepIndex=1
    )
    code, out, _ = plugin("list", "rollouts", "-A")
    assert code == 0
    row = next(line.split() for line in out.splitlines() if line.startswith(namespace))
    assert row[:7] == [namespace, "web", "Canary", "॥", "Paused", "1/3", "50"]
    assert plugin("list", "rollouts", "-o", "name")[1] == "rollout.argoproj.io/web\n"


def test_status_exit_codes(plugin: Plugin, api_client: Any, namespace: str) -> None:
    create_rollout(api_client, namespace, rollout_manifest("web"))
    set_rollout_status(api_client, namespace, "web", phase="Healthy", message="")
    assert plugin("status", "web") == (0, "Healthy\n", "")
    set_rollout_status(
        api_client,
        namespace,
        "web",
        phase="Paused",
        message="CanaryPauseStep",
        pauseConditions=[{"reason": "CanaryPauseStep", "startTime": now_text()}],
    )
    assert plugin("status", "web", "--success-on-pause") == (0, "Paused - CanaryPauseStep\n", "")
    assert plugin("status", "web", "--watch=false") == (0, "Paused - CanaryPauseStep\n", "")
    assert plugin("status", "web", "--timeout", "1s") == (
        2,
        "Paused - CanaryPauseStep\n",
        "error: Rollout status watch exceeded timeout\n",
    )
    set_rollout_status(
        api_client,
        namespace,
        "web",
        phase="Degraded",
        message="RolloutAborted: Rollout aborted update to revision 2",
    )
    assert plugin("status", "web") == (
        1,
        "Degraded - RolloutAborted: Rollout aborted update to revision 2\n",
        "error: The rollout is in a degraded state with message: "
        "RolloutAborted: Rollout aborted update to revision 2\n",
    )
