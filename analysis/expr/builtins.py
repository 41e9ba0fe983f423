"""expr-lang's built-in functions, each a pure function of its evaluated arguments.

A built-in receives the running evaluation as ``Context`` (limits, step budget, clock) and a list
of arguments; closure built-ins (``all``, ``map``, ``filter``...) receive a ``Predicate`` in place
of the closure and call it per element. Built-ins are looked up before the environment, as in
expr-lang. Every function that builds a value checks its size first and charges the budget per
element, so ``map(1..100000, ...)`` or ``repeat("x", 1e9)`` end in an ``ExprError``.

Argument-type errors use expr-lang's wording where it has one (``invalid argument for len (type
int)``); the position is added by the evaluator.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from analysis.expr import operators, times
from analysis.expr.errors import ExprError
from analysis.expr.limits import Limits
from analysis.expr.values import (
    INT64_MAX,
    INT64_MIN,
    Duration,
    check_value_depth,
    format_value,
    is_int,
    is_list,
    is_number,
    kind_name,
    to_float,
    type_name,
    wrap_int,
)

GO_INT = re.compile(r"[+-]?[0-9]+")
GO_FLOAT = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)", re.IGNORECASE
)


class Context(Protocol):
    @property
    def limits(self) -> Limits: ...

    def charge(self, steps: int) -> None: ...

    def now(self) -> datetime: ...


class Predicate(Protocol):
    def __call__(self, item: Any, index: int, accumulator: Any = None) -> Any: ...


Builtin = Callable[[Context, list[Any]], Any]


def arity(name: str, args: list[Any], minimum: int, maximum: int | None = None) -> None:
    maximum = minimum if maximum is None else maximum
    if not minimum <= len(args) <= maximum:
        expected = str(minimum) if minimum == maximum else f"{minimum} to {maximum}"
        raise ExprError(f"invalid number of arguments for {name} (expected {expected}, got {len(args)})")


def invalid(name: str, value: Any) -> ExprError:
    return ExprError(f"invalid argument for {name} (type {type_name(value)})")


def string_arg(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise invalid(name, value)
    return value


def int_arg(name: str, value: Any) -> int:
    if not is_int(value):
        raise invalid(name, value)
    return int(value)


def list_arg(name: str, value: Any) -> list[Any] | tuple[Any, ...]:
    if not is_list(value):
        raise invalid(name, value)
    items: list[Any] | tuple[Any, ...] = value
    return items


# -- conversions and numbers ------------------------------------------------------------------


def go_int(value: Any) -> int:
    """Go's ``int(x)`` of a float64: truncation; NaN, ±Inf and out-of-range give MinInt64 (amd64)."""
    if is_int(value):
        return int(value)
    if isinstance(value, float) and math.isfinite(value) and INT64_MIN <= value < 2**63:
        return int(value)
    return INT64_MIN


def parse_go_int(text: str) -> tuple[int | None, str]:
    """Go's ``strconv.ParseInt(text, 10, 64)``: the value, or None and Go's reason."""
    if not GO_INT.fullmatch(text):
        return None, "invalid syntax"
    sign, digits = ("-", text[1:]) if text[0] == "-" else ("", text.removeprefix("+"))
    digits = digits.lstrip("0") or "0"
    # Checked before int(): Python refuses to convert text of more than 4300 digits.
    if len(digits) > 19 or not INT64_MIN <= int(sign + digits) <= INT64_MAX:
        return None, "value out of range"
    return int(sign + digits), ""


def parse_go_float(text: str) -> tuple[float | None, str]:
    """Go's ``strconv.ParseFloat`` for decimal text: the value, or None and Go's reason."""
    if not GO_FLOAT.fullmatch(text):
        return None, "invalid syntax"
    value = float(text)
    if math.isinf(value) and "inf" not in text.lower():
        return None, "value out of range"  # Go reports an error where Python gives an infinity
    return value, ""


def convert_number(
    value: Any,
    to_int: bool,
    bad_string: Callable[[str, str], ExprError],
    bad_type: Callable[[Any], ExprError],
) -> int | float:
    """A number from a number or numeric text, as Go converts; shared by ``int()``, ``asInt()``..."""
    if is_number(value):
        return go_int(value) if to_int else to_float(value)
    if isinstance(value, str):
        parsed, reason = parse_go_int(value) if to_int else parse_go_float(value)
        if parsed is None:
            raise bad_string(value, reason)
        return parsed
    raise bad_type(value)


