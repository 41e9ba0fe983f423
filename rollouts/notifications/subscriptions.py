"""Who wants which trigger: annotations on the Rollout and subscriptions in the ConfigMap.

Annotation forms, as notifications-engine reads them:
``notifications.argoproj.io/subscribe.<trigger>.<service>: a;b`` (that trigger),
``notifications.argoproj.io/subscribe.<service>: a;b`` (the service's ``defaultTriggers.<service>``,
else ``defaultTriggers``), an empty value meaning one empty recipient (webhooks need none), and
``notifications.argoproj.io/subscribe_yaml`` holding ``[{trigger: [...], destinations:
[{service, recipients}]}]``. Global ``subscriptions`` in the ConfigMap add ``service:recipient``
destinations for Rollouts whose labels match their ``selector``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

import yaml

__all__ = ["Destination", "GlobalSubscription", "annotation_destinations", "selector_matches"]

PREFIX: Final = "notifications.argoproj.io/subscribe."
YAML_PREFIX: Final = "notifications.argoproj.io/subscribe_yaml"


@dataclass(frozen=True, order=True)
class Destination:
    service: str
    recipient: str


def _recipients(value: str) -> list[str]:
    if value == "":
        return [""]
    return [part.strip() for part in value.split(";") if part.strip()]


def annotation_destinations(
    annotations: Mapping[str, str],
    default_triggers: tuple[str, ...],
    service_default_triggers: Mapping[str, tuple[str, ...]],
) -> tuple[dict[str, list[Destination]], list[str]]:
    """Destinations per trigger from the annotations, and the problems found in them."""
    found: dict[str, list[Destination]] = {}
    problems: list[str] = []

    def add(trigger: str, service: str, recipients: list[str]) -> None:
        triggers = (trigger,) if trigger else service_default_triggers.get(service, default_triggers)
        for name in triggers:
            for recipient in recipients:
                destination = Destination(service, recipient)
                if destination not in found.setdefault(name, []):
                    found[name].append(destination)

    for key in sorted(annotations):
        value = annotations[key]
        if key.startswith(PREFIX):
            parts = key[len(PREFIX) :].split(".")
            trigger, service = (parts[0], parts[1]) if len(parts) >= 2 else ("", parts[0])
            if not service:
                problems.append(f"annotation {key}: no service named")
                continue
            add(trigger, service, _recipients(str(value)))
        elif key.startswith(YAML_PREFIX):
            problems.extend(_yaml_subscriptions(key, str(value), add))
    return found, problems


def _yaml_subscriptions(key: str, text: str, add: Callable[[str, str, list[str]], None]) -> list[str]:
    try:
        entries = yaml.safe_load(text)
    except yaml.YAMLError as error:
        return [f"annotation {key}: not YAML: {error}"]
    if not isinstance(entries, list):
        return [f"annotation {key}: expected a list of {{trigger, destinations}}"]
    problems: list[str] = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            problems.append(f"annotation {key}: entry is not a mapping")
            continue
        triggers = entry.get("trigger") or []
        destinations = entry.get("destinations") or []
        if not isinstance(triggers, list) or not isinstance(destinations, list):
            problems.append(f"annotation {key}: trigger and destinations must be lists")
            continue
        for trigger in triggers:
            for destination in destinations:
                if not isinstance(destination, Mapping) or not destination.get("service"):
                    problems.append(f"annotation {key}: destination without a service")
                    continue
                recipients = destination.get("recipients") or [""]
                add(str(trigger), str(destination["service"]), [str(r) for r in recipients])
    return problems


@dataclass(frozen=True)
class GlobalSubscription:
    recipients: tuple[str, ...]
    triggers: tuple[str, ...]
    selector: str

    def destinations(self) -> list[Destination]:
        """``service:recipient`` entries (``service`` alone: an empty recipient)."""
        return [Destination(*recipient.partition(":")[::2]) for recipient in self.recipients]


REQUIREMENT: Final = re.compile(
    r"^\s*(?P<not>!)?\s*(?P<key>[A-Za-z0-9._/-]+)\s*"
    r"(?:(?P<op>==|=|!=)\s*(?P<value>[A-Za-z0-9._-]*)|\s(?P<set>in|notin)\s*\((?P<values>[^)]*)\))?\s*$"
)


def _split_requirements(selector: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in selector:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part.strip()]


def selector_matches(selector: str, labels: Mapping[str, str]) -> bool:
    """A Kubernetes label selector (``a=b``, ``a!=b``, ``a``, ``!a``, ``a in (x,y)``, ``a notin (x)``).

    Raises ``ValueError`` for a selector it cannot read."""
    for requirement in _split_requirements(selector):
        match = REQUIREMENT.match(requirement)
        if match is None:
            raise ValueError(f"invalid label selector {selector!r}")
        key = match["key"]
        if match["op"]:
            equal = labels.get(key) == match["value"]
            if equal == (match["op"] == "!="):
                return False
        elif match["set"]:
            values = {value.strip() for value in match["values"].split(",")}
            inside = labels.get(key) in values
            if inside != (match["set"] == "in"):
                return False
        elif (key in labels) == bool(match["not"]):
            return False
    return True
