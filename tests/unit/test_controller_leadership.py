"""Leader election decisions (`rollouts.controller.leadership`) and the ``--leader-elect*`` flags."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from rollouts.cli import build_parser
from rollouts.controller import cli
from rollouts.controller.cli import config_from_args
from rollouts.controller.leadership import (
    LEASE_NAME,
    Action,
    ElectionTimings,
    LeaseRecord,
    Observation,
    decide,
    format_micro_time,
    lease_object,
    observe,
    parse_micro_time,
    read_lease,
    release_spec,
    retry_delay,
)

ME, OTHER = "pod-a_1111", "pod-b_2222"
TIMINGS = ElectionTimings(lease_duration=15, renew_deadline=10, retry_period=2)
WALL = datetime(2026, 11, 23, 9, 0, 0, 123456, tzinfo=UTC)
STAMP = "2026-11-23T09:00:00.123456Z"
EARLIER = "2026-11-23T08:00:00.000000Z"


def lease(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": LEASE_NAME, "namespace": "ns", "resourceVersion": "41", "uid": "u"},
        "spec": spec,
    }


def held_by(holder: str, duration: int = 15, transitions: int = 3) -> LeaseRecord:
    return read_lease(
        lease(
            holderIdentity=holder,
            leaseDurationSeconds=duration,
            acquireTime=EARLIER,
            renewTime=EARLIER,
            leaseTransitions=transitions,
        )
    ).record


def my_spec(acquired: str, transitions: int) -> dict[str, Any]:
    """The spec I write at ``WALL``."""
    return {
        "holderIdentity": ME,
        "leaseDurationSeconds": 15,
        "acquireTime": acquired,
        "renewTime": STAMP,
        "leaseTransitions": transitions,
    }


# -- decide: one step of tryAcquireOrRenew


def test_a_missing_lease_is_created_with_me_as_holder() -> None:
    decision = decide(None, ME, 100.0, WALL, TIMINGS)
    assert decision.action is Action.CREATE
    assert decision.spec == my_spec(STAMP, 0)


@pytest.mark.parametrize(
    ("seen_at", "now", "duration", "action"),
    [
        (100.0, 100.0, 15, Action.WAIT),  # just seen
        (100.0, 114.999, 15, Action.WAIT),  # one instant before expiry
        (100.0, 115.0, 15, Action.UPDATE),  # expired exactly at seen + duration
        (100.0, 500.0, 15, Action.UPDATE),  # long expired
        (100.0, 100.5, 1, Action.WAIT),  # a released-then-retaken one-second lease
        (100.0, 99.0, 15, Action.WAIT),  # the clock seen before "now": never counts as expired
    ],
)
def test_another_holders_lease_is_taken_only_after_it_stayed_unchanged_for_its_duration(
    seen_at: float, now: float, duration: int, action: Action
) -> None:
    observation = Observation(held_by(OTHER, duration), seen_at)
    decision = decide(observation, ME, now, WALL, TIMINGS)
    assert decision.action is action
    if action is Action.WAIT:
        assert (decision.holder, decision.spec) == (OTHER, None)
    else:
        assert decision.spec == my_spec(STAMP, 4)  # a takeover is a transition, acquired now


def test_expiry_ignores_the_timestamps_written_in_the_lease() -> None:
    # renewTime an hour ago (another node's clock) does not make a freshly seen lease expired
    observation = observe(None, held_by(OTHER), 1000.0)
    assert decide(observation, ME, 1001.0, WALL, TIMINGS).action is Action.WAIT


def test_observing_keeps_the_first_seen_time_until_the_record_changes() -> None:
    first = observe(None, held_by(OTHER), 10.0)
    assert observe(first, held_by(OTHER), 20.0).since == 10.0
    renewed = read_lease(lease(holderIdentity=OTHER, leaseDurationSeconds=15, renewTime=STAMP)).record
    assert observe(first, renewed, 20.0) == Observation(renewed, 20.0)


def test_my_own_lease_is_renewed_keeping_acquisition_and_transitions() -> None:
    observation = Observation(held_by(ME), 0.0)
    for now in (1.0, 1000.0):  # even when "expired": it is still mine
        decision = decide(observation, ME, now, WALL, TIMINGS)
        assert decision.action is Action.UPDATE
        assert decision.spec == my_spec(EARLIER, 3)


def test_a_released_lease_is_taken_at_once() -> None:
    released = read_lease(lease(holderIdentity="", leaseDurationSeconds=1, leaseTransitions=5)).record
    decision = decide(Observation(released, 100.0), ME, 100.0, WALL, TIMINGS)
    assert decision.action is Action.UPDATE
    assert decision.spec is not None
    assert (decision.spec["holderIdentity"], decision.spec["leaseTransitions"]) == (ME, 6)


# -- malformed Leases: never a crash, never a Lease nobody can take


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"spec": None},
        {"spec": "garbage"},
        {"spec": {}},
        {"spec": {"holderIdentity": 7, "leaseDurationSeconds": 15}},
        {"spec": {"holderIdentity": OTHER}},  # no duration
        {"spec": {"holderIdentity": OTHER, "leaseDurationSeconds": "15"}},
        {"spec": {"holderIdentity": OTHER, "leaseDurationSeconds": -5}},
        {"spec": {"holderIdentity": OTHER, "leaseDurationSeconds": True}},
        {"spec": {"holderIdentity": OTHER, "leaseDurationSeconds": 15.5}},
        "not a lease",
        None,
    ],
)
def test_a_malformed_lease_reads_as_expired_and_is_taken_over(body: Any) -> None:
    observed = read_lease(body)
    decision = decide(observe(None, observed.record, 50.0), ME, 50.0, WALL, TIMINGS)
    assert decision.action is Action.UPDATE
    assert decision.spec is not None and decision.spec["holderIdentity"] == ME


@pytest.mark.parametrize(
    "timestamp", ["yesterday", "", 12, None, "2026-13-45T99:00:00Z", "2026-11-23T09:00:00"]
)
def test_garbage_timestamps_are_ignored_and_my_acquire_time_restarts(timestamp: Any) -> None:
    body = lease(
        holderIdentity=ME,
        leaseDurationSeconds=15,
        acquireTime=timestamp,
        renewTime=timestamp,
        leaseTransitions="x",
    )
    record = read_lease(body).record
    assert (record.acquire_time, record.renew_time, record.transitions) == (None, None, 0)
    decision = decide(Observation(record, 0.0), ME, 1.0, WALL, TIMINGS)
    assert decision.spec is not None
    assert (decision.spec["acquireTime"], decision.spec["leaseTransitions"]) == (STAMP, 0)


def test_micro_times_round_trip_in_the_api_servers_format() -> None:
    assert format_micro_time(WALL) == STAMP
    assert parse_micro_time(STAMP) == WALL
    assert parse_micro_time("2026-11-23T10:00:00.123456+01:00") == WALL
    assert format_micro_time(WALL.astimezone(timezone(timedelta(hours=2)))) == STAMP


# -- writes and release


def test_an_update_carries_the_observed_resource_version_and_metadata() -> None:
    observed = read_lease(
        lease(holderIdentity=ME) | {"metadata": {"resourceVersion": "41", "labels": {"a": "b"}}}
    )
    body = lease_object("ns", LEASE_NAME, {"holderIdentity": ME}, observed)
    assert body["metadata"] == {
        "resourceVersion": "41",
        "labels": {"a": "b"},
        "name": LEASE_NAME,
        "namespace": "ns",
    }
    assert body["spec"] == {"holderIdentity": ME}
    assert observed.resource_version == "41"
    created = lease_object("ns", LEASE_NAME, {"holderIdentity": ME})
    assert created["metadata"] == {"name": LEASE_NAME, "namespace": "ns"}
    assert (created["apiVersion"], created["kind"]) == ("coordination.k8s.io/v1", "Lease")


def test_a_lease_without_metadata_has_no_resource_version() -> None:
    assert read_lease({"metadata": "x"}).resource_version == ""
    assert read_lease({"metadata": {"resourceVersion": 5}}).resource_version == ""


def test_release_empties_the_holder_only_when_the_lease_is_mine() -> None:
    assert release_spec(held_by(ME), ME, WALL) == {
        "holderIdentity": "",
        "leaseDurationSeconds": 1,
        "acquireTime": STAMP,
        "renewTime": STAMP,
        "leaseTransitions": 3,
    }
    assert release_spec(held_by(OTHER), ME, WALL) is None


@pytest.mark.parametrize(
    ("fraction", "delay"), [(0.0, 2.0), (1.0, 4.4), (0.5, 3.2), (-3.0, 2.0), (7.0, 4.4), (float("nan"), 2.0)]
)
def test_retries_are_jittered_like_client_go(fraction: float, delay: float) -> None:
    assert retry_delay(2.0, fraction) == pytest.approx(delay)


@pytest.mark.parametrize(
    ("lease_duration", "renew", "retry", "message"),
    [
        (10, 10, 2, "lease-duration must be greater than"),
        (15, 2, 2, "renew-deadline must be greater than 1.2"),
        (15, 10, 0, "retry-period must be positive"),
        (0.5, 0.4, 0.1, "lease-duration must be at least 1s"),
    ],
)
def test_inconsistent_timings_are_refused(
    lease_duration: float, renew: float, retry: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ElectionTimings(lease_duration, renew, retry)


# -- flags


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["controller", *argv])


@pytest.fixture
def outside_a_pod(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("POD_NAMESPACE", raising=False)
    monkeypatch.setattr(cli, "SERVICE_ACCOUNT_NAMESPACE", tmp_path / "absent")


@pytest.mark.usefixtures("outside_a_pod")
def test_election_defaults_to_off_outside_a_pod_and_on_with_argos_timings_when_asked() -> None:
    assert config_from_args(parse()).leader_election is None
    election = config_from_args(parse("--leader-elect")).leader_election
    assert election is not None
    assert (election.namespace, election.lease_name) == ("argo-rollouts", LEASE_NAME)
    assert election.timings == ElectionTimings(15.0, 10.0, 2.0)


def test_election_defaults_to_on_in_the_controllers_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POD_NAMESPACE", "rollouts-system")
    election = config_from_args(parse()).leader_election
    assert election is not None and election.namespace == "rollouts-system"
    assert config_from_args(parse("--leader-elect=false")).leader_election is None


@pytest.mark.usefixtures("outside_a_pod")
def test_election_flags_take_go_spellings() -> None:
    for spelling in ("--leader-elect=true", "--leader-elect=1", "--leader-elect=T"):
        assert config_from_args(parse(spelling)).leader_election is not None
    election = config_from_args(
        parse(
            "--leader-elect=True",
            "--leader-election-namespace=ns1",
            "--leader-election-lease-duration=4s",
            "--leader-election-renew-deadline=3000ms",
            "--leader-election-retry-period=1s",
        )
    ).leader_election
    assert election is not None
    assert (election.namespace, election.timings) == ("ns1", ElectionTimings(4.0, 3.0, 1.0))


@pytest.mark.usefixtures("outside_a_pod")
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--leader-elect", "--leader-election-lease-duration=15"), "lease-duration must be a duration"),
        (("--leader-elect", "--leader-election-retry-period=soon"), "retry-period must be a duration"),
        (("--leader-elect", "--leader-election-renew-deadline=20s"), "lease-duration must be greater"),
    ],
)
def test_bad_election_flags_are_refused_with_a_message(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        config_from_args(parse(*argv))


def test_a_non_boolean_leader_elect_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse("--leader-elect=maybe")
    assert "must be true or false, not 'maybe'" in capsys.readouterr().err


@pytest.mark.usefixtures("outside_a_pod")
def test_bad_durations_are_refused_even_while_election_is_off() -> None:
    with pytest.raises(ValueError, match="retry-period must be a duration"):
        config_from_args(parse("--leader-elect=false", "--leader-election-retry-period=x"))
