"""Loop expansion (withItems, withParam, withSequence), node names and output aggregation."""

from __future__ import annotations

import pytest

from analysis.workflows.loops import (
    LoopError,
    aggregate_outputs,
    item_variables,
    iteration_name,
    param_items,
    sequence_items,
)
from analysis.workflows.names import display_name, fnv1a_32, node_id, pod_name


@pytest.mark.parametrize(
    ("count", "start", "end", "format_", "expected"),
    [
        ("3", None, None, None, ["0", "1", "2"]),
        (2, "5", None, "item-%02d", ["item-05", "item-06"]),
        (None, "5", "2", None, ["5", "4", "3", "2"]),
        (None, 1, 3, "%d!", ["1!", "2!", "3!"]),
        ("0", None, None, None, []),
    ],
)
def test_sequences(
    count: object, start: object, end: object, format_: str | None, expected: list[str]
) -> None:
    assert sequence_items(count, start, end, format_) == expected


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("x", None, None, None), "withSequence.count 'x' is not an integer"),
        ((1, None, 2, None), "only one of count or end"),
        ((None, None, None, None), "one of count or end must be defined"),
        ((2, None, None, "%d-%d"), "exactly one printf verb"),
        (("-1", None, None, None), "must not be negative"),
    ],
)
def test_bad_sequences(arguments: tuple, message: str) -> None:
    with pytest.raises(LoopError, match=message):
        sequence_items(*arguments)


def test_with_param_must_be_a_json_list() -> None:
    assert param_items('[1, "a", {"k": "v"}]') == [1, "a", {"k": "v"}]
    for text in ("not json", '{"a": 1}', ""):
        with pytest.raises(LoopError, match="withParam value could not be parsed as a JSON list: "):
            param_items(text)


def test_item_variables_and_names() -> None:
    assert item_variables({"os": "debian", "tag": 9.1, "n": 1}) == {
        "item": '{"n":1,"os":"debian","tag":9.1}',
        "item.os": "debian",
        "item.tag": "9.1",
        "item.n": "1",
    }
    assert item_variables(True) == {"item": "true"}
    assert iteration_name("test", 1, {"image": "debian", "tag": "9.1"}) == "test(1:image:debian,tag:9.1)"
    assert iteration_name("work", 0, "a (b)") == "work(0:a b)"
    assert iteration_name("n", 2, ["x", 1]) == 'n(2:["x",1])'


def test_aggregation() -> None:
    iterations = [
        {"result": "1", "parameters": [{"name": "p", "value": '{"a":1}'}, {"name": "q", "value": "x"}]},
        {"result": "not json", "parameters": [{"name": "p", "value": "[2]"}, {"name": "q", "value": "{"}]},
    ]
    assert aggregate_outputs("steps.s", iterations) == {
        "steps.s.outputs.result": '[1,"not json"]',
        "steps.s.outputs.parameters.p": '[{"a":1},[2]]',
        "steps.s.outputs.parameters.q": '["x","{"]',
        "steps.s.outputs.parameters": '[{"p":"{\\"a\\":1}","q":"x"},{"p":"[2]","q":"{"}]',
    }
    assert aggregate_outputs("tasks.t", []) == {
        "tasks.t.outputs.result": "[]",
        "tasks.t.outputs.parameters": "[]",
    }


@pytest.mark.parametrize(
    ("workflow", "name", "expected_id", "template", "expected_pod"),
    [
        (
            "steps-z2zdn",
            "steps-z2zdn[0].hello1",
            "steps-z2zdn-27420706",
            "print-message",
            "steps-z2zdn-print-message-27420706",
        ),
        (
            "steps-z2zdn",
            "steps-z2zdn[1].hello2a",
            "steps-z2zdn-2006760091",
            "print-message",
            "steps-z2zdn-print-message-2006760091",
        ),
        (
            "steps-z2zdn",
            "steps-z2zdn[1].hello2b",
            "steps-z2zdn-2023537710",
            "print-message",
            "steps-z2zdn-print-message-2023537710",
        ),
        ("steps-z2zdn", "steps-z2zdn[0]", "steps-z2zdn-108230077", "", None),
        (
            "dag-diamond-8q7vp",
            "dag-diamond-8q7vp.A",
            "dag-diamond-8q7vp-460213972",
            "echo",
            "dag-diamond-8q7vp-echo-460213972",
        ),
        (
            "dag-diamond-8q7vp",
            "dag-diamond-8q7vp.D",
            "dag-diamond-8q7vp-409881115",
            "echo",
            "dag-diamond-8q7vp-echo-409881115",
        ),
        (
            "loops-4bkx2",
            "loops-4bkx2[0].print-message-loop(0:hello world)",
            "loops-4bkx2-2705457687",
            "print-message",
            "loops-4bkx2-print-message-2705457687",
        ),
        (
            "retry-backoff-m2z9x",
            "retry-backoff-m2z9x(1)",
            "retry-backoff-m2z9x-681080807",
            "flaky",
            "retry-backoff-m2z9x-flaky-681080807",
        ),
        (
            "exit-handlers-p7tq4",
            "exit-handlers-p7tq4.onExit",
            "exit-handlers-p7tq4-527152137",
            "exit-handler",
            "exit-handlers-p7tq4-exit-handler-527152137",
        ),
        ("hello-world-9tql2", "hello-world-9tql2", "hello-world-9tql2", "whalesay", "hello-world-9tql2"),
    ],
)
def test_reference_name_vectors(
    workflow: str, name: str, expected_id: str, template: str, expected_pod: str | None
) -> None:
    assert node_id(workflow, name) == expected_id
    if expected_pod:
        assert pod_name(workflow, name, template) == expected_pod


def test_fnv_and_display_names() -> None:
    assert fnv1a_32("") == 2166136261
    assert display_name("wf[1].deploy[0].apply", "wf[1].deploy") == "apply"
    assert display_name("wf[0]", "wf") == "[0]"
    assert display_name("wf.A", "wf") == "A"
    assert display_name("wf[0].work(1:b)", "wf") == "work(1:b)"
    assert display_name("wf.onExit", None) == "wf.onExit"
    assert len(pod_name("w" * 250, "w" * 250 + ".x", "t")) <= 253
