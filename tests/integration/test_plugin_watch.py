"""``get rollout --watch`` and ``status`` in a pseudo-terminal, as a user at a terminal sees them.

The plugin runs as its own process (``python -m rollouts.plugin``) on a pseudo-terminal. While it
watches, the test writes the status a controller would write; the watch must redraw in place
(cursor moves up over the previous frame, never a full-screen clear, which is what flickers),
colour only when allowed, and with ``--until-done`` exit 0 once Healthy, 1 once Degraded.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from plugin_helpers import Terminal, create_rollout, now_text, rollout_manifest, set_rollout_status

from rollouts.crds.install import install_crds
from rollouts.devcluster import DevCluster

pytestmark = pytest.mark.integration

CURSOR_UP = re.compile(r"\x1b\[\d+F")


@pytest.fixture(scope="module")
def crds(api_client: Any) -> list[str]:
    return install_crds(api_client, timeout=120)


def spawn(devcluster: DevCluster, namespace: str, *argv: str, no_color: bool = False) -> Terminal:
    environ = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    environ["TERM"] = "xterm-256color"
    if no_color:
        environ["NO_COLOR"] = "1"
    command = [sys.executable, "-m", "rollouts.plugin", *argv]
    return Terminal([*command, "--kubeconfig", str(devcluster.kubeconfig), "-n", namespace], environ)


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    """Every terminal a test opens is closed (its process killed if still running)."""
    opened: list[Terminal] = []
    yield opened
    for terminal in opened:
        terminal.close()


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
    devcluster: DevCluster, api_client: Any, namespace: str, crds: list[str], terminals: list[Terminal]
) -> None:
    paused(api_client, namespace)
    child = spawn(devcluster, namespace, "get", "rollout", "web", "--watch", "--until-done")
    terminals.append(child)
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
    assert child.wait() == 0
    text = child.output
    assert CURSOR_UP.search(text), "later frames must move the cursor back over the previous one"
    assert "\x1b[2J" not in text and "\x1b[H" not in text  # no screen clear, so no flicker
    assert "\x1b[32m✔ Healthy\x1b[0m" in text  # coloured on a terminal
    assert "Step:          3/3" in text.split("\x1b[J")[-2]  # the last frame


def test_get_watch_without_colour_ends_degraded(
    devcluster: DevCluster, api_client: Any, namespace: str, crds: list[str], terminals: list[Terminal]
) -> None:
    paused(api_client, namespace)
    child = spawn(devcluster, namespace, "get", "rollout", "web", "-w", "--until-done", no_color=True)
    terminals.append(child)
    child.expect("CanaryPauseStep")
    set_rollout_status(
        api_client,
        namespace,
        "web",
        phase="Degraded",
        message="RolloutAborted: Rollout aborted update to revision 2",
        pauseConditions=None,
    )
    assert child.wait() == 1
    text = child.output
    assert "✖ Degraded" in text
    assert not re.search(r"\x1b\[\d+m", text), "NO_COLOR: no colour codes"


def test_get_watch_keeps_going_until_interrupted(
    devcluster: DevCluster, api_client: Any, namespace: str, crds: list[str], terminals: list[Terminal]
) -> None:
    paused(api_client, namespace)
    set_rollout_status(api_client, namespace, "web", phase="Healthy", message="", pauseConditions=None)
    child = spawn(devcluster, namespace, "get", "rollout", "web", "-w")
    terminals.append(child)
    child.expect("Healthy")
    time.sleep(2)
    assert child.alive()  # Argo's behaviour: Healthy does not end a plain --watch
    child.interrupt()
    assert child.wait() == 130
    assert "Traceback" not in child.output


def test_status_watch_in_a_terminal(
    devcluster: DevCluster, api_client: Any, namespace: str, crds: list[str], terminals: list[Terminal]
) -> None:
    paused(api_client, namespace)
    child = spawn(devcluster, namespace, "status", "web", "--timeout", "2m")
    terminals.append(child)
    child.expect("Paused - CanaryPauseStep")
    set_rollout_status(api_client, namespace, "web", phase="Healthy", message="", pauseConditions=None)
    assert child.wait() == 0
    assert child.output.replace("\r\n", "\n") == "Paused - CanaryPauseStep\nHealthy\n"
