"""Leader election over a ``coordination.k8s.io/v1`` Lease: the decisions, without I/O.

The algorithm is client-go's ``leaderelection`` (what Argo Rollouts runs): every retry period a
candidate reads the Lease and either creates it, renews it (it already holds it), takes it over
(no holder, or the holder has not changed the record for ``leaseDurationSeconds``), or waits.
Expiry is judged from the *local* time at which the candidate first saw the current record, never
from the timestamps written in the Lease, so clock skew between replicas cannot make a live
leader look expired — and garbage or missing timestamps cannot crash or mislead anyone. Writes
are full-object updates carrying the observed ``resourceVersion``: two candidates racing for an
expired Lease get one success and one 409, and the loser simply reads again next period.

The shell (`rollouts.controller.elector`) owns the clocks and the API; everything that can be
decided from "what I saw and when" lives here and is unit-tested as tables.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Final

__all__ = [
    "JITTER_FACTOR",
    "LEASE_NAME",
    "Action",
    "Decision",
    "ElectionTimings",
    "LeaseRecord",
    "Observation",
    "ObservedLease",
    "decide",
    "format_micro_time",
    "lease_object",
    "observe",
    "parse_micro_time",
    "read_lease",
    "release_spec",
    "retry_delay",
]

LEASE_NAME: Final = "argo-rollouts-controller-lock"
"""Argo's lock name (``defaultLeaderElectionLeaseLockName``), in the controller's namespace."""

JITTER_FACTOR: Final = 1.2
"""client-go's ``JitterFactor``: a retry waits between 1 and 2.2 retry periods."""

_MICRO_TIME: Final = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class ElectionTimings:
    """``--leader-election-lease-duration``/``-renew-deadline``/``-retry-period``, in seconds."""

    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def __post_init__(self) -> None:
        # client-go's NewLeaderElector refuses the same combinations.
        if self.lease_duration < 1:
            raise ValueError("--leader-election-lease-duration must be at least 1s")
        if self.lease_duration <= self.renew_deadline:
            raise ValueError(
                "--leader-election-lease-duration must be greater than --leader-election-renew-deadline"
            )
        if self.retry_period <= 0:
            raise ValueError("--leader-election-retry-period must be positive")
        if self.renew_deadline <= JITTER_FACTOR * self.retry_period:
            raise ValueError(
                "--leader-election-renew-deadline must be greater than "
                f"{JITTER_FACTOR} x --leader-election-retry-period"
            )

    @property
    def lease_duration_seconds(self) -> int:
        """What goes into ``spec.leaseDurationSeconds`` (whole seconds, truncated as in Go)."""
        return int(self.lease_duration)


@dataclass(frozen=True)
class LeaseRecord:
    """The Lease's spec as election sees it; malformed fields read as their harmless zero."""

    holder: str = ""
    lease_duration_seconds: int = 0
    acquire_time: datetime | None = None
    renew_time: datetime | None = None
    transitions: int = 0


@dataclass(frozen=True)
class ObservedLease:
    """A Lease read from the API: its record, and the metadata an update must carry back."""

    record: LeaseRecord
    metadata: Mapping[str, Any]

    @property
    def resource_version(self) -> str:
        value = self.metadata.get("resourceVersion")
        return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class Observation:
    """A record and the local (monotonic) time it was first seen unchanged."""

    record: LeaseRecord
    since: float


class Action(Enum):
    CREATE = "create"
    UPDATE = "update"
    WAIT = "wait"


@dataclass(frozen=True)
class Decision:
    """What to do this period; ``spec`` is the Lease spec to write for CREATE/UPDATE."""

    action: Action
    holder: str
    spec: Mapping[str, Any] | None = None


def parse_micro_time(value: object) -> datetime | None:
    """An RFC 3339 ``MicroTime`` (or ``Time``), or ``None`` for anything else."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def format_micro_time(moment: datetime) -> str:
    """``MicroTime`` as the API server writes it: UTC, six fractional digits, ``Z``."""
    return moment.astimezone(UTC).strftime(_MICRO_TIME)


def _count(value: object) -> int:
    """A non-negative int32-ish count; bools, floats, strings and negatives read as 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return 0
    return value


