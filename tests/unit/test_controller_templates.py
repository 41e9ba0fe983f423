"""Defaulting-tolerant pod-template equality (`rollouts.controller.templates`, §3.2 fallback)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from rollouts.controller.templates import ephemeral_metadata, normalized_template, template_digest

ROLLOUT_TEMPLATE: dict[str, Any] = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {
        "containers": [
            {
                "name": "web",
                "image": "nginx:1.27",
                "ports": [{"name": "http", "containerPort": 80}],
                "readinessProbe": {"httpGet": {"path": "/", "port": "http"}},
                "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
            }
        ],
        "volumes": [{"name": "config", "configMap": {"name": "web"}}],
    },
}


def as_stored_by_the_api_server(template: dict[str, Any], pod_hash: str = "abc123") -> dict[str, Any]:
    """The same template as a ReplicaSet holds it: hash label plus every field the server defaults."""
    stored = copy.deepcopy(template)
    stored["metadata"]["labels"]["rollouts-pod-template-hash"] = pod_hash
    stored["metadata"]["creationTimestamp"] = None
    spec = stored["spec"]
    spec.update(
        {
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "securityContext": {},
            "schedulerName": "default-scheduler",
        }
    )
    container = spec["containers"][0]
    container.update(
        {
            "resources": {},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "imagePullPolicy": "IfNotPresent",
        }
    )
    container["ports"][0]["protocol"] = "TCP"
    container["readinessProbe"].update(
        {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
    )
    container["readinessProbe"]["httpGet"]["scheme"] = "HTTP"
    container["env"][0]["valueFrom"]["fieldRef"]["apiVersion"] = "v1"
    spec["volumes"][0]["configMap"]["defaultMode"] = 420
    return stored


def test_a_replica_set_template_with_server_defaults_equals_the_rollout_template() -> None:
    assert template_digest(as_stored_by_the_api_server(ROLLOUT_TEMPLATE)) == template_digest(ROLLOUT_TEMPLATE)


def test_a_field_the_user_set_to_its_default_still_compares_equal() -> None:
    explicit = copy.deepcopy(ROLLOUT_TEMPLATE)
    explicit["spec"]["restartPolicy"] = "Always"
    explicit["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"
    assert template_digest(explicit) == template_digest(as_stored_by_the_api_server(ROLLOUT_TEMPLATE))


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t["spec"]["containers"][0].update(image="nginx:1.28"),
        lambda t: t["spec"]["containers"][0].update(imagePullPolicy="Always"),  # not the default for a tag
        lambda t: t["spec"].update(terminationGracePeriodSeconds=5),
        lambda t: t["metadata"]["labels"].update(tier="frontend"),
        lambda t: t["spec"]["containers"][0]["env"].append({"name": "DEBUG", "value": "1"}),
        lambda t: t["spec"]["containers"][0]["readinessProbe"].update(periodSeconds=3),
    ],
)
def test_real_differences_survive_normalisation(change: Any) -> None:
    changed = copy.deepcopy(ROLLOUT_TEMPLATE)
    change(changed)
    assert template_digest(changed) != template_digest(as_stored_by_the_api_server(ROLLOUT_TEMPLATE))


@pytest.mark.parametrize(
    ("image", "default"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.27", "IfNotPresent"),
        ("r.io/x@sha256:ab", "IfNotPresent"),
    ],
)
def test_the_default_pull_policy_depends_on_the_tag(image: str, default: str) -> None:
    template = {"spec": {"containers": [{"name": "c", "image": image, "imagePullPolicy": default}]}}
    assert "imagePullPolicy" not in normalized_template(template)["spec"]["containers"][0]


def test_ephemeral_metadata_and_the_injected_anti_affinity_are_ignored() -> None:
    stored = as_stored_by_the_api_server(ROLLOUT_TEMPLATE)
    stored["metadata"]["labels"]["role"] = "canary"
    stored["metadata"]["annotations"] = {"injected": "yes"}
    stored["spec"]["affinity"] = {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 10,
                    "podAffinityTerm": {
                        "labelSelector": {
                            "matchExpressions": [
                                {"key": "rollouts-pod-template-hash", "operator": "In", "values": ["old"]}
                            ]
                        },
                        "topologyKey": "kubernetes.io/hostname",
                    },
                }
            ]
        }
    }
    recorded = {"labels": {"role": "canary"}, "annotations": {"injected": "yes"}}
    assert template_digest(stored, recorded) == template_digest(ROLLOUT_TEMPLATE)
    assert template_digest(stored) != template_digest(ROLLOUT_TEMPLATE)  # without the record it differs


def test_the_recorded_ephemeral_metadata_is_read_leniently() -> None:
    key = "rollout.argoproj.io/ephemeral-metadata"
    assert ephemeral_metadata({key: '{"labels":{"role":"canary"}}'}) == {"labels": {"role": "canary"}}
    assert ephemeral_metadata({key: "not json"}) is None
    assert ephemeral_metadata({key: "[1]"}) is None
    assert ephemeral_metadata({}) is None


def test_malformed_templates_normalise_without_raising() -> None:
    for template in (
        {},
        {"spec": "x"},
        {"spec": {"containers": "x", "volumes": [1, None]}},
        {"metadata": []},
    ):
        assert isinstance(template_digest(template), str)  # type: ignore[arg-type]
