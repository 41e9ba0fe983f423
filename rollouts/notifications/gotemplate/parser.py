"""Tokens → syntax tree, for the subset of Go's ``text/template`` notification templates use.

Supported: text, ``{{pipeline}}`` output, ``if``/``else if``/``else``/``end``, ``range``
(with ``$i, $v :=`` and ``else``), ``with``, ``break``/``continue``, variables (``$x :=``,
``$x =``, ``$``), fields, parenthesised pipelines with field chains, ``|`` pipes, string,
number, bool and ``nil`` literals. ``define``/``template``/``block`` and character constants are
refused with a clear error rather than half-supported. Nesting is bounded so a hostile template
cannot exhaust the stack.
"""

from __future__ import annotations

from typing import Final

from rollouts.notifications.gotemplate import nodes
from rollouts.notifications.gotemplate.errors import TemplateError
from rollouts.notifications.gotemplate.lexer import Action, Text, Token, lex

__all__ = ["MAX_DEPTH", "parse"]

MAX_DEPTH: Final = 64
UNSUPPORTED: Final = frozenset({"define", "template", "block"})


def parse(source: str) -> tuple[nodes.Node, ...]:
    items = lex(source)
    parser = _Parser(source, items)
    body, ending = parser.block(0, in_range=False)
    if ending is not None:
        raise TemplateError.at(f"unexpected {{{{{ending[0]}}}}}", source, ending[1])
    return body


