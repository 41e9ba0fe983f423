"""Metric provider configurations (``metrics[].provider``), one class per provider.

Exactly one provider is set per metric; that rule, URL checks and the defaults named in the
docstrings are applied by the analysis controller, not here, so a bad provider becomes an
``Error`` measurement with a message instead of an object the API server refuses. The Job spec,
plugin configs and the web ``jsonBody`` are opaque JSON objects carried as dicts.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from analysis.models.base import Int64, IntOrString, KubeModel, OpaqueObject, ResourceMetadata, SchemaHint

__all__ = [
    "BasicAuth",
    "CloudWatchMetric",
    "CloudWatchMetricDataQuery",
    "CloudWatchMetricStat",
    "CloudWatchMetricStatMetric",
    "CloudWatchMetricStatMetricDimension",
    "DatadogMetric",
    "GraphiteMetric",
    "InfluxdbMetric",
    "JobMetric",
    "KayentaMetric",
    "KayentaScope",
    "KayentaThreshold",
    "MetricAuthentication",
    "MetricProvider",
    "NewRelicMetric",
    "OAuth2Config",
    "PrometheusMetric",
    "PrometheusRangeQuery",
    "ScopeDetail",
    "SecretRef",
    "Sigv4Config",
    "SkyWalkingMetric",
    "WavefrontMetric",
    "WebMetric",
    "WebMetricHeader",
    "WorkflowMetric",
    "WorkflowMetricArguments",
    "WorkflowMetricParameter",
    "WorkflowMetricTemplateRef",
]


class WebMetricHeader(KubeModel):
    """An HTTP header sent with the query."""

    key: str
    """Header name."""
    value: str
    """Header value (templated with args)."""


class Sigv4Config(KubeModel):
    """AWS SigV4 signing, applied only for Amazon Managed Prometheus addresses."""

    region: str | None = None
    """AWS region."""
    profile: str | None = None
    """AWS credentials profile."""
    role_arn: str | None = None
    """Role to assume."""


class OAuth2Config(KubeModel):
    """OAuth2 client-credentials flow; clientId and clientSecret are required with tokenUrl."""

    token_url: str | None = None
    """Token endpoint."""
    client_id: str | None = None
    """Client id."""
    client_secret: str | None = None
    """Client secret."""
    scopes: list[str] | None = None
    """Requested scopes."""


class BasicAuth(KubeModel):
    """HTTP basic authentication; both fields are required if either is set."""

    username: str | None = None
    """User name."""
    password: str | None = None
    """Password."""


class MetricAuthentication(KubeModel):
    """How to authenticate to the metric source."""

    sigv4: Sigv4Config | None = None
    """AWS SigV4 signing."""
    oauth2: OAuth2Config | None = None
    """OAuth2 client credentials."""
    basic_auth: BasicAuth | None = None
    """HTTP basic authentication."""


class PrometheusRangeQuery(KubeModel):
    """A range query; start and end are expressions such as ``now() - duration("1h")``."""

    start: str | None = None
    """Expression giving the range start."""
    end: str | None = None
    """Expression giving the range end."""
    step: str | None = None
    """Resolution step (Go duration)."""


class PrometheusMetric(KubeModel):
    """A PromQL query (``result``: scalar → float, vector → list of floats)."""

    address: str | None = None
    """Prometheus URL; defaults to the controller's ARGO_ROLLOUTS_PROMETHEUS_ADDRESS."""
    query: str | None = None
    """PromQL, templated with args."""
    timeout: Int64 | None = None
    """Query timeout in seconds. Default 30."""
    insecure: bool | None = None
    """Skip TLS verification."""
    headers: list[WebMetricHeader] | None = None
    """Extra HTTP headers."""
    authentication: MetricAuthentication | None = None
    """Authentication to Prometheus."""
    range_query: PrometheusRangeQuery | None = None
    """Run a range query instead of an instant query."""


class WebMetric(KubeModel):
    """An HTTP request whose (JSON) response is the measurement."""

    url: str
    """URL, templated with args."""
    method: Literal["GET", "POST", "PUT"] | None = None
    """HTTP method. Default GET."""
    headers: list[WebMetricHeader] | None = None
    """HTTP headers."""
    body: str | None = None
    """Request body for POST/PUT."""
    json_body: OpaqueObject | None = None
    """JSON request body for POST/PUT (sets Content-Type application/json); not with body."""
    timeout_seconds: Int64 | None = None
    """Request timeout in seconds. Default 10."""
    json_path: str | None = None
    """Kubernetes JSONPath selecting the result. Default {$}."""
    insecure: bool | None = None
    """Skip TLS verification."""
    authentication: MetricAuthentication | None = None
    """Authentication to the endpoint."""


