"""What to send over HTTP for a rendered notification, and when to try again (sans-I/O).

The webhook service follows notifications-engine: ``url`` plus the template's ``path``, the
template's ``method`` (GET when none) and ``body`` (the ``message`` when the template has no
webhook part for this service), the service's ``headers`` and ``basicAuth``, ``insecureSkipVerify``.
Slack posts JSON: with ``token`` to ``<apiURL>chat.postMessage`` for the recipient channel, as the
engine's Slack service does; with ``webhookURL`` (our addition) to a Slack incoming webhook,
which needs no token and ignores the recipient.

Retries mirror the engine's use of go-retryablehttp: up to ``retryMax`` (3) more attempts after
the first on connection errors, 429 and 5xx except 501, waiting ``retryWaitMin·2^attempt``
capped at ``retryWaitMax`` (1 s and 5 s by default) or the server's ``Retry-After``. Every
decision here is a pure function of its inputs so it is tested without a network or a clock.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from analysis.values import parse_go_duration
from rollouts.notifications.config import Service
from rollouts.notifications.messages import Notification
from rollouts.notifications.subscriptions import Destination

__all__ = [
    "DeliveryError",
    "HttpRequest",
    "RetryPolicy",
    "backoff_seconds",
    "build_request",
    "next_attempt_at",
    "retry_policy",
    "should_retry",
    "slack_api_error",
]

SLACK_API: Final = "https://slack.com/api/"
TIMEOUT_SECONDS: Final = 30.0


class DeliveryError(Exception):
    """A notification that cannot be turned into a request (bad settings, bad Slack JSON)."""


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    verify: bool = True
    slack_api: bool = False
    """Slack's Web API answers 200 with ``{"ok": false, "error": ...}`` on failure."""


def build_request(service: Service, notification: Notification, destination: Destination) -> HttpRequest:
    if service.problem:
        raise DeliveryError(service.problem)
    if service.type == "webhook":
        return _webhook(service, notification)
    if service.type == "slack":
        return _slack(service, notification, destination)
    raise DeliveryError(f"service type {service.type!r} is not supported")


def _text(options: Mapping[str, Any], key: str, service: Service) -> str:
    value = options.get(key, "")
    if not isinstance(value, str):
        raise DeliveryError(f"service {service.name}: {key} must be text")
    return value


def _webhook(service: Service, notification: Notification) -> HttpRequest:
    options = service.options
    url = _text(options, "url", service)
    if not url.startswith(("http://", "https://")):
        raise DeliveryError(f"service {service.name}: url must be an http(s) URL, got {url!r}")
    method, body = "GET", notification.message
    parts = notification.webhook.get(service.name)
    if parts is not None:
        body = parts.body
        method = parts.method or method
        if parts.path:
            url = url.rstrip("/") + "/" + parts.path.lstrip("/")
    headers: list[tuple[str, str]] = []
    raw_headers = options.get("headers") or []
    if not isinstance(raw_headers, list):
        raise DeliveryError(f"service {service.name}: headers must be a list of {{name, value}}")
    for header in raw_headers:
        if not isinstance(header, Mapping) or not isinstance(header.get("name"), str):
            raise DeliveryError(f"service {service.name}: every header needs a name and a value")
        headers.append((header["name"], str(header.get("value", ""))))
    auth = options.get("basicAuth")
    if auth is not None:
        if not isinstance(auth, Mapping):
            raise DeliveryError(f"service {service.name}: basicAuth must have username and password")
        token = f"{auth.get('username', '')}:{auth.get('password', '')}".encode()
        headers.append(("Authorization", "Basic " + base64.b64encode(token).decode()))
    return HttpRequest(
        method, url, tuple(headers), body.encode(), not options.get("insecureSkipVerify", False)
    )


def _json_field(text: str, what: str) -> Any:
    try:
        value = json.loads(text)
    except ValueError as error:
        raise DeliveryError(f"failed to unmarshal {what} {text!r}: {error}") from None
    if not isinstance(value, list):
        raise DeliveryError(f"failed to unmarshal {what}: expected a JSON list")
    return value


