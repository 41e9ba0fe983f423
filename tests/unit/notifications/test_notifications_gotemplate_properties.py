"""Property: whatever text a ConfigMap holds, the template engine raises only ``TemplateError``."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.notifications.gotemplate import Limits, TemplateError, compile_template

PIECES = [
    "{{", "}}", "{{- ", " -}}", ".", ".rollout", ".metadata", ".name", "$", "$x", ":=", "=", "|", "(", ")",
    " ", "\n", "if", "else", "end", "range", "with", "break", "continue", "len", "index", "printf", "add",
    "toJson", "eq", "and", "or", "not", "call", '"%d"', '"a"', "`b`", "1", "-2", "3.5", "nil", "true",
    "/*", "*/", ",", "define", "'c'", "\\", '"', "x",
]  # fmt: skip

DATA: dict[str, Any] = {
    "rollout": {
        "metadata": {"name": "web", "labels": {"a": "b"}},
        "spec": {"replicas": 3.0, "list": [1.0, "x"]},
    },
    "time": {"Now": lambda: "now"},
}


def render_or_refuse(source: str) -> str | None:
    """The output, or ``None`` when the engine refused with a ``TemplateError`` (any other
    exception fails the property)."""
    try:
        return compile_template("p", source).render(DATA, limits=Limits(max_steps=5_000, max_output=10_000))
    except TemplateError as error:
        assert str(error).startswith("template p: ")
        return None


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_template_like_text_renders_or_is_refused(pieces: list[str]) -> None:
    output = render_or_refuse("".join(pieces))
    assert output is None or len(output) <= 10_000


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_renders_or_is_refused(source: str) -> None:
    output = render_or_refuse(source)
    if "{{" not in source:  # no action: the text is its own output
        assert output == source
