"""`when` (govaluate rules as Argo modifies them) and enhanced `depends` conformance tables."""

from __future__ import annotations

import pytest

from analysis.workflows.conditions import ConditionError, depends_operands, evaluate_depends, evaluate_when


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("heads == heads", True),
        ("'ref/branch/master' == 'ref/branch/master'", True),
        ("foo != bar", True),
        ("1 < 2", True),
        ("1/2 == 0.5", True),
        ("a < b", True),
        ("(foo == bar) || (foo == foo)", True),
        ("(1 > 0) && (1 < 2)", True),
        ("Error in (Failed, Error)", True),
        ("Error IN (Failed, Error)", True),
        ("!(Succeeded in (Failed, Error))", True),
        ("true == true", True),
        ("heads =~ hea", True),
        ("heads !~ '^t'", True),
        ("1 == 1.0", True),
        ("05 == 5", True),
        ("1 == '1'", False),
        ("tails == heads", False),
        ("Succeeded != Succeeded", False),
        ("'my-value' == 'my-value'", True),
        ("'v1.2.3' == 'v1.2.3'", True),
        ("2 ** 3 == 8", True),
        ("1 + 2 * 3 == 7", True),
        ("3 & 1 == 1", True),
        ("1 << 2 == 4", True),
        ("'a' + 1 == 'a1'", True),
        ("-1 < 0", True),
        ("[abc] == [abc]", True),
        ("'2024-01-02' < '2024-02-01'", True),
        ("0x10 == 16", True),
        ("", True),
        ("1 > 0 ? true : false", True),
    ],
)
def test_when_values(text: str, expected: bool) -> None:
    assert evaluate_when(text) is expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("my-value == x", "cannot be used with the operator '-'"),  # a hyphenated value is a subtraction
        ("two words == x", "unexpected string 'words'"),
        ("== heads", "expected a value"),
        ("1abc == x", "unexpected string 'abc'"),
        ("v1.2 == v1.2", 'try wrapping the affected expression in quotes (")'),
        ("1.2.3 == 1.2.3", "Unable to parse numeric value '1.2.3'"),
        ("it's == x", "Invalid token"),
        ("1 + 2", "expected a boolean result"),
        ("1 < a", "types differ"),
        ("a && true", "not a boolean"),
        ("a in b", "not a list"),
        ("(a == a", "expected ')'"),
        ("a =~ '('", "invalid regular expression"),
    ],
)
def test_when_pitfalls_give_clear_errors(text: str, reason: str) -> None:
    with pytest.raises(ConditionError) as raised:
        evaluate_when(text)
    assert str(raised.value).startswith(f"Invalid 'when' expression '{text}': ")
    assert reason in str(raised.value)


OUTCOMES = {
    ("A", None): True,
    ("A", "Succeeded"): True,
    ("B", "Failed"): True,
    ("C", None): False,
    ("fan", "AnySucceeded"): True,
    ("t-2", "Skipped"): True,
}


def outcome(task: str, result: str | None) -> bool:
    return OUTCOMES.get((task, result), False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A", True),
        ("A && C", False),
        ("A || C", True),
        ("!C", True),
        ("A && (B.Succeeded || B.Failed)", True),
        ("(t-2.Succeeded || t-2.Skipped) && !B.Succeeded", True),
        ("fan.AnySucceeded || other.AllFailed", True),
        ("!(A && !C)", False),
    ],
)
def test_depends_values(text: str, expected: bool) -> None:
    assert evaluate_depends(text, outcome) is expected


def test_depends_operands_and_errors() -> None:
    assert depends_operands("A && (C.Succeeded || t-2.Failed)") == [
        ("A", None),
        ("C", "Succeeded"),
        ("t-2", "Failed"),
    ]
    for text, reason in (
        ("A.Done", "unknown result 'Done'"),
        ("A &&", "unexpected end"),
        ("(A", "missing ')'"),
        ("A B", "unexpected 'B'"),
        ("", "empty"),
        ("A == B", "unexpected '== B'"),
    ):
        with pytest.raises(ConditionError, match=reason.replace("(", r"\(").replace(")", r"\)")):
            depends_operands(text)
