"""Rollout models: lossless round trips, Argo's odd JSON names, unknown fields kept, clear errors."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from analysis.models import ManifestError
from rollouts.models import CanaryStep, Rollout, RolloutSpec, RolloutStatus

# Every spec field of reference §1 and status field of §2, with values of the reference's types.
FULL_CANARY = """
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: full
  namespace: shop
  generation: 7
  labels: {app: full}
  annotations: {rollout.argoproj.io/revision: "3"}
spec:
  replicas: 10
  selector:
    matchLabels: {app: full}
    matchExpressions:
      - {key: tier, operator: In, values: [web]}
  template:
    metadata:
      creationTimestamp: null
      labels: {app: full, tier: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          resources: {limits: {cpu: "1", memory: 1Gi}}
          futureContainerField: {kept: true}
  minReadySeconds: 5
  revisionHistoryLimit: 4
  paused: false
  progressDeadlineSeconds: 900
  progressDeadlineAbort: true
  restartAt: "2026-01-02T03:04:05Z"
  rollbackWindow: {revisions: 3}
  analysis: {successfulRunHistoryLimit: 2, unsuccessfulRunHistoryLimit: 7}
  strategy:
    canary:
      canaryService: full-canary
      stableService: full-stable
      maxSurge: "25%"
      maxUnavailable: 0
      scaleDownDelaySeconds: 45
      scaleDownDelayRevisionLimit: 2
      abortScaleDownDelaySeconds: 0
      dynamicStableScale: false
      minPodsPerReplicaSet: 2
      replicaProgressThreshold: {type: Percent, value: 90}
      pingPong: {pingService: ping, pongService: pong}
      antiAffinity:
        preferredDuringSchedulingIgnoredDuringExecution: {weight: 50}
      canaryMetadata: {labels: {role: canary}}
      stableMetadata: {annotations: {role: stable}}
      analysis:
        startingStep: 2
        templates:
          - {templateName: success-rate}
          - {templateName: latency, clusterScope: true}
        args:
          - {name: service-name, value: full-canary}
          - name: canary-hash
            valueFrom: {podTemplateHashValue: Latest}
          - name: region
            valueFrom: {fieldRef: {fieldPath: "metadata.labels['region']"}}
        dryRun: [{metricName: ".*"}]
        measurementRetention: [{metricName: latency, limit: 20}]
        analysisRunMetadata: {labels: {team: shop}}
      trafficRouting:
        maxTrafficWeight: 1000
        managedRoutes: [{name: header-route}, {name: mirror-route}]
        nginx:
          stableIngress: full
          annotationPrefix: custom.nginx.io
          additionalIngressAnnotations: {canary-by-header: X-Canary}
          canaryIngressAnnotations: {my-org/owner: shop}
        istio:
          virtualService:
            name: full-vs
            routes: [primary]
            tlsRoutes: [{port: 443, sniHosts: [full.example.com]}]
            tcpRoutes: [{port: 5432}]
          destinationRule:
            name: full-dr
            canarySubsetName: canary
            stableSubsetName: stable
            additionalSubsetNames: [mirror]
        alb:
          ingresses: [a, b]
          servicePort: 443
          rootService: root
          annotationPrefix: custom.alb.io
          stickinessConfig: {enabled: true, durationSeconds: 3600}
        smi: {rootService: root, trafficSplitName: split}
        ambassador: {mappings: [m1, m2]}
        appMesh:
          virtualService: {name: vs, routes: [r1]}
          virtualNodeGroup:
            canaryVirtualNodeRef: {name: canary-node}
            stableVirtualNodeRef: {name: stable-node}
        traefik: {weightedTraefikServiceName: weighted}
        apisix: {route: {name: route, rules: [rule1]}}
        plugins:
          argoproj-labs/gatewayAPI: {httpRoute: full-route, namespace: shop}
      steps:
        - setWeight: 10
        - pause: {}
        - pause: {duration: 30}
        - pause: {duration: "1h30m"}
        - setCanaryScale: {replicas: 3}
        - setCanaryScale: {weight: 25}
        - setCanaryScale: {matchTrafficWeight: true}
        - setHeaderRoute:
            name: header-route
            match:
              - headerName: X-Canary
                headerValue: {exact: "yes"}
              - headerName: User-Agent
                headerValue: {regex: ".*Mobile.*"}
        - setMirrorRoute:
            name: mirror-route
            percentage: 35
            match:
              - method: {exact: GET}
                path: {prefix: /api}
                headers:
                  X-Debug: {exact: "1"}
        - analysis:
            templates: [{templateName: success-rate}]
            args: [{name: service-name, value: full-canary}]
        - experiment:
            duration: 5m
            scaleDownDelaySeconds: 0
            templates:
              - name: baseline
                specRef: stable
                replicas: 1
                metadata: {labels: {variant: baseline}}
                selector: {matchLabels: {app: full, variant: baseline}}
                weight: 5
                service: {name: baseline}
              - {name: candidate, specRef: canary}
            analyses:
              - name: compare
                templateName: compare
                clusterScope: true
                requiredForCompletion: true
                args: [{name: baseline-hash, valueFrom: {podTemplateHashValue: Stable}}]
            dryRun: [{metricName: compare}]
            analysisRunMetadata: {annotations: {note: experiment}}
        - plugin:
            name: my-org/notify
            config: {channel: "#deploys", nested: {list: [1, "two", null]}}
status:
  abort: true
  abortedAt: "2026-01-02T03:05:00Z"
  pauseConditions:
    - {reason: CanaryPauseStep, startTime: "2026-01-02T03:04:06Z"}
  controllerPause: true
  currentPodHash: 5f7b8c9d4
  currentStepHash: 6b9b86fbd5
  currentStepIndex: 1
  collisionCount: 2
  observedGeneration: "7"
  replicas: 11
  updatedReplicas: 1
  readyReplicas: 11
  availableReplicas: 11
  HPAReplicas: 11
  selector: app=full,tier in (web)
  stableRS: 77b4d8c9f
  restartedAt: "2026-01-02T03:04:05Z"
  promoteFull: false
  phase: Paused
  message: CanaryPauseStep
  workloadObservedGeneration: ""
  conditions:
    - type: Progressing
      status: "True"
      reason: ReplicaSetUpdated
      message: ReplicaSet "full-5f7b8c9d4" is progressing.
      lastUpdateTime: "2026-01-02T03:04:06Z"
      lastTransitionTime: "2026-01-02T03:04:06Z"
  canary:
    currentStepAnalysisRunStatus: {name: full-5f7b8c9d4-3-9, status: Running}
    currentBackgroundAnalysisRunStatus: {name: full-5f7b8c9d4-3, status: Successful, message: done}
    currentExperiment: full-5f7b8c9d4-3-10
    stablePingPong: ping
    weights:
      canary: {weight: 10, serviceName: full-canary, podTemplateHash: 5f7b8c9d4}
      stable: {weight: 90, serviceName: full-stable, podTemplateHash: 77b4d8c9f}
      additional: [{weight: 5, serviceName: baseline, podTemplateHash: 77b4d8c9f}]
      verified: true
    stepPluginStatuses:
      - index: 11
        name: my-org/notify
        operation: Run
        phase: Running
        message: waiting
        startedAt: "2026-01-02T03:04:06Z"
        updatedAt: "2026-01-02T03:04:07Z"
        backoff: 5s
        executions: 2
        disabled: false
        status: {opaque: [1, 2, 3]}
  blueGreen: {}
  alb:
    ingress: a
    loadBalancer: {name: lb, arn: "arn:lb", fullName: app/lb/1}
    canaryTargetGroup: {name: tg-c, arn: "arn:tg-c"}
    stableTargetGroup: {name: tg-s, arn: "arn:tg-s"}
  albs: [{ingress: b}]
  duration:
    rolloutStartedAt: "2026-01-02T03:04:05Z"
    manualPauseStartedAt: "2026-01-02T03:04:06Z"
    totalManualPauseDurationSeconds: 12
    finishedAt: "2026-01-02T03:09:05Z"
    completionStatus: Aborted
"""

BLUE_GREEN = """
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: bg}
spec:
  replicas: 2
  selector: {matchLabels: {app: bg}}
  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: bg, scaleDown: progressively}
  strategy:
    blueGreen:
      activeService: bg-active
      previewService: bg-preview
      previewReplicaCount: 1
      autoPromotionEnabled: false
      autoPromotionSeconds: 20
      maxUnavailable: "50"
      scaleDownDelaySeconds: 60
      scaleDownDelayRevisionLimit: 1
      abortScaleDownDelaySeconds: 10
      antiAffinity:
        requiredDuringSchedulingIgnoredDuringExecution: {}
      previewMetadata: {labels: {role: preview}}
      activeMetadata: {labels: {role: active}}
      prePromotionAnalysis:
        templates: [{templateName: smoke}]
      postPromotionAnalysis:
        templates: [{templateName: soak}]
        args: [{name: hash, valueFrom: {podTemplateHashValue: Latest}}]
