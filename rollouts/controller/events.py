"""Kubernetes Events on a Rollout, shaped as client-go's recorder shapes Argo's (§10.2).

Argo's notifications, dashboards and ``kubectl describe`` read ``reason``/``message``/``type`` of
core/v1 Events whose ``involvedObject`` is the Rollout; the reasons and messages come from the
planner verbatim. The body is built here, purely; the apply layer posts it and never lets a
failed Event post fail a reconcile (Events are best effort, as in client-go).
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from rollouts.planner.actions import EmitEvent
from rollouts.planner.inputs import format_time

__all__ = ["COMPONENT", "added_to_informer_event", "event_body"]

COMPONENT: Final = "rollouts-controller"
ADDED_TO_INFORMER: Final = "RolloutAddedToInformer"


def added_to_informer_event(namespace: str, name: str) -> EmitEvent:
    """What Argo posts when its informer first lists or sees a Rollout (every controller start)."""
    return EmitEvent(ADDED_TO_INFORMER, f"Rollout resource added to informer: {namespace}/{name}")


def event_body(
    rollout: Mapping[str, Any],
    *,
    reason: str,
    message: str,
    warning: bool,
    now: datetime,
    instance: str | None = None,
) -> dict[str, Any]:
    """A core/v1 Event about ``rollout`` (named ``<rollout>.<nanoseconds hex>`` like client-go)."""
    metadata = rollout.get("metadata", {})
    name = str(metadata.get("name", ""))
    namespace = str(metadata.get("namespace", ""))
    stamp = format_time(now)
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{name}.{int(now.timestamp() * 1e9):x}", "namespace": namespace},
        "involvedObject": {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "name": name,
            "namespace": namespace,
            "uid": metadata.get("uid", ""),
            "resourceVersion": metadata.get("resourceVersion", ""),
        },
        "reason": reason,
        "message": message,
        "type": "Warning" if warning else "Normal",
        "source": {"component": COMPONENT},
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "eventTime": None,
        "count": 1,
        "reportingComponent": COMPONENT,
        "reportingInstance": instance if instance is not None else socket.gethostname(),
    }
