"""The Rollout side of §3.9: the AnalysisRun object a Rollout creates (names, labels, owner)."""

from __future__ import annotations

from typing import Any

from rollouts.controller.analysisruns import run_manifest
from rollouts.controller.settings import INSTANCE_ID_LABEL
from rollouts.planner import CreateAnalysisRun

ROLLOUT: dict[str, Any] = {
    "metadata": {"name": "web", "namespace": "prod", "uid": "r-uid", "labels": {INSTANCE_ID_LABEL: "blue"}},
    "spec": {"selector": {"matchLabels": {"app": "web", "tier": "front"}}},
    "status": {"stableRS": "s1"},
}


def test_a_step_run_carries_argos_labels_annotations_and_owner() -> None:
    analysis = {
        "templates": [{"templateName": "rate"}],
        "analysisRunMetadata": {"labels": {"team": "a"}, "annotations": {"note": "x"}},
    }
    action = CreateAnalysisRun("web-abc-2-1", "Step", analysis, "abc", 2, 1)
    manifest = run_manifest(action, ROLLOUT, {"metrics": []})
    metadata = manifest["metadata"]
    assert (metadata["name"], metadata["namespace"]) == ("web-abc-2-1", "prod")
    assert metadata["labels"] == {
        "app": "web",
        "tier": "front",
        "team": "a",
        "rollouts-pod-template-hash": "abc",
        "rollout-type": "Step",
        "step-index": "1",
        INSTANCE_ID_LABEL: "blue",
    }
    assert metadata["annotations"] == {"note": "x", "rollout.argoproj.io/revision": "2"}
    assert metadata["ownerReferences"] == [
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "name": "web",
            "uid": "r-uid",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert manifest["spec"] == {"metrics": []}


def test_a_background_run_has_no_step_index() -> None:
    action = CreateAnalysisRun("web-abc-2", "Background", {"templates": []}, "abc", 2)
    labels = run_manifest(action, {**ROLLOUT, "metadata": {"name": "web"}}, {"metrics": []})["metadata"][
        "labels"
    ]
    assert "step-index" not in labels and INSTANCE_ID_LABEL not in labels
    assert labels["rollout-type"] == "Background"
