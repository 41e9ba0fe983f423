"""Parsing the notification ConfigMap and Secret key by key: a bad key is a problem, not a failure
of the whole configuration; the planner turns the configuration into deliveries and failures."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from rollouts.notifications.config import parse_config
from rollouts.notifications.messages import NotificationTemplate
from rollouts.notifications.planning import plan_notifications
from rollouts.notifications.subscriptions import Destination

SUBSCRIBE = "notifications.argoproj.io/subscribe"


def secret(**values: str) -> dict[str, Any]:
    return {"data": {key: base64.b64encode(value.encode()).decode() for key, value in values.items()}}


def rollout(**annotations: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "labels": {"app": "web"},
            "annotations": annotations,
        },
        "spec": {"replicas": 3, "strategy": {"canary": {"steps": [{"setWeight": 50}]}}},
        "status": {"currentStepIndex": 0, "phase": "Healthy"},
    }


def now() -> datetime:
    return datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_services_templates_triggers_and_defaults_are_read() -> None:
    config = parse_config(
        {
            "data": {
                "service.webhook.hook": (
                    "url: https://hooks.example/$path\nheaders:\n- name: X-Token\n  value: $token\n"
                ),
                "service.slack": "token: $slack-token\n",
                "template.done": "message: '{{.rollout.metadata.name}} done'\n",
                "trigger.on-done": "- send: [done]\n  when: rollout.status.phase == 'Healthy'\n",
                "defaultTriggers": "- on-done\n",
                "defaultTriggers.slack": "[on-rollout-aborted]",
                "subscriptions": "- recipients: [slack:ops]\n  triggers: [on-done]\n  selector: app=web\n",
            }
        },
        secret(path="p/1", token="s3cret", **{"slack-token": "xoxb-1"}),
        "argo-rollouts",
    )
    assert config.problems == ()
    assert config.services["hook"].options == {
        "url": "https://hooks.example/p/1",
        "headers": [{"name": "X-Token", "value": "s3cret"}],
    }
    assert (config.services["slack"].type, config.services["slack"].options) == ("slack", {"token": "xoxb-1"})
    assert isinstance(config.templates["done"], NotificationTemplate)
    assert config.default_triggers == ("on-done",)
    assert config.service_default_triggers == {"slack": ("on-rollout-aborted",)}
    assert config.subscriptions[0].selector == "app=web"
    assert config.secrets["token"] == "s3cret"


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("template.bad", "message: [unclosed", "template.bad: template.bad: not valid YAML"),
        ("template.broken", "message: '{{.x'", "unclosed action"),
        ("template.list", "- a", "a template must be a mapping"),
        ("trigger.on-x", "send: [a]", "expected a non-empty list of conditions"),
        ("trigger.on-y", "- when: 'a =='\n  send: [a]", "'when' does not compile"),
        ("service.email", "host: smtp", "service type 'email' is not supported (supported: slack, webhook)"),
        ("service.webhook.a.b", "url: x", "invalid service key"),
        ("service.webhook.bad", "url: [", "not valid YAML"),
        ("service.webhook.list", "- url", "settings must be a mapping"),
        ("defaultTriggers", "on-x", "must be a list of names"),
        ("subscriptions", "- recipients: slack", "subscriptions[0]: recipients must be a list of names"),
        ("surprise", "x", "surprise: unknown key"),
    ],
)
def test_each_malformed_key_is_one_problem_and_the_rest_still_works(
    key: str, value: str, problem: str
) -> None:
    config = parse_config(
        {"data": {key: value, "service.webhook.good": "url: http://ok/", "template.fine": "message: hi"}},
        None,
        "ns",
    )
    assert any(problem in item for item in config.problems), config.problems
    assert "good" in config.services and config.services["good"].problem == ""
    assert isinstance(config.templates["fine"], NotificationTemplate)


def test_a_missing_secret_key_is_a_problem_and_the_reference_stays_as_written() -> None:
    config = parse_config({"data": {"service.webhook.hook": "url: http://x/$nokey"}}, secret(), "ns")
    assert config.services["hook"].options["url"] == "http://x/$nokey"
    assert config.problems == (
        "service.webhook.hook references $nokey, "
        "but the secret argo-rollouts-notification-secret has no key nokey",
    )


def test_a_secret_that_is_not_base64_is_a_problem() -> None:
    config = parse_config({"data": {}}, {"data": {"k": "%%%"}}, "ns")
    assert config.problems and "not base64" in config.problems[0]


def test_a_config_map_without_data_has_nothing_and_no_problem() -> None:
    config = parse_config({"metadata": {"name": "x"}}, None, "ns")
    assert (config.services, config.templates, config.problems) == ({}, {}, ())


def test_builtin_triggers_and_templates_are_used_when_the_config_map_lacks_them() -> None:
    config = parse_config({"data": {"service.webhook.hook": "url: http://h/"}}, None, "ns")
    plan = plan_notifications(
        config, rollout(**{f"{SUBSCRIBE}.on-rollout-completed.hook": ""}), "RolloutCompleted", now
    )
    assert plan.failures == ()
    assert [d.notification.message for d in plan.deliveries] == ["Rollout web has been completed."]


def test_a_config_map_template_overrides_the_builtin_one() -> None:
    config = parse_config(
        {"data": {"service.webhook.hook": "url: http://h/", "template.rollout-completed": "message: mine"}},
        None,
        "ns",
    )
    plan = plan_notifications(
        config, rollout(**{f"{SUBSCRIBE}.on-rollout-completed.hook": ""}), "RolloutCompleted", now
    )
    assert [d.notification.message for d in plan.deliveries] == ["mine"]


def test_planning_with_webhook_parts_recipient_and_secrets() -> None:
    config = parse_config(
        {
            "data": {
                "service.webhook.hook": "url: http://h/",
                "template.rollout-completed": (
                    "webhook:\n  hook:\n    method: put\n    path: /r/{{.rollout.metadata.name}}\n"
                    '    body: \'{"to": "{{.recipient}}", "key": "{{.secrets.k}}"}\'\n'
                ),
            }
        },
        secret(k="v"),
        "ns",
    )
    plan = plan_notifications(
        config, rollout(**{f"{SUBSCRIBE}.on-rollout-completed.hook": "alice"}), "RolloutCompleted", now
    )
    (delivery,) = plan.deliveries
    assert delivery.destination == Destination("hook", "alice")
    parts = delivery.notification.webhook["hook"]
    assert (parts.method, parts.path, parts.body) == ("PUT", "/r/web", '{"to": "alice", "key": "v"}')


def test_one_broken_destination_does_not_stop_the_others() -> None:
    config = parse_config(
        {
            "data": {
                "service.webhook.hook": "url: http://h/",
                "template.rollout-completed": (
                    "message: ok\nwebhook:\n  hook:\n"
                    "    body: '{{if eq .recipient \"bad\"}}{{.rollout.nope.deeper}}{{end}}fine'\n"
                ),
            }
        },
        None,
        "ns",
    )
    annotations = {
        f"{SUBSCRIBE}.on-rollout-completed.hook": "good;bad",
        f"{SUBSCRIBE}.on-rollout-completed.missing": "",
    }
    plan = plan_notifications(config, rollout(**annotations), "RolloutCompleted", now)
    assert [(d.destination, d.notification.webhook["hook"].body) for d in plan.deliveries] == [
        (Destination("hook", "good"), "fine")
    ]
    errors = {f.destination: f.error for f in plan.failures if f.destination}
    assert "nil pointer evaluating" in errors[Destination("hook", "bad")]
    assert errors[Destination("missing", "")] == "notification service 'missing' is not configured"


def test_a_broken_template_fails_only_the_notifications_using_it() -> None:
    config = parse_config(
        {"data": {"service.webhook.hook": "url: http://h/", "template.rollout-paused": "message: '{{if}}'"}},
        None,
        "ns",
    )
    annotations = {f"{SUBSCRIBE}.on-rollout-paused.hook": "", f"{SUBSCRIBE}.on-rollout-completed.hook": ""}
    paused = plan_notifications(config, rollout(**annotations), "RolloutPaused", now)
    assert paused.deliveries == () and "template 'rollout-paused' is broken" in paused.failures[0].error
    completed = plan_notifications(config, rollout(**annotations), "RolloutCompleted", now)
    assert len(completed.deliveries) == 1 and completed.failures == ()


def test_global_subscriptions_follow_the_label_selector_and_default_triggers() -> None:
    config = parse_config(
        {
            "data": {
                "service.webhook.hook": "url: http://h/",
                "defaultTriggers": "[on-rollout-completed]",
                "subscriptions": (
                    "- recipients: [hook]\n  selector: app=web\n- recipients: [hook:x]\n  selector: app=db\n"
                ),
            }
        },
        None,
        "ns",
    )
    plan = plan_notifications(config, rollout(), "RolloutCompleted", now)
    assert [d.destination for d in plan.deliveries] == [Destination("hook", "")]
    assert plan_notifications(config, rollout(), "RolloutPaused", now).deliveries == ()


def test_an_event_nobody_subscribed_to_plans_nothing() -> None:
    config = parse_config({"data": {"service.webhook.hook": "url: http://h/"}}, None, "ns")
    assert plan_notifications(config, rollout(), "RolloutCompleted", now) == plan_notifications(
        config, rollout(), "ScalingReplicaSet", now
    )
    assert plan_notifications(config, rollout(), "RolloutCompleted", now).deliveries == ()


def test_a_subscribed_trigger_that_exists_nowhere_is_a_failure() -> None:
    config = parse_config({"data": {"service.webhook.hook": "url: http://h/"}}, None, "ns")
    plan = plan_notifications(
        config, rollout(**{f"{SUBSCRIBE}.on-switch-service.hook": ""}), "SwitchService", now
    )
    assert plan.failures[0].error == "trigger on-switch-service is not configured"


def test_a_false_when_sends_nothing() -> None:
    config = parse_config(
        {
            "data": {
                "service.webhook.hook": "url: http://h/",
                "trigger.on-rollout-completed": (
                    "- when: rollout.spec.replicas > 10\n  send: [rollout-completed]\n"
                ),
            }
        },
        None,
        "ns",
    )
    plan = plan_notifications(
        config, rollout(**{f"{SUBSCRIBE}.on-rollout-completed.hook": ""}), "RolloutCompleted", now
    )
    assert (plan.deliveries, plan.failures) == ((), ())
