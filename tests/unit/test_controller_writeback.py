"""Our own writes win over a lagging watch until it catches up (`rollouts.controller.writeback`)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from rollouts.controller.writeback import WriteBack, newer


@dataclass(frozen=True)
class Record:
    name: str
    resource_version: str
    replicas: int = 0


@pytest.mark.parametrize(
    ("candidate", "than", "expected"),
    [
        ("11", "10", True),
        ("10", "10", False),
        ("9", "10", False),
        ("100", "99", True),
        ("x", "1", False),
        ("2", "", True),
    ],
)
def test_resource_versions_compare_as_integers(candidate: str, than: str, expected: bool) -> None:
    assert newer(candidate, than) is expected


def test_a_write_newer_than_the_watch_is_used_until_the_watch_catches_up() -> None:
    memory: WriteBack[Record] = WriteBack()
    memory.remember(Record("web-a", "12", replicas=3))
    assert memory.merge([Record("web-a", "10", replicas=1)]) == [Record("web-a", "12", replicas=3)]
    assert memory.merge([Record("web-a", "12", replicas=3)]) == [Record("web-a", "12", replicas=3)]
    assert len(memory) == 0
    assert memory.merge([Record("web-a", "15", replicas=4)]) == [Record("web-a", "15", replicas=4)]


def test_a_created_object_is_seen_before_the_watch_delivers_it() -> None:
    memory: WriteBack[Record] = WriteBack()
    memory.remember(Record("web-new", "20"))
    assert memory.merge([Record("web-old", "5")]) == [Record("web-old", "5"), Record("web-new", "20")]


def test_a_deleted_object_stays_gone_until_the_watch_drops_it_or_it_is_recreated() -> None:
    memory: WriteBack[Record] = WriteBack()
    memory.forget_deleted("web-old", "30")
    assert memory.merge([Record("web-old", "25")]) == []
    assert memory.merge([Record("web-old", "31")]) == [Record("web-old", "31")]  # recreated since
    memory.forget_deleted("web-old", "40")
    assert memory.merge([]) == []
    assert len(memory) == 0


def test_a_non_numeric_version_never_overrides_the_watch() -> None:
    memory: WriteBack[Record] = WriteBack()
    memory.remember(Record("web-a", "opaque", replicas=9))
    assert memory.merge([Record("web-a", "10", replicas=1)]) == [Record("web-a", "10", replicas=1)]
