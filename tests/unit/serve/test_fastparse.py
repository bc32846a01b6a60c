"""The msgspec decoder only ever says yes where pydantic says yes, with the same values."""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from lifecycle.config import Params, load_params
from lifecycle.serve.fastparse import build_decoders
from lifecycle.serve.schema import MAX_MAGNITUDE, RequestSchema, build_schema
from tests.unit.serve.test_schema import PARAMS_FILE, other_table


def typed(rows: list[dict[str, Any]]) -> list[list[tuple[str, str, str]]]:
    """Rows as (field, type, repr) triples: equal only when values and types are identical."""
    return [sorted((k, type(v).__name__, repr(v)) for k, v in row.items()) for row in rows]


def disagreement(schema: RequestSchema, raw: bytes) -> str | None:
    """Why the fast decoder's answer on this body breaks the rule, or None when it holds."""
    assert schema.predict.fast is not None
    many = raw.lstrip()[:1] == b"["
    fast = schema.predict.fast[many](raw)
    if fast is None:
        return None  # refusing is always allowed: pydantic decides
    try:
        slow = (
            list(schema.predict.many.validate_json(raw))
            if many
            else [schema.predict.one.validate_json(raw)]
        )
    except ValidationError as err:
        return f"fast accepted what pydantic refuses: {err.errors()[0]['type']}"
    if typed(fast) != typed(slow):
        return f"values differ: {fast} != {slow}"
    return None


def telco() -> Params:
    """The project's own params."""
    return load_params(PARAMS_FILE)


def base_record(params: Params) -> dict[str, Any]:
    """One valid record of this params file."""
    rules = params.validation
    row: dict[str, Any] = {c: 1.5 for c in params.data.numeric}
    for c, (low, high) in rules.ranges.items():  # within the contract's range
        if c in row:
            row[c] = (low + high) / 2
    for c in params.data.categorical:
        row[c] = rules.categories[c][0] if c in rules.categories else "text"
    return row


def with_value(row: dict[str, Any], field: str, literal: str) -> bytes:
    """A one-record list body with `field` set to a raw JSON literal (which may be invalid)."""
    marker = "\x00marker"
    body = json.dumps([{**row, field: marker}])
    return body.replace(json.dumps(marker), literal).encode()


EDGE_LITERALS = [
    "36", "36.0", "-0", "-0.0", "3.6E1", "1e15", "-1e15", "1.0000000000000002e15", "1e400",
    "1e-400", "1000000000000000000000000000000", "0.1000000000000000055511151231257827",
    "NaN", "Infinity", "-Infinity", "true", "false", "null", '"36"', "[1]", '{"a": 1}',
    "036", "1.", ".5", "+1", '"Two year"', '"Two\\u0020year"', '"DSL"', '"\\ud800"', '""',
    '"' + "é" * 128 + '"', '"' + "é" * 129 + '"', '"' + "😀" * 128 + '"', "9007199254740991",
    "9007199254740992", "-9007199254740991", "5.0", '"a\\u0062"', '"\\u0000"',
]  # fmt: skip


@pytest.mark.parametrize("params", [telco(), other_table()], ids=["telco", "other"])
def test_edge_values_in_every_field(params: Params) -> None:
    """Every field, every awkward JSON value: the fast decoder never outruns pydantic."""
    schema = build_schema(params)
    row = base_record(params)
    assert schema.predict.fast is not None
    fast_only: list[tuple[str, str]] = []
    for field in [*row, params.data.id_column, "unknown_field"]:
        for literal in EDGE_LITERALS:
            raw = with_value(row, field, literal)
            assert disagreement(schema, raw) is None, (field, literal)
            if schema.predict.fast[1](raw) is None and _accepts(schema, raw):
                fast_only.append((field, literal))
    # and it takes every one of these bodies pydantic takes, except an integral float id
    # (36.0 is the id 36): msgspec refuses it and pydantic decides, as for any refusal
    integral = {lit for lit in EDGE_LITERALS if _integral_float(lit)}
    id_column = params.data.id_column
    assert [(f, lit) for f, lit in fast_only if f != id_column or lit not in integral] == []


def _integral_float(literal: str) -> bool:
    """Whether a JSON literal is a float (not an int) whose value is an integer."""
    try:
        value = json.loads(literal)
    except ValueError:
        return False
    return isinstance(value, float) and value.is_integer()