def builtin_len(context: Context, args: list[Any]) -> int:
    arity("len", args, 1)
    value = args[0]
    if is_list(value) or isinstance(value, Mapping):
        return len(value)
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    raise invalid("len", value)


def conversion(name: str, to_int: bool) -> Builtin:
    def builtin(context: Context, args: list[Any]) -> int | float:
        arity(name, args, 1)
        return convert_number(
            args[0],
            to_int,
            lambda text, _: ExprError(f"invalid operation: {name}({text})"),
            lambda value: invalid(name, value),
        )

    return builtin


def builtin_string(context: Context, args: list[Any]) -> str:
    arity("string", args, 1)
    return operators.checked_string(format_value(args[0], context.limits.max_value_depth), context)


def builtin_abs(context: Context, args: list[Any]) -> int | float:
    arity("abs", args, 1)
    value = args[0]
    if is_int(value):
        return wrap_int(abs(value))
    if isinstance(value, float):
        return abs(value)
    raise invalid("abs", value)


def rounding(name: str, function: Callable[[float], float]) -> Builtin:
    def builtin(context: Context, args: list[Any]) -> float:
        arity(name, args, 1)
        value = args[0]
        if not is_number(value):
            raise invalid(name, value)
        number = to_float(value)
        return number if not math.isfinite(number) else function(number)

    return builtin


def go_round(value: float) -> float:
    """Go's ``math.Round``: half away from zero, exactly (no float rounding on the way)."""
    return math.copysign(float(Decimal(value).to_integral_value(rounding=ROUND_HALF_UP)), value)


def flatten_numbers(name: str, values: list[Any], context: Context, depth: int = 0) -> list[int | float]:
    if depth > context.limits.max_value_depth:
        raise ExprError(f"invalid argument for {name}: nested too deeply")
    numbers: list[int | float] = []
    for value in values:
        if is_list(value):
            context.charge(len(value))
            numbers.extend(flatten_numbers(name, list(value), context, depth + 1))
        elif is_number(value):
            numbers.append(value)
        else:
            raise invalid(name, value)
    return numbers


def extreme(name: str, better: str) -> Builtin:
    def builtin(context: Context, args: list[Any]) -> Any:
        if not args:
            raise ExprError(f"not enough arguments to call {name}")
        if len(args) == 1 and not is_list(args[0]) and not is_number(args[0]):
            return args[0]
        best: int | float | None = None
        for number in flatten_numbers(name, args, context):
            if best is None or operators.compare(better, number, best):
                best = number
        return best

    return builtin


def builtin_mean(context: Context, args: list[Any]) -> float:
    numbers = flatten_numbers("mean", args, context)
    return math.fsum(map(to_float, numbers)) / len(numbers) if numbers else 0.0


def builtin_median(context: Context, args: list[Any]) -> float:
    numbers = sorted(map(to_float, flatten_numbers("median", args, context)))
    context.charge(len(numbers))
    middle = len(numbers) // 2
    if not numbers:
        return 0.0
    return numbers[middle] if len(numbers) % 2 else (numbers[middle - 1] + numbers[middle]) / 2


def builtin_type(context: Context, args: list[Any]) -> str:
    arity("type", args, 1)
    return kind_name(args[0])


# -- strings -----------------------------------------------------------------------------------


