"""``rollouts demo`` end to end on the session's devcluster (the README's main job).

The demo runs as the user runs it (a subprocess); the test then checks the cluster and the
dashboard it left running, and stops the background processes the way the user would.
"""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from rollouts.demo import stop_background
from rollouts.devcluster import DevCluster

pytestmark = pytest.mark.integration


def _status_of(url: str, headers: dict[str, str]) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


def test_the_demo_drives_a_canary_update_through_analysis_to_healthy(devcluster: DevCluster) -> None:
    try:
        result = subprocess.run(
            [sys.executable, "-m", "rollouts.cli", "demo", "--dir", str(devcluster.directory)],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "controller running in the background" in output or "reusing the controller" in output
        assert "Prometheus running in the background" in output or "reusing Prometheus" in output
        assert "updating the image" in output
        assert "Paused      CanaryPauseStep" in output
        assert "promoting, as `kubectl rollouts promote canary-basic` would" in output
        assert "demo: the new revision is Healthy" in output
        assert "kubectl rollouts -n rollouts-demo abort canary-basic" in output
        assert "rollouts demo --down" in output

        # the analysis step ran against the real Prometheus and measured the 99% the demo sent
        measured = re.findall(r"AnalysisRun (\S+) Successful  success-rate=(\S+) \(2 measured\)", output)
        assert measured, output
        assert float(measured[-1][1].strip("[]")) == pytest.approx(0.99)  # a vector: [0.99]
        with devcluster.api_client() as api_client:
            from kubernetes import client

            runs = client.CustomObjectsApi(api_client).list_namespaced_custom_object(
                "argoproj.io", "v1alpha1", "rollouts-demo", "analysisruns"
            )["items"]
        by_name = {run["metadata"]["name"]: run for run in runs}
        assert by_name[measured[-1][0]]["status"]["phase"] == "Successful"

        # the dashboard it left running answers with the token and refuses without it
        urls = re.findall(r"^demo: dashboard (http://\S+)$", output, re.MULTILINE)
        assert urls, output
        address = urlsplit(urls[-1])
        token = dict(part.split("=", 1) for part in address.query.split("&"))["token"]
        listing = f"{address.scheme}://{address.netloc}/api/v1/rollouts/rollouts-demo/info"
        assert _status_of(urls[-1], {}) == 200
        assert _status_of(listing, {"X-Rollouts-Token": token}) == 200
        assert _status_of(listing, {}) == 401
    finally:
        stopped = stop_background(devcluster.directory)
    assert set(stopped) == {"controller", "Prometheus", "exporter", "dashboard"}, stopped
