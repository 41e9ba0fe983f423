"""§3.2/§3.17/§3.18 new ReplicaSet manifests: ephemeral metadata and the anti-affinity term."""

from __future__ import annotations

import json
from typing import Any

from planner_world import blue_green_rollout, canary_rollout

from rollouts.planner.inputs import RolloutView
from rollouts.planner.replicasets import ephemeral_metadata_for, new_replica_set_manifest


def view(rollout: dict[str, Any], **status: Any) -> RolloutView:
    rollout["metadata"]["annotations"] = {
        "team": "a",
        "kubectl.kubernetes.io/last-applied-configuration": "{}",
        "notified.notifications.argoproj.io": "{}",
        "rollout.argoproj.io/revision": "4",
    }
    rollout["status"] = status
    return RolloutView(rollout)


def test_canary_metadata_goes_to_a_canary_and_stable_metadata_to_a_first_deploy() -> None:
    ro = view(
        canary_rollout(
            [{"setWeight": 10}],
            canaryMetadata={"labels": {"role": "canary"}, "annotations": {"b": "2", "a": "1"}},
            stableMetadata={"labels": {"role": "stable"}},
        )
    )
    canary = new_replica_set_manifest(ro, pod_hash="h", revision=5, distinct_stable=True)
    template = canary["spec"]["template"]["metadata"]
    assert template["labels"] == {"app": "web", "rollouts-pod-template-hash": "h", "role": "canary"}
    assert template["annotations"] == {"b": "2", "a": "1"}
    annotations = canary["metadata"]["annotations"]
    assert json.loads(annotations["rollout.argoproj.io/ephemeral-metadata"]) == {
        "labels": {"role": "canary"},
        "annotations": {"a": "1", "b": "2"},
    }
    assert annotations["rollout.argoproj.io/ephemeral-metadata"] == (
        '{"labels":{"role":"canary"},"annotations":{"a":"1","b":"2"}}'
    )
    assert annotations["team"] == "a"
    assert annotations["rollout.argoproj.io/revision"] == "5"
    for skipped in ("kubectl.kubernetes.io/last-applied-configuration", "notified.notifications.argoproj.io"):
        assert skipped not in annotations
    first = new_replica_set_manifest(ro, pod_hash="h", revision=1, distinct_stable=False)
    assert first["spec"]["template"]["metadata"]["labels"]["role"] == "stable"


def test_blue_green_metadata_roles() -> None:
    ro = view(
        blue_green_rollout(previewMetadata={"labels": {"p": "1"}}, activeMetadata={"labels": {"a": "1"}})
    )
    assert ephemeral_metadata_for(ro, distinct_stable=True) == {"labels": {"p": "1"}}
    assert ephemeral_metadata_for(ro, distinct_stable=False) == {"labels": {"a": "1"}}


def test_anti_affinity_against_stable_during_an_update() -> None:
    rollout = canary_rollout(
        [{"setWeight": 10}], antiAffinity={"preferredDuringSchedulingIgnoredDuringExecution": {"weight": 40}}
    )
    ro = view(rollout, stableRS="old")
    manifest = new_replica_set_manifest(ro, pod_hash="new", revision=2, distinct_stable=True)
    affinity = manifest["spec"]["template"]["spec"]["affinity"]
    assert affinity == {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 40,
                    "podAffinityTerm": {
                        "labelSelector": {
                            "matchExpressions": [
                                {"key": "rollouts-pod-template-hash", "operator": "In", "values": ["old"]}
                            ]
                        },
                        "namespaces": ["default"],
                        "topologyKey": "kubernetes.io/hostname",
                    },
                }
            ]
        }
    }
    assert "affinity" not in rollout["spec"]["template"]["spec"]  # the Rollout itself is untouched


def test_required_anti_affinity_and_none_without_a_stable() -> None:
    rollout = blue_green_rollout(antiAffinity={"requiredDuringSchedulingIgnoredDuringExecution": {}})
    with_stable = new_replica_set_manifest(
        view(rollout, stableRS="old"), pod_hash="new", revision=2, distinct_stable=True
    )
    terms = with_stable["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    assert list(terms) == ["requiredDuringSchedulingIgnoredDuringExecution"]
    first = new_replica_set_manifest(view(rollout), pod_hash="new", revision=1, distinct_stable=False)
    assert "affinity" not in first["spec"]["template"]["spec"]