def _accepts(schema: RequestSchema, raw: bytes) -> bool:
    """Whether pydantic accepts this list body."""
    try:
        schema.predict.many.validate_json(raw)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(
    "raw",
    [
        b"[]", b"{}", b"[1]", b"null", b"", b"  ", b"[{}]", b'"x"', b"\xef\xbb\xbf[]",
        b"[" + b"{}," * 3 + b"{}]",
    ],
)  # fmt: skip
def test_odd_bodies(raw: bytes) -> None:
    """Empty, non-object and malformed bodies: refused by both, or equal."""
    assert disagreement(build_schema(other_table()), raw) is None


def test_record_level_rules() -> None:
    """Missing and duplicate keys, too many records, trailing bytes, a bare object."""
    params = other_table()  # max_records 3
    schema = build_schema(params)
    row = base_record(params)
    one = json.dumps(row)
    bodies = [
        json.dumps([{k: v for k, v in row.items() if k != "age"}]),
        json.dumps([row] * 3), json.dumps([row] * 4), one, f"[{one}] x", f" \n[{one}]\n ",
        f"[{one[:-1]}, \"age\": 7}}]", f"[{one[:-1]}, \"age\": \"x\"}}]",
        json.dumps([{**row, "customer_id": 5}, {**row, "customer_id": "a"}]),
    ]  # fmt: skip
    for body in bodies:
        assert disagreement(schema, body.encode()) is None, body


def test_parse_falls_back_to_pydantic() -> None:
    """What the fast decoder refuses, pydantic decides: its value, or its named error."""
    params = other_table()
    schema = build_schema(params)
    row = base_record(params)
    # a duplicate key whose first value is wrong: msgspec refuses, pydantic keeps the last
    raw = f'[{json.dumps(row)[:-1]}, "age": "x", "age": 7}}]'.encode()
    assert schema.predict.fast is not None and schema.predict.fast[1](raw) is None
    assert schema.predict.parse(raw)[0]["age"] == 7.0
    with pytest.raises(ValidationError) as err:
        schema.predict.parse(with_value(row, "age", '"seven"'))
    assert err.value.errors()[0]["loc"] == (0, "age")


def test_the_check_can_fail() -> None:
    """A looser decoder (larger bound) is caught accepting what pydantic refuses."""
    params = other_table()
    schema = build_schema(params)
    loose = RequestSchema(
        schema.features,
        type(schema.predict)(
            schema.predict.one, schema.predict.many, schema.predict.schema,
            build_decoders(params, MAX_MAGNITUDE * 1e6),
        ),
        schema.feedback,
        schema.max_records,
    )  # fmt: skip
    raw = with_value(base_record(params), "age", "1e18")
    assert disagreement(schema, raw) is None
    assert "pydantic refuses" in str(disagreement(loose, raw))


def json_value() -> st.SearchStrategy[Any]:
    """Any JSON value a client might send for one field, valid or not."""
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=140),
        st.sampled_from(["basic", "pro", "Basic", "pro ", "DSL", "Two year"]),
        st.floats(min_value=-2e15, max_value=2e15),
    )  # fmt: skip
    return st.one_of(scalars, st.lists(scalars, max_size=2))


@st.composite
def bodies(draw: st.DrawFn, params: Params) -> bytes:
    """Lists of 1..4 records, each a valid record with a few fields replaced or dropped."""
    fields = [*params.data.numeric, *params.data.categorical, params.data.id_column, "extra"]
    rows = []
    for _ in range(draw(st.integers(1, 4))):
        row = base_record(params)
        for field in draw(st.lists(st.sampled_from(fields), max_size=3)):
            if draw(st.booleans()):
                row.pop(field, None)
            else:
                row[field] = draw(json_value())
        rows.append(row)
    raw = json.dumps(rows if draw(st.booleans()) or len(rows) > 1 else rows[0])
    return raw.encode()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_bodies_agree(data: st.DataObject) -> None:
    """On generated bodies, whatever the fast decoder accepts, pydantic accepts, equal."""
    params, schema = data.draw(st.sampled_from(both_schemas()))
    assert disagreement(schema, data.draw(bodies(params))) is None


@functools.cache
def both_schemas() -> list[tuple[Params, RequestSchema]]:
    """The telco params and the made-up table, each with its schema (built once)."""
    return [(p, build_schema(p)) for p in (telco(), other_table())]
