"""``rollouts demo`` end to end on the session's devcluster (the README's main job)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rollouts.demo import stop_controller
from rollouts.devcluster import DevCluster

pytestmark = pytest.mark.integration


def test_the_demo_drives_a_canary_update_to_healthy(devcluster: DevCluster) -> None:
    try:
        result = subprocess.run(
            [sys.executable, "-m", "rollouts.cli", "demo", "--dir", str(devcluster.directory)],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    finally:
        stopped = stop_controller(devcluster.directory)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert stopped, "the demo leaves its controller running for the user"
    assert "controller running in the background" in output or "reusing the controller" in output
    assert "updating the image" in output
    assert "Paused      CanaryPauseStep" in output
    assert "promoting, as `kubectl rollouts promote canary-basic` would" in output
    assert "demo: the new revision is Healthy" in output
    assert "kubectl rollouts -n rollouts-demo abort canary-basic" in output
