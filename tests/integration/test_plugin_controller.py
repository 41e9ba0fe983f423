"""The plugin driving our controller on the devcluster: each command's effect as the controller
sees it. ``set image`` starts a new revision that pauses at its pause step, ``promote`` advances
it, ``abort`` degrades it, ``retry`` resumes it, ``undo`` brings the previous template back, and
``status`` / ``get --watch`` end with the right exit code once the rollout settles.

One controller (``rollouts controller``, a real subprocess) watches a namespace of this module.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from plugin_helpers import Plugin, Terminal, create_rollout, read, rollout_manifest, until

from rollouts.crds.install import install_crds
from rollouts.devcluster import DevCluster

pytestmark = pytest.mark.integration

STEPS = [{"setWeight": 50}, {"pause": {}}]


@pytest.fixture(scope="module")
def module_namespace(api_client: Any) -> Iterator[str]:
    core = client.CoreV1Api(api_client)
    name: str = core.create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(generate_name="plugin-ctl-"))
    ).metadata.name
    until("the default service account", lambda: core.list_namespaced_service_account(name).items, bool)
    try:
        yield name
    finally:
        core.delete_namespace(name, propagation_policy="Background")


@pytest.fixture(scope="module")
def controller(
    devcluster: DevCluster, api_client: Any, module_namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    install_crds(api_client, timeout=120)
    log = tmp_path_factory.mktemp("controller") / "controller.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rollouts.cli",
                "controller",
                "--kubeconfig",
                str(devcluster.kubeconfig),
                "--namespace",
                module_namespace,
                "--metrics-port",
                "0",
                "--healthz-port",
                "0",
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        yield log
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def plugin(
    capsys: pytest.CaptureFixture[str], devcluster: DevCluster, module_namespace: str, controller: Path
) -> Plugin:
    return Plugin(capsys, str(devcluster.kubeconfig), module_namespace)


def phase_of(api_client: Any, namespace: str, name: str) -> tuple[str, str]:
    status = read(api_client, namespace, "rollouts", name).get("status") or {}
    return status.get("phase", ""), status.get("message", "")


def wait_phase(api_client: Any, namespace: str, name: str, phase: str, message: str = "") -> dict[str, Any]:
    def settled(rollout: dict[str, Any]) -> bool:
        status = rollout.get("status") or {}
        observed = status.get("observedGeneration") == str(rollout["metadata"]["generation"])
        return observed and status.get("phase") == phase and message in status.get("message", "")

    found: dict[str, Any] = until(
        f"{name} {phase} {message}".strip(), lambda: read(api_client, namespace, "rollouts", name), settled
    )
    return found


def deployed(plugin: Plugin, api_client: Any, namespace: str, name: str) -> None:
    """A Healthy revision 1, then ``set image``: revision 2 pauses at its pause step."""
    create_rollout(api_client, namespace, rollout_manifest(name, replicas=2, canary={"steps": STEPS}))
    wait_phase(api_client, namespace, name, "Healthy")
    assert plugin("set", "image", name, "web=nginx:1.28") == (0, f'rollout "{name}" image updated\n', "")
    wait_phase(api_client, namespace, name, "Paused", "CanaryPauseStep")


def test_set_image_then_promote_to_healthy(plugin: Plugin, api_client: Any, module_namespace: str) -> None:
    deployed(plugin, api_client, module_namespace, "promoted")
    rollout = read(api_client, module_namespace, "rollouts", "promoted")
    assert rollout["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "2"
    assert rollout["status"]["currentStepIndex"] == 1
    code, out, _ = plugin("get", "rollout", "promoted")
    assert "Images:          nginx:1.27 (stable)\n                 nginx:1.28 (canary)" in out
    assert plugin("promote", "promoted") == (0, "rollout 'promoted' promoted\n", "")
    code, out, err = plugin("status", "promoted", "--timeout", "3m")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "Healthy"
    assert (
        read(api_client, module_namespace, "rollouts", "promoted")["status"]["stableRS"]
        == rollout["status"]["currentPodHash"]
    )


def test_abort_degrades_and_retry_resumes(plugin: Plugin, api_client: Any, module_namespace: str) -> None:
    deployed(plugin, api_client, module_namespace, "aborted")
    assert plugin("abort", "aborted")[0] == 0
    wait_phase(api_client, module_namespace, "aborted", "Degraded", "RolloutAborted")
    code, _, err = plugin("status", "aborted")
    assert code == 1
    assert err.startswith(
        "error: The rollout is in a degraded state with message: "
        "RolloutAborted: Rollout aborted update to revision 2"
    )
    assert plugin("retry", "rollout", "aborted")[0] == 0
    wait_phase(api_client, module_namespace, "aborted", "Paused", "CanaryPauseStep")
    assert plugin("promote", "aborted", "--full")[0] == 0
    wait_phase(api_client, module_namespace, "aborted", "Healthy")


def test_undo_rolls_back_to_the_previous_template(
    plugin: Plugin, api_client: Any, module_namespace: str
) -> None:
    deployed(plugin, api_client, module_namespace, "undone")
    assert plugin("undo", "undone") == (0, "rollout 'undone' undo\n", "")
    rollout = wait_phase(api_client, module_namespace, "undone", "Healthy")
    assert rollout["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    _, out, _ = plugin("get", "rollout", "undone")
    assert "Images:          nginx:1.27 (stable)" in out


def test_get_watch_in_a_terminal_until_healthy(
    plugin: Plugin, devcluster: DevCluster, api_client: Any, module_namespace: str
) -> None:
    deployed(plugin, api_client, module_namespace, "watched")
    command = [sys.executable, "-m", "rollouts.plugin", "get", "rollout", "watched", "-w", "--until-done"]
    child = Terminal(
        [*command, "--kubeconfig", str(devcluster.kubeconfig), "-n", module_namespace],
        {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "xterm", "HOME": str(Path.home())},
    )
    child.expect("CanaryPauseStep")
    time.sleep(0.5)
    assert plugin("promote", "watched")[0] == 0
    child.expect("Healthy")
    try:
        assert child.wait() == 0
    finally:
        child.close()
