"""The request schema comes from params alone: another table, other rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from lifecycle.config import Params, parse_params
from lifecycle.serve.schema import build_schema, error_details

PARAMS_FILE = Path(__file__).resolve().parents[3] / "params.yaml"


def other_table() -> Params:
    """The same params with a different, made-up table."""
    raw: dict[str, Any] = yaml.safe_load(PARAMS_FILE.read_text())
    raw["data"].update(numeric=["age", "balance"], categorical=["plan", "region"], target="left")
    raw["validation"].update(
        max_null_fraction={"balance": 0.1}, ranges={}, categories={"plan": ["basic", "pro"]}
    )
    raw["simulation"]["scenarios"] = {}
    raw["serving"] = {**raw.get("serving", {}), "max_records": 3}
    return parse_params(raw)


def test_fields_follow_params() -> None:
    """Numbers, listed categories, free strings, nulls where tolerated, nothing else."""
    schema = build_schema(other_table())
    ok = schema.predict.parse(b'{"age": 3, "balance": null, "plan": "pro", "region": "any"}')
    assert ok == [{"age": 3.0, "balance": None, "plan": "pro", "region": "any"}]
    body, defs = schema.predict.openapi()
    props = defs["Record"]["properties"]
    assert set(props) == {"age", "balance", "plan", "region", "customer_id"}
    assert "customer_id" not in defs["Record"]["required"]  # optional: canary stickiness
    with_id = schema.predict.parse(b'{"age": 3, "balance": 1, "plan": "pro", "region": "a", '
                                   b'"customer_id": "7590-VHVEG"}')  # fmt: skip
    assert with_id[0]["customer_id"] == "7590-VHVEG"
    with pytest.raises(ValidationError):  # beyond 2**53 a JSON reader of the log loses it
        schema.predict.parse(b'{"age": 3, "balance": 1, "plan": "pro", "region": "a", '
                             b'"customer_id": 9223372036854775000}')  # fmt: skip
    assert props["plan"]["enum"] == ["basic", "pro"]
    assert defs["Record"]["additionalProperties"] is False
    assert body["anyOf"][1]["maxItems"] == 3


@pytest.mark.parametrize(
    ("raw", "loc", "kind"),
    [
        (
            b'{"age": null, "balance": 1, "plan": "pro", "region": "x"}',
            ["body", "age"],
            "float_type",
        ),
        (
            b'{"age": "3", "balance": 1, "plan": "pro", "region": "x"}',
            ["body", "age"],
            "float_type",
        ),
        (
            b'{"age": 1, "balance": 1, "plan": "gold", "region": "x"}',
            ["body", "plan"],
            "literal_error",
        ),
        (b'{"age": 1, "balance": 1, "plan": "pro"}', ["body", "region"], "missing"),
        (
            b'{"age": 1, "balance": 1, "plan": "pro", "region": "x", "z": 1}',
            ["body", "z"],
            "extra_forbidden",
        ),
        (
            b'{"age": Infinity, "balance": 1, "plan": "pro", "region": "x"}',
            ["body", "age"],
            "finite_number",
        ),
        (b"[]", ["body"], "too_short"),
        (b"[{}, {}, {}, {}]", ["body"], "too_long"),
    ],
)
def test_each_rule_names_the_field(raw: bytes, loc: list[object], kind: str) -> None:
    """Every refusal says where and which rule."""
    schema = build_schema(other_table())
    with pytest.raises(ValidationError) as err:
        schema.predict.parse(raw)
    assert {"loc": loc, "type": kind} in [
        {"loc": e["loc"], "type": e["type"]} for e in error_details(err.value)
    ]
