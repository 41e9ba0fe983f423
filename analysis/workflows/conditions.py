"""The two small condition languages of Argo Workflows: ``when`` and enhanced ``depends``.

``when`` (reference §5.1) is the *substituted* text evaluated with govaluate's rules as Argo
modifies them: every bare word is a string literal (``heads == heads``), all numbers are float64,
comparisons share one precedence level below the bitwise operators, ``==`` compares types too
(``1 == '1'`` is false), ``=~`` is an RE2 search (our linear-time matcher), ``in`` takes a
parenthesised list. It differs from expr-lang in lexing and precedence, so it has its own small
lexer and precedence-climbing parser here; ``{{=...}}`` tags inside a ``when`` were already
evaluated by expr-lang during substitution. Errors carry Argo's wording:
``Invalid 'when' expression '<text>': <reason>``.

``depends`` (§2.6) is a boolean over ``task`` / ``task.Result`` operands with ``&& || !`` and
parentheses; a bare ``task`` means ``Succeeded || Skipped || Daemoned`` (plus ``Failed``/``Errored``
when that task continues on them). The caller supplies the outcome of each operand, so this module
knows nothing about nodes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from analysis.expr import ExprError
from analysis.expr.regexes import search

__all__ = [
    "DEPENDS_RESULTS",
    "ConditionError",
    "depends_operands",
    "evaluate_depends",
    "evaluate_when",
]


class ConditionError(ValueError):
    """A ``when`` or ``depends`` expression that cannot be parsed or evaluated."""


# -- when ------------------------------------------------------------------------------------------

_WHEN_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>0x[0-9a-fA-F]+|[0-9][0-9.]*)
    | (?P<string>'[^']*'|"[^"]*")
    | (?P<bracket>\[[^\]]*\])
    | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    | (?P<op>\*\*|<<|>>|==|!=|>=|<=|=~|!~|&&|\|\||\?\?|[-+*/%&|^!~<>?:(),])
    )""",
    re.VERBOSE,
)
_PRECEDENCE: list[frozenset[str]] = [
    frozenset({"??"}),
    frozenset({"||"}),
    frozenset({"&&"}),
    frozenset({"==", "!=", ">", ">=", "<", "<=", "=~", "!~", "in"}),
    frozenset({"&", "|", "^"}),
    frozenset({"<<", ">>"}),
    frozenset({"+", "-"}),
    frozenset({"*", "/", "%"}),
    frozenset({"**"}),
]
_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%H:%M:%S")


@dataclass(frozen=True)
class _Token:
    kind: str
    """number, string, op, end."""
    value: Any


def _date_value(text: str) -> float | None:
    """govaluate turns quoted strings that look like dates into timestamps (seconds here)."""
    for layout in _TIME_FORMATS:
        try:
            moment = datetime.strptime(text, layout)
        except ValueError:
            continue
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    return None


def _when_tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _WHEN_TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ConditionError(
                f"Invalid token: '{text[position:].strip()[:20]}' "
                '(try wrapping the affected expression in quotes ("))'
            )
        position = match.end()
        kind = match.lastgroup
        raw = match.group(kind or "")
        if kind == "number":
            try:
                value = float(int(raw, 16)) if raw.startswith("0x") else float(raw)
            except ValueError:
                raise ConditionError(f"Unable to parse numeric value '{raw}' to float64") from None
            tokens.append(_Token("number", value))
        elif kind == "string":
            inner = raw[1:-1]
            timestamp = _date_value(inner)
            tokens.append(_Token("number", timestamp) if timestamp is not None else _Token("string", inner))
        elif kind == "word":
            if raw in ("true", "false"):
                tokens.append(_Token("bool", raw == "true"))
            elif raw in ("in", "IN"):
                tokens.append(_Token("op", "in"))
            elif "." in raw:
                raise ConditionError(
                    f"Invalid token: '{raw}' (a word with a dot is an accessor, not a string; "
                    'try wrapping the affected expression in quotes ("))'
                )
            else:
                tokens.append(_Token("string", raw))
        elif kind == "bracket":
            tokens.append(_Token("string", raw))
        else:
            tokens.append(_Token("op", raw))
    tokens.append(_Token("end", None))
    return tokens


