"""Decode JSON values into Go values by a type table, then encode them as Go does.

Argo Rollouts hashes ``json.Marshal`` of typed Go structs that were decoded
from the API server's JSON. The bytes depend on both halves: decoding drops
unknown and wrongly-cased keys, turns ``null`` into zero values and parses
quantities and timestamps; encoding orders fields by declaration, applies
omitempty/omitzero by Go kind, sorts map keys and escapes HTML. So this
module mirrors both halves instead of re-serialising the Python dict.

Decoded Go values are plain Python data: ``str``/``bool``/``int``/``float``,
``None`` for nil pointers, slices and maps, ``list``, ``dict`` (maps keyed by
string; structs keyed by JSON member name, absent members meaning zero),
``Quantity``, ``GoTime``, ``int | str`` for IntOrString (its JSON kind kept),
and ``RawJSON`` for opaque JSON (``json.RawMessage``, ``FieldsV1``).

Input Go would reject (a string where an int32 belongs, an int32 overflow, a
malformed quantity) raises ``GoJSONError`` naming the JSON path.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from rollouts.gojson.literals import (
    go_decoded_string,
    go_float_text,
    go_number_text,
    go_string_literal,
)
from rollouts.gojson.quantities import ZERO_QUANTITY, Quantity, QuantityError, parse_json_quantity
from rollouts.gojson.tables import GoField, GoType, TypeTable
from rollouts.gojson.times import ZERO_TIME, GoTime, TimeFormatError, format_rfc3339, parse_rfc3339

_INTEGER_LITERAL = re.compile(r"-?[0-9]+")
_MISSING = object()
_SPECIAL_ZEROS: dict[str, object] = {
    "quantity": ZERO_QUANTITY,
    "time": ZERO_TIME,
    "intorstring": 0,
    "rawjson": None,
}


class GoJSONError(ValueError):
    """A JSON value that Go's decoder would reject for the target type."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or '<root>'}: {message}")
        self.path = path


@dataclass(frozen=True)
class RawJSON:
    """Opaque JSON kept as received; ``value`` None is the literal ``null``."""

    value: object


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__} (not a JSON value)"


def _go_type_name(go_type: GoType) -> str:
    if go_type.kind in ("int", "uint", "float"):
        return f"{go_type.kind}{go_type.bits}"
    if go_type.kind == "struct":
        return go_type.struct.rsplit("/", 1)[-1]
    if go_type.kind == "special":
        return go_type.codec
    return go_type.kind


def zero_value(go_type: GoType) -> object:
    """The Go zero value of a type."""
    kind = go_type.kind
    if kind == "string":
        return ""
    if kind == "bool":
        return False
    if kind in ("int", "uint"):
        return 0
    if kind == "float":
        return 0.0
    if kind == "struct":
        return {}
    if kind == "special":
        return _SPECIAL_ZEROS[go_type.codec]
    return None  # ptr, slice, map, bytes