def string_function(name: str, count: int, function: Callable[..., Any]) -> Builtin:
    """A built-in over ``count`` string arguments whose result is a string, bool or int."""

    def builtin(context: Context, args: list[Any]) -> Any:
        arity(name, args, count)
        strings = [string_arg(name, value) for value in args]
        context.charge(sum(len(s) for s in strings) // 100)
        result = function(*strings)
        return operators.checked_string(result, context) if isinstance(result, str) else result

    return builtin


def byte_offset(text: str, index: int) -> int:
    return -1 if index < 0 else len(text[:index].encode("utf-8", "surrogatepass"))


def builtin_trim(context: Context, args: list[Any]) -> str:
    arity("trim", args, 1, 2)
    text = string_arg("trim", args[0])
    return text.strip() if len(args) == 1 else text.strip(string_arg("trim", args[1]))


def affix_trim(name: str, remove: Callable[[str, str], str]) -> Builtin:
    def builtin(context: Context, args: list[Any]) -> str:
        arity(name, args, 1, 2)
        affix = string_arg(name, args[1]) if len(args) == 2 else " "
        return remove(string_arg(name, args[0]), affix)

    return builtin


def splitter(name: str, keep_separator: bool) -> Builtin:
    def builtin(context: Context, args: list[Any]) -> list[str]:
        arity(name, args, 2, 3)
        text, separator = string_arg(name, args[0]), string_arg(name, args[1])
        limit = int_arg(name, args[2]) if len(args) == 3 else -1
        parts = go_split(text, separator, limit, keep_separator)
        operators.checked_size(len(parts), context)
        return parts

    return builtin


def go_split(text: str, separator: str, limit: int, keep_separator: bool) -> list[str]:
    """Go's ``strings.SplitN``/``SplitAfterN``: an empty separator splits into characters."""
    if limit == 0:
        return []
    if separator == "":
        characters = list(text)
        if 0 < limit < len(characters):
            return [*characters[: limit - 1], "".join(characters[limit - 1 :])]
        return characters
    pieces = text.split(separator, limit - 1) if limit > 0 else text.split(separator)
    if keep_separator:
        pieces = [piece + separator for piece in pieces[:-1]] + pieces[-1:]
    return pieces


def builtin_replace(context: Context, args: list[Any]) -> str:
    arity("replace", args, 3)
    text, old, new = (string_arg("replace", value) for value in args)
    occurrences = text.count(old)
    size = len(text) + occurrences * (len(new) - len(old))
    if size > context.limits.max_string_length:
        raise ExprError(f"string is too long ({size} characters, at most {context.limits.max_string_length})")
    return operators.checked_string(text.replace(old, new), context)


def builtin_repeat(context: Context, args: list[Any]) -> str:
    arity("repeat", args, 2)
    text, count = string_arg("repeat", args[0]), int_arg("repeat", args[1])
    if count < 0:
        raise ExprError(f"invalid argument for repeat (expected positive integer, got {count})")
    if len(text) * count > context.limits.max_string_length:
        raise ExprError(f"string is too long (at most {context.limits.max_string_length} characters)")
    return operators.checked_string(text * count, context)


def builtin_join(context: Context, args: list[Any]) -> str:
    arity("join", args, 1, 2)
    items = list_arg("join", args[0])
    glue = string_arg("join", args[1]) if len(args) == 2 else ""
    context.charge(len(items))
    return operators.checked_string(glue.join(string_arg("join", item) for item in items), context)


# -- arrays and maps ---------------------------------------------------------------------------


def builtin_first(context: Context, args: list[Any]) -> Any:
    arity("first", args, 1)
    return args[0][0] if is_list(args[0]) and args[0] else None


def builtin_last(context: Context, args: list[Any]) -> Any:
    arity("last", args, 1)
    return args[0][-1] if is_list(args[0]) and args[0] else None


def builtin_get(context: Context, args: list[Any]) -> Any:
    """``get(x, key)``: like ``x[key]`` but nil instead of an error, as expr-lang's recover does."""
    arity("get", args, 2)
    try:
        return operators.fetch(args[0], args[1], context)
    except ExprError:
        return None


def builtin_take(context: Context, args: list[Any]) -> list[Any]:
    arity("take", args, 2)
    items, count = list_arg("take", args[0]), int_arg("take", args[1])
    taken = list(items[: max(count, 0)])
    context.charge(len(taken))
    return taken


def builtin_keys(context: Context, args: list[Any]) -> list[Any]:
    arity("keys", args, 1)
    if not isinstance(args[0], Mapping):
        raise invalid("keys", args[0])
    context.charge(len(args[0]))
    return list(args[0])


def builtin_values(context: Context, args: list[Any]) -> list[Any]:
    arity("values", args, 1)
    if not isinstance(args[0], Mapping):
        raise invalid("values", args[0])
    context.charge(len(args[0]))
    return list(args[0].values())


def builtin_to_pairs(context: Context, args: list[Any]) -> list[list[Any]]:
    arity("toPairs", args, 1)
    if not isinstance(args[0], Mapping):
        raise invalid("toPairs", args[0])
    context.charge(len(args[0]))
    return [[key, value] for key, value in args[0].items()]


def builtin_from_pairs(context: Context, args: list[Any]) -> dict[str, Any]:
    arity("fromPairs", args, 1)
    result: dict[str, Any] = {}
    for pair in list_arg("fromPairs", args[0]):
        if not (is_list(pair) and len(pair) == 2 and isinstance(pair[0], str)):
            raise invalid("fromPairs", pair)
        result[pair[0]] = pair[1]
    context.charge(len(result))
    return result


def sort_key(name: str, values: list[Any]) -> Callable[[Any], Any]:
    if all(is_number(value) for value in values):
        return to_float
    if all(isinstance(value, str) for value in values):
        return str
    numbers_first = is_number(values[0])
    odd = next(
        value
        for value in values
        if is_number(value) != numbers_first or (not is_number(value) and not isinstance(value, str))
    )
    raise invalid(name, odd)


def sort_order(name: str, args: list[Any], position: int) -> bool:
    order = string_arg(name, args[position]) if len(args) > position else "asc"
    if order not in ("asc", "desc"):
        raise ExprError(f'unknown order {order}, use "asc" or "desc"')
    return order == "desc"


def builtin_sort(context: Context, args: list[Any]) -> list[Any]:
    arity("sort", args, 1, 2)
    items = list(list_arg("sort", args[0]))
    context.charge(len(items) * max(1, len(items).bit_length()))
    descending = sort_order("sort", args, 1)
    return sorted(items, key=sort_key("sort", items), reverse=descending) if items else []


def builtin_reverse(context: Context, args: list[Any]) -> list[Any]:
    arity("reverse", args, 1)
    items = list_arg("reverse", args[0])
    context.charge(len(items))
    return list(reversed(items))


def builtin_uniq(context: Context, args: list[Any]) -> list[Any]:
    arity("uniq", args, 1)
    unique: list[Any] = []
    for item in list_arg("uniq", args[0]):
        if not operators.contains_element(unique, item, context):
            unique.append(item)
    return unique


def builtin_concat(context: Context, args: list[Any]) -> list[Any]:
    joined: list[Any] = []
    for value in args:
        joined.extend(list_arg("concat", value))
        operators.checked_size(len(joined), context)
    return joined


def builtin_flatten(context: Context, args: list[Any]) -> list[Any]:
    arity("flatten", args, 1)
    flat: list[Any] = []
    pending: list[tuple[Any, int]] = [(item, 0) for item in reversed(list_arg("flatten", args[0]))]
    while pending:
        item, depth = pending.pop()
        if is_list(item):
            if depth >= context.limits.max_value_depth:
                raise ExprError("invalid argument for flatten: nested too deeply")
            pending.extend((inner, depth + 1) for inner in reversed(item))
        else:
            flat.append(item)
            operators.checked_size(len(flat), context)
    return flat


# -- encodings ---------------------------------------------------------------------------------


def builtin_to_json(context: Context, args: list[Any]) -> str:
    arity("toJSON", args, 1)
    check_value_depth(args[0], context.limits.max_value_depth)

    def encode_other(value: Any) -> Any:
        if isinstance(value, Duration):
            return value.nanoseconds
        if isinstance(value, datetime):
            return value.isoformat()
        raise ExprError(f"json: unsupported type: {type_name(value)}")

    try:
        text = json.dumps(
            args[0], indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False, default=encode_other
        )
    except ValueError:
        raise ExprError("json: unsupported value: NaN or Inf") from None
    except TypeError:
        raise ExprError("json: unsupported map key type") from None
    return operators.checked_string(text, context)


def builtin_from_json(context: Context, args: list[Any]) -> Any:
    """``fromJSON``: numbers become float64 as with Go's decoder; NaN/Infinity are not JSON."""
    arity("fromJSON", args, 1)
    text = string_arg("fromJSON", args[0])
    context.charge(len(text) // 10)

    def reject(constant: str) -> Any:
        raise ExprError(f"invalid character '{constant[0]}' looking for beginning of value")

    try:
        value = json.loads(text, parse_int=float, parse_constant=reject)
    except json.JSONDecodeError as error:
        raise ExprError(f"invalid JSON: {error.msg} at character {error.pos}") from None
    except RecursionError:
        raise ExprError("invalid JSON: nested too deeply") from None
    check_value_depth(value, context.limits.max_value_depth)
    return value


def builtin_to_base64(context: Context, args: list[Any]) -> str:
    arity("toBase64", args, 1)
    encoded = base64.b64encode(string_arg("toBase64", args[0]).encode("utf-8", "surrogatepass"))
    return operators.checked_string(encoded.decode("ascii"), context)


def builtin_from_base64(context: Context, args: list[Any]) -> str:
    arity("fromBase64", args, 1)
    try:
        decoded = base64.b64decode(string_arg("fromBase64", args[0]), validate=True)
    except (binascii.Error, ValueError):
        raise ExprError("illegal base64 data") from None
    return decoded.decode("utf-8", "replace")


# -- time --------------------------------------------------------------------------------------


def builtin_now(context: Context, args: list[Any]) -> datetime:
    arity("now", args, 0)
    return context.now()


def builtin_duration(context: Context, args: list[Any]) -> Duration:
    arity("duration", args, 1)
    return times.parse_duration(string_arg("duration", args[0]))


def builtin_date(context: Context, args: list[Any]) -> datetime:
    arity("date", args, 1)
    return times.parse_date(string_arg("date", args[0]))


# -- bits --------------------------------------------------------------------------------------


def bitwise(name: str, count: int, function: Callable[..., int]) -> Builtin:
    def builtin(context: Context, args: list[Any]) -> int:
        arity(name, args, count)
        return wrap_int(function(*(int_arg(name, value) for value in args)))

    return builtin


def shift_amount(amount: int) -> int:
    if amount < 0:
        raise ExprError("negative shift amount")
    return min(amount, 64)


# -- closures ----------------------------------------------------------------------------------


def closure_args(
    name: str, args: list[Any], maximum: int = 2
) -> tuple[list[Any] | tuple[Any, ...], Predicate]:
    arity(name, args, 2, maximum)
    items = args[0]
    if not is_list(items):
        raise ExprError(f"cannot iterate over {type_name(items)} in {name}")
    predicate: Predicate = args[1]
    return items, predicate


def test(name: str, predicate: Predicate, item: Any, index: int, context: Context) -> bool:
    context.charge(1)
    outcome = predicate(item, index)
    if not isinstance(outcome, bool):
        raise ExprError(f"predicate of {name} should return boolean (got {type_name(outcome)})")
    return outcome


def builtin_all(context: Context, args: list[Any]) -> bool:
    items, predicate = closure_args("all", args)
    return all(test("all", predicate, item, index, context) for index, item in enumerate(items))


def builtin_any(context: Context, args: list[Any]) -> bool:
    items, predicate = closure_args("any", args)
    return any(test("any", predicate, item, index, context) for index, item in enumerate(items))


def builtin_none(context: Context, args: list[Any]) -> bool:
    items, predicate = closure_args("none", args)
    return not any(test("none", predicate, item, index, context) for index, item in enumerate(items))


def builtin_one(context: Context, args: list[Any]) -> bool:
    items, predicate = closure_args("one", args)
    return sum(test("one", predicate, item, index, context) for index, item in enumerate(items)) == 1


def builtin_filter(context: Context, args: list[Any]) -> list[Any]:
    items, predicate = closure_args("filter", args)
    return [item for index, item in enumerate(items) if test("filter", predicate, item, index, context)]


def builtin_map(context: Context, args: list[Any]) -> list[Any]:
    items, predicate = closure_args("map", args)
    operators.checked_size(len(items), context)
    return [predicate(item, index) for index, item in enumerate(items)]


def finder(name: str, from_end: bool, want_index: bool) -> Builtin:
    def builtin(context: Context, args: list[Any]) -> Any:
        items, predicate = closure_args(name, args)
        order = range(len(items) - 1, -1, -1) if from_end else range(len(items))
        for index in order:
            if test(name, predicate, items[index], index, context):
                return index if want_index else items[index]
        return -1 if want_index else None

    return builtin


def builtin_count(context: Context, args: list[Any]) -> int:
    arity("count", args, 1, 2)
    if len(args) == 2:
        items, predicate = closure_args("count", args)
        return sum(test("count", predicate, item, index, context) for index, item in enumerate(items))
    items = list_arg("count", args[0])
    context.charge(len(items))
    for item in items:
        if not isinstance(item, bool):
            raise invalid("count", item)
    return sum(items)


def builtin_sum(context: Context, args: list[Any]) -> int | float:
    arity("sum", args, 1, 2)
    if len(args) == 2:
        items, predicate = closure_args("sum", args)
        values = [predicate(item, index) for index, item in enumerate(items)]
    else:
        values = list(list_arg("sum", args[0]))
    context.charge(len(values))
    total: int | float = 0
    for value in values:
        if not is_number(value):
            raise invalid("sum", value)
        total = operators.numeric("+", total, value)
    return total


def builtin_reduce(context: Context, args: list[Any]) -> Any:
    items, predicate = closure_args("reduce", args, maximum=3)
    if len(args) == 3:
        accumulator, start = args[2], 0
    elif items:
        accumulator, start = items[0], 1
    else:
        raise ExprError("reduce of empty array with no initial value")
    for index in range(start, len(items)):
        context.charge(1)
        accumulator = predicate(items[index], index, accumulator)
    return accumulator


def builtin_sort_by(context: Context, args: list[Any]) -> list[Any]:
    items, predicate = closure_args("sortBy", args, maximum=3)
    keys = [predicate(item, index) for index, item in enumerate(items)]
    context.charge(len(items) * max(1, len(items).bit_length()))
    key = sort_key("sortBy", keys)
    descending = sort_order("sortBy", args, 2)
    ordered = sorted(zip(keys, items, strict=True), key=lambda pair: key(pair[0]), reverse=descending)
    return [item for _, item in ordered]


BUILTINS: dict[str, Builtin] = {
    "len": builtin_len,
    "type": builtin_type,
    "abs": builtin_abs,
    "ceil": rounding("ceil", lambda x: float(math.ceil(x))),
    "floor": rounding("floor", lambda x: float(math.floor(x))),
    "round": rounding("round", go_round),
    "int": conversion("int", to_int=True),
    "float": conversion("float", to_int=False),
    "string": builtin_string,
    "max": extreme("max", ">"),
    "min": extreme("min", "<"),
    "mean": builtin_mean,
    "median": builtin_median,
    "trim": builtin_trim,
    "trimPrefix": affix_trim("trimPrefix", lambda s, p: s.removeprefix(p)),
    "trimSuffix": affix_trim("trimSuffix", lambda s, p: s.removesuffix(p)),
    "upper": string_function("upper", 1, str.upper),
    "lower": string_function("lower", 1, str.lower),
    "split": splitter("split", keep_separator=False),
    "splitAfter": splitter("splitAfter", keep_separator=True),
    "replace": builtin_replace,
    "repeat": builtin_repeat,
    "join": builtin_join,
    "indexOf": string_function("indexOf", 2, lambda s, sub: byte_offset(s, s.find(sub))),
    "lastIndexOf": string_function("lastIndexOf", 2, lambda s, sub: byte_offset(s, s.rfind(sub))),
    "hasPrefix": string_function("hasPrefix", 2, str.startswith),
    "hasSuffix": string_function("hasSuffix", 2, str.endswith),
    "first": builtin_first,
    "last": builtin_last,
    "get": builtin_get,
    "take": builtin_take,
    "keys": builtin_keys,
    "values": builtin_values,
    "toPairs": builtin_to_pairs,
    "fromPairs": builtin_from_pairs,
    "sort": builtin_sort,
    "reverse": builtin_reverse,
    "uniq": builtin_uniq,
    "concat": builtin_concat,
    "flatten": builtin_flatten,
    "toJSON": builtin_to_json,
    "fromJSON": builtin_from_json,
    "toBase64": builtin_to_base64,
    "fromBase64": builtin_from_base64,
    "now": builtin_now,
    "duration": builtin_duration,
    "date": builtin_date,
    "bitand": bitwise("bitand", 2, lambda a, b: a & b),
    "bitor": bitwise("bitor", 2, lambda a, b: a | b),
    "bitxor": bitwise("bitxor", 2, lambda a, b: a ^ b),
    "bitnand": bitwise("bitnand", 2, lambda a, b: a & ~b),
    "bitnot": bitwise("bitnot", 1, lambda a: ~a),
    "bitshl": bitwise("bitshl", 2, lambda a, b: a << shift_amount(b)),
    "bitshr": bitwise("bitshr", 2, lambda a, b: a >> shift_amount(b)),
    "bitushr": bitwise("bitushr", 2, lambda a, b: (a % 2**64) >> shift_amount(b)),
    "all": builtin_all,
    "any": builtin_any,
    "none": builtin_none,
    "one": builtin_one,
    "filter": builtin_filter,
    "map": builtin_map,
    "find": finder("find", from_end=False, want_index=False),
    "findIndex": finder("findIndex", from_end=False, want_index=True),
    "findLast": finder("findLast", from_end=True, want_index=False),
    "findLastIndex": finder("findLastIndex", from_end=True, want_index=True),
    "count": builtin_count,
    "sum": builtin_sum,
    "reduce": builtin_reduce,
    "sortBy": builtin_sort_by,
}
