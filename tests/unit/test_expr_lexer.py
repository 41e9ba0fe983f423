"""Tokens of the expr-lang syntax, literal decoding, and lexical errors with positions."""

import pytest

from analysis.expr import ExprError
from analysis.expr.lexer import Kind, tokenize


def kinds_and_values(text: str) -> list[tuple[Kind, str]]:
    return [(token.kind, token.value) for token in tokenize(text)][:-1]


def test_operators_take_the_longest_match() -> None:
    assert [value for _, value in kinds_and_values("a?.b ?? c != d ** 2 .. 3 && !e || f <= g")] == [
        "a",
        "?.",
        "b",
        "??",
        "c",
        "!=",
        "d",
        "**",
        "2",
        "..",
        "3",
        "&&",
        "!",
        "e",
        "||",
        "f",
        "<=",
        "g",
    ]


def test_keywords_are_operators_but_pointer_names_are_not() -> None:
    assert kinds_and_values("a not in b") == [
        (Kind.IDENTIFIER, "a"),
        (Kind.OPERATOR, "not"),
        (Kind.OPERATOR, "in"),
        (Kind.IDENTIFIER, "b"),
    ]
    assert kinds_and_values("#index") == [(Kind.OPERATOR, "#"), (Kind.IDENTIFIER, "index")]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("42", "42"),
        ("0x2A", "0x2A"),
        ("0o52", "0o52"),
        ("0b101010", "0b101010"),
        (".5", ".5"),
        ("1_000", "1_000"),
        ("1e3", "1e3"),
        ("2.5E-3", "2.5E-3"),
    ],
)
def test_number_forms(text: str, number: str) -> None:
    assert kinds_and_values(text) == [(Kind.NUMBER, number)]


def test_a_range_is_not_a_fraction() -> None:
    assert kinds_and_values("1..3") == [(Kind.NUMBER, "1"), (Kind.OPERATOR, ".."), (Kind.NUMBER, "3")]


@pytest.mark.parametrize(
    ("text", "decoded"),
    [
        (r'"a\nb"', "a\nb"),
        (r"'it\'s'", "it's"),
        (r'"tab\there"', "tab\there"),
        (r'"\x41\u00e9\U0001F600"', "Aé😀"),
        (r'"\101"', "A"),
        ("`raw\\n\nline`", "raw\\n\nline"),
        (r'"back\\slash"', "back\\slash"),
    ],
)
def test_string_escapes(text: str, decoded: str) -> None:
    assert kinds_and_values(text) == [(Kind.STRING, decoded)]


def test_comments_are_skipped() -> None:
    assert kinds_and_values("1 // one\n+ /* two */ 2") == [
        (Kind.NUMBER, "1"),
        (Kind.OPERATOR, "+"),
        (Kind.NUMBER, "2"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"open', "literal not terminated (1:1)"),
        ("'a\nb'", "literal not terminated (1:1)"),
        ("`open", "literal not terminated (1:1)"),
        (r'"\q"', "invalid char escape (1:2)"),
        (r'"\uD800"', "invalid char escape (1:2)"),
        (r'"\x4"', "invalid char escape (1:2)"),
        ("1 & 2", 'unrecognized character: "&" (1:3)'),
        ("a\n  @", 'unrecognized character: "@" (2:3)'),
        ("12abc", 'bad number syntax: "12a" (1:1)'),
        ("/* never closed", "unclosed comment (1:1)"),
    ],
)
def test_lexical_errors_name_the_position(text: str, message: str) -> None:
    with pytest.raises(ExprError) as raised:
        tokenize(text)
    assert str(raised.value) == message