def slack_payload(
    notification: Notification, options: Mapping[str, Any], channel: str | None
) -> dict[str, Any]:
    payload: dict[str, Any] = {"text": notification.message}
    if channel is not None:
        payload["channel"] = channel
    slack = notification.slack
    username = (slack.username if slack else "") or options.get("username", "")
    if username:
        payload["username"] = username
    icon = (slack.icon if slack else "") or options.get("icon", "")
    if isinstance(icon, str) and icon.startswith(":") and icon.endswith(":") and len(icon) > 2:
        payload["icon_emoji"] = icon
    elif isinstance(icon, str) and icon.startswith(("http://", "https://")):
        payload["icon_url"] = icon
    if slack is not None:
        if slack.attachments:
            payload["attachments"] = _json_field(slack.attachments, "attachments")
        if slack.blocks:
            payload["blocks"] = _json_field(slack.blocks, "blocks")
    return payload


def _slack(service: Service, notification: Notification, destination: Destination) -> HttpRequest:
    options = service.options
    verify = not options.get("insecureSkipVerify", False)
    webhook_url = _text(options, "webhookURL", service)
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json; charset=utf-8"),)
    if webhook_url:
        body = json.dumps(slack_payload(notification, options, None)).encode()
        return HttpRequest("POST", webhook_url, headers, body, verify)
    token = _text(options, "token", service)
    if not token:
        raise DeliveryError(
            f"service {service.name}: slack needs a token (or webhookURL for an incoming webhook)"
        )
    api = _text(options, "apiURL", service) or SLACK_API
    url = api.rstrip("/") + "/chat.postMessage"
    body = json.dumps(slack_payload(notification, options, destination.recipient)).encode()
    return HttpRequest(
        "POST", url, (*headers, ("Authorization", f"Bearer {token}")), body, verify, slack_api=True
    )


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3
    wait_min: float = 1.0
    wait_max: float = 5.0


def _seconds(value: Any, default: float) -> float:
    if value is None or value == 0:
        return default
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) / 1e9  # Go's time.Duration in JSON is nanoseconds
    if isinstance(value, str):
        try:
            return float(parse_go_duration(value))
        except ValueError:
            raise DeliveryError(f"{value!r} is not a duration such as 1s or 500ms") from None
    raise DeliveryError(f"{value!r} is not a duration")


def retry_policy(service: Service) -> RetryPolicy:
    """``retryMax``/``retryWaitMin``/``retryWaitMax`` of a webhook service; defaults otherwise."""
    options = service.options
    retries = options.get("retryMax") or 3
    if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= 10:
        raise DeliveryError(f"service {service.name}: retryMax must be a number from 0 to 10")
    return RetryPolicy(
        retries, _seconds(options.get("retryWaitMin"), 1.0), _seconds(options.get("retryWaitMax"), 5.0)
    )


def slack_api_error(body: bytes) -> str | None:
    """The ``error`` of a Slack Web API answer with ``"ok": false``, else ``None``."""
    try:
        answer = json.loads(body)
    except ValueError:
        return "Slack answered with something that is not JSON"
    if isinstance(answer, Mapping) and answer.get("ok") is False:
        return f"Slack refused the message: {answer.get('error', 'unknown error')}"
    return None


def should_retry(status: int | None) -> bool:
    """``None`` is a connection error or timeout."""
    return status is None or status == 429 or (status >= 500 and status != 501)


def backoff_seconds(attempt: int, policy: RetryPolicy, retry_after: float | None = None) -> float:
    """The wait after failed attempt number ``attempt`` (0 for the first)."""
    if retry_after is not None and retry_after >= 0:
        return min(retry_after, policy.wait_max * 12)
    return min(policy.wait_min * float(2**attempt), policy.wait_max)


def next_attempt_at(
    now: datetime, attempt: int, policy: RetryPolicy, status: int | None, retry_after: float | None = None
) -> datetime | None:
    """When to try again after failed attempt ``attempt``, or ``None`` to give up."""
    if not should_retry(status) or attempt >= policy.retries:
        return None
    return now + timedelta(seconds=backoff_seconds(attempt, policy, retry_after))
