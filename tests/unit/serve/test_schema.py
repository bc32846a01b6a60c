"""The request schema comes from params alone: another table, other rules."""

from __future__ import annotations

import json
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
    raw["behaviour"].update(directional=[], slices=[])  # they name the telco columns
    raw["fairness"].update(sensitive=[], enabled=False)
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


def test_the_api_enforces_the_validation_contract() -> None:
    """A value the batch validator calls impossible is a 422 naming field, value and rule."""
    from lifecycle.config import load_params

    params = load_params(PARAMS_FILE)
    schema = build_schema(params)
    row: dict[str, Any] = {c: 1.0 for c in params.data.numeric}
    row.update({c: params.validation.categories[c][0] for c in params.data.categorical})
    assert schema.predict.parse(json.dumps(row).encode())[0]["tenure"] == 1.0
    for col, bad in (("tenure", -5), ("female", 5.8e14), ("contract", "Weekly")):
        with pytest.raises(ValidationError) as err:
            schema.predict.parse(json.dumps({**row, col: bad}).encode())
        (detail,) = error_details(err.value)
        assert detail["loc"] == ["body", col] and detail["input"] == bad, detail
        assert detail["type"] in {"greater_than_equal", "less_than_equal", "literal_error"}


def test_out_of_contract_flag_mode_keeps_only_the_loose_limits() -> None:
    """With serving.out_of_contract: flag, -5 is scored (and flagged), 1e400 still refused."""
    from lifecycle.config import load_params
    from lifecycle.config.contract import column_rules, violations

    params = load_params(PARAMS_FILE)
    flag = params.model_copy(
        update={"serving": params.serving.model_copy(update={"out_of_contract": "flag"})}
    )
    schema = build_schema(flag)
    row: dict[str, Any] = {c: 1.0 for c in params.data.numeric}
    row.update({c: params.validation.categories[c][0] for c in params.data.categorical})
    (parsed,) = schema.predict.parse(json.dumps({**row, "tenure": -5}).encode())
    rules = column_rules(params.data, params.validation)
    assert violations(parsed, rules) == ["tenure=-5.0: must be within [0, 120] (validation.ranges)"]
    assert violations(row, rules) == []
    with pytest.raises(ValidationError):
        schema.predict.parse(json.dumps({**row, "tenure": 1e16}).encode())


@pytest.mark.parametrize(
    ("given", "kept"), [(-149.0, -149), (36, 36), ("7590-VHVEG", "7590-VHVEG")]
)
def test_an_integral_float_id_is_that_integer(given: Any, kept: Any) -> None:
    """-149.0 is the id -149 (an int); 1.5 and 2**60 are still refused."""
    schema = build_schema(other_table())
    base = {"age": 3, "balance": 1, "plan": "pro", "region": "a"}
    (row,) = schema.predict.parse(json.dumps({**base, "customer_id": given}).encode())
    assert row["customer_id"] == kept and type(row["customer_id"]) is type(kept)
    for bad in (1.5, 2.0**60):
        with pytest.raises(ValidationError):
            schema.predict.parse(json.dumps({**base, "customer_id": bad}).encode())
