"""Go template text → a flat list of text pieces and tokenised actions.

Go's ``text/template`` lexer is a state machine over the whole text; ours splits on ``{{``/``}}``
first (tracking strings inside actions so ``"}}"`` in a literal does not end one), applies the
trim markers (``{{- `` and `` -}}`` remove adjacent white space, as in Go) and drops comments,
then tokenises each action. Positions are kept as offsets so every later error can name
``line:column``. Nothing here allocates more than a constant factor of the input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from rollouts.notifications.gotemplate.errors import TemplateError

__all__ = ["Action", "Text", "Token", "lex"]

LEFT: Final = "{{"
RIGHT: Final = "}}"
SPACES: Final = " \t\r\n"
KEYWORDS: Final = frozenset(
    {"if", "else", "end", "range", "with", "break", "continue", "define", "template", "block", "nil"}
)
SINGLE: Final = {"|": "pipe", "(": "lparen", ")": "rparen", ",": "comma", "=": "assign"}


@dataclass(frozen=True)
class Token:
    kind: str
    """field, variable, identifier, keyword, string, number, bool, pipe, lparen, rparen, comma,
    declare, assign, dot."""
    value: str
    offset: int
    spaced: bool
    """Whether white space came before it (``(x).a`` chains a field, ``(x) .a`` is two args)."""


@dataclass(frozen=True)
class Text:
    text: str
    offset: int


@dataclass(frozen=True)
class Action:
    tokens: tuple[Token, ...]
    offset: int


def lex(source: str) -> list[Text | Action]:
    items: list[Text | Action] = []
    position = 0
    trim_next = False
    while position <= len(source):
        start = source.find(LEFT, position)
        text = source[position:] if start < 0 else source[position:start]
        inner = start + len(LEFT)
        trim_left = (
            start >= 0 and source.startswith("-", inner) and source[inner + 1 : inner + 2] in tuple(SPACES)
        )
        if trim_next:
            text = text.lstrip(SPACES)
        if trim_left:
            text = text.rstrip(SPACES)
        if text:
            items.append(Text(text, position))
        if start < 0:
            break
        if trim_left:
            inner += 1
        end, trim_next, tokens = _action(source, inner, start)
        if tokens is not None:
            items.append(Action(tuple(tokens), start))
        position = end
    return items


def _action(source: str, inner: int, start: int) -> tuple[int, bool, list[Token] | None]:
    """Tokens of the action starting at ``inner``; the offset after ``}}`` and the right trim."""
    stripped = inner
    while stripped < len(source) and source[stripped] in SPACES:
        stripped += 1
    if source.startswith("/*", stripped):
        close = source.find("*/", stripped + 2)
        if close < 0:
            raise TemplateError.at("unclosed comment", source, start)
        after = close + 2
        trim = source.startswith(" -" + RIGHT, after) or source.startswith("\t-" + RIGHT, after)
        if trim:
            after += 2
        if not source.startswith(RIGHT, after):
            raise TemplateError.at("comment ends before closing delimiter", source, start)
        return after + len(RIGHT), trim, None
    tokens: list[Token] = []
    position = inner
    spaced = True
    while True:
        if position >= len(source):
            raise TemplateError.at("unclosed action", source, start)
        char = source[position]
        if char in SPACES:
            if source.startswith("-" + RIGHT, position + 1):
                return position + 1 + 1 + len(RIGHT), True, tokens
            position += 1
            spaced = True
            continue
        if source.startswith(RIGHT, position):
            return position + len(RIGHT), False, tokens
        token, position = _token(source, position, spaced)
        tokens.append(token)
        spaced = False


def _token(source: str, position: int, spaced: bool) -> tuple[Token, int]:
    char = source[position]
    if char in SINGLE:
        return Token(SINGLE[char], char, position, spaced), position + 1
    if source.startswith(":=", position):
        return Token("declare", ":=", position, spaced), position + 2
    if char == '"':
        return _quoted(source, position, spaced)
    if char == "`":
        close = source.find("`", position + 1)
        if close < 0:
            raise TemplateError.at("unterminated raw quoted string", source, position)
        return Token("string", source[position + 1 : close], position, spaced), close + 1
    if char == "'":
        raise TemplateError.at("character constants are not supported; use a string", source, position)
    if char in ".$":
        end = _name_end(source, position + 1)
        while end < len(source) and source[end] == "." and _name_end(source, end + 1) > end + 1:
            end = _name_end(source, end + 1)
        value = source[position:end]
        if char == "." and value != "." and value[1:2].isdigit():
            return _number(source, position, spaced)
        kind = "variable" if char == "$" else ("dot" if value == "." else "field")
        return Token(kind, value, position, spaced), end
    if char.isdigit() or (char in "+-" and source[position + 1 : position + 2].isdigit()):
        return _number(source, position, spaced)
    if char.isalpha() or char == "_":
        end = _name_end(source, position)
        word = source[position:end]
        if word in ("true", "false"):
            return Token("bool", word, position, spaced), end
        kind = "keyword" if word in KEYWORDS else "identifier"
        if kind == "identifier" and source[end : end + 1] == ".":
            raise TemplateError.at(
                f"{word}.{source[end + 1 : _name_end(source, end + 1)]} is not a function here; "
                f"use call with .{word}.… (for example call .time.Now)",
                source,
                position,
            )
        return Token(kind, word, position, spaced), end
    raise TemplateError.at(f"unexpected {char!r} in action", source, position)


def _name_end(source: str, position: int) -> int:
    while position < len(source) and (source[position].isalnum() or source[position] == "_"):
        position += 1
    return position


def _number(source: str, position: int, spaced: bool) -> tuple[Token, int]:
    end = position + 1
    while end < len(source) and (source[end].isalnum() or source[end] in "._" or source[end - 1] in "eE"):
        if source[end] in "+-" and source[end - 1] not in "eE":
            break
        end += 1
    return Token("number", source[position:end], position, spaced), end


ESCAPES: Final = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "\\": "\\",
    '"': '"',
    "'": "'",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "0": "\0",
}


def _quoted(source: str, position: int, spaced: bool) -> tuple[Token, int]:
    out: list[str] = []
    index = position + 1
    while index < len(source):
        char = source[index]
        if char == '"':
            return Token("string", "".join(out), position, spaced), index + 1
        if char == "\n":
            break
        if char == "\\":
            code = source[index + 1 : index + 2]
            if code in ("x", "u", "U"):
                width = {"x": 2, "u": 4, "U": 8}[code]
                digits = source[index + 2 : index + 2 + width]
                try:
                    out.append(chr(int(digits, 16)))
                except ValueError:
                    raise TemplateError.at(f"bad escape \\{code}{digits}", source, index) from None
                index += 2 + width
                continue
            if code not in ESCAPES:
                raise TemplateError.at(f"unknown escape sequence \\{code}", source, index)
            out.append(ESCAPES[code])
            index += 2
            continue
        out.append(char)
        index += 1
    raise TemplateError.at("unterminated quoted string", source, position)