class _Parser:
    def __init__(self, source: str, items: list[Text | Action]) -> None:
        self.source = source
        self.items = items
        self.index = 0

    def fail(self, message: str, offset: int) -> TemplateError:
        return TemplateError.at(message, self.source, offset)

    def block(
        self, depth: int, *, in_range: bool
    ) -> tuple[tuple[nodes.Node, ...], tuple[str, int, Action] | None]:
        """Nodes until ``end``/``else`` (returned as the ending) or the end of input."""
        if depth > MAX_DEPTH:
            raise self.fail("template nested too deeply", self.items[self.index - 1].offset)
        body: list[nodes.Node] = []
        while self.index < len(self.items):
            item = self.items[self.index]
            self.index += 1
            if isinstance(item, Text):
                body.append(nodes.TextNode(item.text))
                continue
            if not item.tokens:
                raise self.fail("missing value for command", item.offset)
            first = item.tokens[0]
            if first.kind == "keyword" and first.value in ("end", "else"):
                return tuple(body), (first.value, first.offset, item)
            if first.kind == "keyword" and first.value in ("if", "with", "range"):
                body.append(self.branch(first.value, item, depth, in_range=in_range))
                continue
            if first.kind == "keyword" and first.value in ("break", "continue"):
                if not in_range:
                    raise self.fail(f"{{{{{first.value}}}}} outside {{{{range}}}}", first.offset)
                if len(item.tokens) > 1:
                    raise self.fail(
                        f"unexpected {item.tokens[1].value!r} in {first.value}", item.tokens[1].offset
                    )
                body.append(nodes.LoopControl(first.value, first.offset))
                continue
            if first.kind == "keyword" and first.value in UNSUPPORTED:
                raise self.fail(
                    f"{{{{{first.value}}}}} is not supported by this template engine", first.offset
                )
            body.append(nodes.Output(self.pipeline(item.tokens, item.offset, allow_declare=True)))
        return tuple(body), None

    def branch(self, kind: str, item: Action, depth: int, *, in_range: bool) -> nodes.Branch:
        tokens = item.tokens[1:]
        if not tokens:
            raise self.fail(f"missing value for {kind}", item.offset)
        pipeline = self.pipeline(tokens, item.offset, allow_declare=True, allow_pair=kind == "range")
        body, ending = self.block(depth + 1, in_range=in_range or kind == "range")
        if ending is None:
            raise self.fail(f"unexpected EOF: {{{{{kind}}}}} has no {{{{end}}}}", item.offset)
        otherwise: tuple[nodes.Node, ...] = ()
        word, offset, closing = ending
        if word == "else":
            rest = closing.tokens[1:]
            if rest and rest[0].kind == "keyword" and rest[0].value in ("if", "with"):
                # ``{{else if x}}`` is an if nested in the else branch sharing the same ``{{end}}``
                nested = Action(rest, closing.offset)
                otherwise = (self.branch(rest[0].value, nested, depth + 1, in_range=in_range),)
            else:
                if rest:
                    raise self.fail(f"unexpected {rest[0].value!r} after else", rest[0].offset)
                otherwise, ending = self.block(depth + 1, in_range=in_range)
                if ending is None or ending[0] != "end":
                    raise self.fail(f"expected {{{{end}}}} to close {{{{{kind}}}}}", offset)
        elif len(closing.tokens) > 1:
            raise self.fail(f"unexpected {closing.tokens[1].value!r} in end", closing.tokens[1].offset)
        return nodes.Branch(kind, pipeline, body, otherwise)

    def pipeline(
        self,
        tokens: tuple[Token, ...],
        offset: int,
        *,
        allow_declare: bool,
        allow_pair: bool = False,
        depth: int = 0,
    ) -> nodes.Pipeline:
        if depth > MAX_DEPTH:
            raise self.fail("expression nested too deeply", offset)
        variables: list[str] = []
        assign = False
        position = 0
        declaration = _declaration(tokens, allow_pair)
        if declaration:
            if not allow_declare:
                raise self.fail("variable declaration not allowed here", tokens[0].offset)
            variables = [tokens[i].value for i in range(0, declaration - 1, 2)]
            assign = tokens[declaration - 1].kind == "assign"
            position = declaration
        commands: list[nodes.Command] = []
        current: list[nodes.Operand] = []
        while position < len(tokens):
            token = tokens[position]
            if token.kind == "pipe":
                if not current:
                    raise self.fail("missing command before |", token.offset)
                commands.append(nodes.Command(tuple(current), current[0].offset))
                current = []
                position += 1
                continue
            operand, position = self.operand(tokens, position, depth)
            current.append(operand)
        if not current:
            raise self.fail("missing value for command", tokens[-1].offset if tokens else offset)
        commands.append(nodes.Command(tuple(current), current[0].offset))
        return nodes.Pipeline(tuple(variables), assign, tuple(commands), offset)

    def operand(self, tokens: tuple[Token, ...], position: int, depth: int) -> tuple[nodes.Operand, int]:
        token = tokens[position]
        kind, value = token.kind, token.value
        if kind == "dot":
            return nodes.Field((), token.offset), position + 1
        if kind == "field":
            return nodes.Field(tuple(value[1:].split(".")), token.offset), position + 1
        if kind == "variable":
            name, *path = value.split(".")
            return nodes.Variable(name, tuple(path), token.offset), position + 1
        if kind == "identifier":
            return nodes.Function(value, token.offset), position + 1
        if kind == "string":
            return nodes.Literal(value, token.offset), position + 1
        if kind == "bool":
            return nodes.Literal(value == "true", token.offset), position + 1
        if kind == "number":
            return nodes.Literal(self.number(token), token.offset), position + 1
        if kind == "keyword" and value == "nil":
            return nodes.Literal(None, token.offset), position + 1
        if kind == "lparen":
            close = _matching(tokens, position)
            if close < 0:
                raise self.fail("unclosed left paren", token.offset)
            inner = self.pipeline(
                tokens[position + 1 : close], token.offset, allow_declare=False, depth=depth + 1
            )
            chain: tuple[str, ...] = ()
            after = close + 1
            if after < len(tokens) and tokens[after].kind == "field" and not tokens[after].spaced:
                chain = tuple(tokens[after].value[1:].split("."))
                after += 1
            return nodes.Nested(inner, chain, token.offset), after
        if kind == "keyword":
            raise self.fail(f"unexpected {{{{{value}}}}} in operand", token.offset)
        raise self.fail(f"unexpected {value!r} in operand", token.offset)

    def number(self, token: Token) -> int | float:
        text = token.value.replace("_", "")
        try:
            if text.lower().startswith(("0x", "-0x", "+0x")):
                return int(text, 16)
            if any(mark in text for mark in ".eE"):
                return float(text)
            return int(text, 10)
        except ValueError:
            raise self.fail(f"bad number syntax: {token.value!r}", token.offset) from None


def _declaration(tokens: tuple[Token, ...], allow_pair: bool) -> int:
    """The index after ``$x :=``/``$x =``/``$i, $v :=``, or 0 when the pipeline declares nothing."""
    if len(tokens) >= 2 and tokens[0].kind == "variable" and tokens[1].kind in ("declare", "assign"):
        return 2
    if (
        allow_pair
        and len(tokens) >= 4
        and tokens[0].kind == "variable"
        and tokens[1].kind == "comma"
        and tokens[2].kind == "variable"
        and tokens[3].kind in ("declare", "assign")
    ):
        return 4
    return 0


def _matching(tokens: tuple[Token, ...], position: int) -> int:
    depth = 0
    for index in range(position, len(tokens)):
        if tokens[index].kind == "lparen":
            depth += 1
        elif tokens[index].kind == "rparen":
            depth -= 1
            if depth == 0:
                return index
    return -1
