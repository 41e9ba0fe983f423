"""The committed Go facts are what Go produces today, and the Python ports agree with Go.

1. ``hack/gojson/regenerate.sh`` is run into a temporary directory; the type
   tables and hash vectors it writes must equal the committed files byte for
   byte (so nobody edits them by hand, and a change to the samples or the
   generator is committed together with its output).
2. The Python ports are compared with Go on generated inputs through the
   ``gojson oracle`` helper: durations, quantities, float and string
   literals, and whole pod templates and canary step lists built from the
   type tables (including ill-typed values, which both sides must reject).

Needs the Go toolchain; without it these tests fail rather than skip.
"""

from __future__ import annotations

import json
import select
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.values import DurationError, format_go_duration, parse_go_duration_ns
from rollouts.gojson import GoJSONError, GoType, TypeTable, load_table, marshal
from rollouts.gojson.literals import go_float_text, go_string_literal
from rollouts.hashes import legacy_pod_template_json, pod_template_json, steps_json

REPO = Path(__file__).resolve().parents[2]
GOJSON = REPO / "hack" / "gojson"
GENERATED = [
    "rollouts/data/gojson_podtemplatespec.json",
    "rollouts/data/gojson_canarysteps.json",
    "tests/unit/data/podhash_vectors.json",
    "tests/unit/data/stephash_vectors.json",
]
FUZZ = settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])


def _require_go() -> str:
    go = shutil.which("go")
    if go is None:
        pytest.fail("the Go toolchain (`go`) is not on PATH; hack/gojson needs it to regenerate the tables")
    return go


