"""The Go-template subset: Go's output for the constructs notification templates use, clear
errors for everything else, bounded rendering, and Argo's shipped catalog rendered as Go does."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from rollouts.notifications.gotemplate import GoTime, Limits, TemplateError, compile_template
from rollouts.notifications.messages import Notification, NotificationTemplate

ROLLOUT: dict[str, Any] = {
    "metadata": {"name": "guestbook", "namespace": "shop", "labels": {"app": "web"}},
    "spec": {
        "replicas": 5.0,
        "strategy": {"canary": {"steps": [{"setWeight": 20.0}, {"pause": {}}, {"setWeight": 80.0}]}},
        "template": {
            "spec": {
                "containers": [
                    {"name": "web", "image": "nginx:1.27"},
                    {"name": "sidecar", "image": "envoy:1.30"},
                ]
            }
        },
    },
    "status": {"currentStepIndex": 1.0, "phase": "Paused", "updatedReplicas": 1.0, "nothing": None},
}


def render(source: str, data: Any = None, **functions: Any) -> str:
    return compile_template("t", source).render(
        {"rollout": ROLLOUT} if data is None else data, functions=functions or None
    )


@pytest.mark.parametrize(
    ("source", "output"),
    [
        ("{{.rollout.metadata.name}}", "guestbook"),
        ("{{ .rollout.status.phase }}", "Paused"),
        ("{{.rollout.spec.replicas}}", "5"),
        ("{{.rollout.nope}}", "<no value>"),
        ("{{.rollout.status.nothing}}", "<nil>"),
        ("{{.rollout.metadata.labels}}", "map[app:web]"),
        ("{{len .rollout.spec.strategy.canary.steps}}", "3"),
        ("{{add .rollout.status.currentStepIndex 1}}", "2"),
        (
            '{{index .rollout.spec.template.spec.containers 1 | printf "%v"}}',
            "map[image:envoy:1.30 name:sidecar]",
        ),
        ("{{(index .rollout.spec.template.spec.containers 0).image}}", "nginx:1.27"),
        ('{{index .rollout.metadata.labels "app"}}', "web"),
        (
            '{{printf "%s has %d steps (%.1f%%)" .rollout.metadata.name 3 12.5}}',
            "guestbook has 3 steps (12.5%)",
        ),
        ('{{printf "%q" "a\\"b"}}', '"a\\"b"'),
        ("{{.rollout.metadata.name | upper}}", "GUESTBOOK"),
        ('{{"ABC" | lower | printf "<%s>"}}', "<abc>"),
        ("{{toJson .rollout.metadata.labels}}", '{"app":"web"}'),
        (
            "{{toJson .rollout.spec.strategy.canary.steps}}",
            '[{"setWeight":20},{"pause":{}},{"setWeight":80}]',
        ),
        ('{{toJson "<&>"}}', '"\\u003c\\u0026\\u003e"'),
        ("{{if .rollout.spec.strategy.blueGreen}}BG{{else}}Canary{{end}}", "Canary"),
        (
            '{{if eq .rollout.status.phase "Healthy"}}ok'
            '{{else if eq .rollout.status.phase "Paused"}}paused{{end}}',
            "paused",
        ),
        ("{{if and .rollout.spec.replicas (gt .rollout.spec.replicas 3.0)}}big{{end}}", "big"),
        (
            "{{if or .rollout.nope .rollout.status.phase}}{{or .rollout.nope .rollout.status.phase}}{{end}}",
            "Paused",
        ),
        ("{{if not .rollout.nope}}missing{{end}}", "missing"),
        ("{{range .rollout.spec.template.spec.containers}}[{{.name}}]{{end}}", "[web][sidecar]"),
        (
            "{{range $i, $c := .rollout.spec.template.spec.containers}}{{$i}}={{$c.image}} {{end}}",
            "0=nginx:1.27 1=envoy:1.30 ",
        ),
        ("{{range $k, $v := .rollout.metadata.labels}}{{$k}}:{{$v}}{{end}}", "app:web"),
        ("{{range .rollout.nope}}x{{else}}empty{{end}}", "empty"),
        (
            "{{range $c := .rollout.spec.template.spec.containers}}"
            '{{if eq $c.name "web"}}{{continue}}{{end}}{{$c.name}}{{end}}',
            "sidecar",
        ),
        ("{{range .rollout.spec.template.spec.containers}}{{.name}}{{break}}{{end}}", "web"),
        ("{{with .rollout.metadata}}{{.namespace}}/{{$.rollout.metadata.name}}{{end}}", "shop/guestbook"),
        ("{{$n := .rollout.metadata.name}}{{$n = upper $n}}{{$n}}", "GUESTBOOK"),
        ("a  {{- .rollout.metadata.name -}}  b", "aguestbookb"),
        ("a {{-3}} b", "a -3 b"),  # no space after the dash: a number, not a trim marker
        ("a {{/* a comment */}}b", "a b"),
        ("a\n{{- /* trimmed */ -}}\nb", "ab"),
        ("{{1.5}} {{1e6}} {{0.0001}} {{100000.0}} {{-2}}", "1.5 1e+06 0.0001 100000 -2"),
        ('{{print 1 2 "x" 3}}', "1 2x3"),
        ('{{default "none" .rollout.nope}} {{default "none" .rollout.status.phase}}', "none Paused"),
        ('{{"a,b" | splitList "," | join "+"}}', "a+b"),
        ("{{`raw {{ text }}`}}", "raw {{ text }}"),
        ("{{html \"<a href='x'>\"}}", "&lt;a href=&#39;x&#39;&gt;"),
        ("{{sub 10 3}} {{mul 2 3 4}} {{div 7 2}} {{mod -7 3}}", "7 24 3 -1"),
    ],
)
def test_go_semantics(source: str, output: str) -> None:
    assert render(source) == output


def test_time_functions_are_called_with_call() -> None:
    moment = datetime(2026, 11, 23, 8, 5, 9, tzinfo=UTC)
    data = {"time": {"Now": lambda: GoTime(moment)}}
    assert render('{{(call .time.Now).Format "2006-01-02T15:04:05Z07:00"}}', data) == "2026-11-23T08:05:09Z"
    assert render("{{call .time.Now}}", data) == "2026-11-23 08:05:09 +0000 UTC"
    assert render("{{(call .time.Now).Unix}}", data) == str(int(moment.timestamp()))


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ('{{define "x"}}{{end}}', "{{define}} is not supported"),
        ('{{template "x" .}}', "{{template}} is not supported"),
        ("{{'a'}}", "character constants are not supported"),
        ("{{nosuch .rollout}}", 'function "nosuch" not defined'),
        ("{{if .rollout}}unclosed", "has no {{end}}"),
        ("{{end}}", "unexpected {{end}}"),
        ("{{.rollout.metadata.name", "unclosed action"),
        ("{{(.rollout}}", "unclosed left paren"),
        ('{{"unterminated}}', "unterminated quoted string"),
        ("{{}}", "missing value for command"),
        ("{{break}}", "outside {{range}}"),
        ("{{time.Now}}", "use call"),
        ("{{$undefined}}", "undefined variable: $undefined"),
    ],
)
def test_unsupported_or_malformed_templates_fail_with_a_clear_position(source: str, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        render(source)
    assert message in str(caught.value)
    assert str(caught.value).startswith("template t: ")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{.rollout.nope.deeper}}", "1:3: nil pointer evaluating interface {}.deeper"),
        ("{{.rollout.metadata.name.first}}", "can't evaluate field first in type string"),
        ("{{len .rollout.spec.replicas}}", "len of type float64"),
        ("{{len .rollout.nope}}", "len of nil pointer"),
        ("{{index .rollout.spec.template.spec.containers 5}}", "index out of range: 5"),
        ('{{lt 1 "a"}}', "incompatible types for comparison"),
        ("{{.rollout.metadata.name 1}}", "can't give argument to non-function"),
        ("{{div 1 0}}", "integer divide by zero"),
        ("{{range .rollout.metadata.name}}{{end}}", "range can't iterate over guestbook"),
    ],
)
def test_runtime_errors_name_the_problem(source: str, message: str) -> None:
    with pytest.raises(
        TemplateError, match=message.replace("{", "\\{").replace("}", "\\}").replace("(", "\\(")
    ):
        render(source)


def test_rendering_is_bounded_in_steps_and_output() -> None:
    template = compile_template("loop", "{{range 1000}}{{range 1000}}x{{end}}{{end}}")
    with pytest.raises(TemplateError, match="budget of 1000 steps"):
        template.render({}, limits=Limits(max_steps=1000))
    with pytest.raises(TemplateError, match="output exceeds 100 characters"):
        template.render({}, limits=Limits(max_output=100))
    with pytest.raises(TemplateError, match="longer than"):
        compile_template("huge", '{{repeat 100000000 "abcdefgh"}}').render({})


def test_deep_nesting_is_refused_not_a_stack_overflow() -> None:
    with pytest.raises(TemplateError, match="nested too deeply"):
        compile_template("deep", "{{if .}}" * 200 + "{{end}}" * 200)
    with pytest.raises(TemplateError, match="nested too deeply"):
        compile_template("parens", "{{" + "(" * 200 + "." + ")" * 200 + "}}")


CATALOG = yaml.safe_load((Path(__file__).parent / "data" / "argo_catalog.yaml").read_text())


def catalog_template(name: str) -> NotificationTemplate:
    return NotificationTemplate.parse(name, yaml.safe_load(CATALOG[f"template.{name}"]))


def containers_fields() -> list[dict[str, Any]]:
    return [
        {"title": "web", "value": "nginx:1.27", "short": True},
        {"title": "sidecar", "value": "envoy:1.30", "short": True},
    ]


def test_argos_rollout_completed_template_renders_as_go_does() -> None:
    notification = catalog_template("rollout-completed").apply(Notification(), {"rollout": ROLLOUT})
    assert notification.message == "Rollout guestbook has been completed."
    assert notification.slack is not None
    assert json.loads(notification.slack.attachments) == [
        {
            "title": "guestbook",
            "color": "#18be52",
            "fields": [{"title": "Strategy", "value": "Canary", "short": True}, *containers_fields()],
        }
    ]


def test_argos_step_completed_template_counts_steps_from_one() -> None:
    notification = catalog_template("rollout-step-completed").apply(Notification(), {"rollout": ROLLOUT})
    assert notification.message == "Rollout guestbook step number 2/3 has been completed."
    assert notification.slack is not None
    fields = json.loads(notification.slack.attachments)[0]["fields"]
    assert fields[1] == {"title": "Step completed", "value": "2/3", "short": True}
    assert fields[2:] == containers_fields()


def test_argos_scaling_template_prints_json_numbers_as_go() -> None:
    notification = catalog_template("scaling-replicaset").apply(Notification(), {"rollout": ROLLOUT})
    assert notification.message == "Scaling Rollout guestbook's replicaset to 5."
    assert notification.slack is not None
    fields = json.loads(notification.slack.attachments)[0]["fields"]
    assert fields[1:3] == [
        {"title": "Desired replica", "value": "5", "short": True},
        {"title": "Updated replicas", "value": "1", "short": True},
    ]


def test_argos_template_on_a_blue_green_rollout_with_one_container() -> None:
    blue_green = {
        **ROLLOUT,
        "spec": {
            "replicas": 2.0,
            "strategy": {"blueGreen": {"activeService": "a"}},
            "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}},
        },
    }
    notification = catalog_template("rollout-completed").apply(Notification(), {"rollout": blue_green})
    assert notification.slack is not None
    assert json.loads(notification.slack.attachments)[0]["fields"] == [
        {"title": "Strategy", "value": "BlueGreen", "short": True},
        containers_fields()[0],
    ]
