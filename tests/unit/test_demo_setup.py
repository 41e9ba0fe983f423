"""The pure and local parts of ``rollouts demo``: its manifests, its state files, a missing Prometheus."""

from __future__ import annotations

from pathlib import Path

import pytest

from rollouts.demo import DEMO_TEMPLATE, demo_documents, stop_background
from rollouts.localprom import INSTALL_HINT, PrometheusServer


def test_the_demo_canary_gets_an_analysis_step_after_its_first_weight() -> None:
    documents = demo_documents("http://127.0.0.1:9999")
    template, rollout = documents[0], next(doc for doc in documents if doc["kind"] == "Rollout")
    assert template["kind"] == "AnalysisTemplate" and template["metadata"]["name"] == DEMO_TEMPLATE
    prometheus = template["spec"]["metrics"][0]["provider"]["prometheus"]
    assert prometheus["address"] == "http://127.0.0.1:9999"
    assert 'revision="{{args.canary-hash}}"' in prometheus["query"]
    steps = rollout["spec"]["strategy"]["canary"]["steps"]
    assert steps[0] == {"setWeight": 20}
    assert steps[1]["analysis"]["templates"] == [{"templateName": DEMO_TEMPLATE}]
    assert steps[1]["analysis"]["args"][0]["valueFrom"] == {"podTemplateHashValue": "Latest"}
    assert steps[2] == {"pause": {}}


def test_stale_or_garbled_state_files_stop_nothing(tmp_path: Path) -> None:
    (tmp_path / "demo-controller.pid").write_text("not a pid")
    (tmp_path / "demo-prometheus.pid").write_text("")
    (tmp_path / "demo-dashboard.pid").write_text("2147483646 http://127.0.0.1:1/")  # no such process
    assert stop_background(tmp_path) == []
    assert (tmp_path / "demo-controller.pid").read_text() == "not a pid"  # left for the user to read


def test_a_missing_prometheus_says_what_to_install(tmp_path: Path) -> None:
    server = PrometheusServer(tmp_path, binary=str(tmp_path / "no-such-prometheus"))
    with pytest.raises(FileNotFoundError, match="apt-get install -y prometheus") as raised:
        server.start()
    assert INSTALL_HINT in str(raised.value)
    assert server.process is None
