"""Malformed workflows get Argo's validation messages; the seed documents' mistakes are negative tests."""

from __future__ import annotations

import pytest
import yaml

from analysis.models.base import ManifestError
from analysis.workflows.spec import Workflow, WorkflowSpec
from analysis.workflows.validation import ValidationError, validate_workflow, workflow_problems

ECHO = """
  - name: echo
    inputs: {parameters: [{name: message, value: hi}]}
    container: {image: busybox, command: [echo], args: ["{{inputs.parameters.message}}"]}
"""


def problems(manifest: str, library: dict | None = None) -> list[str]:
    data = yaml.safe_load(manifest)
    data.setdefault("metadata", {"name": "wf"})
    return workflow_problems(Workflow.from_dict(data), library)


def test_a_valid_workflow_has_no_problems() -> None:
    assert (
        problems(
            """
spec:
  entrypoint: main
  arguments: {parameters: [{name: env, value: prod, enum: [prod, dev]}]}
  onExit: echo
  templates:
  - name: main
    steps:
    - - name: a
        template: echo
        arguments: {parameters: [{name: message, value: "{{workflow.parameters.env}}"}]}
    - - name: b
        template: echo
        withItems: [x]
        when: "{{steps.a.outputs.result}} == x"
        arguments: {parameters: [{name: message, value: "{{item}} {{steps.a.status}} {{workflow.status}}"}]}
"""
            + ECHO
        )
        == []
    )


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        ("spec: {templates: []}", "spec.entrypoint is required"),
        ("spec: {entrypoint: nope, templates: []}", "spec.entrypoint: template name 'nope' undefined"),
        (
            """
spec:
  entrypoint: main
  templates:
  - {name: main, steps: [[{name: a, template: ghost}]]}
""",
            "templates.main.steps[0].a: template name 'ghost' undefined",
        ),
        (
            """
spec:
  entrypoint: main
  templates:
  - {name: main}
""",
            "templates.main template type unspecified",
        ),
        (
            """
spec:
  entrypoint: main
  templates:
  - {name: main, container: {image: x}, script: {image: x, source: y}}
""",
            "templates.main multiple template types specified",
        ),
        (
            """
spec:
  entrypoint: main
  templates:
  - {name: main, container: {image: ""}}
""",
            "templates.main.container.image may not be empty",
        ),
        (
            """
spec:
  entrypoint: main
  templates:
  - {name: main, activeDeadlineSeconds: 5, steps: [[{name: a, template: e}]]}
  - {name: e, container: {image: x}}
""",
            "templates.main.activeDeadlineSeconds is only valid for leaf templates",
        ),
        (
            """
spec:
  entrypoint: main
  templates:
  - {name: main, steps: [[{name: a, template: e}], [{name: a, template: e}]]}
  - {name: e, container: {image: x}}
""",
            "templates.main.steps[1].name 'a' is not unique",
        ),
        (
            """
spec:
  entrypoint: main
  templates:
  - name: main
    dag: {tasks: [{name: A, template: e, dependencies: [B]}, {name: B, template: e, dependencies: [A]}]}
  - {name: e, container: {image: x}}
""",
            "templates.main.tasks dependency cycle detected: A->B->A",
        ),
        (
            """
spec:
  entrypoint: main
  templates:
  - name: main
    dag: {tasks: [{name: A, template: e, dependencies: [Z]}]}
  - {name: e, container: {image: x}}
""",
            "templates.main.tasks.A dependency 'Z' not defined",
        ),
        (
            """
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: A, template: e}
      - {name: B, template: e, dependencies: [A]}
      - {name: C, template: e, depends: A}
  - {name: e, container: {image: x}}
""",
            "templates.main cannot use both 'depends' and 'dependencies' in the same DAG template",
        ),
        (
            """
spec:
  entrypoint: main
  templates:
  - name: main
    dag: {tasks: [{name: A, template: e}, {name: B, template: e, depends: "A.Done"}]}
  - {name: e, container: {image: x}}
""",
            "unknown result 'Done'",
        ),
        (
            """
spec:
  entrypoint: main
  templates:
  - name: main
    dag: {tasks: [{name: A, template: e}, {name: B, template: e, depends: A.AnySucceeded}]}
  - {name: e, container: {image: x}}
""",
            "only valid for a task with withItems",
        ),
        (
            """
spec:
  entrypoint: main
  templates:
  - name: main
    dag: {tasks: [{name: A, template: e}, {name: B, template: e, depends: A, continueOn: {failed: true}}]}
  - {name: e, container: {image: x}}
""",
            "continueOn cannot be used with depends",
        ),
        (
            """
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: A, template: echo}
      - {name: B, template: echo}
      - name: C
        template: echo
        dependencies: [A]
        arguments: {parameters: [{name: message, value: "{{tasks.B.outputs.result}}"}]}
"""
            + ECHO,
            "templates.main.tasks.C failed to resolve {{tasks.B.outputs.result}}",
        ),
        (
            """
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: a
        template: echo
        arguments: {parameters: [{name: message, value: "{{steps.b.outputs.result}}"}]}
      - {name: b, template: echo}
"""
            + ECHO,
            "templates.main.steps[0].a failed to resolve {{steps.b.outputs.result}}",
        ),
        (
            """
spec:
  entrypoint: main
  templates:
  - name: main
    steps: [[{name: a, template: echo, arguments: {parameters: [{name: message, value: "{{item}}"}]}}]]
"""
            + ECHO,
            "templates.main.steps[0].a failed to resolve {{item}}",
        ),
        (
            """
spec:
  entrypoint: echo
  templates:
  - name: echo
    container: {image: x, args: ["{{inputs.parameters.nope}}", "{{workflow.parameters.nope}}"]}
""",
            "templates.echo failed to resolve {{inputs.parameters.nope}}",
        ),
        (
            """
spec:
  entrypoint: main
  templates:
  - name: main
    steps: [[{name: a, template: need}]]
  - {name: need, inputs: {parameters: [{name: x}]}, container: {image: x}}
""",
            "templates.main.steps[0].a inputs.parameters.x was not supplied",
        ),
        (
            """
spec:
  entrypoint: main
  templates:
  - {name: main, http: {url: "http://x"}}
""",
            "templates.main.http templates are not supported by this engine yet",
        ),
        (
            """
spec:
  entrypoint: main
  arguments: {parameters: [{name: env, value: qa, enum: [prod]}]}
  templates:
  - {name: main, container: {image: x}}
""",
            "spec.arguments.parameters.env.value should be present in enum",
        ),
        (
            """
spec:
  entrypoint: main
  templates:
  - {name: main, steps: [[{name: a, template: lib, templateRef: {name: l, template: t}}]]}
  - {name: lib, container: {image: x}}
""",
            "templates.main.steps[0].a must have exactly one of template, templateRef or inline",
        ),
        (
            """
spec:
  entrypoint: main
  templates:
  - {name: main, steps: [[{name: a, templateRef: {name: lib, template: missing}}]]}
""",
            "template reference lib.missing not found",
        ),
    ],
)
def test_problems(manifest: str, expected: str) -> None:
    found = problems(manifest, library={(False, "lib"): WorkflowSpec(templates=[])})
    assert any(expected in problem for problem in found), found


