"""Experiment model: every field of §8 round-trips; bad input is named."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from analysis.models import ManifestError
from rollouts.models import Experiment, ExperimentSpec

EXPERIMENT = """
apiVersion: argoproj.io/v1alpha1
kind: Experiment
metadata:
  name: shop-5f7b8c9d4-3-4
  namespace: shop
  ownerReferences:
    - apiVersion: argoproj.io/v1alpha1
      kind: Rollout
      name: shop
      uid: 0b1c-5e6f
      controller: true
      blockOwnerDeletion: true
spec:
  duration: 10m
  progressDeadlineSeconds: 300
  terminate: false
  scaleDownDelaySeconds: 0
  dryRun: [{metricName: latency}]
  measurementRetention: [{metricName: ".*", limit: 5}]
  analysisRunMetadata: {labels: {team: shop}, annotations: {note: x}}
  templates:
    - name: baseline
      replicas: 2
      minReadySeconds: 10
      selector: {matchLabels: {app: shop, variant: baseline}}
      template:
        metadata: {labels: {app: shop, variant: baseline}, creationTimestamp: null}
        spec: {containers: [{name: web, image: "nginx:1.26"}]}
      service: {name: shop-baseline}
    - name: canary
      selector: {matchExpressions: [{key: variant, operator: Exists}]}
      template: {spec: {containers: [{name: web, image: "nginx:1.27"}]}}
      service: {}
  analyses:
    - name: compare
      templateName: compare
      clusterScope: true
      requiredForCompletion: true
      args:
        - {name: baseline-hash, value: "{{templates.baseline.podTemplateHash}}"}
        - {name: token, valueFrom: {secretKeyRef: {name: tokens, key: api}}}
status:
  phase: Running
  message: running
  availableAt: "2026-01-02T03:04:05Z"
  conditions:
    - type: Progressing
      status: "True"
      reason: NewReplicaSetAvailable
      message: Experiment "shop-5f7b8c9d4-3-4" is running.
      lastUpdateTime: "2026-01-02T03:04:05Z"
      lastTransitionTime: "2026-01-02T03:04:05Z"
  templateStatuses:
    - name: baseline
      replicas: 2
      updatedReplicas: 2
      readyReplicas: 2
      availableReplicas: 2
      collisionCount: 1
      status: Running
      message: ok
      lastTransitionTime: "2026-01-02T03:04:05Z"
      serviceName: shop-baseline
      podTemplateHash: 6d5f
  analysisRuns:
    - {name: compare, analysisRun: shop-5f7b8c9d4-3-4-compare, phase: Running, message: measuring}
"""


def load() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(EXPERIMENT)
    return document


def test_round_trip_is_lossless_and_fully_typed() -> None:
    manifest = load()
    experiment = Experiment.from_dict(copy.deepcopy(manifest))
    assert experiment.to_dict() == manifest
    assert experiment.unknown_fields() == []


def test_pod_templates_stay_plain_dicts() -> None:
    template = Experiment.from_dict(load()).spec.templates[0].template
    assert template == {
        "metadata": {"labels": {"app": "shop", "variant": "baseline"}, "creationTimestamp": None},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.26"}]},
    }


def test_owner_references_are_typed() -> None:
    owner = (Experiment.from_dict(load()).metadata.owner_references or [])[0]
    assert (owner.kind, owner.name, owner.controller) == ("Rollout", "shop", True)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda m: m["spec"]["templates"][0].pop("selector"), "spec.templates[0].selector: Field required"),
        (lambda m: m["spec"]["templates"][1].pop("template"), "spec.templates[1].template: Field required"),
        (lambda m: m["spec"].pop("templates"), "spec.templates: Field required"),
        (lambda m: m["spec"].update(progressDeadlineSeconds="10m"), "spec.progressDeadlineSeconds"),
        (
            lambda m: m["spec"]["analyses"][0].pop("templateName"),
            "spec.analyses[0].templateName: Field required",
        ),
        (
            lambda m: m["status"]["templateStatuses"][0].pop("availableReplicas"),
            "status.templateStatuses[0].availableReplicas: Field required",
        ),
    ],
)
def test_malformed_experiments_name_the_field(mutate: Any, expected: str) -> None:
    manifest = load()
    mutate(manifest)
    with pytest.raises(ManifestError) as caught:
        Experiment.from_dict(manifest)
    assert str(caught.value).startswith("Experiment 'shop-5f7b8c9d4-3-4' is invalid: ")
    assert expected in str(caught.value)


def test_python_names_dump_camel_case() -> None:
    spec = ExperimentSpec(templates=[], scale_down_delay_seconds=0, progress_deadline_seconds=60)
    assert spec.to_dict() == {"templates": [], "scaleDownDelaySeconds": 0, "progressDeadlineSeconds": 60}
