"""One Event → the notifications it causes, decided without I/O.

Argo's recorder, for every Event: merges the ConfigMap's global subscriptions (label selector)
with the Rollout's annotation subscriptions, looks up the destinations of the Event's trigger,
runs the trigger's conditions, and renders the named templates for each destination. We do the
same, but a problem with one destination (unknown service, missing or broken template, failing
``when``) becomes a `Failure` for that destination only; the others are still planned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rollouts.notifications.config import NotificationConfig, Service
from rollouts.notifications.gotemplate import GoTime, TemplateError
from rollouts.notifications.messages import Notification, NotificationTemplate, render_notification
from rollouts.notifications.subscriptions import Destination, annotation_destinations, selector_matches
from rollouts.notifications.triggers import run_trigger, trigger_name

__all__ = ["Delivery", "Failure", "Plan", "plan_notifications", "template_variables"]


@dataclass(frozen=True)
class Delivery:
    trigger: str
    destination: Destination
    service: Service
    notification: Notification


@dataclass(frozen=True)
class Failure:
    trigger: str
    error: str
    destination: Destination | None = None


@dataclass(frozen=True)
class Plan:
    deliveries: tuple[Delivery, ...] = ()
    failures: tuple[Failure, ...] = ()
    problems: tuple[str, ...] = ()
    """Configuration problems met on the way (bad annotations, bad selectors): logged, not counted."""


def _parse_time(text: Any) -> GoTime:
    if not isinstance(text, str):
        raise TemplateError(f"time.Parse: expected an RFC 3339 string, got {text!r}")
    try:
        return GoTime(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise TemplateError(f'parsing time "{text}" as RFC 3339: cannot parse') from None


def template_variables(
    rollout: Mapping[str, Any], config: NotificationConfig, recipient: str, now: Callable[[], datetime]
) -> dict[str, Any]:
    """What templates see: ``rollout``, ``recipient``, ``secrets``, ``time.Now``/``time.Parse``."""
    return {
        "rollout": rollout,
        "recipient": recipient,
        "secrets": dict(config.secrets),
        "time": {"Now": lambda: GoTime(now()), "Parse": _parse_time},
    }


def _destinations(
    config: NotificationConfig, rollout: Mapping[str, Any], trigger: str
) -> tuple[list[Destination], list[str]]:
    metadata = rollout.get("metadata") or {}
    labels = {str(k): str(v) for k, v in (metadata.get("labels") or {}).items()}
    annotations = {str(k): str(v) for k, v in (metadata.get("annotations") or {}).items()}
    found: list[Destination] = []
    problems: list[str] = []
    for subscription in config.subscriptions:
        try:
            if not selector_matches(subscription.selector, labels):
                continue
        except ValueError as error:
            problems.append(f"subscriptions: {error}")
            continue
        wanted = subscription.triggers or config.default_triggers
        if trigger in wanted:
            found.extend(subscription.destinations())
    by_trigger, annotation_problems = annotation_destinations(
        annotations, config.default_triggers, config.service_default_triggers
    )
    problems.extend(annotation_problems)
    for destination in by_trigger.get(trigger, []):
        if destination not in found:
            found.append(destination)
    return found, problems


def plan_notifications(
    config: NotificationConfig, rollout: Mapping[str, Any], reason: str, now: Callable[[], datetime]
) -> Plan:
    trigger = trigger_name(reason)
    destinations, problems = _destinations(config, rollout, trigger)
    if not destinations:
        return Plan(problems=tuple(problems))
    conditions = config.trigger(trigger)
    if conditions is None:
        return Plan(
            failures=(Failure(trigger, f"trigger {trigger} is not configured"),), problems=tuple(problems)
        )
    if isinstance(conditions, str):
        return Plan(failures=(Failure(trigger, conditions),), problems=tuple(problems))
    results = run_trigger(conditions, {"rollout": rollout})
    deliveries: list[Delivery] = []
    failures: list[Failure] = []
    for destination in destinations:
        service = config.services.get(destination.service)
        if service is None:
            failures.append(
                Failure(
                    trigger, f"notification service '{destination.service}' is not configured", destination
                )
            )
            continue
        for result in results:
            if result.error:
                failures.append(Failure(trigger, result.error, destination))
                continue
            if not result.triggered:
                continue
            try:
                templates = [_template(config, name) for name in result.templates]
                variables = template_variables(rollout, config, destination.recipient, now)
                notification = render_notification(templates, variables)
            except (TemplateError, LookupError) as error:
                failures.append(Failure(trigger, str(error), destination))
                continue
            deliveries.append(Delivery(trigger, destination, service, notification))
    return Plan(tuple(deliveries), tuple(failures), tuple(problems))


def _template(config: NotificationConfig, name: str) -> NotificationTemplate:
    template = config.template(name)
    if template is None:
        raise LookupError(f"template '{name}' is not configured")
    if isinstance(template, str):
        raise LookupError(f"template '{name}' is broken: {template}")
    return template
