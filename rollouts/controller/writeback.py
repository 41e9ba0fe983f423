"""Our own writes win over a watch that has not delivered them yet (Argo's ``writeBackToInformer``).

After a pass scales a ReplicaSet or patches the status, the API answers with the new object at
once, but the watch event carrying it may arrive after the next pass has started (another child's
event woke it). Planning from the older cached copy would repeat the scale (and its Event) or
diff the status against a stale one. So each Rollout's loop remembers the objects its writes
returned, and a lookup takes whichever copy — the watch's or ours — has the higher
``resourceVersion``; once the watch has caught up the remembered copy is dropped. A deletion is
remembered as a tombstone until the watch stops listing the object.

Resource versions are compared as integers, as etcd issues them; a non-numeric one (another
storage) is never considered newer than the watch's copy, so the watch stays authoritative.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

__all__ = ["Versioned", "WriteBack", "newer"]


class Versioned(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def resource_version(self) -> str: ...


T = TypeVar("T", bound=Versioned)


def newer(candidate: str, than: str) -> bool:
    """Whether resourceVersion ``candidate`` is strictly newer than ``than`` (numeric only)."""
    if not candidate.isdigit():
        return False
    if not than.isdigit():
        return True
    return int(candidate) > int(than)


@dataclass
class _Tombstone:
    resource_version: str


@dataclass
class WriteBack(Generic[T]):
    """Remembered results of our writes for one kind of child of one Rollout."""

    _written: dict[str, T | _Tombstone] = field(default_factory=dict)

    def remember(self, record: T) -> None:
        self._written[record.name] = record

    def forget_deleted(self, name: str, resource_version: str) -> None:
        self._written[name] = _Tombstone(resource_version)

    def merge(self, watched: Iterable[T]) -> list[T]:
        """The freshest copy of every object: the watch's, unless a write of ours is newer."""
        result: dict[str, T] = {}
        seen: set[str] = set()
        for record in watched:
            seen.add(record.name)
            mine = self._written.get(record.name)
            if mine is None:
                result[record.name] = record
            elif isinstance(mine, _Tombstone):
                if newer(record.resource_version, mine.resource_version):
                    del self._written[record.name]  # recreated since we deleted it
                    result[record.name] = record
            elif newer(mine.resource_version, record.resource_version):
                result[record.name] = mine
            else:
                del self._written[record.name]  # the watch has caught up
                result[record.name] = record
        for name, mine in list(self._written.items()):
            if name in seen:
                continue
            if isinstance(mine, _Tombstone):
                del self._written[name]  # the watch no longer lists it either
            else:
                result[name] = mine  # created by us, not yet seen by the watch
        return list(result.values())

    def __len__(self) -> int:
        return len(self._written)
