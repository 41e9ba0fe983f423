"""``matches``: RE2 regular expressions run by a small linear-time matcher of our own.

Argo evaluates ``matches`` with Go's ``regexp`` (RE2 syntax, guaranteed linear time). Python's
``re`` backtracks: a pattern such as ``(a+)+$`` takes exponential time on a 30-character subject,
which would stall the controller, and its syntax differs from RE2 in ways that change results. So
we parse RE2 syntax ourselves and simulate the automaton (a Pike VM without captures, since
``matches`` only asks whether the pattern occurs anywhere in the subject). Work is charged to the
evaluation's step budget per position and active state, so every match terminates.

Supported, as in RE2: literals, ``.``, classes ``[a-z]``, ``[^...]``, ``[[:alpha:]]``, ``\\d \\w \\s``
(ASCII, like RE2) and their negations, ``\\pL``/``\\p{Lu}`` general categories, ``^ $ \\A \\z \\b
\\B``, groups ``(...)``, ``(?:...)``, ``(?P<n>...)``, ``(?<n>...)``, flags ``(?imsU)`` and
``(?i:...)``, alternation, ``* + ? {n} {n,} {n,m}`` (greedy or lazy; laziness cannot change
whether a match exists), escapes ``\\n \\t \\x41 \\x{263a} \\101 \\Q...\\E``.

Differences from Python's ``re`` that matter for users coming from it, and which we follow RE2 on:
no lookaround or backreferences (rejected, as RE2 rejects them); ``$`` without ``(?m)`` matches
only at the very end, not before a final newline; ``\\Z`` does not exist (use ``\\z``); ``\\d``,
``\\w``, ``\\s`` and ``\\b`` are ASCII-only; POSIX classes exist. Not supported here although RE2
has them: Unicode script classes such as ``\\p{Greek}`` (an error, never a silent mismatch), and
case folding under ``(?i)`` uses Python's single-character lower/upper mappings rather than
Unicode's full simple folding tables.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from analysis.expr.errors import ExprError

MAX_REPEAT = 1000
MAX_INSTRUCTIONS = 10_000
MAX_GROUP_NESTING = 100
WORD_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
PERL_CLASSES: dict[str, Callable[[str], bool]] = {
    "d": lambda c: "0" <= c <= "9",
    "s": lambda c: c in "\t\n\f\r ",
    "w": lambda c: c in WORD_CHARS,
}
POSIX_CLASSES: dict[str, Callable[[str], bool]] = {
    "alnum": lambda c: c.isascii() and c.isalnum(),
    "alpha": lambda c: c.isascii() and c.isalpha(),
    "ascii": lambda c: ord(c) < 128,
    "blank": lambda c: c in " \t",
    "cntrl": lambda c: ord(c) < 32 or ord(c) == 127,
    "digit": lambda c: "0" <= c <= "9",
    "graph": lambda c: 33 <= ord(c) <= 126,
    "lower": lambda c: "a" <= c <= "z",
    "print": lambda c: 32 <= ord(c) <= 126,
    "punct": lambda c: 33 <= ord(c) <= 126 and not c.isalnum(),
    "space": lambda c: c in " \t\n\r\f\v",
    "upper": lambda c: "A" <= c <= "Z",
    "word": lambda c: c in WORD_CHARS,
    "xdigit": lambda c: c in "0123456789abcdefABCDEF",
}
CONTROL_ESCAPES = {"a": "\a", "f": "\f", "t": "\t", "n": "\n", "r": "\r", "v": "\v"}
ASSERTION_ESCAPES = {"A": "begin_text", "z": "end_text", "b": "word_boundary", "B": "not_word_boundary"}


class Budget(Protocol):
    def charge(self, steps: int) -> None: ...


@dataclass(frozen=True)
class Flags:
    fold_case: bool = False
    multi_line: bool = False
    dot_all: bool = False


def folded(char: str) -> tuple[str, ...]:
    """The character and its single-character case variants."""
    variants = {char}
    for variant in (char.lower(), char.upper()):
        if len(variant) == 1:
            variants.add(variant)
    return tuple(variants)


# Nodes of a parsed pattern, compiled straight into instructions.
@dataclass(frozen=True)
class CharTest:
    test: Callable[[str], bool]


@dataclass(frozen=True)
class Assertion:
    kind: str


@dataclass(frozen=True)
class Sequence:
    parts: tuple[object, ...]


@dataclass(frozen=True)
class Alternation:
    options: tuple[object, ...]


@dataclass(frozen=True)
class Repeat:
    node: object
    minimum: int
    maximum: int | None


def char_test(test: Callable[[str], bool], flags: Flags) -> CharTest:
    if not flags.fold_case:
        return CharTest(test)
    return CharTest(lambda c: any(test(v) for v in folded(c)))


def search(pattern: str, subject: str, budget: Budget, max_pattern_length: int = 1_000) -> bool:
    """Whether ``pattern`` (RE2 syntax) matches anywhere in ``subject``."""
    if len(pattern) > max_pattern_length:
        raise ExprError(
            f"regular expression is too long ({len(pattern)} characters, at most {max_pattern_length})"
        )
    return compile_pattern(pattern).search(subject, budget)


@functools.lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> Program:
    tree = _PatternParser(pattern).parse()
    program = Program()
    program.emit_node(tree, pattern)
    program.instructions.append(("match", None))
    return program


class _PatternParser:
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.pos = 0
        self.flags = Flags()
        self.nesting = 0

    def error(self, message: str, fragment: str | None = None) -> ExprError:
        shown = self.pattern if fragment is None else fragment
        return ExprError(f"error parsing regexp: {message}: `{shown}`")

    def peek(self, ahead: int = 0) -> str:
        index = self.pos + ahead
        return self.pattern[index] if index < len(self.pattern) else ""

    def parse(self) -> object:
        node = self.parse_alternation()
        if self.pos < len(self.pattern):
            raise self.error("unexpected )")
        return node

    def parse_alternation(self) -> object:
        options = [self.parse_sequence()]
        while self.peek() == "|":
            self.pos += 1
            options.append(self.parse_sequence())
        return options[0] if len(options) == 1 else Alternation(tuple(options))

    def parse_sequence(self) -> object:
        parts: list[object] = []
        while self.peek() not in ("", "|", ")"):
            start = self.pos
            atom = self.parse_atom()
            if atom is None:
                continue
            parts.append(self.parse_quantifiers(atom, start))
        return parts[0] if len(parts) == 1 else Sequence(tuple(parts))

    def parse_quantifiers(self, atom: object, start: int) -> object:
        bounds = self.parse_quantifier()
        if bounds is None:
            return atom
        if self.peek() == "?":
            self.pos += 1
        following = self.pos
        if self.parse_quantifier() is not None:
            raise self.error("invalid nested repetition operator", self.pattern[start : self.pos])
        self.pos = following
        minimum, maximum = bounds
        return Repeat(atom, minimum, maximum)

    def parse_quantifier(self) -> tuple[int, int | None] | None:
        char = self.peek()
        simple = {"*": (0, None), "+": (1, None), "?": (0, 1)}
        if char in simple:
            self.pos += 1
            return simple[char]
        if char != "{":
            return None
        close = self.pattern.find("}", self.pos)
        body = self.pattern[self.pos + 1 : close] if close > 0 else ""
        low, comma, high = body.partition(",")
        if close < 0 or not low.isdigit() or not (high.isdigit() or high == "") or not low.isascii():
            return None  # not a repetition: RE2 reads the brace literally
        if (high and not high.isascii()) or int(low) > MAX_REPEAT or (high and int(high) > MAX_REPEAT):
            raise self.error("invalid repeat count", self.pattern[self.pos : close + 1])
        maximum = None if comma and not high else int(high) if high else int(low)
        if maximum is not None and maximum < int(low):
            raise self.error("invalid repeat count", self.pattern[self.pos : close + 1])
        self.pos = close + 1
        return int(low), maximum

    def parse_atom(self) -> object | None:
        char = self.peek()
        if char in ("*", "+", "?") or (char == "{" and self.brace_is_repeat()):
            raise self.error("missing argument to repetition operator", char)
        self.pos += 1
        if char == "(":
            return self.parse_group()
        if char == "[":
            return self.parse_class()
        if char == ".":
            dot_all = self.flags.dot_all
            return CharTest(lambda c: dot_all or c != "\n")
        if char == "^":
            return Assertion("begin_line" if self.flags.multi_line else "begin_text")
        if char == "$":
            return Assertion("end_line" if self.flags.multi_line else "end_text")
        if char == "\\":
            return self.parse_escape()
        return char_test(lambda c, literal=char: c == literal, self.flags)  # type: ignore[misc]

    def brace_is_repeat(self) -> bool:
        saved = self.pos
        try:
            return self.parse_quantifier() is not None
        finally:
            self.pos = saved

    def parse_group(self) -> object | None:
        start = self.pos - 1
        self.nesting += 1
        if self.nesting > MAX_GROUP_NESTING:
            raise self.error("expression nests too deeply", self.pattern[start : start + 20])
        try:
            return self.parse_group_body(start)
        finally:
            self.nesting -= 1

    def parse_group_body(self, start: int) -> object | None:
        saved_flags = self.flags
        lookbehind = self.pattern.startswith(("?<=", "?<!"), self.pos)
        if self.pattern.startswith("?:", self.pos):
            self.pos += 2
        elif self.peek() == "?":
            if self.pattern.startswith(("?P<", "?<"), self.pos) and not lookbehind:
                self.skip_group_name(start)
            else:
                self.pos += 1
                if self.parse_flags(start):
                    return None  # "(?i)": changes the flags for the rest of the enclosing group
        node = self.parse_alternation()
        if self.peek() != ")":
            raise self.error("missing closing )", self.pattern[start:])
        self.pos += 1
        self.flags = saved_flags
        return node

    def skip_group_name(self, start: int) -> None:
        self.pos += 3 if self.peek(1) == "P" else 2
        close = self.pattern.find(">", self.pos)
        name = self.pattern[self.pos : close] if close >= 0 else ""
        if not name or not all(c in WORD_CHARS for c in name):
            raise self.error("invalid named capture", self.pattern[start:])
        self.pos = close + 1

    def parse_flags(self, start: int) -> bool:
        """Flags after ``(?``; True for ``(?flags)``, False for ``(?flags:`` (the group continues)."""
        values = {"i": self.flags.fold_case, "m": self.flags.multi_line, "s": self.flags.dot_all}
        negate = False
        seen = False
        while True:
            char = self.peek()
            self.pos += 1
            if char in ("i", "m", "s", "U"):
                if char != "U":
                    values[char] = not negate
                seen = True
            elif char == "-" and not negate:
                negate, seen = True, False
            elif char in (")", ":") and seen:
                self.flags = Flags(values["i"], values["m"], values["s"])
                return char == ")"
            else:
                raise self.error("invalid or unsupported Perl syntax", self.pattern[start : self.pos])

    def parse_escape(self) -> object:
        start = self.pos - 1
        char = self.peek()
        self.pos += 1
        if char == "":
            raise self.error("trailing backslash at end of expression", "")
        if char in ASSERTION_ESCAPES:
            return Assertion(ASSERTION_ESCAPES[char])
        if char == "Q":
            end = self.pattern.find("\\E", self.pos)
            text = self.pattern[self.pos : end if end >= 0 else len(self.pattern)]
            self.pos = len(self.pattern) if end < 0 else end + 2
            return Sequence(tuple(char_test(lambda c, lit=t: c == lit, self.flags) for t in text))  # type: ignore[misc]
        test = self.class_escape(char, start)
        return char_test(test, self.flags)

    def class_escape(self, char: str, start: int) -> Callable[[str], bool]:
        """An escape that stands for one character or a class of them (valid inside ``[...]`` too)."""
        if char.lower() in PERL_CLASSES:
            base = PERL_CLASSES[char.lower()]
            return base if char.islower() else (lambda c: not base(c))
        if char in ("p", "P"):
            return self.unicode_class(char == "P", start)
        literal = self.escaped_literal(char, start)
        return lambda c: c == literal

    def escaped_literal(self, char: str, start: int) -> str:
        if char in CONTROL_ESCAPES:
            return CONTROL_ESCAPES[char]
        if char == "x":
            return self.hex_escape(start)
        if "0" <= char <= "7":
            digits = char
            if char != "0" and not ("0" <= self.peek() <= "7"):
                raise self.error("invalid escape sequence", self.pattern[start : self.pos])
            while len(digits) < 3 and "0" <= self.peek() <= "7":
                digits += self.peek()
                self.pos += 1
            return chr(int(digits, 8))
        if char.isascii() and not char.isalnum():
            return char
        raise self.error("invalid escape sequence", self.pattern[start : self.pos])

    def hex_escape(self, start: int) -> str:
        if self.peek() == "{":
            close = self.pattern.find("}", self.pos)
            digits = self.pattern[self.pos + 1 : close] if close > 0 else ""
            self.pos = close + 1 if close > 0 else len(self.pattern)
        else:
            digits = self.pattern[self.pos : self.pos + 2]
            self.pos += 2
        valid = 0 < len(digits) <= 8 and all(c in "0123456789abcdefABCDEF" for c in digits)
        if not valid or int(digits, 16) > 0x10FFFF:
            raise self.error("invalid escape sequence", self.pattern[start : self.pos])
        return chr(int(digits, 16))

    def unicode_class(self, negated: bool, start: int) -> Callable[[str], bool]:
        if self.peek() == "{":
            close = self.pattern.find("}", self.pos)
            name = self.pattern[self.pos + 1 : close] if close > 0 else ""
            self.pos = close + 1 if close > 0 else len(self.pattern)
        else:
            name = self.peek()
            self.pos += 1
        if name.startswith("^"):
            negated, name = not negated, name[1:]
        known = name == "Any" or (1 <= len(name) <= 2 and name[0] in "CLMNPSZ")
        if not known:
            raise self.error("invalid character class range", self.pattern[start : self.pos])

        def member(c: str) -> bool:
            return name == "Any" or unicodedata.category(c).startswith(name)

        return (lambda c: not member(c)) if negated else member

    def parse_class(self) -> object:
        start = self.pos - 1
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        tests: list[Callable[[str], bool]] = []
        first = True
        while True:
            char = self.peek()
            if char == "":
                raise self.error("missing closing ]", self.pattern[start:])
            if char == "]" and not first:
                self.pos += 1
                break
            first = False
            if self.pattern.startswith("[:", self.pos):
                tests.append(self.posix_class(start))
                continue
            low = self.class_char(start)
            if not isinstance(low, str):
                tests.append(low)
                continue
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.pos += 1
                high = self.class_char(start)
                if not isinstance(high, str) or high < low:
                    raise self.error("invalid character class range", self.pattern[start : self.pos])
                tests.append(lambda c, lo=low, hi=high: lo <= c <= hi)  # type: ignore[misc]
            else:
                tests.append(lambda c, lit=low: c == lit)  # type: ignore[misc]
        options = tuple(tests)
        test = char_test(lambda c: any(t(c) for t in options), self.flags).test
        return CharTest((lambda c: not test(c)) if negated else test)

    def class_char(self, start: int) -> str | Callable[[str], bool]:
        char = self.peek()
        self.pos += 1
        if char != "\\":
            return char
        escaped = self.peek()
        self.pos += 1
        if escaped == "":
            raise self.error("missing closing ]", self.pattern[start:])
        if escaped.lower() in PERL_CLASSES or escaped in ("p", "P"):
            return self.class_escape(escaped, start)
        return self.escaped_literal(escaped, self.pos - 2)

    def posix_class(self, start: int) -> Callable[[str], bool]:
        close = self.pattern.find(":]", self.pos + 2)
        name = self.pattern[self.pos + 2 : close] if close >= 0 else ""
        negated = name.startswith("^")
        base = POSIX_CLASSES.get(name.lstrip("^"))
        if close < 0 or base is None:
            raise self.error(
                "invalid character class range", self.pattern[self.pos : close + 2 if close >= 0 else None]
            )
        self.pos = close + 2
        return (lambda c: not base(c)) if negated else base


@dataclass
class Program:
    """Instructions: ("char", test), ("split", (a, b)), ("jump", a), ("assert", kind), ("match", None)."""

    instructions: list[tuple[str, object]] = field(default_factory=list)

    def emit(self, op: str, arg: object = None) -> int:
        if len(self.instructions) >= MAX_INSTRUCTIONS:
            raise ExprError("error parsing regexp: expression too large")
        self.instructions.append((op, arg))
        return len(self.instructions) - 1

    def emit_node(self, node: object, pattern: str) -> None:
        if isinstance(node, CharTest):
            self.emit("char", node.test)
        elif isinstance(node, Assertion):
            self.emit("assert", node.kind)
        elif isinstance(node, Sequence):
            for part in node.parts:
                self.emit_node(part, pattern)
        elif isinstance(node, Alternation):
            self.emit_alternation(node, pattern)
        elif isinstance(node, Repeat):
            self.emit_repeat(node, pattern)

    def emit_alternation(self, node: Alternation, pattern: str) -> None:
        jumps: list[int] = []
        for option in node.options[:-1]:
            split = self.emit("split")
            self.emit_node(option, pattern)
            jumps.append(self.emit("jump"))
            self.instructions[split] = ("split", (split + 1, len(self.instructions)))
        self.emit_node(node.options[-1], pattern)
        for jump in jumps:
            self.instructions[jump] = ("jump", len(self.instructions))

    def emit_repeat(self, node: Repeat, pattern: str) -> None:
        for _ in range(node.minimum):
            self.emit_node(node.node, pattern)
        if node.maximum is None:
            split = self.emit("split")
            self.emit_node(node.node, pattern)
            self.emit("jump", split)
            self.instructions[split] = ("split", (split + 1, len(self.instructions)))
            return
        splits: list[int] = []
        for _ in range(node.maximum - node.minimum):
            splits.append(self.emit("split"))
            self.emit_node(node.node, pattern)
        for split in splits:
            self.instructions[split] = ("split", (split + 1, len(self.instructions)))

    def search(self, subject: str, budget: Budget) -> bool:
        current: list[int] = []
        for position in range(len(subject) + 1):
            current = self.closure([*current, 0], subject, position)
            budget.charge(len(current) + 1)
            if any(self.instructions[pc][0] == "match" for pc in current):
                return True
            if position == len(subject):
                return False
            char = subject[position]
            current = [pc + 1 for pc in current if self.instructions[pc][0] == "char" and self.test(pc, char)]
        return False  # pragma: no cover - the loop returns at the end of the subject

    def test(self, pc: int, char: str) -> bool:
        test = self.instructions[pc][1]
        assert callable(test)
        return bool(test(char))

    def closure(self, starts: list[int], subject: str, position: int) -> list[int]:
        """The states reachable without consuming a character (splits, jumps, satisfied assertions)."""
        seen: set[int] = set()
        result: list[int] = []
        stack = list(reversed(starts))
        while stack:
            pc = stack.pop()
            if pc in seen:
                continue
            seen.add(pc)
            op, arg = self.instructions[pc]
            if op == "jump":
                assert isinstance(arg, int)
                stack.append(arg)
            elif op == "split":
                assert isinstance(arg, tuple)
                stack.extend(reversed(arg))
            elif op == "assert":
                if assertion_holds(str(arg), subject, position):
                    stack.append(pc + 1)
            else:
                result.append(pc)
        return result


def assertion_holds(kind: str, subject: str, position: int) -> bool:
    before = subject[position - 1] if position > 0 else ""
    after = subject[position] if position < len(subject) else ""
    if kind == "begin_text":
        return position == 0
    if kind == "end_text":
        return position == len(subject)
    if kind == "begin_line":
        return position == 0 or before == "\n"
    if kind == "end_line":
        return position == len(subject) or after == "\n"
    boundary = (before in WORD_CHARS and before != "") != (after in WORD_CHARS and after != "")
    return boundary if kind == "word_boundary" else not boundary
