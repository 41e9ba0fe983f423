"""Notification templates: the ``template.<name>`` entries compiled, and rendered per destination.

A template has a ``message`` and service-specific parts (``webhook.<service>.{method,path,body}``,
``slack.{attachments,blocks,username,icon,groupingKey}``); every text field is a Go template.
A trigger condition may name several templates; as in notifications-engine their rendered parts
merge into one notification, later templates overriding earlier ones field by field. Parts for
services we do not implement (``email``, ``teams``…) are accepted and ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from rollouts.notifications.gotemplate import Template, compile_template

__all__ = ["Notification", "NotificationTemplate", "SlackParts", "WebhookParts", "render_notification"]

SLACK_FIELDS: Final = ("attachments", "blocks", "username", "icon", "groupingKey")


@dataclass(frozen=True)
class WebhookParts:
    method: str = ""
    path: str = ""
    body: str = ""


@dataclass(frozen=True)
class SlackParts:
    attachments: str = ""
    blocks: str = ""
    username: str = ""
    icon: str = ""
    groupingKey: str = ""  # noqa: N815 - the key as users write it


@dataclass(frozen=True)
class Notification:
    message: str = ""
    webhook: Mapping[str, WebhookParts] = field(default_factory=dict)
    slack: SlackParts | None = None


def _compile(name: str, raw: Any, where: str) -> Template | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ValueError(f"{where} must be text, got {type(raw).__name__}")
    return compile_template(f"{name}.{where}", raw)


@dataclass(frozen=True)
class NotificationTemplate:
    name: str
    message: Template | None = None
    webhook: Mapping[str, tuple[str, Template | None, Template | None]] = field(default_factory=dict)
    """service → (method, path template, body template)."""
    slack: Mapping[str, Template | None] | None = None

    @classmethod
    def parse(cls, name: str, raw: Any) -> NotificationTemplate:
        """Compile ``template.<name>``; raises ``ValueError``/`TemplateError` saying what is wrong."""
        if not isinstance(raw, Mapping):
            raise ValueError("a template must be a mapping (message, webhook, slack, ...)")
        webhooks: dict[str, tuple[str, Template | None, Template | None]] = {}
        webhook = raw.get("webhook") or {}
        if not isinstance(webhook, Mapping):
            raise ValueError("webhook must map service names to {method, path, body}")
        for service, parts in webhook.items():
            if not isinstance(parts, Mapping):
                raise ValueError(f"webhook.{service} must be a mapping of method, path, body")
            method = parts.get("method") or ""
            if not isinstance(method, str):
                raise ValueError(f"webhook.{service}.method must be text")
            webhooks[str(service)] = (
                method.upper(),
                _compile(name, parts.get("path"), f"webhook.{service}.path"),
                _compile(name, parts.get("body"), f"webhook.{service}.body"),
            )
        slack = raw.get("slack")
        slack_templates = None
        if slack is not None:
            if not isinstance(slack, Mapping):
                raise ValueError("slack must be a mapping (attachments, blocks, username, icon)")
            slack_templates = {key: _compile(name, slack.get(key), f"slack.{key}") for key in SLACK_FIELDS}
        return cls(name, _compile(name, raw.get("message"), "message"), webhooks, slack_templates)

    def apply(self, notification: Notification, variables: Mapping[str, Any]) -> Notification:
        """This template's parts rendered over ``notification``; raises `TemplateError`."""
        if self.message is not None:
            notification = replace(notification, message=self.message.render(variables))
        if self.webhook:
            merged = dict(notification.webhook)
            for service, (method, path, body) in self.webhook.items():
                merged[service] = WebhookParts(
                    method,
                    path.render(variables) if path else "",
                    body.render(variables) if body else "",
                )
            notification = replace(notification, webhook=merged)
        if self.slack is not None:
            rendered = {key: template.render(variables) for key, template in self.slack.items() if template}
            notification = replace(
                notification, slack=replace(notification.slack or SlackParts(), **rendered)
            )
        return notification


def render_notification(templates: list[NotificationTemplate], variables: Mapping[str, Any]) -> Notification:
    """All named templates merged in order; raises `TemplateError` for the first that fails."""
    notification = Notification()
    for template in templates:
        notification = template.apply(notification, variables)
    return notification
