"""Parser from tokens to the syntax tree: precedence climbing, following expr-lang's grammar.

One method per grammar level, as in expr-lang's own parser, so its quirks carry over where users
may rely on them: comparisons chain (``a < b < c`` means ``a < b && b < c``), ``??`` binds tighter
than arithmetic and cannot be mixed with other operators without parentheses, ``not`` binds
tighter than comparisons (``not a == b`` is ``(not a) == b``), unary minus looser than ``**``.

Recursion is bounded twice: a nesting counter stops the parser itself long before Python's
recursion limit, and an iterative walk of the finished tree rejects left-deep chains (``a.b.b.b``,
``1+1+1``) the parser builds in loops, since the evaluator recurses over the tree.
"""

from __future__ import annotations

from analysis.expr import nodes as n
from analysis.expr.errors import ExprError
from analysis.expr.lexer import Kind, Token, tokenize
from analysis.expr.limits import DEFAULT_LIMITS, Limits

INT64_MAX = 2**63 - 1

UNARY_PRECEDENCE = {"not": 50, "!": 50, "-": 90, "+": 90}
BINARY_PRECEDENCE = {
    "|": 0,
    "or": 10,
    "||": 10,
    "and": 15,
    "&&": 15,
    "==": 20,
    "!=": 20,
    "<": 20,
    ">": 20,
    ">=": 20,
    "<=": 20,
    "in": 20,
    "matches": 20,
    "contains": 20,
    "startsWith": 20,
    "endsWith": 20,
    "..": 25,
    "+": 30,
    "-": 30,
    "*": 60,
    "/": 60,
    "%": 60,
    "**": 100,
    "^": 100,
    "??": 500,
}
RIGHT_ASSOCIATIVE = frozenset({"**", "^"})
COMPARISON_PRECEDENCE = 20
NEGATABLE = frozenset({"in", "matches", "contains", "startsWith", "endsWith"})

# Built-ins whose arguments include closures: "e" an expression, "c" a closure, upper-case optional.
CLOSURE_SIGNATURES = {
    "all": "ec",
    "none": "ec",
    "any": "ec",
    "one": "ec",
    "filter": "ec",
    "map": "ec",
    "find": "ec",
    "findIndex": "ec",
    "findLast": "ec",
    "findLastIndex": "ec",
    "groupBy": "ec",
    "count": "eC",
    "sum": "eC",
    "sortBy": "ecE",
    "reduce": "ecE",
}


def parse(source: str, limits: Limits = DEFAULT_LIMITS) -> n.Node:
    """Parse ``source`` into a tree, or raise ``ExprError`` naming the position of the problem."""
    if len(source) > limits.max_source_length:
        raise ExprError(
            f"expression is too long ({len(source)} characters, at most {limits.max_source_length})"
        )
    if not source.strip():
        raise ExprError("expression is empty")
    parser = _Parser(source, tokenize(source), limits)
    tree = parser.parse_expression(0)
    if not parser.current.is_(Kind.EOF):
        raise parser.unexpected()
    check_depth(tree, source, limits)
    return tree


def check_depth(tree: n.Node, source: str, limits: Limits) -> None:
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limits.max_depth:
            raise ExprError.at(
                f"expression is nested too deeply (more than {limits.max_depth} levels)", source, node.offset
            )
        stack.extend((child, depth + 1) for child in node.children())