class JobMetric(KubeModel):
    """A Kubernetes Job whose completion is the measurement (Complete → Successful, Failed → Failed)."""

    metadata: ResourceMetadata | None = None
    """Labels and annotations for the Job."""
    spec: OpaqueObject
    """A batch/v1 JobSpec."""


class WorkflowMetricParameter(KubeModel):
    """A workflow argument: ``{{args.x}}`` in its value is filled from the analysis args."""

    name: str
    """Parameter name (``{{workflow.parameters.<name>}}`` in the workflow)."""
    value: str | None = None
    """Parameter value."""


class WorkflowMetricArguments(KubeModel):
    """Arguments passed to the workflow, overriding the spec's or the template's own."""

    parameters: list[WorkflowMetricParameter] | None = None
    """Parameters by name."""


class WorkflowMetricTemplateRef(KubeModel):
    """An Argo WorkflowTemplate (or ClusterWorkflowTemplate) whose spec is run."""

    name: str
    """Template name."""
    cluster_scope: bool | None = None
    """Read a ClusterWorkflowTemplate instead of a WorkflowTemplate of the run's namespace."""


class WorkflowMetric(KubeModel):
    """Our extension (not upstream): an Argo-style workflow whose phase and outputs are the measurement.

    Exactly one of ``spec`` and ``workflowTemplateRef`` is set. Succeeded is judged by the
    conditions over the output parameters (Successful without conditions), Failed is Failed,
    Error is Error.
    """

    metadata: ResourceMetadata | None = None
    """Labels and annotations for the WorkflowRun."""
    spec: OpaqueObject | None = None
    """An inline Argo WorkflowSpec; only its ``{{args.x}}`` tags are analysis args."""
    workflow_template_ref: WorkflowMetricTemplateRef | None = None
    """Run the spec of this WorkflowTemplate instead of an inline one."""
    arguments: WorkflowMetricArguments | None = None
    """Workflow arguments."""
    executor: Literal["argo"] | None = None
    """``argo``: delegate to a real Argo Workflows installation instead of our engine."""


class KayentaThreshold(KubeModel):
    """Score thresholds of a Kayenta judgement."""

    pass_: Int64 = Field(alias="pass")
    """Score at or above which the measurement is Successful."""
    marginal: Int64
    """Score at or above which the measurement is Inconclusive (below: Failed)."""


class ScopeDetail(KubeModel):
    """One side (control or experiment) of a Kayenta scope."""

    scope: str
    """Metric scope."""
    region: str
    """Region."""
    step: Int64
    """Step in seconds."""
    start: str | None = None
    """Start time; default now minus the metric interval."""
    end: str | None = None
    """End time; default now."""


class KayentaScope(KubeModel):
    """A named pair of control and experiment scopes."""

    name: str
    """Scope name."""
    control_scope: ScopeDetail
    """The control (baseline) scope."""
    experiment_scope: ScopeDetail
    """The experiment (canary) scope."""


class KayentaMetric(KubeModel):
    """A Kayenta canary judgement; the score is compared with the thresholds."""

    address: str
    """Kayenta URL."""
    application: str
    """Application name."""
    canary_config_name: str
    """Canary config to judge with."""
    metrics_account_name: str
    """Metrics account."""
    configuration_account_name: str
    """Configuration account."""
    storage_account_name: str
    """Storage account."""
    threshold: KayentaThreshold
    """Pass and marginal scores."""
    scopes: list[KayentaScope]
    """Scopes to compare."""
    lookback: bool | None = None
    """Measure from the run start instead of one interval back."""


class SecretRef(KubeModel):
    """A Secret holding provider credentials."""

    name: str | None = None
    """Secret name."""
    namespaced: bool | None = None
    """Look the Secret up in the AnalysisRun's namespace instead of the controller's."""


