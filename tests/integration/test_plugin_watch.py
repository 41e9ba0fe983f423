"""``get rollout --watch`` and ``status`` in a pseudo-terminal, as a user at a terminal sees them.

The plugin runs as its own process (``python -m rollouts.plugin``) under pexpect. While it
watches, the test writes the status a controller would write; the watch must redraw in place
(cursor moves up over the previous frame, never a full-screen clear, which is what flickers),
colour only when allowed, and with ``--until-done`` exit 0 once Healthy, 1 once Degraded.
"""

from __future__ import annotations

import io
import os
import re
import sys
from typing import Any

import pexpect
import pytest
from plugin_helpers import create_rollout, now_text, rollout_manifest, set_rollout_status

from rollouts.crds.install import install_crds
from rollouts.devcluster import DevCluster

pytestmark = pytest.mark.integration

CURSOR_UP = re.compile(r"\x1b\[\d+F")


@pytest.fixture(scope="module")
def crds(api_client: Any) -> list[str]:
    return install_crds(api_client, timeout=120)


def spawn(
    devcluster: DevCluster, namespace: str, *argv: str, no_color: bool = False
) -> tuple[Any, io.StringIO]:
    environ = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    environ["TERM"] = "xterm-256color"
    if no_color:
        environ["NO_COLOR"] = "1"
    transcript = io.StringIO()
    child = pexpect.spawn(
        sys.executable,
        ["-m", "rollouts.plugin", *argv, "--kubeconfig", str(devcluster.kubeconfig), "-n", namespace],
        env=environ,
        encoding="utf-8",
        dimensions=(60, 200),
        timeout=60,
    )
    child.logfile_read = transcript
    return child, transcript


def paused(api_client: Any, namespace: str) -> None:
    create_rollout(api_client, namespace, rollout_manifest("web"))
    set_rollout_status(
        api_client,
        namespace,
        "web",
        phase="Paused",
        message="CanaryPauseStep",
        currentStepIndex=1,
        pauseConditions=[{"reason": "CanaryPauseStep", "startTime": now_text()}],
    )


def test_get_watch_redraws_in_place_until_healthy(
    devcluster: DevCluster, api_client: Any, namespace: str, crds: list[str]
) -> None:
    paused(api_client, namespace)
    child, transcript = spawn(devcluster, namespace, "get", "rollout", "web", "--watch", "--until-done")
    child.expect("CanaryPauseStep")
    set_rollout_status(
        api_client,
        namespace,
        "web",
        phase="Progressing",
        message="more replicas need to be updated",
        currentStepIndex=2,
        pauseConditions=None,
    )
    child.expect("more replicas need to be updated")
    set_rollout_status(api_client, namespace, "web", phase="Healthy", message="", currentStepIndex=3)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    text = transcript.getvalue()
    assert CURSOR_UP.search(text), "later frames must move the cursor back over the previous one"
    assert "\x1b[2J" not in text and "\x1b[H" not in text  # no screen clear, so no flicker
    assert "\x1b[32m✔ Healthy\x1b[0m" in text  # coloured on a terminal
    assert "Step:          3/3" in text.split("\x1b[J")[-2]  # the last frame


def test_get_watch_without_colour_ends_degraded(
    devcluster: DevCluster, api_client: Any, namespace: str, crds: list[str]
) -> None:
    paused(api_client, namespace)
    child, transcript = spawn(
        devcluster, namespace, "get", "rollout", "web", "-w", "--until-done", no_color=True
    )
    child.expect("CanaryPauseStep")
    set_rollout_status(
        api_client,
        namespace,
        "web",
        phase="Degraded",
        message="RolloutAborted: Rollout aborted update to revision 2",
        pauseConditions=None,
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    text = transcript.getvalue()
    assert "✖ Degraded" in text
    assert not re.search(r"\x1b\[\d+m", text), "NO_COLOR: no colour codes"


def test_get_watch_keeps_going_until_interrupted(
    devcluster: DevCluster, api_client: Any, namespace: str, crds: list[str]
) -> None:
    paused(api_client, namespace)
    set_rollout_status(api_client, namespace, "web", phase="Healthy", message="", pauseConditions=None)
    child, _ = spawn(devcluster, namespace, "get", "rollout", "web", "-w")
    child.expect("Healthy")
    assert child.isalive()  # Argo's behaviour: Healthy does not end a plain --watch
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130


def test_status_watch_in_a_terminal(
    devcluster: DevCluster, api_client: Any, namespace: str, crds: list[str]
) -> None:
    paused(api_client, namespace)
    child, transcript = spawn(devcluster, namespace, "status", "web", "--timeout", "2m")
    child.expect("Paused - CanaryPauseStep")
    set_rollout_status(api_client, namespace, "web", phase="Healthy", message="", pauseConditions=None)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert transcript.getvalue().replace("\r\n", "\n") == "Paused - CanaryPauseStep\nHealthy\n"