class _Parser:
    def __init__(self, source: str, tokens: list[Token], limits: Limits) -> None:
        self.source = source
        self.tokens = tokens
        self.limits = limits
        self.index = 0
        self.closure_depth = 0
        self.nesting = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def peek(self) -> Token:
        return self.tokens[min(self.index + 1, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.current
        if not token.is_(Kind.EOF):
            self.index += 1
        return token

    def error(self, message: str, token: Token | None = None) -> ExprError:
        return ExprError.at(message, self.source, (token or self.current).offset)

    def unexpected(self, token: Token | None = None) -> ExprError:
        token = token or self.current
        if token.is_(Kind.EOF):
            return self.error("unexpected end of expression", token)
        return self.error(f"unexpected token {token.describe()}", token)

    def expect(self, kind: Kind, value: str) -> Token:
        if not self.current.is_(kind, value):
            raise self.unexpected()
        return self.advance()

    def parse_expression(self, precedence: int) -> n.Node:
        self.nesting += 1
        try:
            if self.nesting > self.limits.max_depth:
                raise self.error(
                    f"expression is nested too deeply (more than {self.limits.max_depth} levels)"
                )
            if precedence == 0 and self.current.is_(Kind.OPERATOR, "let"):
                return self.parse_let()
            node = self.parse_binary(self.parse_primary(), precedence)
            return self.parse_conditional(node) if precedence == 0 else node
        finally:
            self.nesting -= 1

    def parse_binary(self, left: n.Node, precedence: int) -> n.Node:
        previous_operator = ""
        while self.current.is_(Kind.OPERATOR):
            operator_token = self.current
            negated = False
            if operator_token.value == "not":
                following = self.peek()
                if not following.is_(Kind.OPERATOR) or following.value not in NEGATABLE:
                    raise self.unexpected(following)
                if BINARY_PRECEDENCE[following.value] < precedence:
                    break
                self.advance()
                operator_token, negated = following, True
            operator = operator_token.value
            operator_precedence = BINARY_PRECEDENCE.get(operator)
            if operator_precedence is None or operator_precedence < precedence:
                break
            self.advance()
            if operator == "|":
                name = self.current
                if not name.is_(Kind.IDENTIFIER):
                    raise self.unexpected()
                self.advance()
                left = self.parse_call(name, [left])
            elif previous_operator == "??" and operator != "??":
                raise self.error(
                    f"Operator ({operator}) and coalesce expressions (??) cannot be mixed. "
                    "Wrap either by parentheses.",
                    operator_token,
                )
            elif operator_precedence == COMPARISON_PRECEDENCE:
                left = self.parse_comparison(left, operator_token)
            else:
                right_precedence = operator_precedence + (0 if operator in RIGHT_ASSOCIATIVE else 1)
                right = self.parse_expression(right_precedence)
                left = n.Binary(operator_token.offset, operator, left, right)
            if negated:
                left = n.Unary(operator_token.offset, "not", left)
            previous_operator = operator
        return left

    def parse_comparison(self, left: n.Node, operator_token: Token) -> n.Node:
        """``a < b < c`` becomes ``a < b && b < c``, as in expr-lang."""
        root: n.Node | None = None
        while True:
            right = self.parse_expression(COMPARISON_PRECEDENCE + 1)
            comparison = n.Binary(operator_token.offset, operator_token.value, left, right)
            root = comparison if root is None else n.Binary(operator_token.offset, "&&", root, comparison)
            following = self.current
            if not (
                following.is_(Kind.OPERATOR)
                and BINARY_PRECEDENCE.get(following.value) == COMPARISON_PRECEDENCE
            ):
                return root
            self.advance()
            left, operator_token = right, following

    def parse_conditional(self, node: n.Node) -> n.Node:
        while self.current.is_(Kind.OPERATOR, "?"):
            question = self.advance()
            if self.current.is_(Kind.OPERATOR, ":"):
                self.advance()
                then = node
            else:
                then = self.parse_expression(0)
                self.expect(Kind.OPERATOR, ":")
            node = n.Conditional(question.offset, node, then, self.parse_expression(0))
        return node

    def parse_let(self) -> n.Node:
        self.expect(Kind.OPERATOR, "let")
        name = self.current
        if not name.is_(Kind.IDENTIFIER):
            raise self.unexpected()
        self.advance()
        self.expect(Kind.OPERATOR, "=")
        value = self.parse_expression(0)
        self.expect(Kind.OPERATOR, ";")
        return n.Let(name.offset, name.value, value, self.parse_expression(0))

    def parse_if(self) -> n.Node:
        keyword = self.expect(Kind.OPERATOR, "if")
        condition = self.parse_expression(0)
        then = self.parse_block()
        self.expect(Kind.OPERATOR, "else")
        otherwise = self.parse_if() if self.current.is_(Kind.OPERATOR, "if") else self.parse_block()
        return n.Conditional(keyword.offset, condition, then, otherwise)

    def parse_block(self) -> n.Node:
        self.expect(Kind.BRACKET, "{")
        node = self.parse_expression(0)
        self.expect(Kind.BRACKET, "}")
        return node

    def parse_primary(self) -> n.Node:
        token = self.current
        if token.is_(Kind.OPERATOR) and token.value in UNARY_PRECEDENCE:
            self.advance()
            operand = self.parse_expression(UNARY_PRECEDENCE[token.value])
            return self.parse_postfix(n.Unary(token.offset, token.value, operand))
        if token.is_(Kind.BRACKET, "("):
            self.advance()
            inner = self.parse_expression(0)
            self.expect(Kind.BRACKET, ")")
            return self.parse_postfix(inner)
        if token.is_(Kind.OPERATOR, "#", "."):
            if self.closure_depth == 0:
                raise self.error("cannot use pointer accessor outside closure", token)
            name = ""
            if token.value == "#":
                self.advance()
                if self.current.is_(Kind.IDENTIFIER) and self.current.offset == token.offset + 1:
                    name = self.advance().value
            return self.parse_postfix(n.Pointer(token.offset, name))
        if token.is_(Kind.OPERATOR, "if"):
            return self.parse_if()
        return self.parse_secondary()

    def parse_secondary(self) -> n.Node:
        token = self.current
        if token.is_(Kind.IDENTIFIER):
            self.advance()
            constants = {"true": True, "false": False, "nil": None}
            if token.value in constants:
                return n.Literal(token.offset, constants[token.value])
            if self.current.is_(Kind.BRACKET, "("):
                return self.parse_postfix(self.parse_call(token, []))
            return self.parse_postfix(n.Identifier(token.offset, token.value))
        if token.is_(Kind.NUMBER):
            self.advance()
            return n.Literal(token.offset, self.number(token))
        if token.is_(Kind.STRING):
            self.advance()
            return self.parse_postfix(n.Literal(token.offset, token.value))
        if token.is_(Kind.BRACKET, "["):
            return self.parse_postfix(self.parse_array())
        if token.is_(Kind.BRACKET, "{"):
            return self.parse_postfix(self.parse_map())
        raise self.unexpected()

    def number(self, token: Token) -> int | float:
        text = token.value.replace("_", "")
        lowered = text.lower()
        bases = {"0x": (16, "hex"), "0o": (8, "octal"), "0b": (2, "binary")}
        base, kind = bases.get(lowered[:2], (10, "integer"))
        try:
            if base == 10 and ("." in lowered or "e" in lowered):
                value = float(text)
                if value == float("inf"):
                    raise self.error("invalid float literal: value out of range", token)
                return value
            digits = text[2:] if base != 10 else text.lstrip("0") or "0"
            if base == 10 and len(digits) > 19:  # also keeps int() below Python's 4300-digit limit
                raise self.error("integer literal is too large", token)
            number = int(digits, base)
        except ValueError:
            kind = "float" if base == 10 and ("." in lowered or "e" in lowered) else kind
            raise self.error(f"invalid {kind} literal: {token.value}", token) from None
        if number > INT64_MAX:
            raise self.error("integer literal is too large", token)
        return number

    def parse_call(self, name: Token, args: list[n.Node]) -> n.Node:
        signature = CLOSURE_SIGNATURES.get(name.value)
        if signature is None:
            return n.Call(name.offset, name.value, tuple(self.parse_arguments(args)))
        self.expect(Kind.BRACKET, "(")
        remaining = signature[len(args) :]
        for position, kind in enumerate(remaining):
            if self.current.is_(Kind.BRACKET, ")"):
                if kind.isupper():
                    break
                raise self.error(f"expected at least {len(remaining)} arguments")
            if position > 0:
                self.expect(Kind.OPERATOR, ",")
            args.append(self.parse_closure() if kind.lower() == "c" else self.parse_expression(0))
        if self.current.is_(Kind.OPERATOR, ","):
            self.advance()
        self.expect(Kind.BRACKET, ")")
        return n.Call(name.offset, name.value, tuple(args))

    def parse_arguments(self, args: list[n.Node]) -> list[n.Node]:
        given = len(args)
        self.expect(Kind.BRACKET, "(")
        while not self.current.is_(Kind.BRACKET, ")"):
            if len(args) > given:
                self.expect(Kind.OPERATOR, ",")
                if self.current.is_(Kind.BRACKET, ")"):
                    break
            args.append(self.parse_expression(0))
        self.expect(Kind.BRACKET, ")")
        return args

    def parse_closure(self) -> n.Node:
        start = self.current
        braced = start.is_(Kind.BRACKET, "{")
        if braced:
            self.advance()
        self.closure_depth += 1
        body = self.parse_expression(0)
        self.closure_depth -= 1
        if braced:
            self.expect(Kind.BRACKET, "}")
        return n.Closure(start.offset, body)

    def parse_array(self) -> n.Node:
        start = self.expect(Kind.BRACKET, "[")
        items: list[n.Node] = []
        while not self.current.is_(Kind.BRACKET, "]"):
            if items:
                self.expect(Kind.OPERATOR, ",")
                if self.current.is_(Kind.BRACKET, "]"):
                    break
            items.append(self.parse_expression(0))
        self.expect(Kind.BRACKET, "]")
        return n.ArrayLiteral(start.offset, tuple(items))

    def parse_map(self) -> n.Node:
        start = self.expect(Kind.BRACKET, "{")
        pairs: list[tuple[n.Node, n.Node]] = []
        while not self.current.is_(Kind.BRACKET, "}"):
            if pairs:
                self.expect(Kind.OPERATOR, ",")
                if self.current.is_(Kind.BRACKET, "}"):
                    break
            key_token = self.current
            key: n.Node
            if key_token.kind in (Kind.NUMBER, Kind.STRING, Kind.IDENTIFIER):
                self.advance()
                key = n.Literal(key_token.offset, key_token.value)
            elif key_token.is_(Kind.BRACKET, "("):
                key = self.parse_expression(0)
            else:
                raise self.error(
                    "a map key must be a quoted string, a number, an identifier, or an expression enclosed "
                    f"in parentheses (unexpected token {key_token.describe()})"
                )
            self.expect(Kind.OPERATOR, ":")
            pairs.append((key, self.parse_expression(0)))
        self.expect(Kind.BRACKET, "}")
        return n.MapLiteral(start.offset, tuple(pairs))

    def parse_postfix(self, node: n.Node) -> n.Node:
        chained = False
        while True:
            token = self.current
            optional = token.is_(Kind.OPERATOR, "?.")
            if optional and self.peek().is_(Kind.BRACKET, "["):
                self.advance()
                node = self.parse_index(node, optional=True)
            elif token.is_(Kind.OPERATOR, ".", "?."):
                self.advance()
                node = self.parse_property(node, optional)
            elif token.is_(Kind.BRACKET, "["):
                node = self.parse_index(node, optional=False)
            else:
                break
            chained = chained or optional
        return n.Chain(node.offset, node) if chained else node

    def parse_property(self, node: n.Node, optional: bool) -> n.Node:
        name = self.current
        valid_operator_name = name.is_(Kind.OPERATOR) and name.value.isidentifier()
        if not (name.is_(Kind.IDENTIFIER) or valid_operator_name):
            raise self.error("expected name", name)
        self.advance()
        if self.current.is_(Kind.BRACKET, "("):
            return n.MethodCall(name.offset, node, name.value, tuple(self.parse_arguments([])), optional)
        return n.Member(name.offset, node, n.Literal(name.offset, name.value), optional)

    def parse_index(self, node: n.Node, optional: bool) -> n.Node:
        bracket = self.expect(Kind.BRACKET, "[")
        start: n.Node | None = None
        if not self.current.is_(Kind.OPERATOR, ":"):
            start = self.parse_expression(0)
            if not self.current.is_(Kind.OPERATOR, ":"):
                self.expect(Kind.BRACKET, "]")
                return n.Member(bracket.offset, node, start, optional)
        self.advance()
        stop = None if self.current.is_(Kind.BRACKET, "]") else self.parse_expression(0)
        self.expect(Kind.BRACKET, "]")
        return n.Slice(bracket.offset, node, start, stop)
