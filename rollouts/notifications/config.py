"""The notification ConfigMap and Secret → services, templates, triggers and subscriptions.

notifications-engine refuses the whole ConfigMap when one key is malformed, which silences every
notification because of one typo. We parse key by key instead: a bad key becomes a *problem*
(logged by the shell) and is left out, everything else keeps working. Templates that fail to
compile are kept as broken entries so a notification that names one fails visibly (error metric,
log line) instead of silently vanishing. ``$key`` references in service settings are replaced by
the Secret's values, as upstream does; a missing key is a problem and the text stays as written.

Argo needs ``notifications-install.yaml`` applied for its nine ``on-…`` triggers to exist; we ship
the same trigger names and equivalent templates built in (`builtin`), and a ConfigMap key of the
same name overrides them.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import yaml

from rollouts.notifications.builtin import BUILTIN_TEMPLATES, BUILTIN_TRIGGERS
from rollouts.notifications.gotemplate import TemplateError
from rollouts.notifications.messages import NotificationTemplate
from rollouts.notifications.subscriptions import GlobalSubscription
from rollouts.notifications.triggers import Condition

__all__ = [
    "CONFIG_MAP_NAME",
    "SECRET_NAME",
    "SUPPORTED_SERVICES",
    "NotificationConfig",
    "Service",
    "parse_config",
]

CONFIG_MAP_NAME: Final = "argo-rollouts-notification-configmap"
SECRET_NAME: Final = "argo-rollouts-notification-secret"
SUPPORTED_SERVICES: Final = ("slack", "webhook")
SECRET_REFERENCE: Final = re.compile(r"\$[\w-]+")


@dataclass(frozen=True)
class Service:
    name: str
    type: str
    options: Mapping[str, Any]
    problem: str = ""
    """Why this service cannot send (unsupported type, unreadable settings); empty when it can."""


@dataclass(frozen=True)
class NotificationConfig:
    namespace: str
    services: Mapping[str, Service] = field(default_factory=dict)
    templates: Mapping[str, NotificationTemplate | str] = field(default_factory=dict)
    """A compiled template, or the error text of one that does not compile."""
    triggers: Mapping[str, tuple[Condition, ...] | str] = field(default_factory=dict)
    """A trigger's conditions, or the error text of one that does not parse."""
    default_triggers: tuple[str, ...] = ()
    service_default_triggers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    subscriptions: tuple[GlobalSubscription, ...] = ()
    secrets: Mapping[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    def trigger(self, name: str) -> tuple[Condition, ...] | str | None:
        return self.triggers.get(name, BUILTIN_TRIGGERS.get(name))

    def template(self, name: str) -> NotificationTemplate | str | None:
        return self.templates.get(name, BUILTIN_TEMPLATES.get(name))


def _string_list(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{what} must be a list of names")
    return tuple(value)


def decode_secret(secret: Mapping[str, Any] | None) -> tuple[dict[str, str], list[str]]:
    """A Secret's ``data`` (base64) and ``stringData`` as text."""
    if not secret:
        return {}, []
    values: dict[str, str] = {}
    problems: list[str] = []
    data = secret.get("data") or {}
    for key, encoded in data.items() if isinstance(data, Mapping) else ():
        try:
            values[str(key)] = base64.b64decode(str(encoded), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            problems.append(f"secret {SECRET_NAME} key {key}: not base64-encoded UTF-8 text")
    for key, text in (secret.get("stringData") or {}).items():
        values[str(key)] = str(text)
    return values, problems


def _replace_secrets(value: Any, secrets: Mapping[str, str], where: str, problems: list[str]) -> Any:
    """``$name`` in every string of the service settings → the Secret's ``name`` value."""
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            key = match.group()[1:]
            if key not in secrets:
                problems.append(f"{where} references ${key}, but the secret {SECRET_NAME} has no key {key}")
                return match.group()
            return secrets[key]

        return SECRET_REFERENCE.sub(substitute, value)
    if isinstance(value, Mapping):
        return {key: _replace_secrets(item, secrets, where, problems) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_secrets(item, secrets, where, problems) for item in value]
    return value


def _load(text: Any, what: str) -> Any:
    if not isinstance(text, str):
        raise ValueError(f"{what}: value must be text")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValueError(f"{what}: not valid YAML: {error}".replace("\n", " ")) from None


def _service(key: str, text: Any, secrets: Mapping[str, str], problems: list[str]) -> Service | None:
    parts = key.split(".")
    if len(parts) not in (2, 3) or not all(parts[1:]):
        problems.append(f"{key}: invalid service key; expected 'service.<type>(.<name>)'")
        return None
    service_type, name = parts[1], parts[-1]
    try:
        options = _load(text, key) or {}
    except ValueError as error:
        problems.append(str(error))
        return Service(name, service_type, {}, str(error))
    if not isinstance(options, Mapping):
        problem = f"{key}: settings must be a mapping"
        problems.append(problem)
        return Service(name, service_type, {}, problem)
    options = _replace_secrets(options, secrets, key, problems)
    if service_type not in SUPPORTED_SERVICES:
        supported = ", ".join(SUPPORTED_SERVICES)
        problem = f"{key}: service type {service_type!r} is not supported (supported: {supported})"
        problems.append(problem)
        return Service(name, service_type, options, problem)
    return Service(name, service_type, options)


def _subscriptions(text: Any, problems: list[str]) -> tuple[GlobalSubscription, ...]:
    try:
        raw = _load(text, "subscriptions") or []
    except ValueError as error:
        problems.append(str(error))
        return ()
    if not isinstance(raw, list):
        problems.append("subscriptions: expected a list")
        return ()
    found: list[GlobalSubscription] = []
    for index, entry in enumerate(raw):
        try:
            if not isinstance(entry, Mapping):
                raise ValueError("expected a mapping with recipients")
            recipients = _string_list(entry.get("recipients"), "recipients")
            triggers = _string_list(entry.get("triggers"), "triggers")
            selector = entry.get("selector") or ""
            if not isinstance(selector, str):
                raise ValueError("selector must be a label selector string")
            found.append(GlobalSubscription(recipients, triggers, selector))
        except ValueError as error:
            problems.append(f"subscriptions[{index}]: {error}")
    return tuple(found)


def parse_config(
    config_map: Mapping[str, Any] | None, secret: Mapping[str, Any] | None, namespace: str
) -> NotificationConfig:
    """Everything usable in the pair; what is not usable is listed in ``problems``."""
    secrets, problems = decode_secret(secret)
    data = (config_map or {}).get("data") or {}
    if not isinstance(data, Mapping):
        return NotificationConfig(
            namespace, problems=(f"configmap {CONFIG_MAP_NAME}: data is not a mapping",)
        )
    services: dict[str, Service] = {}
    templates: dict[str, NotificationTemplate | str] = {}
    triggers: dict[str, tuple[Condition, ...] | str] = {}
    default_triggers: tuple[str, ...] = ()
    service_defaults: dict[str, tuple[str, ...]] = {}
    subscriptions: tuple[GlobalSubscription, ...] = ()
    for key in sorted(data):
        text = data[key]
        if key.startswith("service."):
            service = _service(key, text, secrets, problems)
            if service is not None:
                services[service.name] = service
        elif key.startswith("template."):
            name = key[len("template.") :]
            try:
                templates[name] = NotificationTemplate.parse(name, _load(text, key))
            except (ValueError, TemplateError) as error:
                problems.append(f"{key}: {error}")
                templates[name] = str(error)
        elif key.startswith("trigger."):
            name = key[len("trigger.") :]
            try:
                raw = _load(text, key)
                if not isinstance(raw, list) or not raw:
                    raise ValueError("expected a non-empty list of conditions")
                triggers[name] = tuple(Condition.parse(entry) for entry in raw)
            except ValueError as error:
                problems.append(f"{key}: {error}")
                triggers[name] = f"{key}: {error}"
        elif key == "defaultTriggers":
            try:
                default_triggers = _string_list(_load(text, key), key)
            except ValueError as error:
                problems.append(str(error))
        elif key.startswith("defaultTriggers."):
            try:
                service_defaults[key[len("defaultTriggers.") :]] = _string_list(_load(text, key), key)
            except ValueError as error:
                problems.append(str(error))
        elif key == "subscriptions":
            subscriptions = _subscriptions(text, problems)
        elif key != "context":
            problems.append(
                f"{key}: unknown key (expected service., template., trigger., defaultTriggers, subscriptions)"
            )
    return NotificationConfig(
        namespace=namespace,
        services=services,
        templates=templates,
        triggers=triggers,
        default_triggers=default_triggers,
        service_default_triggers=service_defaults,
        subscriptions=subscriptions,
        secrets=secrets,
        problems=tuple(problems),
    )