class _WhenParser:
    """Precedence climbing over ``_PRECEDENCE``; prefix operators bind tightest."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect_op(self, op: str) -> None:
        token = self.take()
        if token.kind != "op" or token.value != op:
            raise ConditionError(f"expected '{op}', found {_describe(token)}")

    def parse(self) -> Any:
        tree = self.ternary()
        if self.peek().kind != "end":
            raise ConditionError(f"unexpected {_describe(self.peek())} after a complete expression")
        return tree

    def ternary(self) -> Any:
        condition = self.binary(0)
        token = self.peek()
        if token.kind == "op" and token.value == "?":
            self.take()
            when_true = self.ternary()
            self.expect_op(":")
            return ("?:", condition, when_true, self.ternary())
        return condition

    def binary(self, level: int) -> Any:
        if level == len(_PRECEDENCE):
            return self.prefix()
        left = self.binary(level + 1)
        while self.peek().kind == "op" and self.peek().value in _PRECEDENCE[level]:
            op = self.take().value
            right = self.binary(level + 1) if op != "**" else self.binary(level)
            left = (op, left, right)
        return left

    def prefix(self) -> Any:
        token = self.peek()
        if token.kind == "op" and token.value in ("!", "-", "~"):
            self.take()
            return ("prefix" + token.value, self.prefix())
        return self.primary()

    def primary(self) -> Any:
        token = self.take()
        if token.kind in ("number", "string", "bool"):
            return ("value", token.value)
        if token.kind == "op" and token.value == "(":
            items = [self.ternary()]
            while self.peek().kind == "op" and self.peek().value == ",":
                self.take()
                items.append(self.ternary())
            self.expect_op(")")
            return ("list", items) if len(items) > 1 else items[0]
        raise ConditionError(f"expected a value, found {_describe(token)}")


def _describe(token: _Token) -> str:
    if token.kind == "end":
        return "the end of the expression"
    return f"'{token.value}'" if token.kind == "op" else f"{token.kind} {token.value!r}"


class _Budget:
    def charge(self, steps: int) -> None:
        """Patterns and subjects are short; the matcher is linear, so no budget is needed."""


def _number(value: Any, op: str) -> float:
    if isinstance(value, float):
        return value
    raise ConditionError(f"value {_show(value)} cannot be used with the operator '{op}': it is not a number")


def _text(value: Any, op: str) -> str:
    if isinstance(value, str):
        return value
    raise ConditionError(f"value {_show(value)} cannot be used with the operator '{op}': it is not a string")


def _truth(value: Any, op: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ConditionError(f"value {_show(value)} cannot be used with the operator '{op}': it is not a boolean")


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)


def _int64(value: float, op: str) -> int:
    if math.isnan(value) or math.isinf(value):
        raise ConditionError(f"value {value} cannot be used with the operator '{op}'")
    return int(value)


def _compare(op: str, left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        pair: tuple[Any, Any] = (left, right)
    elif isinstance(left, str) and isinstance(right, str):
        pair = (left, right)
    else:
        raise ConditionError(f"cannot compare {_show(left)} and {_show(right)} with '{op}': types differ")
    a, b = pair
    return bool({">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[op])


def _regex(left: Any, right: Any, op: str) -> bool:
    try:
        return search(_text(right, op), _text(left, op), _Budget())
    except ExprError as error:
        raise ConditionError(f"invalid regular expression {right!r}: {error}") from None


_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b if b else math.copysign(math.inf, a) if a else math.nan,
    "%": lambda a, b: math.fmod(a, b) if b else math.nan,
    "**": lambda a, b: a**b,
}
_BITWISE: dict[str, Callable[[int, int], int]] = {
    "&": lambda a, b: a & b,
    "|": lambda a, b: a | b,
    "^": lambda a, b: a ^ b,
    "<<": lambda a, b: a << b if 0 <= b < 64 else 0,
    ">>": lambda a, b: a >> b if 0 <= b < 64 else 0,
}


def _evaluate(tree: Any) -> Any:
    op = tree[0]
    if op == "value":
        return tree[1]
    if op == "list":
        return [_evaluate(item) for item in tree[1]]
    if op.startswith("prefix"):
        value = _evaluate(tree[1])
        if op == "prefix!":
            return not _truth(value, "!")
        if op == "prefix-":
            return -_number(value, "-")
        return float(~_int64(_number(value, "~"), "~"))
    if op == "?:":
        return _evaluate(tree[2]) if _truth(_evaluate(tree[1]), "?") else _evaluate(tree[3])
    if op in ("&&", "||"):
        left = _truth(_evaluate(tree[1]), op)
        if left == (op == "||"):
            return left
        return _truth(_evaluate(tree[2]), op)
    left, right = _evaluate(tree[1]), _evaluate(tree[2])
    if op == "??":
        return left if left is not None else right
    if op in ("==", "!="):
        same = type(left) is type(right) and left == right
        return same if op == "==" else not same
    if op in (">", ">=", "<", "<="):
        return _compare(op, left, right)
    if op in ("=~", "!~"):
        found = _regex(left, right, op)
        return found if op == "=~" else not found
    if op == "in":
        if not isinstance(right, list):
            raise ConditionError(f"value {_show(right)} cannot be used with 'in': it is not a list")
        return any(type(left) is type(item) and left == item for item in right)
    if op == "+":
        if isinstance(left, str) or isinstance(right, str):
            return _plain(left) + _plain(right)
        return _number(left, op) + _number(right, op)
    if op in _ARITHMETIC:
        return _ARITHMETIC[op](_number(left, op), _number(right, op))
    return float(_BITWISE[op](_int64(_number(left, op), op), _int64(_number(right, op), op)))


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return value
    return _show(value)


def evaluate_when(text: str) -> bool:
    """Evaluate a substituted ``when``; empty means true. Raises ``ConditionError`` with Argo's form."""
    if not text.strip():
        return True
    try:
        value = _evaluate(_WhenParser(_when_tokens(text)).parse())
    except ConditionError as error:
        raise ConditionError(f"Invalid 'when' expression '{text}': {error}") from None
    if not isinstance(value, bool):
        raise ConditionError(
            f"Invalid 'when' expression '{text}': expected a boolean result, got {_show(value)}"
        )
    return value