def read_lease(lease: object) -> ObservedLease:
    """Any object the API returned as a Lease, however malformed, as an `ObservedLease`.

    A spec that is missing or has the wrong types reads as "no holder, zero duration", which
    every candidate may take over: a broken Lease must not block election forever.
    """
    body = lease if isinstance(lease, Mapping) else {}
    metadata = body.get("metadata")
    spec = body.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    holder = spec.get("holderIdentity")
    record = LeaseRecord(
        holder=holder if isinstance(holder, str) else "",
        lease_duration_seconds=_count(spec.get("leaseDurationSeconds")),
        acquire_time=parse_micro_time(spec.get("acquireTime")),
        renew_time=parse_micro_time(spec.get("renewTime")),
        transitions=_count(spec.get("leaseTransitions")),
    )
    return ObservedLease(record, metadata if isinstance(metadata, Mapping) else {})


def observe(previous: Observation | None, record: LeaseRecord, now: float) -> Observation:
    """Keep the first-seen time while the record is unchanged; restart it when it changes."""
    if previous is not None and previous.record == record:
        return previous
    return Observation(record, now)


def _expired(observation: Observation, now: float) -> bool:
    return observation.since + observation.record.lease_duration_seconds <= now


def _spec(
    identity: str, timings: ElectionTimings, acquired: datetime, renewed: datetime, transitions: int
) -> dict[str, Any]:
    return {
        "holderIdentity": identity,
        "leaseDurationSeconds": timings.lease_duration_seconds,
        "acquireTime": format_micro_time(acquired),
        "renewTime": format_micro_time(renewed),
        "leaseTransitions": transitions,
    }


def decide(
    observation: Observation | None,
    identity: str,
    now: float,
    wall: datetime,
    timings: ElectionTimings,
) -> Decision:
    """One step of client-go's ``tryAcquireOrRenew``.

    ``observation`` is ``None`` when the Lease does not exist; ``now`` is the monotonic clock the
    observation was stamped with, ``wall`` the time written into the Lease.
    """
    if observation is None:
        return Decision(Action.CREATE, identity, _spec(identity, timings, wall, wall, 0))
    record = observation.record
    if record.holder == identity:
        # Renewal keeps the acquisition; a lost or garbled acquireTime restarts from now.
        acquired = record.acquire_time or wall
        return Decision(Action.UPDATE, identity, _spec(identity, timings, acquired, wall, record.transitions))
    if record.holder and not _expired(observation, now):
        return Decision(Action.WAIT, record.holder)
    return Decision(Action.UPDATE, identity, _spec(identity, timings, wall, wall, record.transitions + 1))


def release_spec(record: LeaseRecord, identity: str, wall: datetime) -> dict[str, Any] | None:
    """client-go's ``ReleaseOnCancel``: empty holder, one-second lease; ``None`` if not ours."""
    if record.holder != identity:
        return None
    return {
        "holderIdentity": "",
        "leaseDurationSeconds": 1,
        "acquireTime": format_micro_time(wall),
        "renewTime": format_micro_time(wall),
        "leaseTransitions": record.transitions,
    }


def lease_object(
    namespace: str, name: str, spec: Mapping[str, Any], observed: ObservedLease | None = None
) -> dict[str, Any]:
    """The Lease to POST (``observed`` is ``None``) or PUT (the observed metadata, with its
    ``resourceVersion`` as the optimistic-concurrency precondition)."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if observed is not None:
        metadata = {**observed.metadata, **metadata}
        metadata.pop("managedFields", None)
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": metadata,
        "spec": dict(spec),
    }


def retry_delay(retry_period: float, random_fraction: float) -> float:
    """client-go's ``wait.Jitter``: the retry period stretched by up to ``JITTER_FACTOR``."""
    fraction = min(max(random_fraction, 0.0), 1.0) if math.isfinite(random_fraction) else 0.0
    return retry_period * (1.0 + JITTER_FACTOR * fraction)
