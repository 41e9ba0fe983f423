"""Per-user access: which SubjectAccessReviews each route needs, review bodies, answers, the cache."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.dashboard.access import (
    ResourceCheck,
    TtlCache,
    UserInfo,
    action_read_checks,
    action_write_checks,
    denial,
    parse_access_review,
    parse_token_review,
    read_checks,
    required_denials,
    subject_access_review,
    token_key,
    token_review,
)
from rollouts.planner import operations

ALICE = UserInfo(
    "system:serviceaccount:shop:alice", "u-1", ("system:serviceaccounts", "system:authenticated")
)


def _described(checks: list[ResourceCheck]) -> list[str]:
    return [check.describe() + ("" if check.required else " (optional)") for check in checks]


def test_the_overview_lists_rollouts_and_their_replica_sets() -> None:
    assert _described(read_checks("list", "shop")) == [
        'list rollouts.argoproj.io in namespace "shop"',
        'list replicasets.apps in namespace "shop"',
    ]
    assert _described(read_checks("list", "")) == [
        "list rollouts.argoproj.io in all namespaces",
        "list replicasets.apps in all namespaces",
    ]


def test_a_rollout_page_reads_the_rollout_and_its_children() -> None:
    assert _described(read_checks("detail", "shop", "web")) == [
        'get rollouts.argoproj.io "web" in namespace "shop"',
        'list replicasets.apps in namespace "shop"',
        'list pods in namespace "shop"',
        'list analysisruns.argoproj.io in namespace "shop"',
        'list experiments.argoproj.io in namespace "shop"',
        'list events in namespace "shop" (optional)',
        'list jobs.batch in namespace "shop" (optional)',
    ]


def test_no_checks_for_an_unknown_view() -> None:
    with pytest.raises(ValueError, match="no read checks for view 'action'"):
        read_checks("action", "shop")


def test_an_action_reads_the_rollout_and_undo_its_history() -> None:
    assert _described(action_read_checks("shop", "web", "promote")) == [
        'get rollouts.argoproj.io "web" in namespace "shop"'
    ]
    assert (
        _described(action_read_checks("shop", "web", "undo"))[1]
        == 'list replicasets.apps in namespace "shop"'
    )


PAUSED: dict[str, Any] = {
    "metadata": {"name": "web", "namespace": "shop", "generation": 2},
    "spec": {"strategy": {"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}}},
    "status": {
        "currentStepIndex": 1,
        "pauseConditions": [{"reason": "CanaryPauseStep"}],
        "controllerPause": True,
    },
}


@pytest.mark.parametrize(
    ("patches", "expected"),
    [
        (operations.abort(PAUSED), ['patch rollouts.argoproj.io/status "web" in namespace "shop"']),
        (operations.pause(PAUSED), ['patch rollouts.argoproj.io "web" in namespace "shop"']),
        (
            operations.resume({**PAUSED, "spec": {**PAUSED["spec"], "paused": True}}),
            [
                'patch rollouts.argoproj.io "web" in namespace "shop"',
                'patch rollouts.argoproj.io/status "web" in namespace "shop"',
            ],
        ),
        (
            operations.Patches(json_patch=[{"op": "add"}]),
            ['patch rollouts.argoproj.io "web" in namespace "shop"'],
        ),
        (operations.Patches(), []),
    ],
)
def test_an_action_writes_what_its_patches_touch(patches: operations.Patches, expected: list[str]) -> None:
    assert _described(action_write_checks("shop", "web", patches)) == expected


def test_promote_at_a_pause_step_writes_the_status_only() -> None:
    checks = action_write_checks("shop", "web", operations.promote(PAUSED))
    assert _described(checks) == ['patch rollouts.argoproj.io/status "web" in namespace "shop"']


def test_a_denial_names_the_user_the_request_and_the_reason() -> None:
    check = ResourceCheck("patch", "rollouts", "argoproj.io", "shop", "web", subresource="status")
    assert denial(ALICE, check, "") == (
        'user "system:serviceaccount:shop:alice" may not '
        'patch rollouts.argoproj.io/status "web" in namespace "shop"'
    )
    assert denial(ALICE, check, "no RBAC policy matched").endswith(": no RBAC policy matched")


def test_the_subject_access_review_body() -> None:
    check = ResourceCheck("patch", "rollouts", "argoproj.io", "shop", "web", subresource="status")
    user = UserInfo("bob", "", ("devs",), (("scopes", ("a", "b")),))
    assert subject_access_review(user, check) == {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": "bob",
            "groups": ["devs"],
            "extra": {"scopes": ["a", "b"]},
            "resourceAttributes": {
                "verb": "patch",
                "resource": "rollouts",
                "group": "argoproj.io",
                "namespace": "shop",
                "name": "web",
                "subresource": "status",
            },
        },
    }
    cluster_wide = subject_access_review(ALICE, ResourceCheck("list", "pods"))
    assert cluster_wide["spec"]["resourceAttributes"] == {"verb": "list", "resource": "pods", "group": ""}
    assert cluster_wide["spec"]["uid"] == "u-1"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            {"status": {"allowed": True, "reason": "RBAC: allowed by RoleBinding"}},
            (True, "RBAC: allowed by RoleBinding"),
        ),
        ({"status": {"allowed": False}}, (False, "")),
        (
            {"status": {"allowed": True, "denied": True, "reason": "webhook says no"}},
            (False, "webhook says no"),
        ),
        ({"status": {"allowed": "true"}}, (False, "")),  # only a JSON true allows
        ({"status": {"evaluationError": "broken policy"}}, (False, "broken policy")),
        ({}, (False, "")),
    ],
)
def test_access_review_answers(answer: dict[str, object], expected: tuple[bool, str]) -> None:
    assert parse_access_review(answer) == expected


def test_token_reviews() -> None:
    assert token_review("abc")["spec"] == {"token": "abc"}
    answer = {
        "status": {
            "authenticated": True,
            "user": {"username": "alice", "uid": "7", "groups": ["g1", "g2"], "extra": {"k": ["v"]}},
        }
    }
    assert parse_token_review(answer) == UserInfo("alice", "7", ("g1", "g2"), (("k", ("v",)),))
    assert (
        parse_token_review({"status": {"authenticated": False, "error": "token expired"}}) == "token expired"
    )
    assert "not accepted" in str(parse_token_review({"status": {}}))
    assert "named no user" in str(parse_token_review({"status": {"authenticated": True, "user": {}}}))
    assert "not accepted" in str(parse_token_review({"status": "garbage"}))


def test_only_required_denials_refuse() -> None:
    events = ResourceCheck("list", "events", "", "shop", required=False)
    rollouts = ResourceCheck("get", "rollouts", "argoproj.io", "shop", "web")
    assert required_denials([(events, False, ""), (rollouts, True, "")]) == []
    assert required_denials([(rollouts, False, "nope")]) == [(rollouts, "nope")]


def test_token_keys_are_digests() -> None:
    assert token_key("abc") == token_key("abc") != token_key("abd")
    assert "abc" not in token_key("abc")


def test_the_cache_expires_and_stays_bounded() -> None:
    now = [100.0]
    cache: TtlCache[str, int] = TtlCache(size=2, clock=lambda: now[0])
    cache.put("a", 1, ttl=10)
    assert cache.get("a") == 1
    now[0] = 110.0
    assert cache.get("a") is None  # expired, and dropped
    assert len(cache) == 0
    for key, value in (("a", 1), ("b", 2), ("c", 3)):
        cache.put(key, value, ttl=10)
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (None, 2, 3, 2)
    cache.put("b", 20, ttl=1)  # re-put refreshes its place and deadline
    now[0] = 111.5
    assert cache.get("b") is None and cache.get("c") == 3