def test_seed_001_args_block_scalar_is_rejected_by_the_schema() -> None:
    manifest = yaml.safe_load("""
metadata: {generateName: artifact-}
spec:
  entrypoint: main
  templates:
  - name: main
    container:
      image: alpine
      command: [sh, -c]
      args: |
        - echo hello > /tmp/out
        - echo done
""")
    with pytest.raises(
        ManifestError, match=r"spec.templates\[0\].container.args: Input should be a valid list"
    ):
        Workflow.from_dict(manifest)


def test_seed_004_values_instead_of_value_is_an_unknown_field_and_a_missing_value() -> None:
    found = problems(
        """
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: call
        template: echo
        arguments:
          parameters:
          - name: message
            values: hello
"""
        + ECHO
    )
    assert "unknown field spec.templates[0].steps[0][0].arguments.parameters[0].values" in found
    assert "templates.main.steps[0].call.arguments.parameters.message.value is required" in found


def test_seed_004_steps_without_names_and_a_when_as_its_own_item_are_rejected() -> None:
    manifest = yaml.safe_load(
        """
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - template: echo
      - when: "{{workflow.parameters.x}} == y"
"""
        + ECHO
    )
    with pytest.raises(ManifestError) as raised:
        Workflow.from_dict(manifest)
    assert "spec.templates[0].steps[0][0].name: Field required" in str(raised.value)
    assert "spec.templates[0].steps[0][1].name: Field required" in str(raised.value)


def test_validate_workflow_reports_every_problem_at_once() -> None:
    workflow = Workflow.from_dict(
        yaml.safe_load("""
metadata: {name: a-name-that-is-far-too-long-for-a-label-value-because-it-goes-on-and-on}
spec:
  templates:
  - {name: main, container: {image: ""}}
  - {name: main, container: {image: x}}
""")
    )
    with pytest.raises(ValidationError) as raised:
        validate_workflow(workflow)
    assert raised.value.problems == [
        "workflow name 'a-name-that-is-far-too-long-for-a-label-value-because-it-goes-on-and-on' "
        "must not be more than 63 characters long",
        "spec.entrypoint is required",
        "template name 'main' is not unique",
        "templates.main.container.image may not be empty",
    ]


def test_a_workflow_that_fails_validation_ends_in_error_without_starting_anything() -> None:
    from datetime import UTC, datetime

    from analysis.workflows.scheduler import schedule

    workflow = Workflow.from_dict(
        {"metadata": {"name": "wf"}, "spec": {"entrypoint": "nope", "templates": []}}
    )
    decision = schedule(workflow, None, datetime(2026, 1, 1, tzinfo=UTC))
    assert decision.actions == ()
    assert decision.status.phase == "Error"
    assert decision.status.message == "spec.entrypoint: template name 'nope' undefined"
    assert decision.status.nodes == {}
    assert [c.type for c in decision.status.conditions] == ["SpecError", "PodRunning", "Completed"]
