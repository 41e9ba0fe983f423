"""Event correlation as client-go's recorder does it for Argo's controller, without I/O.

Two rules decide what reaches the API for each Event the controller reports:

* **Repeats are counted, not posted again.** An Event equal to one already posted (same source,
  involved object, type, reason and message) becomes a patch of that Event: ``count`` + 1, a new
  ``lastTimestamp``. ``kubectl describe`` shows ``x2``, and a Rollout that pauses many times keeps
  one Event object per message.
* **Many similar Events are combined.** When the same object gets Events of one type and reason
  with 10 or more distinct messages within 10 minutes (the steps of a canary, each
  ``ScalingReplicaSet`` with other numbers), further ones are reported as one Event whose message
  is prefixed ``(combined from similar events): `` and which is counted from then on.

client-go also drops an object's Events beyond a burst of 25 (then one per 5 minutes). We do not:
every Event is kept, counted or combined (docs/compatibility.md).

The cache is bounded (least recently used entries go first, 4,096 like client-go's) and lives in
memory: after a restart the first repeat is posted as a new Event, as with client-go.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from rollouts.planner.inputs import format_time

__all__ = ["COMBINED_PREFIX", "Correlated", "Correlator"]

COMBINED_PREFIX: Final = "(combined from similar events): "
MAX_ENTRIES: Final = 4096
SIMILAR_LIMIT: Final = 10
SIMILAR_INTERVAL: Final = timedelta(seconds=600)


@dataclass(frozen=True)
class Correlated:
    """What to send: ``body`` to create, or ``patch`` for the existing Event ``body`` names
    (``body`` is then the Event as it will be after the patch, to create if it is gone)."""

    body: dict[str, Any]
    patch: dict[str, Any] | None = None


@dataclass
class _Similar:
    messages: set[str] = field(default_factory=set)
    last: datetime | None = None


@dataclass(frozen=True)
class _Posted:
    count: int
    first_timestamp: Any
    name: str


def _object_key(body: Mapping[str, Any]) -> tuple[Any, ...]:
    source = body.get("source") or {}
    involved = body.get("involvedObject") or {}
    return (
        source.get("component"),
        source.get("host"),
        involved.get("kind"),
        involved.get("namespace"),
        involved.get("name"),
        involved.get("uid"),
        involved.get("apiVersion"),
        body.get("type"),
        body.get("reason"),
    )


def _event_key(body: Mapping[str, Any]) -> tuple[Any, ...]:
    field_path = (body.get("involvedObject") or {}).get("fieldPath")
    return (*_object_key(body), field_path, body.get("message"))


def _similar_key(body: Mapping[str, Any]) -> tuple[Any, ...]:
    return (*_object_key(body), body.get("reportingComponent"), body.get("reportingInstance"))


class _Lru(OrderedDict[tuple[Any, ...], Any]):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def get_fresh(self, key: tuple[Any, ...]) -> Any:
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)


class Correlator:
    """The recorder's memory of what it posted (one per controller process)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._similar = _Lru(max_entries)
        self._posted = _Lru(max_entries)

    def correlate(self, body: Mapping[str, Any], now: datetime) -> Correlated:
        event, key = self._aggregate(dict(body), now)
        last: _Posted | None = self._posted.get_fresh(key)
        if last is None:
            first = _Posted(int(event.get("count") or 1), event.get("firstTimestamp"), _name(event))
            self._posted.put(key, first)
            return Correlated(event)
        count = last.count + 1
        event["metadata"] = {**event.get("metadata", {}), "name": last.name}
        event["firstTimestamp"] = last.first_timestamp
        event["count"] = count
        self._posted.put(key, _Posted(count, last.first_timestamp, last.name))
        patch = {"count": count, "lastTimestamp": event.get("lastTimestamp"), "message": event.get("message")}
        return Correlated(event, patch)

    def posted(self, event: Mapping[str, Any]) -> None:
        """Remember an Event as the API server accepted it (its name may be new after a 404)."""
        count = int(event.get("count") or 1)
        self._posted.put(_event_key(event), _Posted(count, event.get("firstTimestamp"), _name(event)))

    def _aggregate(self, event: dict[str, Any], now: datetime) -> tuple[dict[str, Any], tuple[Any, ...]]:
        similar_key = _similar_key(event)
        record: _Similar = self._similar.get_fresh(similar_key) or _Similar()
        if record.last is not None and now - record.last > SIMILAR_INTERVAL:
            record = _Similar()
        record.messages.add(str(event.get("message")))
        record.last = now
        self._similar.put(similar_key, record)
        if len(record.messages) < SIMILAR_LIMIT:
            return event, _event_key(event)
        record.messages.pop()  # as client-go: one message leaves, so the set stays at the limit
        involved = event.get("involvedObject") or {}
        stamp = format_time(now)
        combined = {
            **event,
            "metadata": {
                "name": f"{involved.get('name', '')}.{int(now.timestamp() * 1e9):x}",
                "namespace": event.get("metadata", {}).get("namespace"),
            },
            "message": COMBINED_PREFIX + str(event.get("message")),
            "count": 1,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
        }
        return combined, similar_key


def _name(event: Mapping[str, Any]) -> str:
    return str((event.get("metadata") or {}).get("name", ""))