class _Decoder:
    def __init__(self, table: TypeTable) -> None:
        self.table = table

    def mismatch(self, value: object, go_type: GoType, path: str) -> GoJSONError:
        return GoJSONError(path, f"cannot decode {_json_kind(value)} into Go {_go_type_name(go_type)}")

    def decode(self, value: object, go_type: GoType, path: str) -> object:
        if value is None:
            # Go leaves non-nullable targets at zero; RawMessage keeps the literal.
            return RawJSON(None) if go_type.codec == "rawjson" else zero_value(go_type)
        kind = go_type.kind
        if kind == "string":
            if not isinstance(value, str):
                raise self.mismatch(value, go_type, path)
            return go_decoded_string(value)
        if kind == "bool":
            if not isinstance(value, bool):
                raise self.mismatch(value, go_type, path)
            return value
        if kind in ("int", "uint"):
            return self.integer(value, go_type, path)
        if kind == "float":
            return self.floating(value, go_type, path)
        if kind == "bytes":
            return self.bytes_value(value, go_type, path)
        if kind == "ptr":
            assert go_type.elem is not None
            return self.decode(value, go_type.elem, path)
        if kind == "slice":
            assert go_type.elem is not None
            if not isinstance(value, list | tuple):
                raise self.mismatch(value, go_type, path)
            elem = go_type.elem
            return [self.decode(item, elem, f"{path}[{i}]") for i, item in enumerate(value)]
        if kind == "map":
            assert go_type.elem is not None
            return self.map_value(value, go_type, go_type.elem, path)
        if kind == "struct":
            return self.struct_value(value, go_type, path)
        return self.special(value, go_type, path)

    def integer(self, value: object, go_type: GoType, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.mismatch(value, go_type, path)
        try:
            text = go_number_text(value)
        except ValueError as error:
            raise GoJSONError(path, str(error)) from None
        signed = go_type.kind == "int"
        bits = go_type.bits
        low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        if (
            not _INTEGER_LITERAL.fullmatch(text)
            or (not signed and text.startswith("-"))
            or not low <= int(text) <= high
        ):
            raise GoJSONError(path, f"cannot decode number {text} into Go {_go_type_name(go_type)}")
        return int(text)

    def floating(self, value: object, go_type: GoType, path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.mismatch(value, go_type, path)
        try:
            number = float(go_number_text(value))
        except ValueError as error:
            raise GoJSONError(path, str(error)) from None
        if go_type.bits != 64 or math.isinf(number):
            raise GoJSONError(path, f"cannot decode number {value} into Go {_go_type_name(go_type)}")
        return number

    def bytes_value(self, value: object, go_type: GoType, path: str) -> bytes:
        if not isinstance(value, str):
            raise self.mismatch(value, go_type, path)
        # base64.StdEncoding.Decode skips newlines and requires padding.
        try:
            return base64.b64decode(value.replace("\r", "").replace("\n", ""), validate=True)
        except (binascii.Error, ValueError):
            raise GoJSONError(path, "illegal base64 data") from None

    def map_value(self, value: object, go_type: GoType, elem: GoType, path: str) -> dict[str, object]:
        if not isinstance(value, Mapping):
            raise self.mismatch(value, go_type, path)
        out: dict[str, object] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise GoJSONError(path, f"object key {key!r} is not a string")
            out[go_decoded_string(key)] = self.decode(item, elem, f"{path}.{key}")
        return out

    def struct_value(self, value: object, go_type: GoType, path: str) -> dict[str, object]:
        if not isinstance(value, Mapping):
            raise self.mismatch(value, go_type, path)
        prefix = f"{path}." if path else ""
        out: dict[str, object] = {}
        # Only exact member names count: Kubernetes decodes case-sensitively and
        # drops unknown members.
        for field in self.table.structs[go_type.struct]:
            if field.json_name in value:
                member = value[field.json_name]
                out[field.json_name] = self.decode(member, field.type, prefix + field.json_name)
        return out

    def special(self, value: object, go_type: GoType, path: str) -> object:
        codec = go_type.codec
        if codec == "quantity":
            return self.quantity(value, path)
        if codec == "time":
            if not isinstance(value, str):
                raise self.mismatch(value, go_type, path)
            try:
                return parse_rfc3339(go_decoded_string(value))
            except TimeFormatError as error:
                raise GoJSONError(path, str(error)) from None
        if codec == "intorstring":
            if isinstance(value, str):
                return go_decoded_string(value)
            return self.integer(value, GoType(kind="int", bits=32), path)
        _check_raw_json(value, path)
        return RawJSON(value)

    def quantity(self, value: object, path: str) -> Quantity:
        # Quantity.UnmarshalJSON sees the raw JSON text: a string without its
        # quotes (escapes intact), or the literal of anything else.
        if isinstance(value, str):
            raw = go_string_literal(value)[1:-1]
        elif isinstance(value, bool):
            raw = "true" if value else "false"
        elif isinstance(value, int | float):
            try:
                raw = go_number_text(value)
            except ValueError as error:
                raise GoJSONError(path, str(error)) from None
        elif isinstance(value, list | tuple | Mapping):
            raw = "[" if isinstance(value, list | tuple) else "{"
        else:
            raise GoJSONError(path, f"cannot decode {_json_kind(value)} into a quantity")
        try:
            return parse_json_quantity(raw)
        except QuantityError as error:
            raise GoJSONError(path, f"quantity {value!r}: {error}") from None


def _check_raw_json(value: object, path: str) -> None:
    """Opaque JSON must still be JSON: string keys, finite numbers, JSON types."""
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int | float):
        try:
            go_number_text(value)
        except ValueError as error:
            raise GoJSONError(path, str(error)) from None
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_raw_json(item, f"{path}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise GoJSONError(path, f"object key {key!r} is not a string")
            _check_raw_json(item, f"{path}.{key}")
        return
    raise GoJSONError(path, f"{_json_kind(value)} cannot be encoded as JSON")


def _utf8_order(key: str) -> bytes:
    return key.encode("utf-8")


class _Encoder:
    def __init__(self, table: TypeTable) -> None:
        self.table = table
        self.parts: list[str] = []

    def encode(self, value: object, go_type: GoType) -> None:
        out = self.parts
        kind = go_type.kind
        if kind == "string":
            assert isinstance(value, str)
            out.append(go_string_literal(value))
        elif kind == "bool":
            out.append("true" if value else "false")
        elif kind in ("int", "uint"):
            out.append(str(value))
        elif kind == "float":
            assert isinstance(value, float)
            out.append(go_float_text(value))
        elif kind == "special":
            self.special(value, go_type)
        elif value is None:
            out.append("null")  # nil pointer, slice, map or []byte
        elif kind == "bytes":
            assert isinstance(value, bytes)
            out.append('"' + base64.b64encode(value).decode("ascii") + '"')
        elif kind == "ptr":
            assert go_type.elem is not None
            self.encode(value, go_type.elem)
        elif kind == "slice":
            assert isinstance(value, list) and go_type.elem is not None
            out.append("[")
            for i, item in enumerate(value):
                if i:
                    out.append(",")
                self.encode(item, go_type.elem)
            out.append("]")
        elif kind == "map":
            assert isinstance(value, dict) and go_type.elem is not None
            out.append("{")
            for i, key in enumerate(sorted(value, key=_utf8_order)):
                if i:
                    out.append(",")
                out.append(go_string_literal(key) + ":")
                self.encode(value[key], go_type.elem)
            out.append("}")
        else:
            assert isinstance(value, dict)
            self.struct(value, go_type)

    def struct(self, value: dict[str, object], go_type: GoType) -> None:
        self.parts.append("{")
        first = True
        for field in self.table.structs[go_type.struct]:
            member = value.get(field.json_name, _MISSING)
            if member is _MISSING:
                member = zero_value(field.type)
            if field.omit_empty and _is_empty(member, field.type):
                continue
            if field.omit_zero and self.is_zero(member, field):
                continue
            if not first:
                self.parts.append(",")
            first = False
            self.parts.append(go_string_literal(field.json_name) + ":")
            self.encode(member, field.type)
        self.parts.append("}")

    def special(self, value: object, go_type: GoType) -> None:
        codec = go_type.codec
        if codec == "quantity":
            assert isinstance(value, Quantity)
            self.parts.append('"' + value.json_text() + '"')
        elif codec == "time":
            assert isinstance(value, GoTime)
            self.parts.append("null" if value.is_zero() else '"' + format_rfc3339(value) + '"')
        elif codec == "intorstring":
            assert isinstance(value, int | str)
            self.parts.append(go_string_literal(value) if isinstance(value, str) else str(value))
        else:
            self.parts.append("null" if value is None else _compact(value))

    def is_zero(self, value: object, field: GoField) -> bool:
        """omitzero: the type's IsZero method (only Time has one here) or reflect's IsZero."""
        if field.zero_by_method:
            assert isinstance(value, GoTime)
            return value.is_zero()
        return self.value_is_zero(value, field.type)

    def value_is_zero(self, value: object, go_type: GoType) -> bool:
        if go_type.kind == "float":
            assert isinstance(value, float)
            return value == 0 and math.copysign(1.0, value) > 0
        if go_type.kind == "struct":
            assert isinstance(value, dict)
            return all(
                field.json_name not in value or self.value_is_zero(value[field.json_name], field.type)
                for field in self.table.structs[go_type.struct]
            )
        if go_type.kind in ("ptr", "slice", "map", "bytes"):
            return value is None
        return value == zero_value(go_type)


def _is_empty(value: object, go_type: GoType) -> bool:
    """omitempty: false, 0, nil, and empty strings, slices and maps. Structs never."""
    kind = go_type.kind
    if kind == "special":
        # RawMessage is a byte slice (empty when absent); other specials are structs.
        return go_type.go_kind == "slice" and value is None
    if kind == "struct":
        return False
    if kind in ("slice", "map", "bytes", "string"):
        return value is None or (isinstance(value, str | bytes | list | dict) and not value)
    if kind == "ptr":
        return value is None
    return not value  # bool, int, uint, float


def _compact(raw: RawJSON | object) -> str:
    """Opaque JSON re-emitted as the API server stored it (sorted keys), Go-escaped."""
    value = raw.value if isinstance(raw, RawJSON) else raw
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return go_number_text(value)
    if isinstance(value, str):
        return go_string_literal(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(_compact(item) for item in value) + "]"
    assert isinstance(value, Mapping)
    items = sorted(((go_decoded_string(k), v) for k, v in value.items()), key=lambda kv: _utf8_order(kv[0]))
    return "{" + ",".join(go_string_literal(k) + ":" + _compact(v) for k, v in items) + "}"


def decode(value: object, table: TypeTable) -> object:
    """Decode a JSON value into the table's root type, as Kubernetes' decoder would."""
    return _Decoder(table).decode(value, table.root, "")


def encode(go_value: object, table: TypeTable) -> bytes:
    """Encode a decoded value of the table's root type exactly as ``json.Marshal`` does."""
    encoder = _Encoder(table)
    encoder.encode(go_value, table.root)
    return "".join(encoder.parts).encode("utf-8")


def marshal(value: object, table: TypeTable) -> bytes:
    """The bytes Go produces after decoding ``value`` into the root type and re-encoding it."""
    return encode(decode(value, table), table)
