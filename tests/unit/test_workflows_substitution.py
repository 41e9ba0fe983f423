"""`{{...}}` substitution: simple and expression tags, strictness, the Argo expression functions."""

from __future__ import annotations

import pytest

from analysis.workflows.substitution import (
    Scope,
    SubstitutionError,
    expression_environment,
    substitute,
    substitute_tree,
)

SCOPE = Scope(
    {
        "inputs.parameters.my-p": "x",
        "inputs.parameters.n": "41",
        "workflow.parameters.json": '[{"name":"env","value":"prod"}]',
        "workflow.parameters.env": "prod",
        "steps.flip-coin.outputs.result": "heads",
        "steps.gen.outputs.result": '[{"a":1}]',
        "item": '{"os":"debian"}',
        "item.os": "debian",
    },
    objects={"item": {"os": "debian"}, "steps.skipped.outputs.parameters.p": None},
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{inputs.parameters.my-p}}", "x"),
        ("{{ inputs.parameters.my-p }}", "x"),
        ("a {{workflow.parameters.env}} b", "a prod b"),
        ("{{=inputs.parameters['my-p'] == 'x'}}", "true"),
        ("{{=steps['flip-coin'].outputs.result}}", "heads"),
        ("{{=asInt(inputs.parameters.n) + 1}}", "42"),
        ("{{=asFloat('1.5') * 2}}", "3"),
        ("{{=toJson([1, 'a'])}}", '[1,"a"]'),
        ("{{=jsonpath(workflow.parameters.json, '$[0].value')}}", "prod"),
        ("{{=jsonpath(steps.gen.outputs.result, '$[0].a')}}", "1"),
        ("{{=item.os}}", "debian"),
        ("{{=steps.skipped.outputs.parameters.p ?? 'fallback'}}", "fallback"),
        ("{{=upper(workflow.parameters.env)}}", "PROD"),
        ("{{foo}} {{ .Values.x }}", "{{foo}} {{ .Values.x }}"),  # other roots pass through
        ("{{workflow.status}}", "{{workflow.status}}"),  # only set in exit handlers
        ("no tags", "no tags"),
    ],
)
def test_substitute(text: str, expected: str) -> None:
    assert substitute(text, SCOPE) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{inputs.parameters.missing}}", "failed to resolve {{inputs.parameters.missing}}"),
        ("{{steps.nope.outputs.result}}", "failed to resolve {{steps.nope.outputs.result}}"),
        ("{{item.tag}}", "failed to resolve {{item.tag}}"),
        (
            "{{=inputs.parameters.my-p}}",
            "failed to evaluate expression",
        ),  # hyphens need ['...'] in expressions
        ("{{=asInt('x')}}", 'strconv.ParseInt: parsing "x": invalid syntax'),
        ("{{=steps.skipped.outputs.parameters.p}}", "result is nil"),
        ("{{=nothing}}", "unknown name nothing"),
        ("{{=jsonpath('{', '$.a')}}", "invalid JSON"),
    ],
)
def test_strict_substitution_errors(text: str, message: str) -> None:
    with pytest.raises(SubstitutionError) as raised:
        substitute(text, SCOPE)
    assert message in str(raised.value)


def test_lenient_substitution_keeps_what_it_cannot_resolve_yet() -> None:
    text = "{{inputs.parameters.my-p}} {{steps.later.outputs.result}} {{=steps.later.outputs.result}}"
    assert (
        substitute(text, SCOPE, strict=False)
        == "x {{steps.later.outputs.result}} {{=steps.later.outputs.result}}"
    )


def test_substitute_tree_walks_strings_but_not_keys_or_inline_templates() -> None:
    tree = {"{{item.os}}": ["{{item.os}}", 3, {"inline": {"args": ["{{item.os}}"]}}]}
    assert substitute_tree(tree, SCOPE) == {
        "{{item.os}}": ["debian", 3, {"inline": {"args": ["{{item.os}}"]}}]
    }


def test_values_with_quotes_and_newlines_are_inserted_verbatim() -> None:
    scope = Scope({"inputs.parameters.text": 'say "hi"\nbye'})
    assert substitute_tree({"args": ["{{inputs.parameters.text}}"]}, scope) == {"args": ['say "hi"\nbye']}


def test_expression_environment_nests_names_and_prefers_maps() -> None:
    env = expression_environment(Scope({"workflow.parameters": "[]", "workflow.parameters.env": "prod"}))
    assert env["workflow"]["parameters"] == {"env": "prod"}
