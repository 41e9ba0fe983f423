"""HTTP requests built for webhook and Slack services, and the retry schedule (pure)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rollouts.notifications.config import Service
from rollouts.notifications.delivery import (
    DeliveryError,
    HttpRequest,
    RetryPolicy,
    backoff_seconds,
    build_request,
    next_attempt_at,
    retry_policy,
    should_retry,
    slack_api_error,
)
from rollouts.notifications.messages import Notification, SlackParts, WebhookParts
from rollouts.notifications.subscriptions import Destination

HOOK = Destination("hook", "")


def webhook(**options: Any) -> Service:
    return Service("hook", "webhook", {"url": "https://receiver.example/base/", **options})


def test_webhook_without_a_template_part_gets_the_message_by_get() -> None:
    request = build_request(webhook(), Notification(message="hello"), HOOK)
    assert request == HttpRequest("GET", "https://receiver.example/base/", (), b"hello")


def test_webhook_template_part_sets_method_path_and_body() -> None:
    notification = Notification(
        message="ignored", webhook={"hook": WebhookParts("POST", "/rollouts/web", '{"a": 1}')}
    )
    request = build_request(webhook(), notification, HOOK)
    assert (request.method, request.url, request.body) == (
        "POST",
        "https://receiver.example/base/rollouts/web",
        b'{"a": 1}',
    )


def test_webhook_part_for_another_service_is_not_used() -> None:
    notification = Notification(message="m", webhook={"other": WebhookParts("POST", "/x", "b")})
    assert build_request(webhook(), notification, HOOK).body == b"m"


def test_webhook_headers_basic_auth_and_insecure_skip_verify() -> None:
    service = webhook(
        headers=[{"name": "Content-Type", "value": "application/json"}],
        basicAuth={"username": "u", "password": "p"},
        insecureSkipVerify=True,
    )
    request = build_request(service, Notification(message="m"), HOOK)
    assert request.headers == (
        ("Content-Type", "application/json"),
        ("Authorization", "Basic " + base64.b64encode(b"u:p").decode()),
    )
    assert request.verify is False


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"url": "ftp://x"}, r"url must be an http\(s\) URL"),
        ({"url": 3}, "url must be text"),
        ({"headers": {"a": "b"}}, "headers must be a list"),
        ({"headers": [{"value": "v"}]}, "every header needs a name"),
        ({"basicAuth": "u:p"}, "basicAuth must have username and password"),
    ],
)
def test_bad_webhook_settings_are_delivery_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(DeliveryError, match=message):
        build_request(webhook(**options), Notification(message="m"), HOOK)


def test_a_service_with_a_problem_never_sends() -> None:
    service = Service("mail", "email", {}, "service.email: service type 'email' is not supported")
    with pytest.raises(DeliveryError, match="not supported"):
        build_request(service, Notification(message="m"), Destination("mail", "a@b"))


def test_slack_incoming_webhook_posts_text_attachments_blocks_username_and_icon() -> None:
    service = Service(
        "slack", "slack", {"webhookURL": "https://hooks.slack.example/T/B/X", "username": "bot"}
    )
    notification = Notification(
        message="Rollout web has been completed.",
        slack=SlackParts(attachments='[{"title": "web"}]', blocks='[{"type": "divider"}]', icon=":rocket:"),
    )
    request = build_request(service, notification, Destination("slack", "ignored-channel"))
    assert (request.method, request.url) == ("POST", "https://hooks.slack.example/T/B/X")
    assert json.loads(request.body) == {
        "text": "Rollout web has been completed.",
        "username": "bot",
        "icon_emoji": ":rocket:",
        "attachments": [{"title": "web"}],
        "blocks": [{"type": "divider"}],
    }


def test_slack_api_with_a_token_posts_to_chat_post_message_for_the_channel() -> None:
    service = Service("slack", "slack", {"token": "xoxb-1", "apiURL": "https://slack.example/api/"})
    request = build_request(
        service,
        Notification(message="m", slack=SlackParts(icon="https://i.example/x.png")),
        Destination("slack", "ops"),
    )
    assert request.url == "https://slack.example/api/chat.postMessage" and request.slack_api
    assert ("Authorization", "Bearer xoxb-1") in request.headers
    assert json.loads(request.body) == {"text": "m", "channel": "ops", "icon_url": "https://i.example/x.png"}


def test_slack_web_api_refusals_are_read_from_the_body() -> None:
    assert slack_api_error(b'{"ok": true, "ts": "1"}') is None
    assert slack_api_error(b'{"ok": false, "error": "channel_not_found"}') == (
        "Slack refused the message: channel_not_found"
    )
    assert slack_api_error(b"<html>") == "Slack answered with something that is not JSON"


@pytest.mark.parametrize(
    ("slack", "message"),
    [
        (SlackParts(attachments="[{not json"), "failed to unmarshal attachments"),
        (SlackParts(blocks='{"type": "x"}'), "expected a JSON list"),
    ],
)
def test_slack_parts_that_are_not_json_lists_are_delivery_errors(slack: SlackParts, message: str) -> None:
    service = Service("slack", "slack", {"webhookURL": "https://h.example/x"})
    with pytest.raises(DeliveryError, match=message):
        build_request(service, Notification(message="m", slack=slack), Destination("slack", ""))


def test_slack_without_token_or_webhook_url_is_a_delivery_error() -> None:
    with pytest.raises(DeliveryError, match="needs a token"):
        build_request(Service("slack", "slack", {}), Notification(message="m"), Destination("slack", "c"))


@pytest.mark.parametrize(
    ("status", "retry"),
    [
        (None, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (501, False),
        (404, False),
        (400, False),
    ],
)
def test_what_is_retried(status: int | None, retry: bool) -> None:
    assert should_retry(status) is retry


def test_backoff_doubles_from_the_minimum_and_is_capped() -> None:
    policy = RetryPolicy(retries=5, wait_min=1.0, wait_max=5.0)
    assert [backoff_seconds(attempt, policy) for attempt in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert backoff_seconds(0, policy, retry_after=7.0) == 7.0


def test_next_attempt_follows_the_clock_and_gives_up_after_retry_max() -> None:
    policy = RetryPolicy()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert next_attempt_at(start, 0, policy, 500) == start + timedelta(seconds=1)
    assert next_attempt_at(start, 2, policy, None) == start + timedelta(seconds=4)
    assert next_attempt_at(start, 3, policy, 500) is None
    assert next_attempt_at(start, 0, policy, 400) is None


def test_retry_policy_from_webhook_settings() -> None:
    assert retry_policy(webhook()) == RetryPolicy(3, 1.0, 5.0)
    assert retry_policy(webhook(retryMax=5, retryWaitMin="100ms", retryWaitMax="2s")) == RetryPolicy(
        5, 0.1, 2.0
    )
    assert retry_policy(webhook(retryWaitMin=250_000_000)) == RetryPolicy(3, 0.25, 5.0)
    with pytest.raises(DeliveryError, match="retryMax"):
        retry_policy(webhook(retryMax=100))
    with pytest.raises(DeliveryError, match="not a duration"):
        retry_policy(webhook(retryWaitMin="soon"))
