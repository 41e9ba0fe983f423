"""Analysis models: every provider of §7, templates and runs round-trip; bad input is named."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from analysis.models import (
    AnalysisPhase,
    AnalysisRun,
    AnalysisTemplate,
    ClusterAnalysisTemplate,
    KayentaThreshold,
    ManifestError,
    Metric,
)

# One metric per provider of reference §7, each with every field the reference lists.
TEMPLATE = """
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: everything, namespace: shop}
spec:
  args:
    - name: service-name
    - {name: threshold, value: "0.95"}
    - name: api-token
      valueFrom: {secretKeyRef: {name: tokens, key: api}}
    - name: app
      valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}
  dryRun: [{metricName: "web-.*"}]
  measurementRetention: [{metricName: prometheus, limit: 25}]
  templates: [{templateName: shared}, {templateName: global, clusterScope: true}]
  metrics:
    - name: prometheus
      interval: 30s
      initialDelay: 1m
      count: "{{args.count}}"
      successCondition: result[0] >= {{args.threshold}}
      failureCondition: result[0] < 0.5
      failureLimit: 2
      inconclusiveLimit: "1"
      consecutiveErrorLimit: 6
      consecutiveSuccessLimit: 3
      provider:
        prometheus:
          address: http://prometheus:9090
          query: sum(rate(x{service="{{args.service-name}}"}[1m]))
          timeout: 20
          insecure: true
          headers: [{key: X-Scope-OrgID, value: tenant}]
          authentication:
            sigv4: {region: eu-west-1, profile: default, roleArn: "arn:aws:iam::1:role/r"}
            oauth2: {tokenUrl: https://idp/token, clientId: id, clientSecret: secret, scopes: [read]}
            basicAuth: {username: u, password: p}
          rangeQuery: {start: now() - duration("1h"), end: now(), step: 1m}
    - name: web-json
      provider:
        web:
          url: https://status.example.com/{{args.service-name}}
          method: POST
          headers: [{key: Authorization, value: "Bearer {{args.api-token}}"}]
          jsonBody: {query: {service: "{{args.service-name}}", window: [1, 2, null]}}
          timeoutSeconds: 15
          jsonPath: "{$.data.ok}"
          insecure: false
          authentication:
            oauth2: {tokenUrl: https://idp/token, clientId: id, clientSecret: secret}
    - name: web-body
      provider:
        web: {url: https://example.com, method: PUT, body: "plain text"}
    - name: job
      provider:
        job:
          metadata: {labels: {purpose: check}, annotations: {owner: shop}}
          spec:
            backoffLimit: 0
            template:
              spec:
                restartPolicy: Never
                containers: [{name: check, image: busybox, command: [sh, -c, "exit 0"]}]
    - name: kayenta
      interval: 5m
      provider:
        kayenta:
          address: http://kayenta:8090
          application: shop
          canaryConfigName: shop-config
          metricsAccountName: prom
          configurationAccountName: config
          storageAccountName: storage
          lookback: true
          threshold: {pass: 90, marginal: 75}
          scopes:
            - name: default
              controlScope:
                {scope: app=stable, region: eu, step: 60, start: "2026-01-01T00:00Z", end: "2026-01-01T01Z"}
              experimentScope: {scope: app=canary, region: eu, step: 60}
    - name: datadog
      provider:
        datadog:
          interval: 10m
          apiVersion: v2
          aggregator: percentile
          formula: a / b
          queries: {a: "sum:errors{*}", b: "sum:requests{*}"}
          secretRef: {name: dd, namespaced: true}
          requestTimeout: 15s
    - name: datadog-v1
      provider:
        datadog: {query: "avg:latency{*}"}
    - name: newrelic
      provider:
        newRelic: {profile: nr, query: "FROM Transaction SELECT average(duration)", timeout: 10}
    - name: cloudwatch
      provider:
        cloudWatch:
          interval: 15m
          metricDataQueries:
            - id: errors
              label: Errors
              returnData: false
              period: 300
              metricStat:
                period: "300"
                stat: Sum
                unit: Count
                metric:
                  metricName: 5XXError
                  namespace: AWS/ApiGateway
                  dimensions: [{name: ApiName, value: shop}]
            - {id: rate, expression: errors / 100, period: "60"}
    - name: graphite
      provider:
        graphite: {address: http://graphite, query: "target=summarize(errors,'5min')"}
    - name: influxdb
      provider:
        influxdb: {profile: influx, query: 'from(bucket: "b") |> range(start: -5m)'}
    - name: skywalking
      provider:
        skywalking: {address: http://oap:12800, query: "query { x }", interval: 5m}
    - name: wavefront
      provider:
        wavefront: {address: example.wavefront.com, query: ts(errors)}
    - name: plugin
      provider:
        plugin:
          my-org/metric-plugin: {anything: [goes, {here: 1}]}
"""

RUN = """
apiVersion: argoproj.io/v1alpha1
kind: AnalysisRun
metadata:
  name: shop-5f7b8c9d4-3-2
  namespace: shop
  labels: {rollout-type: Step, step-index: "2"}
spec:
  terminate: true
  args: [{name: service-name, value: shop}]
  dryRun: [{metricName: latency}]
  measurementRetention: [{metricName: success-rate, limit: 3}]
  ttlStrategy: {secondsAfterCompletion: 600, secondsAfterFailure: 3600, secondsAfterSuccess: 60}
  metrics:
    - name: success-rate
      provider: {prometheus: {query: up}}
status:
  phase: Failed
  message: 'Metric "success-rate" assessed Failed due to failed (2) > failureLimit (1)'
  startedAt: "2026-01-02T03:04:05Z"
  completedAt: "2026-01-02T03:06:05Z"
  runSummary: {count: 1, failed: 1}
  dryRunSummary: {count: 1, successful: 1}
  metricResults:
    - name: success-rate
      phase: Failed
      message: failed
      count: 2
      successful: 0
      failed: 2
      inconclusive: 0
      error: 1
      consecutiveError: 0
      consecutiveSuccess: 0
      dryRun: false
      metadata: {ResolvedPrometheusQuery: up}
      measurements:
        - phase: Failed
          value: "[0.5]"
          startedAt: "2026-01-02T03:04:05Z"
          finishedAt: "2026-01-02T03:04:06Z"
        - phase: Running
          message: waiting for job
          metadata: {job-name: uid.success-rate.3}
          resumeAt: "2026-01-02T03:05:05Z"
"""


def load(text: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(text)
    return document


@pytest.mark.parametrize(("model", "text"), [(AnalysisTemplate, TEMPLATE), (AnalysisRun, RUN)])
def test_round_trip_is_lossless_and_fully_typed(
    model: type[AnalysisTemplate | AnalysisRun], text: str
) -> None:
    manifest = load(text)
    parsed = model.from_dict(copy.deepcopy(manifest))
    assert parsed.to_dict() == manifest
    assert parsed.unknown_fields() == []


def test_cluster_template_has_the_same_spec() -> None:
    manifest = load(TEMPLATE)
    manifest["kind"] = "ClusterAnalysisTemplate"
    del manifest["metadata"]["namespace"]
    assert ClusterAnalysisTemplate.from_dict(copy.deepcopy(manifest)).to_dict() == manifest


def test_every_provider_is_parsed_into_its_model() -> None:
    metrics = AnalysisTemplate.from_dict(load(TEMPLATE)).spec.metrics or []
    providers = {
        metric.name: [name for name, value in metric.provider if value is not None] for metric in metrics
    }
    assert providers == {
        "prometheus": ["prometheus"],
        "web-json": ["web"],
        "web-body": ["web"],
        "job": ["job"],
        "kayenta": ["kayenta"],
        "datadog": ["datadog"],
        "datadog-v1": ["datadog"],
        "newrelic": ["new_relic"],
        "cloudwatch": ["cloud_watch"],
        "graphite": ["graphite"],
        "influxdb": ["influxdb"],
        "skywalking": ["skywalking"],
        "wavefront": ["wavefront"],
        "plugin": ["plugin"],
    }


def test_counts_and_limits_stay_raw_int_or_string() -> None:
    metric = (AnalysisTemplate.from_dict(load(TEMPLATE)).spec.metrics or [])[0]
    assert (metric.count, metric.failure_limit, metric.inconclusive_limit) == ("{{args.count}}", 2, "1")
    assert (metric.consecutive_error_limit, metric.consecutive_success_limit) == (6, 3)


def test_kayenta_pass_is_a_python_keyword_but_keeps_its_json_name() -> None:
    threshold = KayentaThreshold.model_validate({"pass": 90, "marginal": 75})
    assert threshold.pass_ == 90
    assert threshold.to_dict() == {"pass": 90, "marginal": 75}


def test_analysis_phases() -> None:
    assert [phase.value for phase in AnalysisPhase if phase.completed] == [
        "Successful",
        "Failed",
        "Error",
        "Inconclusive",
    ]
    assert AnalysisPhase("Running") == "Running"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda m: m["spec"]["metrics"][0].pop("provider"), "spec.metrics[0].provider: Field required"),
        (lambda m: m["spec"]["metrics"][0].pop("name"), "spec.metrics[0].name: Field required"),
        (
            lambda m: m["spec"]["metrics"][1]["provider"]["web"].pop("url"),
            "spec.metrics[1].provider.web.url: Field required",
        ),
        (
            lambda m: m["spec"]["metrics"][1]["provider"]["web"].update(method="DELETE"),
            "spec.metrics[1].provider.web.method: Input should be 'GET', 'POST' or 'PUT'",
        ),
        (lambda m: m["spec"]["metrics"][0].update(count=1.5), "spec.metrics[0].count"),
        (
            lambda m: m["spec"]["metrics"][0]["provider"]["prometheus"].update(timeout="soon"),
            "spec.metrics[0].provider.prometheus.timeout: Input should be a valid integer",
        ),
        (
            lambda m: m["spec"]["metrics"][5]["provider"]["datadog"].update(apiVersion="v3"),
            "spec.metrics[5].provider.datadog.apiVersion: Input should be 'v1' or 'v2'",
        ),
        (lambda m: m["spec"].update(metrics={"name": "x"}), "spec.metrics: Input should be a valid list"),
        (lambda m: m["spec"]["args"].append({"value": "x"}), "spec.args[4].name: Field required"),
    ],
)
def test_malformed_templates_name_the_field(mutate: Any, expected: str) -> None:
    manifest = load(TEMPLATE)
    mutate(manifest)
    with pytest.raises(ManifestError) as caught:
        AnalysisTemplate.from_dict(manifest)
    assert str(caught.value).startswith("AnalysisTemplate 'everything' is invalid: ")
    assert expected in str(caught.value)


def test_malformed_run_status_names_the_field() -> None:
    manifest = load(RUN)
    manifest["status"]["metricResults"][0]["measurements"][1].pop("phase")
    with pytest.raises(
        ManifestError, match=r"status\.metricResults\[0\]\.measurements\[1\]\.phase: Field required"
    ):
        AnalysisRun.from_dict(manifest)


def test_a_run_needs_metrics() -> None:
    with pytest.raises(ManifestError, match=r"spec\.metrics: Field required"):
        AnalysisRun.from_dict({"metadata": {"name": "r"}, "spec": {}})


def test_metric_built_in_python_dumps_camel_case() -> None:
    metric = Metric.model_validate(
        {
            "name": "m",
            "consecutive_error_limit": 0,
            "provider": {"web": {"url": "http://x", "json_path": "{$.a}"}},
        }
    )
    assert metric.to_dict() == {
        "name": "m",
        "consecutiveErrorLimit": 0,
        "provider": {"web": {"url": "http://x", "jsonPath": "{$.a}"}},
    }