# -- depends ---------------------------------------------------------------------------------------

DEPENDS_RESULTS = frozenset(
    {"Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed"}
)
_DEPENDS_TOKEN = re.compile(
    r"\s*(?:(?P<operand>[A-Za-z0-9_][-A-Za-z0-9_]*(?:\.[A-Za-z]+)?)|(?P<op>&&|\|\||!|\(|\)))"
)

Outcome = Callable[[str, str | None], bool]
"""``outcome(task, result)``: is ``task.Result`` true (``result`` None for a bare ``task``)."""


def _depends_tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while text[position:].strip():
        match = _DEPENDS_TOKEN.match(text, position)
        if match is None:
            raise ConditionError(
                f"invalid depends expression {text!r}: unexpected {text[position:].strip()!r}"
            )
        position = match.end()
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
    return tokens


def _split_operand(operand: str) -> tuple[str, str | None]:
    task, _, result = operand.partition(".")
    if result and result not in DEPENDS_RESULTS:
        raise ConditionError(
            f"invalid depends expression: unknown result '{result}' of task '{task}' "
            f"(one of {', '.join(sorted(DEPENDS_RESULTS))})"
        )
    return task, result or None


def depends_operands(text: str) -> list[tuple[str, str | None]]:
    """Every ``(task, result)`` operand, in order; raises on a malformed expression."""
    tokens = _depends_tokens(text)
    _DependsParser(tokens, lambda task, result: True, text).parse()
    return [_split_operand(value) for kind, value in tokens if kind == "operand"]


def evaluate_depends(text: str, outcome: Outcome) -> bool:
    """The value of a ``depends`` expression given each operand's outcome."""
    return _DependsParser(_depends_tokens(text), outcome, text).parse()


class _DependsParser:
    def __init__(self, tokens: list[tuple[str, str]], outcome: Outcome, text: str) -> None:
        self.tokens = tokens
        self.index = 0
        self.outcome = outcome
        self.text = text

    def error(self, reason: str) -> ConditionError:
        return ConditionError(f"invalid depends expression {self.text!r}: {reason}")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def parse(self) -> bool:
        if not self.tokens:
            raise self.error("empty")
        value = self.disjunction()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return value

    def disjunction(self) -> bool:
        value = self.conjunction()
        while self.peek() == ("op", "||"):
            self.index += 1
            right = self.conjunction()
            value = value or right
        return value

    def conjunction(self) -> bool:
        value = self.unary()
        while self.peek() == ("op", "&&"):
            self.index += 1
            right = self.unary()
            value = value and right
        return value

    def unary(self) -> bool:
        token = self.peek()
        if token is None:
            raise self.error("unexpected end")
        self.index += 1
        if token == ("op", "!"):
            return not self.unary()
        if token == ("op", "("):
            value = self.disjunction()
            if self.peek() != ("op", ")"):
                raise self.error("missing ')'")
            self.index += 1
            return value
        if token[0] != "operand":
            raise self.error(f"unexpected {token[1]!r}")
        task, result = _split_operand(token[1])
        return self.outcome(task, result)
