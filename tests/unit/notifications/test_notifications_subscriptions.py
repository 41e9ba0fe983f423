"""Subscription annotations (both key forms and subscribe_yaml) and label selectors."""

from __future__ import annotations

import pytest

from rollouts.notifications.subscriptions import (
    Destination,
    GlobalSubscription,
    annotation_destinations,
    selector_matches,
)

PREFIX = "notifications.argoproj.io/subscribe"


def test_trigger_and_service_in_the_key_with_semicolon_separated_recipients() -> None:
    found, problems = annotation_destinations(
        {f"{PREFIX}.on-rollout-completed.slack": "team-a; team-b;;"}, (), {}
    )
    assert found == {"on-rollout-completed": [Destination("slack", "team-a"), Destination("slack", "team-b")]}
    assert problems == []


def test_an_empty_value_is_one_empty_recipient() -> None:
    found, _ = annotation_destinations({f"{PREFIX}.on-rollout-paused.hook": ""}, (), {})
    assert found == {"on-rollout-paused": [Destination("hook", "")]}


def test_service_only_key_uses_the_services_default_triggers_else_the_global_ones() -> None:
    annotations = {f"{PREFIX}.slack": "ops", f"{PREFIX}.hook": ""}
    found, _ = annotation_destinations(
        annotations, ("on-rollout-completed",), {"slack": ("on-rollout-aborted", "on-rollout-paused")}
    )
    assert found == {
        "on-rollout-completed": [Destination("hook", "")],
        "on-rollout-aborted": [Destination("slack", "ops")],
        "on-rollout-paused": [Destination("slack", "ops")],
    }


def test_service_only_key_without_default_triggers_subscribes_to_nothing() -> None:
    found, _ = annotation_destinations({f"{PREFIX}.slack": "ops"}, (), {})
    assert found == {}


def test_unrelated_annotations_are_ignored() -> None:
    found, problems = annotation_destinations({"rollout.argoproj.io/revision": "3", "a": "b"}, ("x",), {})
    assert (found, problems) == ({}, [])


def test_subscribe_yaml_lists_triggers_and_destinations() -> None:
    text = """
- trigger: [on-rollout-completed, on-rollout-aborted]
  destinations:
    - service: slack
      recipients: [a, b]
    - service: hook
"""
    found, problems = annotation_destinations({f"{PREFIX}_yaml": text}, (), {})
    assert problems == []
    expected = [Destination("slack", "a"), Destination("slack", "b"), Destination("hook", "")]
    assert found == {"on-rollout-completed": expected, "on-rollout-aborted": expected}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[unclosed", "not YAML"),
        ("a: b", "expected a list"),
        ("- 3", "not a mapping"),
        ("- trigger: [x]\n  destinations: [{recipients: [a]}]", "without a service"),
    ],
)
def test_malformed_subscribe_yaml_is_a_problem_not_a_crash(text: str, problem: str) -> None:
    found, problems = annotation_destinations({f"{PREFIX}_yaml": text}, (), {})
    assert found == {}
    assert any(problem in item for item in problems), problems


def test_a_key_without_service_is_a_problem() -> None:
    _, problems = annotation_destinations({f"{PREFIX}.": "a"}, ("x",), {})
    assert problems and "no service" in problems[0]


def test_global_subscription_recipients_name_service_and_recipient() -> None:
    subscription = GlobalSubscription(("slack:ops", "hook"), ("on-rollout-completed",), "")
    assert subscription.destinations() == [Destination("slack", "ops"), Destination("hook", "")]


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        ("", {}, True),
        ("app=web", {"app": "web"}, True),
        ("app==web", {"app": "db"}, False),
        ("app!=web", {"app": "db"}, True),
        ("app!=web", {}, True),
        ("app", {"app": "x"}, True),
        ("!app", {"app": "x"}, False),
        ("app in (web, api)", {"app": "api"}, True),
        ("app notin (web)", {"app": "web"}, False),
        ("app=web,tier=front", {"app": "web", "tier": "back"}, False),
    ],
)
def test_label_selectors(selector: str, labels: dict[str, str], matches: bool) -> None:
    assert selector_matches(selector, labels) is matches


def test_an_unreadable_selector_is_refused() -> None:
    with pytest.raises(ValueError, match="invalid label selector"):
        selector_matches("app=(", {})