status:
  blueGreen:
    activeSelector: 6c9f
    previewSelector: 7d8e
    scaleUpPreviewCheckPoint: true
    prePromotionAnalysisRunStatus: {name: bg-7d8e-2-pre, status: Successful}
    postPromotionAnalysisRunStatus: {name: bg-7d8e-2-post, status: Running, message: measuring}
"""


def load(text: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(text)
    return document


@pytest.mark.parametrize("text", [FULL_CANARY, BLUE_GREEN], ids=["canary", "bluegreen"])
def test_round_trip_is_lossless(text: str) -> None:
    manifest = load(text)
    assert Rollout.from_dict(copy.deepcopy(manifest)).to_dict() == manifest


def test_every_canary_field_is_typed_not_left_as_extra() -> None:
    assert Rollout.from_dict(load(FULL_CANARY)).unknown_fields() == []


def test_every_bluegreen_field_is_typed_not_left_as_extra() -> None:
    assert Rollout.from_dict(load(BLUE_GREEN)).unknown_fields() == []


def test_typed_access_to_the_odd_json_names() -> None:
    rollout = Rollout.from_dict(load(FULL_CANARY))
    status = rollout.status
    assert status is not None
    assert status.hpa_replicas == 11
    assert status.stable_rs == "77b4d8c9f"
    assert status.observed_generation == "7"
    dumped = status.to_dict()
    assert {"HPAReplicas", "stableRS", "observedGeneration"} <= dumped.keys()
    assert "hpaReplicas" not in dumped and "stableRs" not in dumped


def test_int_or_string_values_keep_their_json_kind() -> None:
    canary = Rollout.from_dict(load(FULL_CANARY)).spec.strategy
    assert canary is not None and canary.canary is not None
    assert canary.canary.max_surge == "25%"
    assert canary.canary.max_unavailable == 0
    steps = canary.canary.steps or []
    durations = [step.pause.duration for step in steps if step.pause is not None]
    assert durations == [None, 30, "1h30m"]
    assert [type(value) for value in durations] == [type(None), int, str]


def test_unknown_fields_are_kept_at_every_level() -> None:
    manifest = load(FULL_CANARY)
    manifest["spec"]["strategy"]["canary"]["futureKnob"] = {"a": 1}
    manifest["spec"]["strategy"]["canary"]["steps"][0]["futureStepOption"] = True
    manifest["status"]["futureStatus"] = "x"
    manifest["futureTopLevel"] = [1]
    rollout = Rollout.from_dict(copy.deepcopy(manifest))
    assert rollout.to_dict() == manifest
    assert sorted(rollout.unknown_fields()) == [
        "futureTopLevel",
        "spec.strategy.canary.futureKnob",
        "spec.strategy.canary.steps[0].futureStepOption",
        "status.futureStatus",
    ]


def test_nulls_inside_the_pod_template_are_kept() -> None:
    rollout = Rollout.from_dict(load(FULL_CANARY))
    assert rollout.to_dict()["spec"]["template"]["metadata"]["creationTimestamp"] is None


def test_absent_optional_fields_are_not_added() -> None:
    minimal = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "m"}, "spec": {}}
    assert Rollout.from_dict(minimal).to_dict() == minimal


def test_python_names_are_accepted_and_dumped_as_camel_case() -> None:
    spec = RolloutSpec(min_ready_seconds=3, progress_deadline_abort=True)
    assert spec.to_dict() == {"minReadySeconds": 3, "progressDeadlineAbort": True}
    assert RolloutStatus(hpa_replicas=2).to_dict() == {"HPAReplicas": 2}
    assert CanaryStep(set_weight=20).to_dict() == {"setWeight": 20}


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("spec", "replicas"), "abc", "spec.replicas: Input should be a valid integer"),
        (
            ("spec", "strategy", "canary", "steps"),
            {"setWeight": 1},
            "spec.strategy.canary.steps: Input should be",
        ),
        (
            ("spec", "strategy", "canary", "steps", 0, "setWeight"),
            "twenty",
            "spec.strategy.canary.steps[0].setWeight",
        ),
        (("spec", "strategy", "canary", "maxSurge"), 2.5, "spec.strategy.canary.maxSurge"),
        (
            ("spec", "strategy", "canary", "replicaProgressThreshold", "type"),
            "Percentage",
            "spec.strategy.canary.replicaProgressThreshold.type: Input should be 'Percent' or 'Pods'",
        ),
        (
            ("spec", "selector", "matchLabels"),
            ["app"],
            "spec.selector.matchLabels: Input should be a valid dict",
        ),
        (("spec", "template"), "nginx", "spec.template: Input should be a valid dictionary"),
        (("status", "observedGeneration"), 7, "status.observedGeneration: Input should be a valid string"),
        (("status", "pauseConditions", 0, "reason"), None, "status.pauseConditions[0].reason"),
    ],
)
def test_malformed_input_names_the_field(path: tuple[str | int, ...], value: object, expected: str) -> None:
    manifest = load(FULL_CANARY)
    _set(manifest, path, value)
    with pytest.raises(ManifestError) as caught:
        Rollout.from_dict(manifest)
    message = str(caught.value)
    assert message.startswith("Rollout 'full' is invalid: ")
    assert expected in message


def test_missing_required_fields_are_reported_together() -> None:
    manifest = load(BLUE_GREEN)
    del manifest["spec"]["strategy"]["blueGreen"]["activeService"]
    manifest["spec"]["strategy"]["blueGreen"]["prePromotionAnalysis"]["args"] = [{"value": "x"}]
    with pytest.raises(ManifestError) as caught:
        Rollout.from_dict(manifest)
    assert "spec.strategy.blueGreen.activeService: Field required" in str(caught.value)
    assert "spec.strategy.blueGreen.prePromotionAnalysis.args[0].name: Field required" in str(caught.value)


def test_a_manifest_without_spec_is_rejected() -> None:
    with pytest.raises(ManifestError, match="Rollout 'x' is invalid: spec: Field required"):
        Rollout.from_dict({"metadata": {"name": "x"}})


def test_input_is_not_modified() -> None:
    manifest = load(FULL_CANARY)
    before = copy.deepcopy(manifest)
    Rollout.from_dict(manifest).spec.strategy = None
    assert manifest == before


def _set(document: Any, path: tuple[str | int, ...], value: object) -> None:
    for part in path[:-1]:
        document = document[part]
    document[path[-1]] = value
