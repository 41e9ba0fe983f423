"""Run composition: templates, args merging and resolution, {{args}} templating, rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from analysis.composition import (
    DEFAULT_MEASUREMENT_RETENTION,
    CompositionError,
    TemplateKey,
    args_without_secrets,
    collect_templates,
    dry_run_metrics,
    go_quote,
    merge_args,
    missing_templates,
    new_run_spec,
    redact,
    resolve_caller_args,
    resolve_metric,
    resolve_secret_args,
    retention_limits,
    secret_names,
)
from analysis.models import (
    AnalysisTemplate,
    AnalysisTemplateRef,
    Argument,
    ClusterAnalysisTemplate,
    DryRun,
    MeasurementRetention,
    Metric,
)

PROMETHEUS = {"prometheus": {"address": "http://prometheus:9090", "query": "up"}}


def template(name: str, *metrics: str, cluster: bool = False, **spec: Any) -> AnalysisTemplate:
    kind = ClusterAnalysisTemplate if cluster else AnalysisTemplate
    body = {"metrics": [{"name": metric, "provider": PROMETHEUS} for metric in metrics], **spec}
    return kind.from_dict({"metadata": {"name": name}, "spec": body})


def ref(name: str, cluster: bool = False) -> AnalysisTemplateRef:
    return AnalysisTemplateRef(template_name=name, cluster_scope=cluster or None)


def store(*templates: AnalysisTemplate) -> dict[TemplateKey, AnalysisTemplate]:
    return {(t.metadata.name or "", isinstance(t, ClusterAnalysisTemplate)): t for t in templates}


def arg(name: str, value: str | None = None, **fields: Any) -> Argument:
    return Argument.from_dict({"name": name, **({"value": value} if value is not None else {}), **fields})


def refused(message: str, *, exact: bool = True) -> Any:
    """Expect a CompositionError with exactly this message (or containing it)."""
    pattern = re.escape(message)
    return pytest.raises(CompositionError, match=f"^{pattern}$" if exact else pattern)


def metric_names(templates: list[AnalysisTemplate]) -> list[str]:
    return [m.name for t in templates for m in t.spec.metrics or []]


# --------------------------------------------------------------------------------------------
# Templates


def test_nested_templates_are_fetched_until_nothing_is_missing() -> None:
    parent = template(
        "parent", "p", templates=[{"templateName": "child"}, {"templateName": "shared", "clusterScope": True}]
    )
    child = template("child", "c")
    shared = template("shared", "s", cluster=True)
    fetched = store(parent)
    assert missing_templates([ref("parent")], fetched) == [("child", False), ("shared", True)]
    fetched = store(parent, child, shared)
    assert missing_templates([ref("parent")], fetched) == []
    namespaced, cluster = collect_templates([ref("parent")], fetched)
    assert (metric_names(namespaced), metric_names(cluster)) == (["p", "c"], ["s"])


def test_a_template_cycle_is_followed_once() -> None:
    a = template("a", "ma", templates=[{"templateName": "b"}])
    b = template("b", "mb", templates=[{"templateName": "a"}])
    namespaced, _ = collect_templates([ref("a"), ref("b")], store(a, b))
    assert metric_names(namespaced) == ["ma", "mb"]


def test_a_missing_template_is_named_as_the_api_would() -> None:
    with refused('clusteranalysistemplate.argoproj.io "gone" not found'):
        collect_templates([ref("gone", cluster=True)], {})


def test_namespaced_metrics_come_before_cluster_metrics() -> None:
    spec = new_run_spec([template("a", "x")], [template("b", "y", cluster=True)])
    assert [m.name for m in spec.metrics] == ["x", "y"]
    assert (spec.args, spec.dry_run, spec.measurement_retention) == (None, None, None)


def test_duplicate_metric_names_are_refused() -> None:
    with refused("two metrics have the same name 'x'"):
        new_run_spec([template("a", "x")], [template("b", "x", cluster=True)])


def test_template_args_are_unioned_and_conflicts_refused() -> None:
    a = template("a", "x", args=[{"name": "svc"}, {"name": "ns", "value": "prod"}])
    b = template("b", "y", args=[{"name": "svc", "value": "web"}, {"name": "ns", "value": "prod"}])
    spec = new_run_spec([a, b], [])
    assert [(x.name, x.value) for x in spec.args or []] == [("svc", "web"), ("ns", "prod")]
    c = template("c", "z", args=[{"name": "ns", "value": "dev"}])
    with pytest.raises(CompositionError) as raised:
        new_run_spec([a, c], [])
    assert str(raised.value) == "Argument `ns` specified multiple times with different values: 'prod', 'dev'"


def test_caller_args_override_and_unresolved_args_are_refused() -> None:
    declared = [
        arg("svc"),
        arg("ns", "prod"),
        arg("token", valueFrom={"secretKeyRef": {"name": "s", "key": "k"}}),
    ]
    merged = merge_args([arg("svc", "web"), arg("ns", "dev"), arg("unknown", "dropped")], declared)
    assert [(x.name, x.value) for x in merged] == [("svc", "web"), ("ns", "dev"), ("token", None)]
    with refused("args.svc was not resolved"):
        merge_args([], declared)


def test_rules_are_merged_caller_first_and_duplicates_refused() -> None:
    t = template(
        "a", "x", dryRun=[{"metricName": "x"}], measurementRetention=[{"metricName": "x", "limit": 3}]
    )
    spec = new_run_spec([t], [], dry_run=[DryRun(metric_name=".*")])
    assert [r.metric_name for r in spec.dry_run or []] == [".*", "x"]
    with refused("two Dry-Run metric rules have the same name 'x'"):
        new_run_spec([t], [], dry_run=[DryRun(metric_name="x")])
    with refused("two Measurement Retention metric rules have the same name 'x'"):
        new_run_spec([t], [], measurement_retention=[MeasurementRetention(metric_name="x", limit=1)])


# --------------------------------------------------------------------------------------------
# Rollout-supplied args


@dataclass(frozen=True)
class FieldRef:
    field_path: str


@dataclass(frozen=True)
class ValueFrom:
    pod_template_hash_value: str | None = None
    field_ref: FieldRef | None = None


@dataclass(frozen=True)
class CallerArg:
    name: str
    value: str | None = None
    value_from: ValueFrom | None = None


ROLLOUT = {
    "metadata": {
        "name": "guestbook",
        "namespace": "shop",
        "uid": "1234",
        "labels": {"app": "guestbook", "tier": 'front"end'},
        "annotations": {"example.com/owner": "team-a"},
    },
    "spec": {"replicas": 5, "template": {"metadata": {"labels": {"version": "v2"}}}, "weight": 0.25},
    "status": {"canary": {"weights": [{"weight": 1000000}]}, "paused": False},
}


def caller(path: str) -> CallerArg:
    return CallerArg("x", value_from=ValueFrom(field_ref=FieldRef(path)))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("metadata.name", "guestbook"),
        ("metadata.namespace", "shop"),
        ("metadata.uid", "1234"),
        ("metadata.labels['app']", "guestbook"),
        ("metadata.labels['missing']", ""),
        ("metadata.annotations['example.com/owner']", "team-a"),
        ("metadata.labels", 'app="guestbook"\ntier="front\\"end"'),
        ("spec.replicas", "5"),
        ("spec.weight", "0.25"),
        ("spec.template.metadata.labels.version", "v2"),
        ("status.paused", "false"),
    ],
)
def test_field_refs_resolve_like_upstream(path: str, expected: str) -> None:
    [resolved] = resolve_caller_args([caller(path)], ROLLOUT, stable_hash=None, latest_hash=None)
    assert (resolved.name, resolved.value) == ("x", expected)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "metadata.labels['bad key!']",
            "invalid key subscript in metadata.labels['bad key!']: name part must",
        ),
        ("metadata.name['x']", "fieldPath \"metadata.name['x']\" does not support subscript"),
        ("metadata.generation", "unsupported fieldPath: metadata.generation"),
        ("spec.nothing", "invalid path spec.nothing in rollout"),
        ("spec.template", "path spec.template in rollout must terminate in a primitive value"),
        ("status.canary.weights[3]", "index 3 out of range"),
        ("status.canary.weights.first", "invalid index 'first'"),
        ("spec.replicas.deeper", "invalid path spec.replicas.deeper in rollout"),
    ],
)
def test_bad_field_refs_are_clear_errors(path: str, message: str) -> None:
    with pytest.raises(CompositionError) as raised:
        resolve_caller_args([caller(path)], ROLLOUT, stable_hash=None, latest_hash=None)
    assert str(raised.value).startswith(message)


def test_pod_template_hashes_and_plain_values() -> None:
    args = [
        CallerArg("stable", value_from=ValueFrom(pod_template_hash_value="Stable")),
        CallerArg("canary", value_from=ValueFrom(pod_template_hash_value="Latest")),
        CallerArg("plain", "v"),
        CallerArg("empty"),
    ]
    resolved = resolve_caller_args(args, ROLLOUT, stable_hash="abc123", latest_hash="def456")
    assert [(a.name, a.value) for a in resolved] == [
        ("stable", "abc123"),
        ("canary", "def456"),
        ("plain", "v"),
        ("empty", ""),
    ]
    with refused("the newest ReplicaSet has no pod hash", exact=False):
        resolve_caller_args(args[1:2], ROLLOUT, stable_hash="abc123", latest_hash=None)
    with refused("must be Stable or Latest, not 'Newest'", exact=False):
        resolve_caller_args(
            [CallerArg("x", value_from=ValueFrom(pod_template_hash_value="Newest"))],
            ROLLOUT,
            stable_hash="a",
            latest_hash="b",
        )


def test_the_rollout_models_fit_the_caller_protocol() -> None:
    from rollouts.models.common import AnalysisRunArgument

    model = AnalysisRunArgument.from_dict(
        {"name": "n", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
    )
    assert resolve_caller_args([model], ROLLOUT, stable_hash=None, latest_hash=None)[0].value == "guestbook"


# --------------------------------------------------------------------------------------------
# Secrets


def test_secret_args_are_filled_in_and_listed_for_redaction() -> None:
    args = [
        arg("user", valueFrom={"secretKeyRef": {"name": "creds", "key": "user"}}),
        arg("password", valueFrom={"secretKeyRef": {"name": "creds", "key": "password"}}),
        arg("plain", "x"),
    ]
    assert secret_names(args) == ["creds"]
    resolved = resolve_secret_args(args, {"creds": {"user": "admin", "password": "hunter2"}})
    assert [a.value for a in resolved.args] == ["admin", "hunter2", "x"]
    assert resolved.secrets == ("admin", "hunter2")
    assert redact("login admin:hunter2 failed", resolved.secrets) == "login *****:***** failed"
    with refused("key 'password' does not exist in secret 'creds'"):
        resolve_secret_args(args, {"creds": {"user": "admin"}})
    with refused('secrets "creds" not found'):
        resolve_secret_args(args, {})
    placeholders = args_without_secrets(args)
    assert [(a.value, a.value_from) for a in placeholders[:2]] == [("temp-for-secret", None)] * 2


# --------------------------------------------------------------------------------------------
# {{args.x}}


def metric(**fields: Any) -> Metric:
    return Metric.from_dict({"name": "m", "provider": PROMETHEUS, **fields})


def test_placeholders_are_replaced_everywhere_in_the_metric() -> None:
    raw = Metric.from_dict(
        {
            "name": "rate",
            "interval": "{{args.interval}}",
            "count": "{{ args.count }}",
            "successCondition": "result[0] >= {{args.threshold}}",
            "provider": {
                "web": {
                    "url": "http://{{args.host}}/metrics",
                    "headers": [{"key": "X-Svc", "value": "{{args.host}}"}],
                    "method": "POST",
                    "jsonBody": {"service": "{{args.host}}", "nested": ["{{args.count}}"]},
                }
            },
        }
    )
    args = [arg("interval", "1m"), arg("count", "5"), arg("threshold", "0.95"), arg("host", "svc.ns")]
    resolved = resolve_metric(raw, args)
    assert (resolved.interval, resolved.count, resolved.success_condition) == ("1m", "5", "result[0] >= 0.95")
    web = resolved.provider.web
    assert web is not None
    assert web.url == "http://svc.ns/metrics"
    assert [(h.key, h.value) for h in web.headers or []] == [("X-Svc", "svc.ns")]
    assert web.json_body == {"service": "svc.ns", "nested": ["5"]}


def test_values_cannot_break_the_json() -> None:
    nasty = 'a"b\\c\nd\te\x01}}{{'
    resolved = resolve_metric(metric(successCondition="{{args.v}}"), [arg("v", nasty)])
    assert resolved.success_condition == nasty


@pytest.mark.parametrize(
    ("condition", "args", "message"),
    [
        ("{{args.missing}}", [], "failed to resolve {{args.missing}}"),
        ("{{inputs.x}} {{args.y}}", [arg("y", "1")], "failed to resolve {{inputs.x}}"),
        ("{{templates.t.podTemplateHash}}", [], "failed to resolve {{templates.t.podTemplateHash}}"),
        ("{{args.a}} {{args.b}}", [], "failed to resolve {{args.b}}"),
        ("ok", [arg("later")], 'argument "later" was not supplied'),
    ],
)
def test_unknown_placeholders_and_unsupplied_args_are_errors(
    condition: str, args: list[Argument], message: str
) -> None:
    with pytest.raises(CompositionError) as raised:
        resolve_metric(metric(successCondition=condition), args)
    assert str(raised.value) == message


# --------------------------------------------------------------------------------------------
# Rules


def test_dry_run_rules_are_unanchored_re2_patterns() -> None:
    metrics = [metric(name=n) for n in ("error-rate", "latency-p99", "rate")]
    assert dry_run_metrics([DryRun(metric_name="rate")], metrics) == {"error-rate", "rate"}
    assert dry_run_metrics([DryRun(metric_name="^lat"), DryRun(metric_name="p\\d+$")], metrics) == {
        "latency-p99"
    }
    with pytest.raises(CompositionError, match=r"^dryRun\[1\]: Rule didn't match any metric name\(s\)$"):
        dry_run_metrics([DryRun(metric_name=".*"), DryRun(metric_name="nope")], metrics)
    with pytest.raises(CompositionError, match=r"^dryRun\[0\]"):
        dry_run_metrics([DryRun(metric_name="(?<=x)rate")], metrics)  # not RE2: matches nothing


def test_retention_limits_default_to_ten_and_the_last_rule_wins() -> None:
    metrics = [metric(name=n) for n in ("a", "b", "c")]
    rules = [
        MeasurementRetention(metric_name="[ab]", limit=20),
        MeasurementRetention(metric_name="b", limit=0),
    ]
    assert retention_limits(rules, metrics) == {"a": 20, "b": DEFAULT_MEASUREMENT_RETENTION, "c": 10}
    with pytest.raises(CompositionError, match=r"^measurementRetention\[0\]"):
        retention_limits([MeasurementRetention(metric_name="zzz", limit=1)], metrics)


def test_go_quote() -> None:
    assert go_quote('a"b\\c\nd\te\x01 é \u00a0 \u2028') == '"a\\"b\\\\c\\nd\\te\\x01 é \\u00a0 \\u2028"'
