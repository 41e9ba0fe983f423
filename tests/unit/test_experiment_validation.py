"""InvalidSpec for Experiments (§8.1): Argo's checks and messages, malformed input, the plan's reaction."""

from __future__ import annotations

from typing import Any

import pytest
from experiment_world import NOW, experiment, stamp, template, with_status

from rollouts.experiments import Observed, plan_experiment
from rollouts.experiments.validation import invalid_spec_message
from rollouts.planner.actions import EmitEvent


def _edit(change: Any) -> dict[str, Any]:
    body = experiment(template("a"), template("b"))
    change(body["spec"])
    return body


def _set(path: str, value: Any) -> Any:
    def change(spec: dict[str, Any]) -> None:
        *head, last = path.split(".")
        node: Any = spec
        for key in head:
            node = node[int(key)] if key.isdigit() else node[key]
        if value is DELETE:
            del node[last]
        else:
            node[int(last) if last.isdigit() else last] = value

    return change


DELETE = object()

CASES = [
    (
        "missing selector",
        _set("templates.1.selector", DELETE),
        "Rollout has missing field '.Spec.Templates[1].Selector'",
    ),
    (
        "null selector",
        _set("templates.0.selector", None),
        "Rollout has missing field '.Spec.Templates[0].Selector'",
    ),
    (
        "selector not an object",
        _set("templates.0.selector", "app=x"),
        "Rollout has missing field '.Spec.Templates[0].Selector'",
    ),
    (
        "empty selector",
        _set("templates.1.selector", {}),
        "This experiment is selecting all pods at index 1. A non-empty selector is required.",
    ),
    (
        "empty matchLabels",
        _set("templates.0.selector", {"matchLabels": {}}),
        "This experiment is selecting all pods at index 0. A non-empty selector is required.",
    ),
    (
        "minReadySeconds over the default deadline",
        _set("templates.0.minReadySeconds", 601),
        "MinReadySeconds cannot be longer than ProgressDeadlineSeconds. Check template index 0",
    ),
    (
        "minReadySeconds over a set deadline",
        lambda s: (s["templates"][1].update(minReadySeconds=31), s.update(progressDeadlineSeconds=30)),
        "MinReadySeconds cannot be longer than ProgressDeadlineSeconds. Check template index 1",
    ),
    ("empty name", _set("templates.1.name", ""), "Experiment ex has empty template name at index 1"),
    ("missing name", _set("templates.0.name", DELETE), "Experiment ex has empty template name at index 0"),
    (
        "repeated name",
        _set("templates.1.name", "a"),
        "Experiment ex has repeated template name 'a' in templates",
    ),
    (
        "template not an object",
        _set("templates.1", "oops"),
        "spec.templates[1]: Invalid value: must be an object",
    ),
    ("templates not a list", _set("templates", {"a": 1}), "spec.templates: Invalid value: must be a list"),
    (
        "pod template missing",
        _set("templates.0.template", DELETE),
        "Rollout has missing field '.Spec.Templates[0].Template'",
    ),
    (
        "bad duration",
        _set("duration", "10x"),
        'spec.duration: Invalid value: "10x": time: unknown unit "x" in duration "10x"',
    ),
    (
        "duration without unit",
        _set("duration", "10"),
        'spec.duration: Invalid value: "10": time: missing unit in duration "10"',
    ),
    (
        "analysis without name",
        _set("analyses", [{"templateName": "t"}]),
        "spec.analyses[0].name: Required value",
    ),
    (
        "analysis without template",
        _set("analyses", [{"name": "a"}]),
        "spec.analyses[0].templateName: Required value",
    ),
    ("analysis not an object", _set("analyses", ["a"]), "spec.analyses[0].name: Required value"),
    ("analyses not a list", _set("analyses", "a"), "spec.analyses: Invalid value: must be a list"),
    (
        "repeated analysis",
        _set("analyses", [{"name": "a", "templateName": "t"}, {"name": "a", "templateName": "u"}]),
        "Experiment ex has repeated analysis name 'a' in analyses",
    ),
]


def test_a_valid_spec_has_no_message() -> None:
    assert invalid_spec_message(experiment(duration="1m30s", progressDeadlineSeconds=30)) is None


@pytest.mark.parametrize(("change", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_specs_name_the_problem(change: Any, message: str) -> None:
    body = _edit(change)
    assert invalid_spec_message(body) == message
    plan = plan_experiment(body, Observed(), NOW)  # never raises
    assert plan.actions == (EmitEvent("InvalidSpec", message, warning=True),)
    assert plan.status_patch is not None
    [condition] = plan.status_patch["conditions"]
    assert condition == {
        "type": "InvalidSpec",
        "status": "True",
        "reason": "InvalidSpec",
        "message": message,
        "lastUpdateTime": stamp(),
        "lastTransitionTime": stamp(),
    }
    assert "phase" not in plan.status_patch


def test_the_first_problem_wins() -> None:
    body = _edit(lambda s: (s["templates"][0].update(name=""), s.update(duration="x")))
    assert invalid_spec_message(body) == "Experiment ex has empty template name at index 0"


def test_an_unencodable_pod_template_is_invalid_not_an_exception() -> None:
    body = _edit(_set("templates.0.template", {"spec": {"containers": "web"}}))
    plan = plan_experiment(body, Observed(), NOW)
    message = (
        "spec.templates[0].template: Invalid value: spec.containers: cannot decode a string into Go slice"
    )
    assert plan.actions == (EmitEvent("InvalidSpec", message, warning=True),)


def test_the_same_problem_again_writes_nothing() -> None:
    body = _edit(_set("templates.0.selector", {}))
    first = plan_experiment(body, Observed(), NOW)
    again = plan_experiment(with_status(body, first.status), Observed(), NOW.replace(minute=5))
    assert again.status_patch is None
    assert again.actions == ()


def test_another_problem_replaces_the_condition() -> None:
    body = _edit(_set("templates.0.selector", {}))
    first = plan_experiment(body, Observed(), NOW)
    changed = with_status(_edit(_set("templates.1.name", "a")), first.status)
    second = plan_experiment(changed, Observed(), NOW)
    [condition] = second.status["conditions"]
    assert condition["message"] == "Experiment ex has repeated template name 'a' in templates"
    assert [a.reason for a in second.actions if isinstance(a, EmitEvent)] == ["InvalidSpec"]


def test_a_fixed_spec_drops_the_condition_and_starts() -> None:
    body = _edit(_set("templates.0.selector", {}))
    first = plan_experiment(body, Observed(), NOW)
    fixed = with_status(experiment(template("a"), template("b")), first.status)
    plan = plan_experiment(fixed, Observed(), NOW)
    assert all(c["type"] != "InvalidSpec" for c in plan.status.get("conditions", []))
    assert plan.status["phase"] == "Pending"
