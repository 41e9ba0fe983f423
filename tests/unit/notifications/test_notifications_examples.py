"""``examples/notifications`` stays usable: the ConfigMap parses without problems and the annotated
Rollout's Events plan the deliveries the comments promise."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from rollouts.notifications import parse_config, plan_notifications
from rollouts.notifications.delivery import build_request

EXAMPLES = Path(__file__).parents[3] / "examples" / "notifications"


def load() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    config_map, secret = yaml.safe_load_all((EXAMPLES / "configmap.yaml").read_text())
    secret = {"data": {k: base64.b64encode(v.encode()).decode() for k, v in secret["stringData"].items()}}
    rollout = yaml.safe_load((EXAMPLES / "rollout.yaml").read_text())
    rollout["metadata"].update(namespace="shop")
    rollout["metadata"].setdefault("annotations", {})["rollout.argoproj.io/revision"] = "2"
    rollout["status"] = {"currentStepIndex": 0, "message": "metric error-rate failed"}
    return config_map, secret, rollout


def now() -> datetime:
    return datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)


def test_the_example_configuration_has_no_problems() -> None:
    config_map, secret, _ = load()
    assert parse_config(config_map, secret, "argo-rollouts").problems == ()


def test_a_completed_example_rollout_notifies_slack_and_the_webhook() -> None:
    config_map, secret, rollout = load()
    config = parse_config(config_map, secret, "argo-rollouts")
    plan = plan_notifications(config, rollout, "RolloutCompleted", now)
    assert plan.failures == ()
    requests = {
        d.destination.service: build_request(d.service, d.notification, d.destination)
        for d in plan.deliveries
    }
    webhook = requests["deploy-events"]
    assert (webhook.method, webhook.url) == (
        "POST",
        "https://deploy-events.example.com/api/rollouts/checkout/completed",
    )
    assert ("Authorization", "Bearer replace-me") in webhook.headers
    assert json.loads(webhook.body) == {
        "rollout": "checkout",
        "namespace": "shop",
        "images": ["nginx:1.27"],
        "at": "2026-05-06T07:08:09Z",
    }
    slack = json.loads(requests["slack"].body)
    assert requests["slack"].url == "https://hooks.slack.com/services/T000/B000/XXXX"
    assert slack["text"] == "Rollout checkout has been completed."
    assert slack["attachments"][0]["text"] == "revision 2 is fully promoted"


def test_the_example_step_condition_and_abort_message() -> None:
    config_map, secret, rollout = load()
    config = parse_config(config_map, secret, "argo-rollouts")
    step = plan_notifications(config, rollout, "RolloutStepCompleted", now)
    assert [d.notification.message for d in step.deliveries] == [
        "Rollout checkout step number 1/4 has been completed."
    ]
    rollout["spec"]["replicas"] = 3
    assert plan_notifications(config, rollout, "RolloutStepCompleted", now).deliveries == ()
    aborted = plan_notifications(config, rollout, "RolloutAborted", now)
    assert {d.notification.message for d in aborted.deliveries} == {
        ":warning: Rollout checkout was aborted: metric error-rate failed"
    }
