"""Server-sent events, the wire format of the live page: framing and when to send.

A message is the whole view the page draws (its JSON), sent only when it differs from the last
one sent on that stream — or, for the overview, just the rows that changed (`overview_delta`:
an ``event: rows`` message with the rows added or changed and the ones gone), so a change to
one of 1,000 rollouts costs each page a row, not the list. Between messages a comment line
keeps proxies and the browser's ``EventSource`` from timing the stream out. Changes arriving in
a burst are coalesced by the server waiting `COALESCE_SECONDS` before it renders, so a
controller writing ten statuses in a second costs a page one or two messages. A message's id
is ``<boot>.<change counter>`` (``boot`` is random per server start): a page reconnecting with
the ``Last-Event-ID`` of the counter still current already holds the view and is sent nothing
until the next change; any other id (older, or from a server since restarted) gets a fresh
snapshot. Pure: text in, bytes out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "COALESCE_SECONDS",
    "HEARTBEAT_SECONDS",
    "RETRY_MILLISECONDS",
    "STREAM_SECONDS",
    "Next",
    "comment",
    "event_id",
    "frame",
    "last_event_id",
    "next_message",
    "overview_delta",
]

COALESCE_SECONDS = 0.3
"""Wait this long after a change before rendering, so a burst becomes one message."""
HEARTBEAT_SECONDS = 15.0
"""A comment (or a changed view: ages move) at least this often."""
STREAM_SECONDS = 300.0
"""A stream ends after this long; the browser reconnects, and is authenticated and authorized
again, so a revoked token or a removed RoleBinding stops the updates within minutes."""
RETRY_MILLISECONDS = 2000
"""How long ``EventSource`` waits before reconnecting (sent once per stream)."""


def frame(data: str, *, event_id: str | None = None, event: str | None = None) -> bytes:
    """One message; every line of ``data`` gets its own ``data:`` field, as the format needs."""
    lines = []
    if event_id is not None:
        if any(character in event_id for character in "\r\n\0"):
            raise ValueError("an event id is one line without NUL")
        lines.append(f"id: {event_id}")
    if event is not None:
        if "\n" in event or "\r" in event:
            raise ValueError("an event name is one line")
        lines.append(f"event: {event}")
    lines += [f"data: {line}" for line in data.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return ("\n".join(lines) + "\n\n").encode()


def comment(text: str = "") -> bytes:
    """A comment line: ignored by ``EventSource``, it proves the stream is alive."""
    return f": {text.replace(chr(10), ' ').replace(chr(13), ' ')}\n\n".encode()


def event_id(boot: str, version: int) -> str:
    return f"{boot}.{version}"


def last_event_id(headers: Mapping[str, str], boot: str) -> int | None:
    """The change counter a reconnecting ``EventSource`` last saw (``headers`` lower-case); None
    if absent, malformed, or from another start of the server."""
    seen_boot, _, version = headers.get("last-event-id", "").strip().partition(".")
    if seen_boot != boot or not version.isdigit() or len(version) > 18:
        return None
    return int(version)


@dataclass(frozen=True)
class Next:
    """What a stream sends now: ``message`` (the view), a ``heartbeat`` comment, or nothing."""

    message: str | None = None
    heartbeat: bool = False


def next_message(last_sent: str | None, view: str, seconds_since_write: float) -> Next:
    """Send ``view`` if it is new to this stream, else a heartbeat when one is due."""
    if view != last_sent:
        return Next(message=view)
    if seconds_since_write >= HEARTBEAT_SECONDS:
        return Next(heartbeat=True)
    return Next()


def _row_key(row: Mapping[str, Any]) -> tuple[str, str]:
    return str(row.get("namespace", "")), str(row.get("name", ""))


def overview_delta(previous: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any] | None:
    """The overview rows that changed since ``previous`` — ``upsert`` (new or changed rows),
    ``remove`` (``[namespace, name]`` of rows gone) and the ``namespaces`` now seen — or None
    when the views are not both overviews, or when most rows changed (the whole view is
    then as small and simpler to apply)."""
    before, after = previous.get("rollouts"), current.get("rollouts")
    if not isinstance(before, list) or not isinstance(after, list):
        return None
    old = {_row_key(row): row for row in before}
    new = {_row_key(row): row for row in after}
    upsert = [row for key, row in new.items() if old.get(key) != row]
    remove = [list(key) for key in old if key not in new]
    if 2 * (len(upsert) + len(remove)) > max(len(after), 1):
        return None
    return {"upsert": upsert, "remove": remove, "namespaces": current.get("namespaces", [])}
