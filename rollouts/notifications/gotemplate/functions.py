"""The functions templates may call: Go's built-ins and the sprig helpers notifications use.

Argo's templates get Go's ``text/template`` built-ins plus sprig's text functions. We implement
the built-ins (``and``, ``or``, ``not``, ``len``, ``index``, ``print*``, ``eq``…``ge``, ``call``,
``html``, ``urlquery``) and the sprig helpers seen in notification templates (arithmetic, string
case and trimming, ``default``/``empty``/``coalesce``, ``toJson``, lists and dicts). Numbers follow
sprig's conversions (``add`` works on int64: ``add 1.0 1`` is ``2``). Comparisons accept any two
numbers, a little more lenient than Go (which refuses float64 against an int constant). A name
not here is an error at parse-free render time naming the function, never a silent empty string.
Every function is pure and bounded by its inputs' size; ``repeat`` and friends are capped.
"""

from __future__ import annotations

import base64
import html
import math
import operator
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from rollouts.notifications.gotemplate.errors import TemplateError
from rollouts.notifications.gotemplate.values import (
    MISSING,
    GoTime,
    go_float,
    go_json,
    go_string,
    is_true,
    type_name,
)

__all__ = ["FUNCTIONS", "SHORT_CIRCUIT", "go_printf"]

MAX_BUILT: Final = 1 << 20


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def to_int(value: Any) -> int:
    """sprig's ``cast.ToInt64``: floats truncate, strings parse, anything else is 0."""
    if value is None or value is MISSING:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else 0
    if isinstance(value, str):
        try:
            return int(value.strip(), 0)
        except ValueError:
            return 0
    return 0