def test_committed_tables_and_vectors_are_what_the_generator_writes(tmp_path: Path) -> None:
    _require_go()
    result = subprocess.run(
        [str(GOJSON / "regenerate.sh"), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"regenerate.sh failed:\n{result.stdout}\n{result.stderr}"
    for relative in GENERATED:
        fresh = (tmp_path / relative).read_bytes()
        committed = (REPO / relative).read_bytes()
        assert fresh == committed, f"{relative} is stale: run hack/gojson/regenerate.sh and commit"


ORACLE_ANSWER_SECONDS = 60


class Oracle:
    """A running ``gojson oracle``: one JSON question per line, one answer per line."""

    def __init__(self, binary: Path) -> None:
        self.process = subprocess.Popen(
            [str(binary), "oracle"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def ask(self, op: str, arg: object) -> tuple[object, str | None]:
        """(result, error) from Go; the result is None when Go returned an error."""
        assert self.process.stdin is not None and self.process.stdout is not None
        question = json.dumps({"op": op, "arg": arg})
        self.process.stdin.write(question + "\n")
        self.process.stdin.flush()
        # One answer per question, so nothing is ever buffered ahead: select on the pipe is exact.
        ready, _, _ = select.select([self.process.stdout], [], [], ORACLE_ANSWER_SECONDS)
        assert ready, f"gojson oracle gave no answer within {ORACLE_ANSWER_SECONDS}s to {question[:500]}"
        line = self.process.stdout.readline()
        assert line, f"gojson oracle exited (code {self.process.poll()}) on {question[:500]}"
        answer = json.loads(line)
        return answer.get("result"), answer.get("error")

    def close(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait()
        self.process.stdout.close()


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Oracle]:
    go = _require_go()
    binary = tmp_path_factory.mktemp("gojson") / "gojson"
    subprocess.run([go, "build", "-o", str(binary), "."], cwd=GOJSON, check=True)
    running = Oracle(binary)
    yield running
    running.close()


_duration_text = st.text(alphabet="0123456789.+-nsuµμmhx ", max_size=24)


@FUZZ
@given(_duration_text)
def test_durations_parse_like_go(oracle: Oracle, text: str) -> None:
    result, error = oracle.ask("duration", text)
    try:
        ours: str | None = str(parse_go_duration_ns(text))
    except DurationError:
        ours = None
    assert ours == result, (text, error)


@FUZZ
@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_durations_format_like_go(oracle: Oracle, nanoseconds: int) -> None:
    result, _ = oracle.ask("durationString", nanoseconds)
    assert format_go_duration(nanoseconds) == result


_quantity_text = st.one_of(
    st.text(alphabet="0123456789.+-eEinumkKMGTP ", max_size=14),
    st.from_regex(
        r"[+-]?[0-9]{0,22}(\.[0-9]{0,12})?([eE][+-]?[0-9]{1,3}|[numkMGTPE]|[KMGTPE]i)?", fullmatch=True
    ),
)


@FUZZ
@given(st.one_of(_quantity_text, st.integers(), st.floats(allow_nan=False, allow_infinity=False)))
def test_quantities_like_go(oracle: Oracle, value: str | int | float) -> None:
    result, error = oracle.ask("quantity", value)
    table = _single_field_table({"kind": "special", "codec": "quantity", "goKind": "struct"})
    try:
        ours: str | None = marshal({"q": value}, table).decode()[len('{"q":') : -1]
    except GoJSONError:
        ours = None
    assert ours == result, (value, error)


@FUZZ
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_literals_like_go(oracle: Oracle, number: float) -> None:
    result, _ = oracle.ask("float", number)
    assert go_float_text(number) == result


@FUZZ
@given(st.text())
def test_string_literals_like_go(oracle: Oracle, text: str) -> None:
    result, _ = oracle.ask("string", text)
    assert go_string_literal(text) == result


def _single_field_table(field_type: dict[str, Any]) -> TypeTable:
    from rollouts.gojson import parse_table

    field = {"json": "q", "go": "Q", "omitempty": False, "omitzero": False, "type": field_type}
    return parse_table({"root": {"kind": "struct", "struct": "T"}, "structs": {"T": [field]}})


_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
_any_json = st.recursive(
    _json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
# Mostly well-formed values, so that most generated objects decode and deep
# structures get compared; the rest exercise the rejection paths.
_small_ints = st.integers(min_value=-1000, max_value=1000)
_ints = st.one_of(_small_ints, _small_ints, _small_ints, st.integers(min_value=-(2**40), max_value=2**40))
_quantity_like = st.one_of(
    st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,3})?([numkMGTPE]|[KMGTPE]i|e[0-9])?", fullmatch=True),
    st.sampled_from(["100m", "1Gi", "0.5", "1e3", "+1", "1.500", "1E3", "01"]),
    st.integers(0, 10**6),
    _quantity_text,
)
_time_like = st.one_of(
    st.sampled_from(["2024-01-02T03:04:05Z", "2024-02-29T23:30:05.5+02:00", "0001-01-01T00:00:00Z"]),
    st.sampled_from(["2024-01-02T03:04:05Z", "1999-12-31T23:59:59-08:00"]),
    st.text(max_size=6),
)


def _value_for(draw: st.DrawFn, table: TypeTable, go_type: GoType, depth: int) -> object:
    """A value that mostly fits the Go type; sometimes anything at all."""
    # About one value in fifty is arbitrary JSON (17 is no boundary value that
    # Hypothesis would favour).
    if draw(st.integers(0, 49)) == 17:
        return draw(_any_json)
    kind = go_type.kind
    if kind == "string":
        return draw(st.text(max_size=8))
    if kind == "bool":
        return draw(st.booleans())
    if kind in ("int", "uint"):
        return draw(_ints)
    if kind == "float":
        return draw(st.floats(allow_nan=False, allow_infinity=False))
    if kind == "special":
        codec_values = {
            "quantity": _quantity_like,
            "time": _time_like,
            "intorstring": st.one_of(_ints, st.text(max_size=6)),
            "rawjson": _any_json,
        }
        return draw(codec_values[go_type.codec])
    if depth <= 0:
        return None
    assert go_type.elem is not None or kind == "struct"
    if kind == "ptr":
        assert go_type.elem is not None
        return _value_for(draw, table, go_type.elem, depth)
    if kind == "slice":
        assert go_type.elem is not None
        elem = go_type.elem
        return [_value_for(draw, table, elem, depth - 1) for _ in range(draw(st.integers(0, 2)))]
    if kind == "map":
        assert go_type.elem is not None
        elem = go_type.elem
        keys = draw(st.lists(st.text(max_size=6), max_size=3, unique=True))
        return {key: _value_for(draw, table, elem, depth - 1) for key in keys}
    fields = table.structs[go_type.struct]
    chosen = (
        draw(st.lists(st.sampled_from(fields), max_size=6, unique_by=lambda f: f.json_name)) if fields else []
    )
    out: dict[str, object] = {f.json_name: _value_for(draw, table, f.type, depth - 1) for f in chosen}
    if draw(st.integers(0, 9)) == 7:
        out[draw(st.text(max_size=6))] = draw(_any_json)  # an unknown member
    return out


@st.composite
def _pod_templates(draw: st.DrawFn) -> object:
    table = load_table("gojson_podtemplatespec.json")
    return _value_for(draw, table, table.root, depth=9)


@st.composite
def _step_lists(draw: st.DrawFn) -> object:
    table = load_table("gojson_canarysteps.json")
    return _value_for(draw, table, table.root, depth=6)


@FUZZ
@given(_pod_templates())
def test_pod_templates_encode_like_go(oracle: Oracle, template: Any) -> None:
    result, error = oracle.ask("podtemplate", template)
    try:
        ours: dict[str, str] | None = {
            "goJSON": pod_template_json(template).decode(),
            "legacyJSON": legacy_pod_template_json(template).decode(),
        }
    except GoJSONError as rejected:
        assert result is None, f"Go accepted what we rejected ({rejected}): {template!r}"
        return
    assert ours == result, (template, error)


@FUZZ
@given(_step_lists())
def test_canary_steps_encode_like_go(oracle: Oracle, steps: Any) -> None:
    result, error = oracle.ask("steps", steps)
    try:
        ours: str | None = steps_json(steps).decode()
    except GoJSONError as rejected:
        assert result is None, f"Go accepted what we rejected ({rejected}): {steps!r}"
        return
    assert ours == result, (steps, error)
