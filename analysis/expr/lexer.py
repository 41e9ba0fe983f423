"""Tokenizer for the expr-lang syntax.

A single left-to-right scan with one character of lookahead, producing a flat list of tokens that
the parser walks by index. Keywords that act as operators (``and``, ``in``, ``matches``...) are
emitted as operators so the parser's precedence table sees them like ``&&`` or ``==``. String
escapes are decoded here, so a malformed escape is reported at its own position.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from analysis.expr.errors import ExprError


class Kind(enum.Enum):
    NUMBER = "number"
    STRING = "string"
    IDENTIFIER = "identifier"
    OPERATOR = "operator"
    BRACKET = "bracket"
    EOF = "end of expression"


@dataclass(frozen=True)
class Token:
    kind: Kind
    value: str
    offset: int

    def is_(self, kind: Kind, *values: str) -> bool:
        return self.kind is kind and (not values or self.value in values)

    def describe(self) -> str:
        """How the token is named in an error message."""
        if self.kind is Kind.EOF:
            return "end of expression"
        if self.kind is Kind.STRING:
            return f"string {go_quote(self.value)}"
        return go_quote(self.value)


KEYWORD_OPERATORS = frozenset(
    {"not", "in", "or", "and", "matches", "contains", "startsWith", "endsWith", "let", "if", "else"}
)
TWO_CHAR_OPERATORS = frozenset({"&&", "||", "==", "!=", "<=", ">=", "**", "??", "?.", "..", "::"})
ONE_CHAR_OPERATORS = frozenset("+-*/%^<>!=?:,;.|#")
BRACKETS = frozenset("()[]{}")
SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
HEX_ESCAPE_WIDTHS = {"x": 2, "u": 4, "U": 8}
DECIMAL_DIGITS = "0123456789_"
PREFIXED_DIGITS = {"x": "0123456789abcdefABCDEF_", "o": "01234567_", "b": "01_"}


def is_identifier_char(char: str) -> bool:
    return char.isalpha() or char.isdecimal() or char in "_$"


def go_quote(text: str) -> str:
    """Double-quote ``text`` the way Go's %q does for printable text."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def tokenize(source: str) -> list[Token]:
    """Split ``source`` into tokens, ending with an EOF token."""
    return _Scanner(source).run()


class _Scanner:
    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.tokens: list[Token] = []

    def error(self, message: str, offset: int) -> ExprError:
        return ExprError.at(message, self.source, offset)

    def peek(self, ahead: int = 0) -> str:
        index = self.pos + ahead
        return self.source[index] if index < len(self.source) else ""

    def emit(self, kind: Kind, value: str, start: int) -> None:
        self.tokens.append(Token(kind, value, start))

    def run(self) -> list[Token]:
        while self.pos < len(self.source):
            self.scan_one()
        self.emit(Kind.EOF, "", len(self.source))
        return self.tokens

    def scan_one(self) -> None:
        char = self.peek()
        start = self.pos
        if char.isspace():
            self.pos += 1
        elif char in "'\"":
            self.emit(Kind.STRING, self.scan_quoted(char), start)
        elif char == "`":
            self.emit(Kind.STRING, self.scan_raw(), start)
        elif "0" <= char <= "9" or (char == "." and "0" <= self.peek(1) <= "9"):
            self.emit(Kind.NUMBER, self.scan_number(), start)
        elif char == "/" and self.peek(1) in ("/", "*"):
            self.skip_comment()
        elif char in BRACKETS:
            self.pos += 1
            self.emit(Kind.BRACKET, char, start)
        elif is_identifier_char(char):
            self.scan_word()
        elif char + self.peek(1) in TWO_CHAR_OPERATORS:
            self.pos += 2
            self.emit(Kind.OPERATOR, char + self.source[start + 1], start)
        elif char in ONE_CHAR_OPERATORS:
            self.pos += 1
            self.emit(Kind.OPERATOR, char, start)
        else:
            raise self.error(f"unrecognized character: {go_quote(char)}", start)

    def scan_word(self) -> None:
        start = self.pos
        while self.pos < len(self.source) and is_identifier_char(self.source[self.pos]):
            self.pos += 1
        word = self.source[start : self.pos]
        previous = self.tokens[-1] if self.tokens else None
        # "#index" and "#acc" name closure variables; they are identifiers even if they look like keywords.
        after_pointer = (
            previous is not None and previous.is_(Kind.OPERATOR, "#") and previous.offset == start - 1
        )
        kind = Kind.OPERATOR if word in KEYWORD_OPERATORS and not after_pointer else Kind.IDENTIFIER
        self.emit(kind, word, start)

    def scan_number(self) -> str:
        start = self.pos
        digits = DECIMAL_DIGITS
        prefix = self.peek(1).lower()
        if self.peek() == "0" and prefix in PREFIXED_DIGITS:
            digits = PREFIXED_DIGITS[prefix]
            self.pos += 2
        self.accept_run(digits)
        # "1..3" is a range: the first dot starts the operator, not a fraction.
        if self.peek() == "." and self.peek(1) != ".":
            self.pos += 1
            self.accept_run(digits)
        if self.peek() in ("e", "E") and digits is DECIMAL_DIGITS:
            self.pos += 1
            if self.peek() in ("+", "-") and self.peek():
                self.pos += 1
            self.accept_run(digits)
        if self.peek() and is_identifier_char(self.peek()):
            self.pos += 1
            raise self.error(f"bad number syntax: {go_quote(self.source[start : self.pos])}", start)
        return self.source[start : self.pos]

    def accept_run(self, allowed: str) -> None:
        while self.pos < len(self.source) and self.source[self.pos] in allowed:
            self.pos += 1

    def skip_comment(self) -> None:
        start = self.pos
        if self.peek(1) == "/":
            end = self.source.find("\n", start)
            self.pos = len(self.source) if end < 0 else end + 1
            return
        end = self.source.find("*/", start + 2)
        if end < 0:
            raise self.error("unclosed comment", start)
        self.pos = end + 2

    def scan_raw(self) -> str:
        start = self.pos
        end = self.source.find("`", start + 1)
        if end < 0:
            raise self.error("literal not terminated", start)
        self.pos = end + 1
        return self.source[start + 1 : end]

    def scan_quoted(self, quote: str) -> str:
        start = self.pos
        self.pos += 1
        parts: list[str] = []
        while True:
            char = self.peek()
            if char in ("", "\n"):
                raise self.error("literal not terminated", start)
            self.pos += 1
            if char == quote:
                return "".join(parts)
            parts.append(self.scan_escape(quote) if char == "\\" else char)

    def scan_escape(self, quote: str) -> str:
        escape_start = self.pos - 1
        char = self.peek()
        self.pos += 1
        if char in SIMPLE_ESCAPES:
            return SIMPLE_ESCAPES[char]
        if char == quote:
            return quote
        if char in HEX_ESCAPE_WIDTHS:
            return self.code_point(HEX_ESCAPE_WIDTHS[char], 16, escape_start)
        if "0" <= char <= "7":
            self.pos -= 1
            return self.code_point(3, 8, escape_start)
        raise self.error("invalid char escape", escape_start)

    def code_point(self, width: int, base: int, escape_start: int) -> str:
        digits = self.source[self.pos : self.pos + width]
        valid = "01234567" if base == 8 else "0123456789abcdefABCDEF"
        if len(digits) != width or any(d not in valid for d in digits):
            raise self.error("invalid char escape", escape_start)
        self.pos += width
        value = int(digits, base)
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF or (base == 8 and value > 255):
            raise self.error("invalid char escape", escape_start)
        return chr(value)
