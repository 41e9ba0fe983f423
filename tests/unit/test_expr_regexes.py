"""``matches``: RE2 syntax and semantics, errors as Go reports them, linear time on hostile input."""

import pytest

from analysis.expr import ExprError, Limits, compile_expression
from analysis.expr.regexes import search


class Counter:
    def __init__(self) -> None:
        self.steps = 0

    def charge(self, steps: int) -> None:
        self.steps += steps


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("b+", "abbc", True),
        ("^abc$", "abc", True),
        ("^abc$", "abc\n", False),  # RE2: $ is the end of the text without (?m); Python's re says True
        ("(?m)^b$", "a\nb\nc", True),
        ("\\Aab", "ab", True),
        ("ab\\z", "ab", True),
        ("a.c", "a\nc", False),
        ("(?s)a.c", "a\nc", True),
        ("colou?r", "color", True),
        ("x{2,3}", "axxb", True),
        ("^x{2,3}$", "xxxx", False),
        ("x{2,}", "xx", True),
        ("a{,2}", "a{,2}", True),  # not a repeat in RE2: literal braces
        ("^(GET|POST) /", "POST /api", True),
        ("^(?:ab)+$", "ababab", True),
        ("^(?P<word>\\w+)$", "abc_1", True),
        ("(?i)error", "An ERROR", True),
        ("(?i:e)RROR", "eRROR", True),
        ("(?i:e)RROR", "error", False),
        ("[a-c]+", "xxbxx", True),
        ("[^a-c]", "abc", False),
        ("[]a]", "]", True),
        ("[a-]", "-", True),
        ("[[:digit:]]{3}", "a123", True),
        ("[[:^alpha:]]", "abc", False),
        ("\\d\\s\\w", "1 x", True),
        ("\\d", "\u0663", False),  # ASCII-only \d, as RE2
        ("\\bcat\\b", "a cat!", True),
        ("\\bcat\\b", "concat", False),
        ("\\Bcat", "concat", True),
        ("\\pL", "é", True),
        ("\\p{Lu}", "abc", False),
        ("\\PL", "abc", False),
        ("\\x41\\x{42}\\103", "ABC", True),
        ("\\Q.*\\E", "a.*b", True),
        ("\\Q.*\\E", "ab", False),
        ("a|b|c", "zzc", True),
        ("", "anything", True),
        ("(a*)*b", "aaab", True),
        ("\\.", "a.b", True),
        ("\\.", "ab", False),
    ],
)
def test_re2_semantics(pattern: str, subject: str, expected: bool) -> None:
    assert search(pattern, subject, Counter()) is expected


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(a", "error parsing regexp: missing closing ): `(a`"),
        ("a)", "error parsing regexp: unexpected ): `a)`"),
        ("[a", "error parsing regexp: missing closing ]: `[a`"),
        ("*a", "error parsing regexp: missing argument to repetition operator: `*`"),
        ("a**", "error parsing regexp: invalid nested repetition operator: `a**`"),
        ("(?=a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"),
        ("(?<!a)b", "error parsing regexp: invalid or unsupported Perl syntax: `(?<`"),
        ("(a)\\1", "error parsing regexp: invalid escape sequence: `\\1`"),
        ("a\\Z", "error parsing regexp: invalid escape sequence: `\\Z`"),
        ("a{1001}", "error parsing regexp: invalid repeat count: `{1001}`"),
        ("a{3,2}", "error parsing regexp: invalid repeat count: `{3,2}`"),
        ("[z-a]", "error parsing regexp: invalid character class range: `[z-a`"),
        ("[[:nope:]]", "error parsing regexp: invalid character class range: `[:nope:]`"),
        ("\\p{Greek}", "error parsing regexp: invalid character class range: `\\p{Greek}`"),
        ("a\\", "error parsing regexp: trailing backslash at end of expression: ``"),
    ],
)
def test_invalid_patterns(pattern: str, message: str) -> None:
    with pytest.raises(ExprError) as raised:
        search(pattern, "a", Counter())
    assert str(raised.value) == message


def test_catastrophic_backtracking_patterns_run_in_linear_time() -> None:
    # Each of these takes exponential time in a backtracking engine such as Python's re.
    for pattern in ("(a+)+$", "(a|aa)*c", "(a*)*b", "^(\\w+\\s?)*$"):
        counter = Counter()
        assert search(pattern, "a" * 40 + "!", counter) is False
        assert counter.steps < 5_000, pattern
        longer = Counter()
        search(pattern, "a" * 80 + "!", longer)
        assert longer.steps < 3 * counter.steps, pattern  # doubling the input roughly doubles the work


def test_regex_work_is_charged_to_the_step_budget() -> None:
    program = compile_expression("subject matches '(x+x+)+y'", Limits(max_steps=2_000))
    with pytest.raises(ExprError, match="budget of 2000 steps"):
        program.evaluate({"subject": "x" * 5_000})


def test_pattern_length_and_size_are_bounded() -> None:
    with pytest.raises(ExprError, match="regular expression is too long"):
        search("a" * 1_001, "a", Counter())
    with pytest.raises(ExprError, match="expression too large"):
        search("(a{1000}){20}", "a", Counter())
    with pytest.raises(ExprError, match="nests too deeply"):
        search("(" * 200 + ")" * 200, "a", Counter())


def test_matches_errors_carry_the_operator_position() -> None:
    with pytest.raises(ExprError) as raised:
        compile_expression("'a' matches '('").evaluate({})
    assert str(raised.value) == "error parsing regexp: missing closing ): `(` (1:5)"
    with pytest.raises(ExprError, match="invalid operation: int matches string"):
        compile_expression("1 matches 'a'").evaluate({})


def test_the_pattern_length_limit_comes_from_the_limits() -> None:
    program = compile_expression("'aaa' matches p", Limits(max_pattern_length=3))
    assert program.evaluate({"p": "a+"}) is True
    with pytest.raises(ExprError, match=r"regular expression is too long \(4 characters, at most 3\)"):
        program.evaluate({"p": "a{2}"})
