"""rollouts.gojson: Go's spelling of literals, metav1.Time, table loading, and the codec rules.

Whole-template behaviour is checked byte for byte against Go in test_hashes.py;
these tests pin each rule on its own with small hand-written tables.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.gojson import GoJSONError, TableError, decode, encode, load_table, marshal, parse_table
from rollouts.gojson.literals import go_float_text, go_number_text, go_string_literal
from rollouts.gojson.times import ZERO_TIME, GoTime, TimeFormatError, format_rfc3339, parse_rfc3339


@pytest.mark.parametrize(
    ("text", "literal"),
    [
        ("plain", '"plain"'),
        ("a<b>&c", '"a\\u003cb\\u003e\\u0026c"'),
        ('q"b\\s/', '"q\\"b\\\\s/"'),
        ("\b\f\n\r\t", '"\\b\\f\\n\\r\\t"'),
        ("\x00\x01\x1f", '"\\u0000\\u0001\\u001f"'),
        ("\x7f", '"\x7f"'),  # DEL is not escaped
        ("\u2028\u2029", '"\\u2028\\u2029"'),
        ("é✓😀", '"é✓😀"'),
        ("\ud800x", '"\ufffdx"'),  # a lone surrogate decodes to U+FFFD in Go
    ],
)
def test_go_string_literal(text: str, literal: str) -> None:
    assert go_string_literal(text) == literal


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0.0, "0"),
        (-0.0, "-0"),
        (1.0, "1"),
        (0.1, "0.1"),
        (-2.5, "-2.5"),
        (123456789.0, "123456789"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e300, "1.5e+300"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (1.25e-10, "1.25e-10"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
    ],
)
def test_go_float_text(number: float, text: str) -> None:
    assert go_float_text(number) == text


def test_go_number_text_follows_the_api_servers_int64_or_float64() -> None:
    assert go_number_text(42) == "42"
    assert go_number_text(2**63 - 1) == "9223372036854775807"
    assert go_number_text(2**63) == "9223372036854776000"  # through float64, shortest digits
    assert go_number_text(12345678901234567890) == "12345678901234567000"
    for bad in (float("nan"), float("inf"), 10**400):
        with pytest.raises(ValueError):
            go_number_text(bad)


@settings(deadline=None)  # never a wall-clock limit
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_go_float_text_round_trips(number: float) -> None:
    assert float(go_float_text(number)) == number


@pytest.mark.parametrize(
    ("text", "formatted"),
    [
        ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z"),
        ("2024-01-02T03:04:05.999999999Z", "2024-01-02T03:04:05Z"),
        ("2024-02-29T23:30:05+02:00", "2024-02-29T21:30:05Z"),
        ("2024-03-01T00:30:00+01:00", "2024-02-29T23:30:00Z"),
        ("1970-01-01T00:00:00-00:30", "1970-01-01T00:30:00Z"),
        ("0000-01-01T00:00:00+01:00", "-0001-12-31T23:00:00Z"),
        ("9999-12-31T23:00:00-02:00", "10000-01-01T01:00:00Z"),
    ],
)
def test_times_are_written_in_utc_whole_seconds(text: str, formatted: str) -> None:
    assert format_rfc3339(parse_rfc3339(text)) == formatted


def test_zero_time() -> None:
    assert ZERO_TIME.is_zero()
    assert parse_rfc3339("0001-01-01T00:00:00Z").is_zero()
    assert parse_rfc3339("0001-01-01T01:00:00+01:00").is_zero()
    assert not parse_rfc3339("0001-01-01T00:00:00.5Z").is_zero()
    assert parse_rfc3339("1970-01-01T00:00:00Z") == GoTime(0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2024-01-02",
        "2024-01-02 03:04:05Z",
        "2024-01-02T03:04:05",
        "2024-01-02t03:04:05Z",
        "2024-01-02T03:04:05z",
        "2023-02-29T00:00:00Z",
        "2024-13-01T00:00:00Z",
        "2024-01-02T24:00:00Z",
        "2024-01-02T23:59:60Z",
        "2024-01-02T03:04:05+0200",
        "2024-01-02T03:04:05+24:00",
        "2024-01-02T3:04:05Z",  # Go's slow path would accept a one-digit hour; we refuse
    ],
)
def test_malformed_times(text: str) -> None:
    with pytest.raises(TimeFormatError):
        parse_rfc3339(text)


def _table(structs: dict[str, list[dict[str, Any]]], root: dict[str, Any] | None = None) -> Any:
    return parse_table({"root": root or {"kind": "struct", "struct": "T"}, "structs": structs})


def _field(
    name: str, kind: dict[str, Any], *, omitempty: bool = False, omitzero: bool = False
) -> dict[str, Any]:
    return {"json": name, "go": name.title(), "omitempty": omitempty, "omitzero": omitzero, "type": kind}


STRING = {"kind": "string"}
INT32 = {"kind": "int", "bits": 32}
UINT8 = {"kind": "uint", "bits": 8}
FLOAT = {"kind": "float", "bits": 64}
BOOL = {"kind": "bool"}


def test_fields_follow_table_order_and_unknown_or_miscased_keys_are_dropped() -> None:
    table = _table({"T": [_field("zeta", STRING), _field("alpha", INT32)]})
    assert marshal({"alpha": 1, "Zeta": "x", "zeta": "z", "extra": [1]}, table) == b'{"zeta":"z","alpha":1}'
    assert marshal({}, table) == b'{"zeta":"","alpha":0}'


def test_omitempty_by_go_kind() -> None:
    kinds: dict[str, dict[str, Any]] = {
        "s": STRING,
        "i": INT32,
        "b": BOOL,
        "f": FLOAT,
        "p": {"kind": "ptr", "elem": INT32},
        "l": {"kind": "slice", "elem": STRING},
        "m": {"kind": "map", "elem": STRING},
        "st": {"kind": "struct", "struct": "Empty"},
    }
    table = _table({"T": [_field(n, k, omitempty=True) for n, k in kinds.items()], "Empty": []})
    empty = {"s": "", "i": 0, "b": False, "f": 0.0, "p": None, "l": [], "m": {}, "st": None}
    assert marshal(empty, table) == b'{"st":{}}'  # structs are never empty
    full = {"s": "x", "i": 0, "p": 0, "l": [""], "m": {"": ""}}
    assert marshal(full, table) == b'{"s":"x","p":0,"l":[""],"m":{"":""},"st":{}}'


def test_null_means_zero_and_nil_means_null() -> None:
    table = _table(
        {
            "T": [
                _field("s", STRING),
                _field("p", {"kind": "ptr", "elem": STRING}),
                _field("l", {"kind": "slice", "elem": INT32}),
                _field("m", {"kind": "map", "elem": STRING}),
            ]
        }
    )
    assert (
        marshal({"s": None, "p": None, "l": None, "m": None}, table) == b'{"s":"","p":null,"l":null,"m":null}'
    )
    assert marshal({"l": [None, 2], "m": {"k": None}}, table) == b'{"s":"","p":null,"l":[0,2],"m":{"k":""}}'


def test_omitzero_on_plain_values_is_deep_for_structs() -> None:
    table = _table(
        {
            "T": [
                _field("inner", {"kind": "struct", "struct": "I"}, omitzero=True),
                _field("list", {"kind": "slice", "elem": STRING}, omitzero=True),
            ],
            "I": [_field("n", INT32), _field("f", FLOAT)],
        }
    )
    assert marshal({"inner": {"n": 0}}, table) == b"{}"
    assert marshal({"inner": {"n": 1}}, table) == b'{"inner":{"n":1,"f":0}}'
    assert marshal({"inner": {"f": -0.0}}, table) == b'{"inner":{"n":0,"f":-0}}'  # -0 has a sign bit
    assert marshal({"list": []}, table) == b'{"list":[]}'  # an empty slice is not nil


def test_map_keys_sort_by_utf8_bytes() -> None:
    table = _table({}, root={"kind": "map", "elem": INT32})
    assert marshal({"b": 1, "B": 2, "é": 3, "a": 4, "z<": 5}, table) == (
        '{"B":2,"a":4,"b":1,"z\\u003c":5,"é":3}'.encode()
    )


def test_integer_ranges_and_literals() -> None:
    table = _table({"T": [_field("i", INT32), _field("u", UINT8)]})
    assert marshal({"i": -(2**31), "u": 255}, table) == b'{"i":-2147483648,"u":255}'
    assert marshal({"i": 30.0}, table) == b'{"i":30,"u":0}'  # the server would have sent 30
    for bad in ({"i": 2**31}, {"u": 256}, {"u": -1}, {"i": 1.5}, {"i": 1e21}, {"i": "1"}, {"i": True}):
        with pytest.raises(GoJSONError):
            marshal(bad, table)


def test_bytes_are_base64() -> None:
    table = _table({"T": [_field("b", {"kind": "bytes"}, omitempty=True)]})
    assert marshal({"b": "aGk="}, table) == b'{"b":"aGk="}'
    assert marshal({"b": "aG\nk="}, table) == b'{"b":"aGk="}'
    assert marshal({"b": ""}, table) == b"{}"
    with pytest.raises(GoJSONError, match="base64"):
        marshal({"b": "aGk"}, table)


def test_floats_are_written_like_go() -> None:
    table = _table({"T": [_field("f", FLOAT)]})
    assert marshal({"f": 1e21}, table) == b'{"f":1e+21}'
    assert marshal({"f": 3}, table) == b'{"f":3}'
    with pytest.raises(GoJSONError):
        marshal({"f": 10**400}, table)


def test_raw_json_keeps_null_and_sorts_keys() -> None:
    raw = {"kind": "special", "codec": "rawjson", "goKind": "slice"}
    table = _table({"T": [_field("c", raw, omitempty=True)]})
    assert marshal({}, table) == b"{}"
    assert marshal({"c": None}, table) == b'{"c":null}'
    assert marshal({"c": {"b": [1, 2.5, "<"], "a": {}}}, table) == b'{"c":{"a":{},"b":[1,2.5,"\\u003c"]}}'
    with pytest.raises(GoJSONError):
        marshal({"c": {"x": object()}}, table)


def test_int_or_string_keeps_its_json_kind() -> None:
    ios = {"kind": "special", "codec": "intorstring", "goKind": "struct"}
    table = _table({"T": [_field("v", ios, omitempty=True)]})
    assert marshal({"v": 10}, table) == b'{"v":10}'
    assert marshal({"v": "10"}, table) == b'{"v":"10"}'
    assert marshal({}, table) == b'{"v":0}'  # a struct in Go: never omitted
    with pytest.raises(GoJSONError):
        marshal({"v": 1.5}, table)


def test_time_fields() -> None:
    time_type = {"kind": "special", "codec": "time", "goKind": "struct"}
    table = parse_table(
        {
            "root": {"kind": "struct", "struct": "T"},
            "structs": {
                "T": [
                    _field("plain", time_type, omitempty=True),
                    {**_field("zero", time_type, omitempty=True, omitzero=True), "zeroBy": "IsZero"},
                ]
            },
        }
    )
    assert marshal({}, table) == b'{"plain":null}'
    assert marshal({"zero": "2024-01-02T03:04:05+01:00"}, table) == (
        b'{"plain":null,"zero":"2024-01-02T02:04:05Z"}'
    )
    assert encode(decode({"plain": None, "zero": None}, table), table) == b'{"plain":null}'
    with pytest.raises(GoJSONError, match="RFC 3339"):
        marshal({"plain": "soon"}, table)


@pytest.mark.parametrize(
    ("structs", "message"),
    [
        ({"T": [_field("x", {"kind": "complex"})]}, "unknown kind"),
        ({"T": [_field("x", {"kind": "special", "codec": "duration", "goKind": "int"})]}, "unknown codec"),
        ({"T": [_field("x", {"kind": "struct", "struct": "Missing"})]}, "missing"),
        (
            {"T": [_field("x", {"kind": "special", "codec": "quantity", "goKind": "struct"}, omitzero=True)]},
            "omitzero",
        ),
    ],
)
def test_tables_the_encoder_cannot_replay_are_rejected(
    structs: dict[str, list[dict[str, Any]]], message: str
) -> None:
    with pytest.raises(TableError, match=message):
        _table(structs)


def test_committed_tables() -> None:
    pods = load_table("gojson_podtemplatespec.json")
    # The versions Argo Rollouts v1.10.1 pins: its hash is Go's encoding of exactly these types.
    assert pods.modules == {"k8s.io/api": "v0.34.5", "k8s.io/apimachinery": "v0.34.5"}
    assert pods.root.struct == "k8s.io/api/core/v1.PodTemplateSpec"
    meta = [f.json_name for f in pods.structs["k8s.io/api/core/v1.PodTemplateSpec"]]
    assert meta == ["metadata", "spec"]
    creation = next(
        f
        for f in pods.structs["k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta"]
        if f.json_name == "creationTimestamp"
    )
    assert creation.omit_zero and creation.zero_by_method
    without = pods.without_omitzero("k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta", "creationTimestamp")
    with pytest.raises(TableError):
        without.without_omitzero("k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta", "creationTimestamp")
    steps = load_table("gojson_canarysteps.json")
    assert steps.root.kind == "slice"