def to_float(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return 0.0
    return float(bool(value)) if isinstance(value, bool) else 0.0


def _arity(name: str, args: tuple[Any, ...], low: int, high: int | None = None) -> tuple[Any, ...]:
    """``args`` when there are ``low``..``high`` of them; else Go's "wrong number of args"."""
    high = low if high is None else high
    if not low <= len(args) <= high:
        expected = str(low) if low == high else f"{low} to {high}"
        raise TemplateError(f"wrong number of args for {name}: want {expected} got {len(args)}")
    return args


def _length(*args: Any) -> int:
    _arity("len", args, 1)
    value = args[0]
    if value is None or value is MISSING:
        raise TemplateError("error calling len: len of nil pointer")
    if isinstance(value, str | Mapping | Sequence) and not isinstance(value, bool):
        return len(value)
    raise TemplateError(f"error calling len: len of type {type_name(value)}")


def _index(*args: Any) -> Any:
    if not args:
        raise TemplateError("wrong number of args for index: want at least 1 got 0")
    item = args[0]
    for key in args[1:]:
        if item is None or item is MISSING:
            raise TemplateError("error calling index: index of untyped nil")
        if isinstance(item, Mapping):
            item = item.get(key, MISSING) if isinstance(key, str) else MISSING
        elif isinstance(item, Sequence) and not isinstance(item, str):
            if not _number(key) or int(key) != key:
                raise TemplateError(
                    f"error calling index: cannot index slice/array with type {type_name(key)}"
                )
            if not 0 <= int(key) < len(item):
                raise TemplateError(f"error calling index: index out of range: {int(key)}")
            item = item[int(key)]
        else:
            raise TemplateError(f"error calling index: can't index item of type {type_name(item)}")
    return item


def _equal(left: Any, right: Any) -> bool:
    if _number(left) and _number(right):
        return bool(left == right)
    if type_name(left) != type_name(right):
        raise TemplateError(f"incompatible types for comparison: {type_name(left)} and {type_name(right)}")
    if isinstance(left, Mapping | list):
        raise TemplateError(f"non-comparable type {type_name(left)}")
    return bool(left == right)


def _eq(*args: Any) -> bool:
    if len(args) < 2:
        raise TemplateError("wrong number of args for eq: want at least 2")
    return any(_equal(args[0], other) for other in args[1:])


def _comparison(name: str, compare: Callable[[Any, Any], bool]) -> Callable[..., bool]:
    def function(*args: Any) -> bool:
        left, right = _arity(name, args, 2)
        if (_number(left) and _number(right)) or (isinstance(left, str) and isinstance(right, str)):
            return compare(left, right)
        raise TemplateError(f"incompatible types for comparison: {type_name(left)} and {type_name(right)}")

    return function


def _fixed(name: str, count: int, body: Callable[..., Any]) -> Callable[..., Any]:
    """``body`` called with exactly ``count`` arguments."""

    def function(*args: Any) -> Any:
        return body(*_arity(name, args, count))

    return function


def _call(*args: Any) -> Any:
    if not args:
        raise TemplateError("wrong number of args for call: want at least 1 got 0")
    function = args[0]
    if not callable(function) or isinstance(function, GoTime):
        raise TemplateError(f"error calling call: non-function of type {type_name(function)}")
    try:
        return function(*args[1:])
    except TemplateError:
        raise
    except (TypeError, ValueError) as error:
        raise TemplateError(f"error calling call: {error}") from None


def _sprint(args: tuple[Any, ...]) -> str:
    """``fmt.Sprint``: a space between operands when neither is a string."""
    out: list[str] = []
    for position, value in enumerate(args):
        if position and not isinstance(value, str) and not isinstance(args[position - 1], str):
            out.append(" ")
        out.append(go_string(value))
    return "".join(out)


VERB = re.compile(r"%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])")


def go_printf(template: str, *args: Any) -> str:
    """``fmt.Sprintf`` for the verbs templates use: v s d f e g q t x X %, with flags and widths."""
    out: list[str] = []
    position = 0
    used = 0
    for match in VERB.finditer(template):
        out.append(template[position : match.start()])
        position = match.end()
        flags, width, precision, verb = match.groups()
        if verb == "%":
            out.append("%")
            continue
        if used >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        value = args[used]
        used += 1
        text = _verb(verb, value, precision)
        if width:
            pad = "0" if "0" in flags and "-" not in flags and verb not in "sqvt" else " "
            text = text.ljust(int(width)) if "-" in flags else text.rjust(int(width), pad)
        if "+" in flags and _number(value) and not text.startswith("-"):
            text = "+" + text
        out.append(text)
    out.append(template[position:])
    if used < len(args):
        out.append("%!(EXTRA " + ", ".join(f"{type_name(a)}={go_string(a)}" for a in args[used:]) + ")")
    return "".join(out)


def _verb(verb: str, value: Any, precision: str | None) -> str:
    if verb in "vs":
        text = go_string(value)
        return text[: int(precision)] if precision and verb == "s" else text
    if verb == "q" and isinstance(value, str):
        return go_json(value).replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&")
    if verb == "t" and isinstance(value, bool):
        return "true" if value else "false"
    if verb == "d" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if verb in "xX" and isinstance(value, int) and not isinstance(value, bool):
        return format(value, verb)
    if verb in "xX" and isinstance(value, str):
        return value.encode().hex() if verb == "x" else value.encode().hex().upper()
    if verb in "feEgG" and _number(value):
        number = float(value)
        if verb == "g" and precision is None:
            return go_float(number)
        return format(number, f".{precision if precision is not None else 6}{verb}")
    return f"%!{verb}({type_name(value)}={go_string(value)})"


def _printf(*args: Any) -> str:
    if not args or not isinstance(args[0], str):
        raise TemplateError("error calling printf: the first argument must be a format string")
    return go_printf(args[0], *args[1:])


def _bounded(text: str) -> str:
    if len(text) > MAX_BUILT:
        raise TemplateError(f"result longer than {MAX_BUILT} characters")
    return text


def _repeat(count: int, text: str) -> str:
    if max(count, 0) * len(text) > MAX_BUILT:
        raise TemplateError(f"result longer than {MAX_BUILT} characters")
    return text * max(count, 0)


def _empty(value: Any) -> bool:
    return not is_true(value)


def _default(*args: Any) -> Any:
    _arity("default", args, 1, 2)
    if len(args) == 1 or _empty(args[1]):
        return args[0]
    return args[1]


def _coalesce(*args: Any) -> Any:
    return next((value for value in args if is_true(value)), None)


def _list_of(value: Any, name: str) -> Sequence[Any]:
    if isinstance(value, list | tuple):
        return value
    raise TemplateError(f"error calling {name}: expected a list, got {type_name(value)}")


def _dict(*args: Any) -> dict[str, Any]:
    if len(args) % 2:
        args = (*args, "")
    return {go_string(args[i]): args[i + 1] for i in range(0, len(args), 2)}


def _divide(name: str, left: Any, right: Any) -> int:
    divisor = to_int(right)
    if divisor == 0:
        raise TemplateError(f"error calling {name}: integer divide by zero")
    quotient = abs(to_int(left)) // abs(divisor)
    if name == "mod":
        return to_int(left) - divisor * (quotient if (to_int(left) < 0) == (divisor < 0) else -quotient)
    return quotient if (to_int(left) < 0) == (divisor < 0) else -quotient


def _string_args(name: str, args: tuple[Any, ...], count: int) -> list[str]:
    _arity(name, args, count)
    return [go_string(value) if value is not None else "" for value in args]


def _b64decode(text: str) -> str:
    try:
        return base64.b64decode(text.encode(), validate=True).decode(errors="replace")
    except ValueError as error:
        return str(error)


def _string_function(name: str, count: int, body: Callable[..., Any]) -> Callable[..., Any]:
    def function(*args: Any) -> Any:
        return body(*_string_args(name, args, count))

    return function


FUNCTIONS: Final[dict[str, Callable[..., Any]]] = {
    # Go's text/template built-ins (``and``/``or`` are short-circuit, see SHORT_CIRCUIT)
    "not": _fixed("not", 1, lambda *a: not is_true(a[0])),
    "len": _length,
    "index": _index,
    "print": lambda *a: _bounded(_sprint(a)),
    "println": lambda *a: _bounded(" ".join(go_string(v) for v in a) + "\n"),
    "printf": lambda *a: _bounded(_printf(*a)),
    "eq": _eq,
    "ne": _fixed("ne", 2, lambda *a: not _equal(a[0], a[1])),
    "lt": _comparison("lt", operator.lt),
    "le": _comparison("le", operator.le),
    "gt": _comparison("gt", operator.gt),
    "ge": _comparison("ge", operator.ge),
    "call": _call,
    "html": lambda *a: html.escape(_sprint(a)).replace("&#x27;", "&#39;").replace("&quot;", "&#34;"),
    "urlquery": lambda *a: urllib.parse.quote_plus(_sprint(a)),
    # sprig: arithmetic on int64
    "add": lambda *a: sum(to_int(v) for v in a),
    "add1": _fixed("add1", 1, lambda *a: to_int(a[0]) + 1),
    "sub": _fixed("sub", 2, lambda *a: to_int(a[0]) - to_int(a[1])),
    "mul": lambda *a: _product(a),
    "div": _fixed("div", 2, lambda *a: _divide("div", a[0], a[1])),
    "mod": _fixed("mod", 2, lambda *a: _divide("mod", a[0], a[1])),
    "max": lambda *a: max(to_int(v) for v in a) if a else 0,
    "min": lambda *a: min(to_int(v) for v in a) if a else 0,
    "int": _fixed("int", 1, lambda *a: to_int(a[0])),
    "int64": _fixed("int64", 1, lambda *a: to_int(a[0])),
    "float64": _fixed("float64", 1, lambda *a: to_float(a[0])),
    # sprig: strings
    "toString": _fixed("toString", 1, lambda *a: go_string(a[0])),
    "upper": _string_function("upper", 1, str.upper),
    "lower": _string_function("lower", 1, str.lower),
    "title": _string_function("title", 1, lambda s: re.sub(r"\b[a-z]", lambda m: m.group().upper(), s)),
    "trim": _string_function("trim", 1, str.strip),
    "trimPrefix": _string_function("trimPrefix", 2, lambda p, s: s.removeprefix(p)),
    "trimSuffix": _string_function("trimSuffix", 2, lambda p, s: s.removesuffix(p)),
    "trimAll": _string_function("trimAll", 2, lambda c, s: s.strip(c)),
    "replace": _string_function("replace", 3, lambda old, new, s: _bounded(s.replace(old, new))),
    "contains": _string_function("contains", 2, lambda sub, s: sub in s),
    "hasPrefix": _string_function("hasPrefix", 2, lambda p, s: s.startswith(p)),
    "hasSuffix": _string_function("hasSuffix", 2, lambda p, s: s.endswith(p)),
    "quote": lambda *a: " ".join(go_printf("%q", go_string(v)) for v in a if v is not None),
    "squote": lambda *a: " ".join(f"'{go_string(v)}'" for v in a if v is not None),
    "trunc": _fixed("trunc", 2, lambda *a: go_string(a[1])[: max(to_int(a[0]), 0)]),
    "repeat": _fixed("repeat", 2, lambda *a: _repeat(to_int(a[0]), go_string(a[1]))),
    "b64enc": _string_function("b64enc", 1, lambda s: base64.b64encode(s.encode()).decode()),
    "b64dec": _string_function("b64dec", 1, _b64decode),
    "splitList": _string_function("splitList", 2, lambda sep, s: s.split(sep) if sep else list(s)),
    "join": _fixed("join", 2, lambda *a: go_string(a[0]).join(go_string(v) for v in _list_of(a[1], "join"))),
    # sprig: defaults, JSON, collections
    "default": _default,
    "empty": _fixed("empty", 1, lambda *a: _empty(a[0])),
    "coalesce": _coalesce,
    "toJson": _fixed("toJson", 1, lambda *a: _bounded(go_json(a[0]))),
    "toPrettyJson": _fixed("toPrettyJson", 1, lambda *a: _bounded(go_json(a[0], indent=True))),
    "list": lambda *a: list(a),
    "dict": _dict,
    "first": _fixed("first", 1, lambda *a: (_list_of(a[0], "first") or [None])[0]),
    "last": _fixed("last", 1, lambda *a: (_list_of(a[0], "last") or [None])[-1]),
    "has": _fixed("has", 2, lambda *a: a[0] in _list_of(a[1], "has")),
    "keys": lambda *a: sorted(k for m in a if isinstance(m, Mapping) for k in m),
}


def _product(args: tuple[Any, ...]) -> int:
    result = 1
    for value in args:
        result *= to_int(value)
        if abs(result) > 1 << 63:
            raise TemplateError("error calling mul: integer overflow")
    return result


SHORT_CIRCUIT: Final = frozenset({"and", "or"})
"""Evaluated lazily by the renderer: ``and`` returns the first falsy argument, ``or`` the first truthy."""