class DatadogMetric(KubeModel):
    """A Datadog query (v1 or v2 API)."""

    interval: str | None = None
    """Look-back window (Go duration). Default 5m."""
    query: str | None = None
    """A single query; not with queries."""
    queries: dict[str, str] | None = None
    """Named queries for a v2 formula."""
    formula: str | None = None
    """v2 formula over the named queries."""
    api_version: Annotated[Literal["v1", "v2"] | None, SchemaHint.of({"default": "v1"})] = None
    """Datadog API version (v1 is deprecated)."""
    aggregator: Literal["avg", "min", "max", "sum", "last", "percentile", "mean", "l2norm", "area"] | None = (
        None
    )
    """v2 aggregation. Default last."""
    secret_ref: SecretRef | None = None
    """Credentials Secret."""
    request_timeout: str | None = None
    """HTTP timeout (Go duration). Default 10s."""


class NewRelicMetric(KubeModel):
    """An NRQL query through NerdGraph."""

    profile: str | None = None
    """Secret name with the account credentials. Default newrelic."""
    query: str
    """NRQL query."""
    timeout: Int64 | None = None
    """Query timeout in seconds. Default 5."""


class CloudWatchMetricStatMetricDimension(KubeModel):
    """A CloudWatch metric dimension."""

    name: str
    """Dimension name."""
    value: str
    """Dimension value."""


class CloudWatchMetricStatMetric(KubeModel):
    """The CloudWatch metric a statistic is taken of."""

    dimensions: list[CloudWatchMetricStatMetricDimension] | None = None
    """Dimensions."""
    metric_name: str | None = None
    """Metric name."""
    namespace: str | None = None
    """Metric namespace."""


class CloudWatchMetricStat(KubeModel):
    """A statistic of one CloudWatch metric."""

    metric: CloudWatchMetricStatMetric | None = None
    """The metric."""
    period: IntOrString | None = None
    """Period in seconds."""
    stat: str | None = None
    """Statistic, e.g. Average."""
    unit: str | None = None
    """Unit."""


class CloudWatchMetricDataQuery(KubeModel):
    """One GetMetricData query."""

    id: str
    """Query id."""
    expression: str | None = None
    """Math expression over other queries."""
    label: str | None = None
    """Label."""
    metric_stat: CloudWatchMetricStat | None = None
    """The statistic to fetch."""
    period: IntOrString | None = None
    """Period in seconds."""
    return_data: bool | None = None
    """Whether this query's data is returned."""


class CloudWatchMetric(KubeModel):
    """AWS CloudWatch GetMetricData queries."""

    interval: str | None = None
    """Look-back window (Go duration). Default 5m."""
    metric_data_queries: list[CloudWatchMetricDataQuery]
    """The queries."""


class GraphiteMetric(KubeModel):
    """A Graphite render query."""

    address: str | None = None
    """Graphite URL."""
    query: str | None = None
    """Render query."""


class InfluxdbMetric(KubeModel):
    """An InfluxDB Flux query."""

    profile: str | None = None
    """Secret name with address, authToken and org. Default influxdb."""
    query: str | None = None
    """Flux query."""


class SkyWalkingMetric(KubeModel):
    """A SkyWalking GraphQL query."""

    address: str | None = None
    """SkyWalking OAP URL."""
    query: str | None = None
    """GraphQL query."""
    interval: str | None = None
    """Look-back window (Go duration)."""


class WavefrontMetric(KubeModel):
    """A Wavefront query."""

    address: str | None = None
    """Wavefront host."""
    query: str | None = None
    """Query."""


class MetricProvider(KubeModel):
    """The system a metric is measured with; exactly one field must be set."""

    prometheus: PrometheusMetric | None = None
    """Prometheus query."""
    kayenta: KayentaMetric | None = None
    """Kayenta judgement."""
    web: WebMetric | None = None
    """HTTP request."""
    datadog: DatadogMetric | None = None
    """Datadog query."""
    wavefront: WavefrontMetric | None = None
    """Wavefront query."""
    new_relic: NewRelicMetric | None = None
    """New Relic NRQL query."""
    job: JobMetric | None = None
    """Kubernetes Job."""
    cloud_watch: CloudWatchMetric | None = None
    """CloudWatch queries."""
    graphite: GraphiteMetric | None = None
    """Graphite query."""
    influxdb: InfluxdbMetric | None = None
    """InfluxDB query."""
    skywalking: SkyWalkingMetric | None = None
    """SkyWalking query."""
    plugin: OpaqueObject | None = None
    """Metric plugin name → its configuration, passed verbatim."""
    workflow: WorkflowMetric | None = None
    """Argo-style workflow (our extension)."""
