"""What a router asks for: the writes that bring routing objects to the desired state.

A router returns writes, it never performs them (the sans-I/O shape of httpx's auth flows): the
same pure function serves the controller, the tests and the benchmark, and `apply` is the only
place that talks to the API server. Each write carries the Kubernetes Events Argo records on the
Rollout when it makes that change, so the shell emits exactly Argo's reasons and messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from traffic.objects import ObjectRef

__all__ = ["MERGE_PATCH", "STRATEGIC_MERGE_PATCH", "Create", "Event", "Patch", "Write"]

MERGE_PATCH: Final = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH: Final = "application/strategic-merge-patch+json"


@dataclass(frozen=True)
class Event:
    """A Kubernetes Event on the Rollout (Argo's reason and message)."""

    reason: str
    message: str
    warning: bool = False


@dataclass(frozen=True)
class Create:
    """Create ``body`` (an AlreadyExists answer means the world moved: read again)."""

    ref: ObjectRef
    body: Mapping[str, Any]
    events: tuple[Event, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Patch:
    """Patch one object; a merge patch carries the ``resourceVersion`` it was computed from."""

    ref: ObjectRef
    patch: Mapping[str, Any]
    events: tuple[Event, ...] = field(default_factory=tuple)
    content_type: str = MERGE_PATCH


Write = Create | Patch
