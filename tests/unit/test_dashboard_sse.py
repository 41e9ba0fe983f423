"""Server-sent events: message framing, heartbeats, when a view is (not) sent again, Last-Event-ID."""

from __future__ import annotations

import pytest

from rollouts.dashboard.sse import (
    HEARTBEAT_SECONDS,
    Next,
    comment,
    event_id,
    frame,
    last_event_id,
    next_message,
    overview_delta,
)


def test_a_message_is_id_then_data_then_a_blank_line() -> None:
    assert frame('{"a": 1}', event_id="b00t.7") == b'id: b00t.7\ndata: {"a": 1}\n\n'
    assert frame("x") == b"data: x\n\n"


def test_every_line_of_the_data_gets_its_own_field() -> None:
    assert frame("one\ntwo\r\nthree\rfour", event="failure") == (
        b"event: failure\ndata: one\ndata: two\ndata: three\ndata: four\n\n"
    )


def test_an_event_name_or_id_cannot_smuggle_a_field() -> None:
    with pytest.raises(ValueError, match="one line"):
        frame("x", event="failure\ndata: evil")
    with pytest.raises(ValueError, match="one line"):
        frame("x", event_id="1\ndata: evil")


def test_a_comment_is_one_line_the_browser_ignores() -> None:
    assert comment("keep-alive") == b": keep-alive\n\n"
    assert comment("a\ndata: b") == b": a data: b\n\n"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"last-event-id": "b00t.42"}, 42),
        ({"last-event-id": " b00t.42 "}, 42),
        ({"last-event-id": "other.42"}, None),  # a previous start of the server
        ({"last-event-id": "42"}, None),
        ({"last-event-id": "b00t.-1"}, None),
        ({"last-event-id": "b00t.abc"}, None),
        ({"last-event-id": "b00t." + "9" * 40}, None),
        ({}, None),
    ],
)
def test_last_event_id(headers: dict[str, str], expected: int | None) -> None:
    assert last_event_id(headers, "b00t") == expected
    assert last_event_id({"last-event-id": event_id("b00t", 7)}, "b00t") == 7


def test_a_new_view_is_sent_at_once() -> None:
    assert next_message(None, "v1", 0.0) == Next(message="v1")
    assert next_message("v1", "v2", 0.0) == Next(message="v2")


def test_an_unchanged_view_is_not_sent_again_but_a_heartbeat_is_when_due() -> None:
    assert next_message("v1", "v1", 1.0) == Next()
    assert next_message("v1", "v1", HEARTBEAT_SECONDS) == Next(heartbeat=True)
    assert next_message("v1", "v1", HEARTBEAT_SECONDS + 60) == Next(heartbeat=True)


def _row(name: str, status: str = "Healthy", namespace: str = "shop") -> dict[str, str]:
    return {"namespace": namespace, "name": name, "status": status}


def _overview(*rows: dict[str, str]) -> dict[str, object]:
    return {"rollouts": list(rows), "namespaces": sorted({row["namespace"] for row in rows})}


def test_an_overview_change_is_sent_as_the_rows_that_changed() -> None:
    before = _overview(*(_row(f"web-{i}") for i in range(10)))
    after = _overview(
        *(_row(f"web-{i}", "Paused" if i == 3 else "Healthy") for i in range(1, 10)),
        _row("new", namespace="pay"),
    )
    assert overview_delta(before, after) == {
        "upsert": [_row("web-3", "Paused"), _row("new", namespace="pay")],
        "remove": [["shop", "web-0"]],
        "namespaces": ["pay", "shop"],
    }


def test_an_unchanged_overview_has_an_empty_delta() -> None:
    view = _overview(_row("a"), _row("b"))
    assert overview_delta(view, view) == {"upsert": [], "remove": [], "namespaces": ["shop"]}


def test_the_whole_view_when_most_rows_changed_or_it_is_not_an_overview() -> None:
    before = _overview(_row("a"), _row("b"), _row("c"))
    assert overview_delta(before, _overview(_row("a", "x"), _row("b", "x"), _row("c"))) is None
    assert overview_delta(before, _overview(_row("a", "x"), _row("b"), _row("c"))) is not None
    assert overview_delta({}, before) is None  # nothing sent yet
    assert overview_delta(before, {"name": "web", "steps": []}) is None  # a rollout page
    assert overview_delta(_overview(), _overview()) == {"upsert": [], "remove": [], "namespaces": []}
